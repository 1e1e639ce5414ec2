"""集中参保统计 in the benchmark city (issue 8): on the enrollments of bench/enroll.py (20,000
centralized submissions) —

- 集中参保统计表 Excel of 5,000 grassroots unions (the model's writer over the first 5,000 unions
  of the city: the same code as the district's download, whose subtree holds fewer), and the
  district's download through the app (GET /enroll-stats/district.xlsx);
- 集中参保实时监控画面 of a district, a secondary union and the city, beside a smaller city generated in
  the same run (bench/monitor.py: the growth ratio);
- the city's 区局汇总表 and a page of 参保人员名单.

The ratio is to a bare baseline measured in the same run: for the Excel, the same SQL statements
run raw plus a bare openpyxl write-only workbook of the same number of rows; for the monitor, the
SQL statements it ran, executed raw.
"""

import tempfile

from models import db

UNIONS = 5_000


def captured(fn) -> list:
    """The SQL statements (with parameters) that fn() runs."""
    real = type(db.obj).execute_sql
    seen = []

    def spy(self, sql, params=None, *args, **kwargs):
        seen.append((sql, params))
        return real(self, sql, params, *args, **kwargs)
    type(db.obj).execute_sql = spy
    try:
        fn()
    finally:
        type(db.obj).execute_sql = real
    return seen


def replay(statements):
    def run():
        for sql, params in statements:
            db.execute_sql(sql, params).fetchall()
    return run


def bare_workbook(rows: int, columns: int) -> None:
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet("bare")
    row = ["基准第1公司工会委员会", "", "基准第1街道总工会", "A类会员专享基本保障", *range(columns - 4)]
    for _ in range(rows):
        sheet.append(row)
    with tempfile.TemporaryFile() as handle:
        book.save(handle)


def bench_enroll_stats(b, info: dict, members: int, timed, repeat: int) -> None:
    from bench.enroll import generate_enrollments
    from models.orgs.organizations import Organization
    from models.stats import enroll_stats as stats
    year = generate_enrollments(info)["year"]
    enrollments = b.count("enrollment")
    root = Organization.get_by_id(info["city"])
    unions = (Organization.select(Organization.id).where(Organization.level == "grassroots")
              .order_by(Organization.id).limit(UNIONS))
    n = unions.count()
    few = max(3, repeat // 10)

    def write():
        handle, rows = stats.write_unions(root, year, unions)
        handle.close()
        assert rows == n, rows
    orm = timed(write, few)
    statements = [s for s in captured(write) if s[0].lstrip().upper().startswith("SELECT")]
    cells = len(stats.UNION_COLUMNS)
    bare = timed(lambda: (replay(statements)(), bare_workbook(n, cells)), few)
    b.row(f"集中参保统计表 Excel（{n:,} 个基层工会）(write-only, streamed from a temporary file)", enrollments, orm,
          "p95 ≤ 5000", orm[0] / bare[0])
    b.row(f"  bare baseline: the same SQL raw + bare openpyxl write of {n:,} rows", enrollments, bare)
    district = b.client("bench-district", info["password"])
    in_district = Organization.select().where(stats.grassroots_of(Organization.get_by_id(info["district"]))).count()
    b.row(f"下载集中参保统计表 of a district ({in_district:,} unions, GET /enroll-stats/district.xlsx)", enrollments,
          timed(b.get(district, f"/enroll-stats/district.xlsx?year={year.year}"), few), "p95 ≤ 5000")

    from bench.monitor import bench_monitor  # district, secondary, city — beside a smaller city (growth)
    bench_monitor(b, info, members, timed, repeat)

    city = b.client("bench-city", info["password"])
    b.row("集中参保区局汇总表 Excel (GET /enroll-stats/city.xlsx)", enrollments,
          timed(b.get(city, f"/enroll-stats/city.xlsx?year={year.year}"), few), "p95 ≤ 5000")
    b.row("参保人员名单 page 100, whole city (GET /enroll-stats/people)", enrollments,
          timed(b.get(city, f"/enroll-stats/people?year={year.year}&page=100"), max(10, repeat // 5)), "p95 ≤ 300")
