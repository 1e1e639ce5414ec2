"""集中参保实时监控画面 of a district, of a secondary union and of the city (issue 19 items 1 and 5):
timed on this run's city and on a smaller city generated in the same run, with the growth ratio
printed beside each row (median on this city ÷ median on the smaller one, and the members of each).

The smaller city: the smoke city (BENCH_SCALE=smoke) beside the full one; in a smoke run a tiny city
(BENCH_SCALE=tiny), so the comparison runs in CI too. It lives in its own database next to this
run's: SQLite `<file>-smoke.db` / `-tiny.db` (a temporary folder unless BENCH_KEEP), PostgreSQL the
same server's database `<name>_smoke` / `_tiny` (created when missing, emptied unless kept) — timed
by `python -m bench.monitor URL` in a child process, like every database of bench/run.py.

The city's row is the page 市总工会 (and the centre) opens at /enroll-stats/monitor: the whole city,
one group per 区局（产业）工会, timed as `bench-city`; the district's and the secondary union's rows
are their own subtree's. The monitor reads the counters of models/stats/tally.py —
`generate_enrollments` rebuilds them after its bulk inserts. The unions behind its numbers (the
drill-down list, `drill_down_timings`) are timed the same way: a district's and the city's, page 1
and a page mid-way, and the city's 已提交 / 未提交 unions mid-way.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET = "p95 ≤ 50"


def smaller_scale() -> str:
    return "tiny" if os.environ.get("BENCH_SCALE") in ("smoke", "tiny") else "smoke"


def companion_url(url: str, scale: str) -> str:
    """The database of the smaller city next to `url`'s."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        return f"sqlite:///{path.removesuffix('.db')}-{scale}.db"
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    _create_pg_database(url, f"{name}_{scale}")
    return urlunsplit(parts._replace(path=f"/{name}_{scale}"))


def _create_pg_database(url: str, name: str) -> None:
    import psycopg2
    parts = urlsplit(url.replace("postgresql+pool://", "postgresql://"))
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def monitor_timings(b, info: dict, timed, repeat: int) -> list:
    """[(label, rows, (median, p95))] of the three monitors on `b`'s city (its year generated)."""
    from bench.enroll import generate_enrollments
    from models.orgs.accounts import Account
    from models.orgs.organizations import Organization
    year = generate_enrollments(info)["year"]
    secondary = info.get("secondary") or Organization.get(Organization.level == "secondary").id
    if not Account.select().where(Account.username == "bench-secondary").exists():
        account = Account(username="bench-secondary", org=secondary)
        account.set_password(info["password"])
        account.save()
    n = max(10, repeat // 5)
    url = f"/enroll-stats/monitor?year={year.year}"
    district, city = b.client("bench-district", info["password"]), b.client("bench-city", info["password"])
    return [*drill_down_timings(b, info, year, district, city, timed, n),
        ("集中参保实时监控画面 of a district (GET /enroll-stats/monitor)",
         timed(b.get(district, url), n)),
        ("集中参保实时监控画面 of the city (GET /enroll-stats/monitor as 市总工会)",
         timed(b.get(city, url), n)),
        ("集中参保实时监控画面 of a secondary union (GET /enroll-stats/monitor)",
         timed(b.get(b.client("bench-secondary", info["password"]), url), n)),
    ]


def drill_down_timings(b, info: dict, year, district, city, timed, n: int) -> list:
    """The unions behind the monitor's numbers (GET /enroll-stats/monitor/unions): a district's and
    the city's list, page 1 and a page mid-way (?page=, half of the counters' total), and the
    city's 已提交 / 未提交 unions mid-way (the generated submissions are the city's first 20,000
    unions by id, so the two states lie in different parts of the list)."""
    from models.stats.tally import UnionTally, YearTally

    def unions(org_id: int) -> int:
        return UnionTally.select(UnionTally.unions).where(UnionTally.org == org_id).scalar() or 0

    def mid(total: int) -> int:
        return max(1, -(-total // 15) // 2)
    submitted = (YearTally.select(YearTally.submitted)
                 .where((YearTally.org == info["city"]) & (YearTally.year == year.id)).scalar() or 0)
    base = f"/enroll-stats/monitor/unions?year={year.year}"
    rows = []
    for label, client, url in (
            ("a district's unions, page 1", district, base),
            ("a district's unions, a page mid-way", district, f"{base}&page={mid(unions(info['district']))}"),
            ("the city's unions (as 市总工会), page 1", city, base),
            ("the city's unions (as 市总工会), a page mid-way", city, f"{base}&page={mid(unions(info['city']))}"),
            ("the city's 已提交 unions, a page mid-way", city, f"{base}&state=submitted&page={mid(submitted)}"),
            ("the city's 未提交 unions, a page mid-way", city,
             f"{base}&state=not_submitted&page={mid(unions(info['city']) - submitted)}")):
        rows.append((f"集中参保实时监控画面 → {label} (GET /enroll-stats/monitor/unions)",
                     timed(b.get(client, url), n)))
    return rows


def bench_monitor(b, info: dict, members: int, timed, repeat: int) -> None:
    """The three rows on this city, each with the smaller city's median and the growth ratio."""
    from bench.enroll import generate_enrollments
    from bench.enroll_stats import captured, replay
    from models.orgs.organizations import Organization
    from models.stats import monitor as board
    here = monitor_timings(b, info, timed, repeat)
    scale = smaller_scale()
    small = smaller_city(b.url, scale)
    for label, timing in here:
        other = small["rows"].get(label)
        if other:
            growth = timing[0] / other[0] if other[0] else None
            label += (f" — {scale} city ({small['members']:,} members): median {other[0]:.2f} ms; "
                      f"growth ×{growth:.2f} for ×{members / max(small['members'], 1):.1f} members")
        b.row(label, members, timing, TARGET)
    year = generate_enrollments(info)["year"]
    district = Organization.get_by_id(info["district"])
    n = max(10, repeat // 5)
    orm = timed(lambda: board.monitor(district, year), n)
    raw = timed(replay(captured(lambda: board.monitor(district, year))), n)
    b.row("  data access: the monitor's counter reads of a district (ORM vs the same SQL raw)", members, orm, "",
          orm[0] / raw[0])
    city = Organization.get_by_id(info["city"])
    orm = timed(lambda: board.monitor(city, year), n)
    raw = timed(replay(captured(lambda: board.monitor(city, year))), n)
    b.row("  data access: the monitor's counter reads of the city (ORM vs the same SQL raw)", members, orm, "",
          orm[0] / raw[0])


def smaller_city(url: str, scale: str) -> dict:
    """Generate (or reuse, BENCH_KEEP) the smaller city in its own database and time it there."""
    from models import db
    target = companion_url(url, scale)
    env = {**os.environ, "BENCH_SCALE": scale}
    db.close()  # the child writes; SQLite must not see an open transaction here
    out = subprocess.run([sys.executable, "-m", "bench.monitor", target], cwd=ROOT, check=True,
                         capture_output=True, text=True, env=env).stdout
    db.connect(reuse_if_open=True)
    return json.loads(out.strip().splitlines()[-1])


def main(url: str) -> None:
    from bench.run import PASSWORD, REPEAT, Bench, has_city, kept_city, timed
    from models import db
    b = Bench(url)
    db.connect(reuse_if_open=True)
    if b.kept:
        info = kept_city()
        from models.orgs.organizations import Organization
        info["secondary"] = Organization.get(Organization.level == "secondary").id
    else:
        from bench.generate import Scale, generate_city
        info = generate_city(Scale.from_env(), PASSWORD)
    assert has_city()
    rows = {label: timing for label, timing in monitor_timings(b, info, timed, REPEAT)}
    members = b.count("membership")
    db.close()
    print(json.dumps({"members": members, "rows": rows}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
