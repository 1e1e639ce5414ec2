# 工会会员参保平台 — the README's commands. Everything installs itself into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PORT ?= 5000
export FLASK_APP := app

.PHONY: run test test-sqlite test-pg lint bench bench-smoke bench-load scaleout status-server bundle install install-dev clean

# The runtime (requirements.txt) for `make run`; the development tools (requirements-dev.txt:
# pytest, playwright, ruff, locust, …, plus the runtime and the Redis extra) for test/lint/bench.
$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt requirements-redis.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

## make run: create/upgrade the SQLite database in instance/, load demo data when empty,
## start the app and its job worker on 127.0.0.1:$(PORT), print the demo accounts.
run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	PORT=$(PORT) $(BIN)/flask serve

## make test: the whole suite on SQLite (browser tests included); when TEST_DATABASE_URL is
## set, then again on PostgreSQL (browser tests are left to the SQLite run).
test: $(DEV_STAMP)
	env -u TEST_DATABASE_URL $(BIN)/pytest -q -rs
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$TEST_DATABASE_URL"; \
		$(BIN)/pytest -q -rs --ignore=tests/browser; \
	fi

test-sqlite: $(DEV_STAMP)
	env -u TEST_DATABASE_URL $(BIN)/pytest -q -rs

test-pg: $(DEV_STAMP)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/pytest -q -rs --ignore=tests/browser

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

## make bench: the spec-80 city (1,000,000 members) on SQLite, and on PostgreSQL when
## BENCH_DATABASE_URL is set; prints the table kept in docs/benchmarks.md.
bench: $(DEV_STAMP)
	TEST_DATABASE_URL= $(BIN)/python -m bench.run

## make bench-smoke: the same code on a small city (CI runs it so the harness never rots).
## Then a 10-second, 5-user load test on a small city (it fails on any error, not on time).
bench-smoke: $(DEV_STAMP)
	BENCH_SCALE=smoke BENCH_REPEAT=5 $(BIN)/python -m bench.run
	BENCH_SCALE=smoke LOAD_USERS=5 LOAD_SECONDS=10 BENCH_SQLITE=bench/out/load-smoke.db $(BIN)/python -m bench.load

## make bench-load: 50 virtual users (locust, 1 s think time, 80 % reads / 20 % writes) for 60 s
## against `flask serve` (waitress) on the kept benchmark city (bench/out/bench.db, generated
## when missing; LOAD_DATABASE_URL for PostgreSQL). Target: 0 errors, p95 ≤ 200 ms.
bench-load: $(DEV_STAMP)
	$(BIN)/python -m bench.load

## make scaleout: the scale-out proof (bench/scaleout.py, via .ci/scaleout, which .ci/run runs too):
## two `flask serve --no-worker` servers and `flask worker` on PostgreSQL (127.0.0.1:5432, databases
## scaleout_city kept and scaleout_run) with JOBS_MODE=redis (Redis at 127.0.0.1:6379, started when
## redis-server is installed and none answers); refused starts, a server and a worker killed, two
## workers at once. About two minutes; fails naming the check.
scaleout: $(DEV_STAMP)
	bash .ci/scaleout

## make status-server: the reference server of the status protocol (tools/status_server.py) on
## 127.0.0.1:$(STATUS_PORT), answering from the app database's registry (社保状态导入), or from a
## status file with STATUS_FILE=registry.xlsx; STATUS_TOKEN=xyz requires "Authorization: Bearer xyz".
## Point the app at it: STATUS_PROVIDER=http STATUS_HTTP_URL=http://127.0.0.1:8765/ make run
STATUS_PORT ?= 8765
status-server: $(STAMP)
	$(BIN)/python -m tools.status_server $(if $(STATUS_FILE),--file $(STATUS_FILE),--from-db) \
		--port $(STATUS_PORT) $(if $(STATUS_TOKEN),--token $(STATUS_TOKEN))

## make bundle: the offline install bundle for an intranet server without internet —
## dist/union-platform-<version>.tar.gz: the app's files, wheels/ (every wheel requirements.txt and
## requirements-redis.txt need, for this Python and platform), install.sh and INSTALL.txt. It installs
## with `pip install --no-index --find-links wheels -r requirements.txt` (docs/deploy.md); .ci/bundle
## checks that. Wheels are kept in BUNDLE_CACHE (default ~/.cache/union-platform/wheels) for reruns.
bundle: $(STAMP)
	$(BIN)/python -m tools.bundle $(if $(BUNDLE_VERSION),--version $(BUNDLE_VERSION))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache dist
