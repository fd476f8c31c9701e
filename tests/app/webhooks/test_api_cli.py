"""/api/v1/webhooks and ``flask webhooks``: register, list, change, test, log, remove; every
bad input a 4xx JSON error (API) or one line on stderr (CLI), and nothing written."""

from __future__ import annotations

from sqlalchemy import func, select

from app.api.auth import issue_token
from app.extensions import db
from app.models import WebhookEndpoint, WebhookMessage
from tests.app.api.conftest import assert_error
from tests.app.cli_helpers import one_line, run

EVENTS = ["booking.created", "booking.cancelled"]


class Api:
    def __init__(self, app, world) -> None:
        self.client, self.world = app.test_client(), world

    def __call__(self, method: str, url: str, as_: str, **kw):
        headers = {"Authorization": f"Bearer {issue_token(self.world.users[as_])}"}
        return getattr(self.client, method)(url, headers=headers, **kw)


def _endpoints() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


def test_register_list_change_test_log_and_remove(private_ok, world, receivers):
    r = receivers()
    api = Api(private_ok, world)
    made = api(
        "post", "/api/v1/webhooks", "op1", json={"url": r.url, "events": EVENTS, "bases": ["b001"]}
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["id"] == "W00001" and body["secret"].startswith("whsec_")
    assert (body["bases"], body["events"], body["kind"], body["enabled"]) == (
        ["B001"],
        EVENTS,
        "webhook",
        True,
    )
    listed = api("get", "/api/v1/webhooks", "op1").get_json()
    assert [e["id"] for e in listed] == ["W00001"] and listed[0]["secret"] is None
    assert api("get", "/api/v1/webhooks", "op2").get_json() == []
    assert [e["id"] for e in api("get", "/api/v1/webhooks", "admin").get_json()] == ["W00001"]
    assert_error(api("get", "/api/v1/webhooks/W00001", "op2"), 404, "not_found")
    assert api("get", "/api/v1/webhooks/w00001", "op1").get_json()["secret"] == body["secret"]

    queued = api("post", "/api/v1/webhooks/W00001/test", "op1")
    assert queued.status_code == 202 and queued.get_json()["event"] == "webhook.test"
    assert r.got[0].json()["type"] == "webhook.test"
    assert r.got[0].headers["webhook-id"] == queued.get_json()["message"]
    log = api("get", "/api/v1/webhooks/W00001/attempts", "op1").get_json()
    assert [(a["attempt"], a["response_status"], a["ok"], a["message_status"]) for a in log] == [
        (1, 200, True, "delivered")
    ]
    assert log[0]["latency_ms"] >= 0 and log[0]["message"] == queued.get_json()["message"]

    off = api(
        "patch",
        "/api/v1/webhooks/W00001",
        "op1",
        json={"enabled": False, "events": ["slot.blocked"]},
    )
    assert off.status_code == 200 and off.get_json()["enabled"] is False
    assert off.get_json()["events"] == ["slot.blocked"]
    assert_error(api("post", "/api/v1/webhooks/W00001/test", "op1"), 422, "disabled")
    gone = api("delete", "/api/v1/webhooks/W00001", "op1")
    assert gone.status_code == 204 and _endpoints() == 0


def test_bad_input_is_a_json_4xx_and_writes_nothing(private_ok, world):
    api = Api(private_ok, world)
    good = {"url": "http://127.0.0.1:9/x", "events": EVENTS, "bases": ["B001"]}
    cases = [
        ({**good, "url": "ftp://127.0.0.1/x"}, "op1", 422, "bad_url"),
        ({**good, "url": "http://"}, "op1", 422, "bad_url"),
        ({**good, "events": ["booking.exploded"]}, "op1", 422, "unknown_event"),
        ({**good, "events": []}, "op1", 422, "validation"),
        ({**good, "bases": ["B002"]}, "op1", 403, "other_base"),
        ({**good, "bases": ["B404"]}, "op1", 403, "other_base"),
        ({**good, "bases": []}, "op1", 422, "no_bases"),
        ({**good, "all_bases": True}, "op1", 422, "bases"),
        ({**good, "secret": "whsec_!!"}, "op1", 422, "secret"),
        ({**good, "kind": "wecom"}, "op1", 422, "bad_url"),  # no key= in the URL
        ({**good, "kind": "slack"}, "op1", 422, "validation"),
        (
            {
                **good,
                "kind": "dingtalk",
                "url": "http://127.0.0.1:9/robot/send?access_token=t",
                "secret": "nope",
            },
            "op1",
            422,
            "secret",
        ),
        ({**good, "surprise": 1}, "op1", 422, "validation"),
        (good, "p1", 403, "forbidden"),
    ]
    for body, who, status, reason in cases:
        assert_error(api("post", "/api/v1/webhooks", who, json=body), status, reason)
    assert _endpoints() == 0
    private_ok.config["WEBHOOK_ALLOW_PRIVATE"] = False
    assert_error(api("post", "/api/v1/webhooks", "op1", json=good), 422, "private_address")
    assert _endpoints() == 0
    private_ok.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert api("post", "/api/v1/webhooks", "op1", json=good).status_code == 201
    bad_change = api("patch", "/api/v1/webhooks/W00001", "op1", json={"bases": ["B002"]})
    assert_error(bad_change, 403, "other_base")
    db.session.expire_all()
    assert [h.code for h in db.session.scalars(select(WebhookEndpoint)).one().hubs] == ["B001"]
    assert_error(api("delete", "/api/v1/webhooks/W00001", "op2"), 404, "not_found")
    assert _endpoints() == 1


def test_the_spec_documents_the_webhook_api(private_ok):
    spec = private_ok.test_client().get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/webhooks"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/webhooks/{code}"])
    assert "post" in paths["/api/v1/webhooks/{code}/test"]
    assert "get" in paths["/api/v1/webhooks/{code}/attempts"]
    events = spec["components"]["schemas"]["EndpointIn"]["properties"]["events"]
    assert "booking.created" in events["description"]


def test_cli_add_list_test_log_disable_remove(private_ok, world, receivers):
    r = receivers()
    added = run(
        private_ok, "webhooks", "add", r.url, "--as", "op1", "--event", "all", "--base", "B001"
    )
    assert added.exit_code == 0, added.stderr
    assert added.output.startswith(f"added W00001 (webhook) {r.url}\nsecret: whsec_")
    listed = run(private_ok, "webhooks", "list", "--as", "op1")
    assert listed.output.startswith("W00001 on webhook ") and "bases=B001" in listed.output
    tested = run(private_ok, "webhooks", "test", "W00001", "--as", "op1")
    assert tested.exit_code == 0 and tested.output.startswith("delivered msg_"), tested.stderr
    assert r.got[0].json()["type"] == "webhook.test"
    log = run(private_ok, "webhooks", "log", "W00001", "--as", "op1")
    assert "webhook.test" in log.output and "try 1: HTTP 200" in log.output
    assert (
        run(private_ok, "webhooks", "disable", "W00001", "--as", "op1").output
        == "W00001 disabled\n"
    )
    assert "W00001 OFF" in run(private_ok, "webhooks", "list", "--as", "op1").output
    assert run(private_ok, "webhooks", "enable", "W00001", "--as", "op1").exit_code == 0
    failing = receivers(statuses=[500])
    private_ok.config["WEBHOOK_RETRY_DELAYS_S"] = ()
    run(
        private_ok,
        "webhooks",
        "add",
        failing.url,
        "--as",
        "op1",
        "--event",
        "slot.blocked",
        "--base",
        "B001",
    )
    bad = run(private_ok, "webhooks", "test", "W00002", "--as", "op1")
    assert bad.exit_code == 1 and "failed: HTTP 500" in bad.stderr and one_line(bad.stderr)
    assert run(private_ok, "webhooks", "remove", "W00001", "--as", "op1").exit_code == 0
    assert [e.code for e in db.session.scalars(select(WebhookEndpoint))] == ["W00002"]


def test_cli_refusals_are_one_line_and_write_nothing(private_ok, world):
    url = "http://127.0.0.1:9/x"
    for args, says in (
        (("add", "ftp://x", "--as", "op1", "--event", "all", "--base", "B001"), "(bad_url)"),
        (
            ("add", url, "--as", "op1", "--event", "booking.nope", "--base", "B001"),
            "(unknown_event)",
        ),
        (("add", url, "--as", "op1", "--event", "all", "--base", "B002"), "(other_base)"),
        (("add", url, "--as", "p1", "--event", "all", "--base", "B001"), "(forbidden)"),
        (("add", url, "--as", "nobody", "--event", "all", "--base", "B001"), "no active account"),
        (("add", url, "--as", "op1", "--base", "B001"), "Missing option"),
        (("add", url, "--as", "op1", "--event", "all", "--kind", "slack", "--all-bases"), "slack"),
        (("test", "W00009", "--as", "op1"), "(not_found)"),
        (("remove", "W00009", "--as", "op1"), "(not_found)"),
    ):
        done = run(private_ok, "webhooks", *args)
        assert done.exit_code != 0, args
        assert says in done.stderr and one_line(done.stderr), (args, done.stderr)
    assert _endpoints() == 0
    assert db.session.scalar(select(func.count()).select_from(WebhookMessage)) == 0
