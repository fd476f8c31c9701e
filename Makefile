# Chunlei: `make demo` runs the product on SQLite with demo data; `make test` runs every test.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: install demo test lint format mutants bench bench-load bench-instant bench-scaling bench-domain bench-nightly bench-pages clean translations

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@# axe-core (package.json, pinned) for the browser tests' accessibility check; without npm
	@# those tests skip and say why.
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser accessibility check (axe-core) will be skipped"; fi

demo: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --seed 5 --if-empty
	PATH="$(abspath $(BIN)):$$PATH" exec $(BIN)/honcho start -f Procfile -p $(PORT) -c worker=2

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy scheduler app config.py
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Drop each solver rule in turn (hard rules, soft terms, per-candidate checks); every one must
# turn its own rule tests red. Prints rule | caught by | status and "N/N rules caught".
mutants: install
	$(BIN)/python -m tests.mutants

bench: install
	$(BIN)/python -m benchmarks.solvers

# Time and peak memory of load / greedy / candidates / validate on 0.1x, 0.5x, 1x and 2x the
# programme week (benchmarks/README.md).
bench-scaling: install
	$(BIN)/python -m benchmarks.scaling

# Greedy against the solver on generated programme weeks of unseen seeds (benchmarks/README.md).
bench-domain: install
	$(BIN)/python -m benchmarks.domain

# The nightly run of the whole programme through the queue, on 1 and on 2 workers (PostgreSQL and
# Redis; about 15 minutes).
bench-nightly: install
	$(BIN)/python -m benchmarks.nightly

# Booking API under load: gunicorn on 127.0.0.1 against a scratch PostgreSQL database (dropped after).
bench-load: install
	$(BIN)/python -m benchmarks.load_booking

# Instant placement end to end: gunicorn + 2 workers on Redis, PostgreSQL scratch database.
bench-instant: install
	$(BIN)/python -m benchmarks.instant

# Pages on the whole programme's week (seed-demo --programme): p50/p95/max per page against
# p95 <= 200 ms; gunicorn on 127.0.0.1, a scratch PostgreSQL database (dropped after).
bench-pages: install
	nice -n 10 $(BIN)/python -m benchmarks.pages

# Re-extract the UI strings, merge them into both catalogs, compile the .mo files (committed).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations -w 100 --no-fuzzy-matching
	$(BIN)/pybabel compile -d app/translations --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
