"""A docs page for the API rendered from the live OpenAPI spec, with no external assets.

APIFlask's built-in docs UIs load their scripts from CDNs; this page is plain HTML made on
the server from the same spec served at /api/v1/openapi.json, so it works offline.
"""

from __future__ import annotations

from flask import current_app, render_template

from app.api import bp


def _resolve(spec: dict, schema: dict | None) -> dict | None:
    """Follow one ``$ref`` into components.schemas (enough for a readable page)."""
    if schema and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return {"name": name, **spec.get("components", {}).get("schemas", {}).get(name, {})}
    if schema and schema.get("type") == "array" and "items" in schema:
        inner = _resolve(spec, schema["items"]) or {}
        return {"name": f"list of {inner.get('name', 'items')}", **inner}
    return schema


@bp.get("/docs")
@bp.doc(hide=True)
def docs_page():
    """The API reference: every operation, its parameters, body, responses and schemas."""
    spec = current_app.spec
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            responses = [
                (
                    code,
                    r.get("description", ""),
                    _resolve(spec, r.get("content", {}).get("application/json", {}).get("schema")),
                )
                for code, r in sorted(op.get("responses", {}).items())
            ]
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": op.get("parameters", []),
                    "body": _resolve(spec, body.get("schema")),
                    "responses": responses,
                    "secured": bool(op.get("security")),
                }
            )
    return render_template("api/docs.html", spec=spec, operations=operations)
