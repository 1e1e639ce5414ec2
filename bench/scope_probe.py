"""What one scope-wide request costs the database, statement by statement (issue 19 item 2): the
statements a GET runs, each with SQLite's virtual-machine steps or PostgreSQL's shared buffers
(EXPLAIN (ANALYZE, BUFFERS), run in a transaction that is rolled back), and the request's CPU
seconds — load-independent evidence, unlike wall-clock milliseconds on a busy machine.

`python -m bench.scope_probe DATABASE_URL [label-substring …]`: every row of bench/scope.py whose label
contains one of the substrings (all rows without one), on a kept city as it is: no migration is
applied (`BENCH_PROBE_UPGRADE=1` applies them first — only on a copy of your own). The login writes
the account's last-login time; on PostgreSQL the EXPLAINs run inside a rolled-back transaction.
"""

import json
import os
import sys
import time

from bench.run import PASSWORD, kept_city
from bench.scope import scope_urls


class Capture:
    """The statements db.execute_sql runs while `on` (a spy on the database object, as tests/helpers)."""

    def __init__(self, database):
        self.statements, self.on, run = [], False, database.execute_sql

        def spy(sql, params=None, *args, **kwargs):
            if self.on:
                self.statements.append((sql, params or ()))
            return run(sql, params, *args, **kwargs)
        database.execute_sql = spy


def cost(db, sql, params) -> str:
    from models import is_postgres
    if not sql.lstrip().upper().startswith("SELECT"):
        return "-"
    if not is_postgres():
        steps = [0]

        def tick():
            steps[0] += 1
            return 0
        connection = db.connection()
        connection.set_progress_handler(tick, 1)
        try:
            db.execute_sql(sql, params).fetchall()
        finally:
            connection.set_progress_handler(None, 1)
        return f"{steps[0]} steps"
    with db.atomic() as txn:
        plan = db.execute_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()[0]
        txn.rollback()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    top = plan[0]["Plan"]
    buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    return f"{buffers} buffers, {plan[0]['Execution Time']:.1f} ms"


def main():
    import models
    from app import create_app, upgrade_database
    from models import db
    url, wanted = sys.argv[1], sys.argv[2:]
    models.connect(url)
    db.connect(reuse_if_open=True)
    if os.environ.get("BENCH_PROBE_UPGRADE"):
        upgrade_database()
    info = kept_city()
    db.close()
    app = create_app({"DATABASE_URL": url, "LOGIN_CAPTCHA": False, "WTF_CSRF_ENABLED": False,
                      "JOBS_MODE": "immediate", "SECRET_KEY": "bench", "LOGIN_FAIL_DELAY": 0})
    capture = Capture(db.obj)
    clients = {}
    db.connect(reuse_if_open=True)
    rows = scope_urls(info)
    db.close()
    for label, who, url_ in rows:
        if wanted and not any(w in label for w in wanted):
            continue
        if who not in clients:
            clients[who] = app.test_client()
            assert clients[who].post("/login", data={"username": who, "password": PASSWORD}).status_code == 302
        client = clients[who]
        client.get(url_)  # warm
        capture.statements.clear()
        capture.on, start = True, time.process_time()
        response = client.get(url_)
        cpu = (time.process_time() - start) * 1000
        capture.on, statements = False, list(capture.statements)
        print(f"\n## {label}  ({url_}) → {response.status_code}, {cpu:.1f} ms CPU, {len(statements)} statements")
        db.connect(reuse_if_open=True)
        for sql, params in statements:
            print(f"  {cost(db, sql, params):>28}  {sql[:400]}")
        db.close()


if __name__ == "__main__":
    main()
