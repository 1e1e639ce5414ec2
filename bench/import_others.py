"""The other imports end to end (issue 19 item 3), each beside a bare python-calamine read of the
same file measured in the same run: 开卡回盘导入, 组织导入, 社保状态导入, 个人参保导入, 给付信息导入 and
建议清册导入 (缴费人员). Called from bench/run.py's import path (BENCH_ONLY=import and the full run).

Each file is written in the template's real columns by openpyxl's normal mode (shared strings, as
Excel writes; bench/files.py), BENCH_OTHER_ROWS rows (default 50,000; 组织导入 at most its own
limit of 5,000 rows, 开卡回盘导入 at most the members without a card the city holds). Each row is
the upload page's POST (JOBS_MODE=immediate: the job runs to the end inside the request) →
the job 已完成 with every row imported; its wall time, its CPU time (this process: the PostgreSQL
server's work is not in it) and the ratio of the wall time to the bare read's. The effects are
undone after each run (rows above the marks taken before it, the counters they moved), so a kept
city stays the same. BENCH_IMPORT_REPEAT=n runs each import and its bare read n times, interleaved.

The people are new (ID numbers of area 310116, which neither the city nor bench/files.py nor
bench/mutual_aid.py uses), except 开卡回盘导入's: the members of the city without a card, put in
one batch 已报送银行 first (the batch goes again afterwards).
"""

import io
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.generate import ric
from models import db

ROWS = int(os.environ.get("BENCH_OTHER_ROWS") or 50_000)
REPEAT = int(os.environ.get("BENCH_IMPORT_REPEAT", "1"))
PROFILE = bool(os.environ.get("BENCH_PROFILE"))
TARGET_MS = 5_000  # 50,000 rows end to end (spec 80)


# --- files ------------------------------------------------------------------------------------------
def person(i: int) -> tuple[str, str, str]:
    """(name, ID number, gender) of the i-th new person of these imports (area 310116)."""
    birth = date(1965, 1, 1) + timedelta(days=i % 12_000)
    seq = i // 12_000
    return f"导入人员{i}", ric(f"310116{birth:%Y%m%d}{seq:03d}"), "男" if seq % 2 else "女"


def _save(path: Path, title: str, header: list, rows) -> Path:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def card_return_file(path: Path, numbers: list, on: date) -> Path:
    from bench.cards import _luhn
    from models.cards.card_return import RETURN_COLUMNS
    day = (on - timedelta(days=1)).isoformat()
    return _save(path, "开卡回盘", RETURN_COLUMNS,
                 ([n, _luhn(30_000_000 + i), day] for i, n in enumerate(numbers)))


def org_file(path: Path, rows: int, district_name: str) -> Path:
    """组织导入: a 街道总工会 under the district per 100 rows, 工会委员会 under it (parents in the file)."""
    from models.orgs.org_import import COLUMNS

    def lines():
        for i in range(rows):
            if i % 100 == 0:
                yield [f"导入基准街道总工会{i // 100}", district_name, "街道总工会", "", "", f"IMPS{i // 100:05d}",
                       "上海市浦东新区基准路1号", "张三", "021-12345678"]
            else:
                yield [f"导入基准工会委员会{i}", f"导入基准街道总工会{i // 100}", "工会委员会", "", "",
                       f"IMPG{i:06d}", "上海市浦东新区基准路2号", "李四", f"138{i:08d}"]
    return _save(path, "组织导入", COLUMNS, lines())


def status_file(path: Path, rows: int, on: date, offset: int = 0) -> Path:
    from models.enroll.status_import import STATUS_COLUMNS
    day = (on - timedelta(days=10)).isoformat()
    return _save(path, "社保状态", STATUS_COLUMNS,
                 ([number, name, "正常", "在职", "已缴纳", day]
                  for name, number, _ in map(person, range(offset, offset + rows))))


def individual_file(path: Path, rows: int, year: int, offset: int = 0) -> Path:
    from models.enroll.status_import import INDIVIDUAL_COLUMNS
    return _save(path, "个人参保", INDIVIDUAL_COLUMNS,
                 ([number, name, str(year), "A", f"{year}-01-01", f"{year}-12-31"]
                  for name, number, _ in map(person, range(offset, offset + rows))))


def claim_file(path: Path, rows: int, year: int, offset: int = 0) -> Path:
    from models.enroll.claims import CLAIM_TYPES, COLUMNS
    return _save(path, "给付信息导入", COLUMNS,
                 ([number, name, str(year), (date(year, 3, 1) + timedelta(days=i % 200)).isoformat(),
                   CLAIM_TYPES[i % len(CLAIM_TYPES)], f"{1000 + i % 900}.50", ""]
                  for i, (name, number, _) in enumerate(map(person, range(offset, offset + rows)))))


def payer_file(path: Path, rows: int, offset: int = 0) -> Path:
    from models.mutual_aid.registry_import import KINDS, PAYERS
    return _save(path, "建议清册缴费人员", KINDS[PAYERS][1],
                 ([f"S{i % 2_000:07d}", number, name, "退休" if i % 20 == 0 else "在职"]
                  for i, (name, number, _) in enumerate(map(person, range(offset, offset + rows)))))


# --- timing -----------------------------------------------------------------------------------------
def _account(username: str, org_id: int, password: str) -> None:
    from models.orgs.accounts import Account
    if not Account.select().where(Account.username == username).exists():
        account = Account(username=username, org=org_id)
        account.set_password(password)
        account.save()


def centre(info: dict) -> str:
    """The centre's account (bench-centre, as bench/cards.py makes it)."""
    from models.orgs.organizations import Organization
    org = Organization.get_or_none(Organization.name == "基准职保中心") or Organization.add(
        Organization.get_by_id(info["city"]), name="基准职保中心", type="市职保中心", level="centre")
    _account("bench-centre", org.id, info["password"])
    return "bench-centre"


def _post(client, url: str, data: bytes, fields: dict) -> None:
    response = client.post(url, data={**fields, "file": (io.BytesIO(data), "upload.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 303), (url, response.status_code, response.get_data(as_text=True)[-2000:])


def _job(kind: str) -> dict:
    from models.jobs import Job
    job = Job.select().where(Job.kind == kind).order_by(Job.id.desc()).first()
    assert job is not None and job.status == "已完成", (kind, job and job.status, job and job.errors)
    return job.result_data


def measure(b, label: str, path: Path, run, undo, rows: int, target_ms: int = TARGET_MS, wrote=None) -> None:
    """Interleaved: the bare read (wall, CPU), `run()` (wall, CPU), `undo()`; one row for the import,
    one for the read and, with `wrote()` (the rows the import added: [(model, where, params)]), one
    for the floor under it (bench/floor.py)."""
    from bench import floor
    from bench.files import bare_read
    data = path.read_bytes()
    bare_read(data)  # warm (the module, the allocator)
    reads, cpu_reads, runs, cpu_runs = [], [], [], []
    captured = None
    for i in range(REPEAT):
        start, cpu = time.perf_counter(), time.process_time()
        bare_read(data)
        reads.append(time.perf_counter() - start)
        cpu_reads.append(time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        profiled(label, run, data) if PROFILE and i == REPEAT - 1 else run(data)
        runs.append(time.perf_counter() - start)
        cpu_runs.append(time.process_time() - cpu)
        if wrote is not None and i == REPEAT - 1:
            captured = floor.capture(wrote())
        undo()
    read, total = statistics.median(reads), statistics.median(runs)
    cpu_read, cpu_run = statistics.median(cpu_reads), statistics.median(cpu_runs)
    ratios = sorted(r / t for r, t in zip(runs, reads, strict=True))
    spread = f", ratios {ratios[0]:.2f}–{ratios[-1]:.2f} over {len(runs)} runs" if len(runs) > 1 else ""
    b.row(f"{label} {rows:,} rows (xlsx, upload → job → applied), CPU {cpu_run:.2f} s, bare read CPU "
          f"{cpu_read:.2f} s, CPU ratio {cpu_run / cpu_read:.2f} (ratio ≤ 3){spread}", rows,
          (total * 1000, max(runs) * 1000), f"p95 ≤ {target_ms}", total / read)
    b.row(f"  bare calamine read of the same {rows:,}-row file", rows, (read * 1000, max(reads) * 1000))
    if captured is not None:
        floor.row(b, rows, read * 1000, floor.parse_seconds(data), floor.write_seconds(captured))


def profiled(label: str, run, data: bytes) -> None:
    """BENCH_PROFILE=1: the last run under cProfile, its 40 costliest functions (own time) written to
    bench/out/profile-<label>.txt (that run's time then includes the profiler's)."""
    import cProfile
    import pstats
    profile = cProfile.Profile()
    profile.runcall(run, data)
    out = Path(__file__).resolve().parent / "out" / f"profile-{label}.txt"
    out.parent.mkdir(exist_ok=True)
    with out.open("w") as f:
        pstats.Stats(profile, stream=f).sort_stats("tottime").print_stats(40)


# --- the imports ------------------------------------------------------------------------------------
def bench_other_imports(b, info: dict) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-other-imports-"))
    only = set(filter(None, os.environ.get("BENCH_OTHER", "").split(",")))
    cases = [("card_return", bench_card_return), ("org_import", bench_org_import),
             ("status_import", bench_status_import), ("individual_claims", bench_individual_and_claims),
             ("registry", bench_registry)]
    for name, case in cases:
        if not only or name in only:
            case(b, info, tmp)


def bench_card_return(b, info: dict, tmp: Path) -> None:
    """开卡回盘导入 of one batch 已报送银行 of up to ROWS members without a card (made for the run)."""
    from models import figures
    from models.base import now, today
    from models.cards.cards import SENT, Card, CardBatch, CardBatchItem
    from models.members.people import Membership, Person
    on = today()
    people = list(Membership.select(Membership.id, Membership.person, Person.name, Person.id_number, Person.gender,
                                    Membership.mobile, Membership.work_unit).join(Person)
                  .where((Membership.status == "正常") & ~Person.id.in_(Card.select(Card.person))
                         & ~Person.id.in_(CardBatchItem.select(CardBatchItem.person)))
                  .order_by(Membership.id).limit(ROWS).tuples())
    org_id = info["grassroots"][2]
    with db.atomic():
        batch = CardBatch.create(number=f"KBIMP{on:%Y%m%d}", org=org_id, status=SENT, count=len(people),
                                 submitted_at=now())
        items = [{"batch": batch.id, "person": pid, "membership": mid, "name": name, "id_type": "身份证",
                  "id_number": number, "gender": gender, "id_expiry": on + timedelta(days=3650), "mobile": mobile,
                  "work_unit": unit} for mid, pid, name, number, gender, mobile, unit in people]
        for i in range(0, len(items), 5_000):
            CardBatchItem.insert_many(items[i:i + 5_000]).execute()
    path = card_return_file(tmp / f"return-{len(people)}.xlsx", [p[3] for p in people], on)
    client = b.client(centre(info), info["password"])
    person_ids = [p[1] for p in people]

    def run(data):
        _post(client, "/cards/returns", data, {})
        result = _job("card_return")
        assert result["imported"] == len(people), str(result)[:500]

    def undo():
        from models.cards.cards import ITEM_WAITING
        with db.atomic(), figures.people(person_ids):
            CardBatchItem.update(state=ITEM_WAITING).where(CardBatchItem.batch == batch.id).execute()
            Card.delete().where(Card.batch == batch.id).execute()
            CardBatch.update(status=SENT, opened_at=None).where(CardBatch.id == batch.id).execute()

    try:
        measure(b, "开卡回盘导入", path, run, undo, len(people),
                wrote=lambda: [(Card, '"batch_id" = %s', [batch.id])])
    finally:
        with db.atomic():
            CardBatchItem.delete().where(CardBatchItem.batch == batch.id).execute()
            CardBatch.delete().where(CardBatch.id == batch.id).execute()


def bench_org_import(b, info: dict, tmp: Path) -> None:
    """组织导入 of its limit (5,000 rows): 街道总工会 under a district, 工会委员会 under them."""
    from models.orgs.org_import import MAX_ROWS
    from models.orgs.organizations import Organization, OrgTree
    from models.stats import tally
    rows = min(ROWS, MAX_ROWS)
    district = Organization.get_by_id(info["district"])
    path = org_file(tmp / f"orgs-{rows}.xlsx", rows, district.name)
    client = b.client("bench-district", info["password"])
    mark = Organization.select(Organization.id).order_by(Organization.id.desc()).scalar()

    def run(data):
        _post(client, "/orgs/import", data, {})
        result = _job("org_import")
        assert result["imported"] == rows, str(result)[:500]

    def undo():
        new = [i for (i,) in Organization.select(Organization.id).where(Organization.id > mark).tuples()]
        tops = [i for (i,) in Organization.select(Organization.id)
                .where((Organization.id > mark) & (Organization.parent == district.id)).tuples()]
        with db.atomic():
            for top in tops:  # their counted unions leave the district's and the city's counters
                tally.detach(top)
            for model in (tally.UnionTally, tally.EligibleTally, tally.YearTally):
                model.delete().where(model.org.in_(new)).execute()
            OrgTree.delete().where(OrgTree.descendant.in_(new)).execute()
            Organization.update(parent=None).where(Organization.id.in_(new)).execute()
            Organization.delete().where(Organization.id.in_(new)).execute()

    measure(b, "组织导入", path, run, undo, rows, target_ms=1_000 if rows <= 5_000 else TARGET_MS,
            # the floor leaves out its 导入组织 log rows (the log is append-only: they stay after undo())
            wrote=lambda: [(Organization, '"id" > %s', [mark]), (OrgTree, '"descendant_id" > %s', [mark])])


def bench_status_import(b, info: dict, tmp: Path) -> None:
    """社保状态导入 of ROWS new people's statuses (inserted; 正常 / 在职: no counter moves)."""
    from models.base import today
    from models.enroll.enrollment import StatusRecord
    path = status_file(tmp / f"status-{ROWS}.xlsx", ROWS, today())
    client = b.client(centre(info), info["password"])
    mark = StatusRecord.select(StatusRecord.id).order_by(StatusRecord.id.desc()).scalar() or 0

    def run(data):
        _post(client, "/plans/imports", data, {"kind": "status_import"})
        result = _job("status_import")
        assert result["imported"] == ROWS, str(result)[:500]

    def undo():
        StatusRecord.delete().where(StatusRecord.id > mark).execute()

    measure(b, "社保状态导入", path, run, undo, ROWS, wrote=lambda: [(StatusRecord, '"id" > %s', [mark])])


def _past_year():
    """The protection year before this one (made for the run when the city has none; the caller
    removes it again)."""
    from models.base import today
    from models.enroll import plans
    y = today().year - 1
    year = plans.get_year(y)
    return (year, False) if year is not None else (plans.create_year(y), True)


def bench_individual_and_claims(b, info: dict, tmp: Path) -> None:
    """个人参保导入 of ROWS new people (each registered from the ID number) in last year, then
    给付信息导入 of a claim for each of them."""
    from models.enroll.claims import Claim
    from models.enroll.enrollment import Enrollment
    from models.enroll.plans import ProtectionYear
    from models.members.people import Person
    year, made = _past_year()
    client = b.client(centre(info), info["password"])
    person_mark = Person.select(Person.id).order_by(Person.id.desc()).scalar() or 0
    enroll_mark = Enrollment.select(Enrollment.id).order_by(Enrollment.id.desc()).scalar() or 0
    claim_mark = Claim.select(Claim.id).order_by(Claim.id.desc()).scalar() or 0
    offset = 100_000

    def run_individual(data):
        _post(client, "/plans/imports", data, {"kind": "individual_import"})
        result = _job("individual_import")
        assert result["imported"] == ROWS, str(result)[:500]

    def undo_individual():
        Enrollment.delete().where(Enrollment.id > enroll_mark).execute()
        Person.delete().where(Person.id > person_mark).execute()

    def run_claims(data):
        _post(client, "/coverage/claims/import", data, {})
        result = _job("claim_import")
        assert result["imported"] == ROWS, str(result)[:500]

    def undo_claims():
        Claim.delete().where(Claim.id > claim_mark).execute()

    try:
        path = individual_file(tmp / f"individual-{ROWS}.xlsx", ROWS, year.year, offset)
        measure(b, "个人参保导入", path, run_individual, undo_individual, ROWS,
                wrote=lambda: [(Person, '"id" > %s', [person_mark]), (Enrollment, '"id" > %s', [enroll_mark])])
        run_individual(path.read_bytes())  # the claims' cover
        measure(b, "给付信息导入", claim_file(tmp / f"claims-{ROWS}.xlsx", ROWS, year.year, offset),
                run_claims, undo_claims, ROWS, wrote=lambda: [(Claim, '"id" > %s', [claim_mark])])
    finally:
        undo_claims()
        undo_individual()
        if made:
            ProtectionYear.delete().where(ProtectionYear.id == year.id).execute()


def bench_registry(b, info: dict, tmp: Path) -> None:
    """建议清册导入 (缴费人员) of ROWS new payers (inserted; the later file replaces by 证件号码)."""
    from models.mutual_aid.registry import RegistryPayer
    from models.mutual_aid.registry_import import PAYERS
    path = payer_file(tmp / f"payers-{ROWS}.xlsx", ROWS, 200_000)
    client = b.client(centre(info), info["password"])
    mark = RegistryPayer.select(RegistryPayer.id).order_by(RegistryPayer.id.desc()).scalar() or 0

    def run(data):
        _post(client, "/mutual-aid/registry", data, {"kind": PAYERS})
        result = _job(PAYERS)
        assert result["imported"] == ROWS, str(result)[:500]

    def undo():
        RegistryPayer.delete().where(RegistryPayer.id > mark).execute()

    measure(b, "建议清册导入（缴费人员）", path, run, undo, ROWS, wrote=lambda: [(RegistryPayer, '"id" > %s', [mark])])
