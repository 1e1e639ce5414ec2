"""`make bench` / `make bench-smoke`: generate the benchmark city and time operations through the
app — requests through the WSGI app (server time, warm), and the data-access calls behind them.

Prints one table: operation, database, rows in the database (read from it), median and p95 (ms),
target, and the ratio of the data-access call to the same raw SQL measured in the same run.
Databases: a fresh SQLite file always; PostgreSQL too when BENCH_DATABASE_URL (or
TEST_DATABASE_URL) is set — that database is emptied first. BENCH_SCALE=smoke builds a small
city (CI runs it so the harness never rots). Later issues add their operations to OPERATIONS.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEAT = int(os.environ.get("BENCH_REPEAT", "100"))


def timed(fn, repeat=REPEAT):
    fn()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


class Bench:
    def __init__(self, url: str):
        import models
        from app import create_app, upgrade_database
        from models import db
        models.connect(url)
        db.connect(reuse_if_open=True)
        if models.is_postgres():
            db.execute_sql("DROP SCHEMA public CASCADE")
            db.execute_sql("CREATE SCHEMA public")
        upgrade_database()
        db.close()
        self.app = create_app({"DATABASE_URL": url, "LOGIN_CAPTCHA": False, "WTF_CSRF_ENABLED": False,
                               "JOBS_MODE": "immediate", "SECRET_KEY": "bench", "LOGIN_FAIL_DELAY": 0})
        self.db = db
        self.kind = "PostgreSQL" if models.is_postgres() else "SQLite"
        self.param = "%s" if models.is_postgres() else "?"
        self.results = []

    def row(self, op, rows, timing, target="", ratio=None):
        self.results.append((op, self.kind, rows, timing[0], timing[1], target, ratio))

    def count(self, table):
        return self.db.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()[0]

    def client(self, username, password):
        client = self.app.test_client()
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.status_code
        return client

    def get(self, client, url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return call

    def raw(self, sql, *params):
        return lambda: self.db.execute_sql(sql, params).fetchall()


def bench_database(url: str) -> list:
    from bench.generate import Scale, generate_city
    from models import Organization, OrgTree, db, stats
    b = Bench(url)
    db.connect(reuse_if_open=True)
    scale = Scale.from_env()
    started = time.perf_counter()
    info = generate_city(scale)
    orgs, members = b.count("organization"), b.count("membership")
    b.row("generate city (orgs, members, counters; bulk insert)", orgs + members,
          ((time.perf_counter() - started) * 1000, None))
    p = b.param

    # 首页 dashboard of the city root over every member
    city = b.client("bench-city", info["password"])
    b.row("首页 dashboard, city root (GET /home)", members, timed(b.get(city, "/home")), "p95 ≤ 200")
    orm = timed(lambda: stats.member_total(info["city"]))

    def raw_total():  # the same two statements: "is it the whole tree?", then the sum
        db.execute_sql('SELECT "id" FROM "organization" WHERE "parent_id" IS NULL LIMIT 2').fetchall()
        db.execute_sql('SELECT COALESCE(SUM("members"), 0) FROM "org_member_count"').fetchall()
    raw = timed(raw_total)
    b.row("  data access: 会员数 of the city (counter sum)", members, orm, "", orm[0] / raw[0])
    d_orm = timed(lambda: stats.member_total(info["district"]))
    d_raw = timed(b.raw('SELECT COALESCE(SUM(c."members"), 0) FROM "org_member_count" c JOIN "org_tree" t '
                        f'ON t."descendant_id" = c."org_id" WHERE t."ancestor_id" = {p}', info["district"]))
    b.row("  data access: 会员数 of a district (counter sum over its subtree)", members, d_orm, "",
          d_orm[0] / d_raw[0])

    # 组织列表 of a district (its subtree, paged, with the total)
    district = b.client("bench-district", info["password"])
    b.row("组织列表 of a district (GET /orgs/list)", orgs, timed(b.get(district, "/orgs/list")), "p95 ≤ 50")
    root = Organization.get_by_id(info["district"])
    query = (Organization.select().join(OrgTree, on=(OrgTree.descendant == Organization.id))
             .where((OrgTree.ancestor == root.id) & (Organization.status == "正常")))
    orm = timed(lambda: query.count())
    raw = timed(b.raw('SELECT count(*) FROM "organization" o JOIN "org_tree" t ON t."descendant_id" = o."id" '
                      f'WHERE t."ancestor_id" = {p} AND o."status" = {p}', root.id, "正常"))
    b.row("  data access: subtree count of a district", orgs, orm, "", orm[0] / raw[0])

    # 登录 (password check included: scrypt)
    def login():
        client = b.app.test_client()
        response = client.post("/login", data={"username": "bench-big", "password": info["password"]})
        assert response.status_code == 302
    b.row("登录 (POST /login, scrypt N=2^14)", b.count("account"), timed(login, max(20, REPEAT // 5)), "p95 ≤ 100")

    # the scope lookups every screen relies on
    g = Organization.get_by_id(info["grassroots"][-1])
    orm = timed(lambda: g.ancestors())
    raw = timed(b.raw(f'SELECT o.* FROM "organization" o JOIN "org_tree" t ON t."ancestor_id" = o."id" '
                      f'WHERE t."descendant_id" = {p} AND t."depth" > 0 ORDER BY t."depth" DESC', g.id))
    b.row("  data access: ancestors of a grassroots union", orgs, orm, "", orm[0] / raw[0])
    bench_roster(b, info, members)
    bench_imports(b, info, url, members)
    from bench.cards import bench_cards
    bench_cards(b, info, members, timed, REPEAT)
    db.close()
    return b.results


ROSTER_URLS = [  # 会员信息 of the 5,000-member union: pages and every filter
    ("page 1", ""), ("page 170", "?page=170"), ("last page", "?page=334"),
    ("姓名搜索 (prefix)", "?name=会员1"), ("会员编号搜索", "?member_no={member_no}"),
    ("身份证号搜索", "?id_number={id_number}"), ("请选择状态 正常", "?status=正常"),
    ("请选择同步会员状态 否", "?synced=否"), ("可能已达退休年龄", "?retirement=1"),
    ("同步 否 + 退休, page 2", "?synced=否&retirement=1&page=2"),
]


def bench_roster(b, info, members):
    """会员信息 list (GET /members/) in a 5,000-member union, and its query vs raw SQL."""
    from models import Membership, Person, db
    from models.roster import Filters, Pages
    from views.access import scoped
    big = b.client("bench-big", info["password"])
    sample = (Membership.select(Membership, Person).join(Person)
              .where(Membership.org == info["big_union"]).order_by(Membership.id).first())
    values = {"member_no": sample.member_no, "id_number": sample.person.id_number}
    worst = (0, 0)
    for label, query in ROSTER_URLS:
        timing = timed(b.get(big, "/members/" + query.format(**values)), max(20, REPEAT // 2))
        b.row(f"会员信息 list, 5,000-member union: {label}", members, timing, "p95 ≤ 50")
        worst = max(worst, timing, key=lambda t: t[1])
    from models import Account
    account = Account.get(Account.username == "bench-big")
    p = b.param

    def orm_page():  # what the list view runs: the count, then the page (ids sorted narrow)
        pages = Pages(scoped(Membership, account), Filters())
        pages.count()
        return list(pages.paginate(170, 15))
    orm = timed(orm_page)
    where = (f'm."org_id" IN (SELECT o2."id" FROM "organization" o2 WHERE o2."id" = {p}) '
             f'AND m."status" IN ({p}, {p}, {p})')

    def raw_page():
        args = (account.org_id, "待审核", "正常", "转入审核中")
        db.execute_sql(f'SELECT count(*) FROM "membership" m WHERE {where}', args).fetchall()
        db.execute_sql(f'SELECT m.*, p.*, o.* FROM "membership" m JOIN "person" p ON p."id" = m."person_id" '
                       f'JOIN "organization" o ON o."id" = m."org_id" WHERE m."id" IN ('
                       f'SELECT m."id" FROM "membership" m WHERE {where} ORDER BY m."id" + 0 DESC '
                       f'LIMIT 15 OFFSET {15 * 169}) ORDER BY m."id" DESC', args).fetchall()
    raw = timed(raw_page)
    b.row("  data access: roster page 170 + count (ORM vs raw SQL)", members, orm, "", orm[0] / raw[0])


def bench_imports(b, info, url, members):
    """批量导入 of 5,000 and 50,000 rows and 同步会员 of a 5,000-row roster, end to end through
    the upload page, each in its own process (peak memory), against a bare openpyxl read."""
    from bench.files import bare_read, compare_file, import_file
    from models import Account, Membership, Organization, Person
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    offset = 0
    from bench.generate import Scale
    sizes = Scale.from_env().imports
    for n, org_id, target in ((sizes[0], info["grassroots"][-1], 3), (sizes[1], info["grassroots"][-2], 30)):
        org = Organization.get_by_id(org_id)
        username = f"bench-import-{n}"
        account = Account(username=username, org=org_id)
        account.set_password(info["password"])
        account.save()
        path = import_file(tmp / f"members-{n}.xlsx", n, org.name, org.union_no, offset)
        offset += n
        read = timed(lambda path=path: bare_read(path), 1)[0]
        run = child_run(url, "import", path, username, info["password"])
        added = run["result"].get("added")
        assert added == n, run["result"]
        b.row(f"批量导入 {n:,} rows (xlsx, upload → job → applied), peak {run['peak_mb']:.0f} MB "
              f"(target ≤ 300 MB)", members, (run["seconds"] * 1000, run["seconds"] * 1000),
              f"p95 ≤ {target * 1000}", run["seconds"] * 1000 / read)
        b.row(f"  bare openpyxl read of the same {n:,}-row file", members, (read, read))
    # 同步会员 of the big union: 4,500 of its members, 200 of another union's, 300 new people
    big = info["big_union"]
    own = list(Membership.select(Person.name, Person.id_number).join(Person)
               .where(Membership.org == big).order_by(Membership.id).limit(4_500).tuples())
    other = list(Membership.select(Person.name, Person.id_number).join(Person)
                 .where(Membership.org == info["grassroots"][2]).limit(200).tuples())
    path = compare_file(tmp / "roster-5000.xlsx", own + other, 5_000 - len(own) - len(other), offset)
    read = timed(lambda: bare_read(path), 1)[0]
    run = child_run(url, "compare", path, "bench-big", info["password"])
    b.row(f"同步会员 of a 5,000-row roster (upload → job → classified A–E), peak {run['peak_mb']:.0f} MB",
          members, (run["seconds"] * 1000, run["seconds"] * 1000), "p95 ≤ 5000", run["seconds"] * 1000 / read)


def child_run(url, kind, path, username, password) -> dict:
    from models import db
    db.close()  # the child writes; SQLite must not see an open transaction here
    out = subprocess.run([sys.executable, "-m", "bench.import_run", url, kind, str(path), username, password],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    db.connect(reuse_if_open=True)
    return json.loads(out.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1:  # child process: one database
        print(json.dumps(bench_database(sys.argv[1]), ensure_ascii=False))
        return
    urls = [f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.db"]
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        urls.append(pg)
    rows = []
    for url in urls:
        out = subprocess.run([sys.executable, "-m", "bench.run", url], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        rows += json.loads(out.strip().splitlines()[-1])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    scale = os.environ.get("BENCH_SCALE") or "full (spec 80)"
    print(f"commit {commit}, scale {scale}, {REPEAT} timed runs per operation after one warm-up\n")
    print("| operation | database | rows | median ms | p95 ms | target ms | ratio to raw SQL / bare read |")
    print("| --- | --- | ---: | ---: | ---: | --- | ---: |")
    failed = []
    for op, kind, n, median, p95, target, ratio in rows:
        p95_text = f"{p95:.2f}" if p95 is not None else "-"
        ratio_text = f"{ratio:.2f}" if ratio is not None else "-"
        print(f"| {op} | {kind} | {n:,} | {median:.2f} | {p95_text} | {target or '-'} | {ratio_text} |")
        if target and p95 is not None and p95 > float(target.split("≤")[1]):
            failed.append(f"{op} ({kind}): p95 {p95:.1f} ms > {target}")
    if failed and not os.environ.get("BENCH_SCALE"):
        print("\nTargets missed:\n" + "\n".join(failed))


if __name__ == "__main__":
    main()
