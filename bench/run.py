"""`make bench`: generate the benchmark city and time operations through the app's own code.

Prints one table: operation, database, rows, median and p95 (ms), and the ratio to a bare
baseline measured in the same run (the same query as raw SQL). Databases: a fresh SQLite file
always; PostgreSQL too when BENCH_DATABASE_URL (or TEST_DATABASE_URL) is set — that database is
emptied first. Later issues add their operations to OPERATIONS."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEAT = int(os.environ.get("BENCH_REPEAT", "200"))


def timed(fn, repeat=REPEAT):
    fn()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def bench_database(url: str) -> list:
    import models
    from app import upgrade_database
    from bench.generate import generate_orgs
    from models import Organization, OrgTree, db

    models.connect(url)
    db.connect(reuse_if_open=True)
    if models.is_postgres():
        db.execute_sql("DROP SCHEMA public CASCADE")
        db.execute_sql("CREATE SCHEMA public")
    upgrade_database()
    info = generate_orgs()
    kind = "PostgreSQL" if models.is_postgres() else "SQLite"
    rows = Organization.select().count()
    district = Organization.get_by_id(info["district"])
    secondary = Organization.get_by_id(info["secondary"])
    param = "%s" if models.is_postgres() else "?"
    raw_count = (f'SELECT count(*) FROM "organization" WHERE "id" IN '
                 f'(SELECT "descendant_id" FROM "org_tree" WHERE "ancestor_id" = {param})')
    results = [("generate org tree (bulk insert)", kind, rows, info["seconds"] * 1000, None, None)]
    for label, org in (("subtree count of a district (~3,100 orgs)", district),
                       ("subtree count of a secondary union (~250 orgs)", secondary)):
        orm = timed(lambda org=org: org.subtree().count())
        raw = timed(lambda org=org: db.execute_sql(raw_count, (org.id,)).fetchone())
        results.append((label, kind, rows, orm[0], orm[1], orm[0] / raw[0]))
    g = Organization.select().where(Organization.level == "grassroots").order_by(Organization.id.desc()).first()
    orm = timed(lambda: g.ancestors())
    raw_sql = (f'SELECT o.* FROM "organization" o JOIN "org_tree" t ON t."ancestor_id" = o."id" '
               f'WHERE t."descendant_id" = {param} AND t."depth" > 0 ORDER BY t."depth" DESC')
    raw = timed(lambda: db.execute_sql(raw_sql, (g.id,)).fetchall())
    results.append(("ancestors of a grassroots union", kind, rows, orm[0], orm[1], orm[0] / raw[0]))
    contains = timed(lambda: district.contains(g.id))
    results.append(("scope check (org in subtree?)", kind, rows, contains[0], contains[1], None))
    _ = OrgTree
    db.close()
    return results


def main():
    if len(sys.argv) > 1:  # child process: one database
        import json
        print(json.dumps(bench_database(sys.argv[1])))
        return
    urls = [f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.db"]
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        urls.append(pg)
    import json
    rows = []
    for url in urls:
        out = subprocess.run([sys.executable, "-m", "bench.run", url], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        rows += json.loads(out.strip().splitlines()[-1])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    print(f"commit {commit}, {REPEAT} timed runs per operation after one warm-up\n")
    print("| operation | database | rows (organisations) | median ms | p95 ms | ratio to raw SQL |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for op, kind, n, median, p95, ratio in rows:
        p95_text = f"{p95:.2f}" if p95 is not None else "-"
        ratio_text = f"{ratio:.2f}" if ratio is not None else "-"
        print(f"| {op} | {kind} | {n:,} | {median:.2f} | {p95_text} | {ratio_text} |")


if __name__ == "__main__":
    main()
