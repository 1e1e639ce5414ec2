"""The centre's two imports for enrollment (issue 7), as background jobs like every import:

- 社保状态导入: the bureau's status file (证件号码, 姓名, 社保卡状态, 就业状态, 社保缴纳, 状态日期)
  into the registry (StatusRecord). A later file updates earlier ones; a row dated before the
  stored status leaves it (the newer status stays).
- 个人参保导入 (申工社): enrollments people made themselves (证件号码, 姓名, 保障年度, 保障类型代码,
  起保日期, 终保日期), so the once-per-year rule sees them. A person not yet in the system is
  registered from the ID number.

Rows are checked first; good rows are applied in one transaction; rejected rows come back with
their reasons in an error file to fix and upload again; uploading the same file twice changes
nothing the second time.
"""

from datetime import date

from models import db, figures
from models.audit import AuditLog
from models.base import in_values, now, today
from models.enroll import column_imports
from models.enroll.enrollment import (
    CARD_STATUSES,
    EMPLOYMENT,
    INDIVIDUAL,
    INSURANCE,
    NOT_ELIGIBLE,
    Enrollment,
    StatusRecord,
    holder_of,
)
from models.enroll.plans import ProtectionType, ProtectionYear
from models.io import uploads
from models.io.bulk import bulk_insert, fetch, update_rows
from models.io.columns import column, gender_of, normalized, plain_resident_ids
from models.io.tables import lost_digits, lost_digits_message
from models.jobs import Job, bulk_work, job_kind
from models.members.people import Person
from models.orgs.accounts import Account
from models.rules.fees import period_label
from models.rules.idnumber import IdError, check_resident_id
from models.rules.text import mask_text, normalize, parse_day

STATUS_COLUMNS = ["证件号码", "姓名", "社保卡状态", "就业状态", "社保缴纳", "状态日期"]
INDIVIDUAL_COLUMNS = ["证件号码", "姓名", "保障年度", "保障类型代码", "起保日期", "终保日期"]
MAX_ROWS = 200_000
KINDS = {"status_import": ("社保状态导入", STATUS_COLUMNS), "individual_import": ("个人参保导入", INDIVIDUAL_COLUMNS)}


def submit(kind: str, account: Account, data: bytes, file_name: str) -> Job:
    return uploads.submit(kind, account, data, file_name, KINDS[kind][1], MAX_ROWS)  # a wrong file is refused at once


def _day(text: str, label: str) -> date:
    day = parse_day(text)
    if day is None:
        raise ValueError(f"{label}格式应为 年-月-日")
    return day


def _id(values: dict, on: date):
    if lost_digits(values.get("证件号码")):
        raise ValueError(lost_digits_message("证件号码"))
    try:
        return check_resident_id(values.get("证件号码"), on)
    except IdError as exc:
        raise ValueError(f"证件号码：{exc}") from None


def _choice(values: dict, column: str, allowed: list) -> str:
    value = normalize(values.get(column))
    if value not in allowed:
        raise ValueError(f"{column}“{value}”不正确，可选：{'、'.join(allowed)}")
    return value


def check_status_rows(rows: list, on: date, plain: list | None = None) -> tuple[list, list]:
    """(plan of dicts, checked [(values, reasons)]). The plain rows (`_plain_status`, or `plain` found
    from the columns) are taken as they are; `_status_row` words each refusal of the others."""
    if plain is None:
        plain = _plain_status([values for _, values in rows], on)
    if _usual(plain):
        return plain, [(values, []) for _, values in rows]
    plan, checked, seen = [], [], {}
    for (number, values), row in zip(rows, plain, strict=True):
        if row is None:
            row, reasons = _status_row(number, values, on, seen)
        else:
            first = seen.setdefault(row["id_number"], number)
            reasons = [] if first == number else [f"证件号码与第{first}行重复"]
        checked.append((values, reasons))
        if not reasons:
            plan.append(row)
    return plan, checked


def _usual(plain: list) -> bool:
    """The usual file: every row plain and no number twice."""
    return None not in plain and len({row["id_number"] for row in plain}) == len(plain)


_STATUS_CHOICES = (("card_status", "社保卡状态", CARD_STATUSES), ("employment", "就业状态", EMPLOYMENT),
                   ("insurance", "社保缴纳", INSURANCE))


def _plain_status(columns, on: date) -> list:
    """Each row's plan dict when every cell is plain (a plain 身份证 number, each status one of its
    choices as written, a 状态日期 not after `on`), else None — column by column
    (models/io/columns.py). `columns`: {column: cells}, or the rows' dicts."""
    if not isinstance(columns, dict):
        columns = {c: column(columns, c) for c in STATUS_COLUMNS}
    numbers = columns["证件号码"]
    if not numbers:
        return []
    births = plain_resident_ids(numbers, on)
    cards, jobs, paid = (columns[c] for _, c, _ in _STATUS_CHOICES)
    days = list(map(parse_day, columns["状态日期"]))
    names = [n[:50] for n in normalized(columns["姓名"])]
    allowed = [frozenset(a) for _, _, a in _STATUS_CHOICES]
    return [{"id_number": n, "card_status": c, "employment": e, "insurance": i, "status_date": d, "name": m}
            if b is not None and c in allowed[0] and e in allowed[1] and i in allowed[2] and d is not None
            and d <= on else None
            for n, b, c, e, i, d, m in zip(numbers, births, cards, jobs, paid, days, names, strict=True)]


def _status_row(number: int, values: dict, on: date, seen: dict) -> tuple[dict, list]:
    reasons, row = [], {}
    try:
        row["id_number"] = _id(values, on).number
    except ValueError as exc:
        reasons.append(str(exc))
    for key, col, allowed in _STATUS_CHOICES:
        try:
            row[key] = _choice(values, col, allowed)
        except ValueError as exc:
            reasons.append(str(exc))
    try:
        row["status_date"] = _day(values.get("状态日期"), "状态日期")
    except ValueError as exc:
        reasons.append(str(exc))
    if row.get("status_date") and row["status_date"] > on:
        reasons.append("状态日期不能晚于今天")
    if "id_number" in row:
        first = seen.setdefault(row["id_number"], number)
        if first != number:
            reasons.append(f"证件号码与第{first}行重复")
    row["name"] = normalize(values.get("姓名"))[:50]
    return row, reasons


def apply_status(plan: list) -> tuple[int, int]:
    """Insert new records, update older ones (read in this transaction); (written, kept: newer). The
    monitor's 可参保 is recounted only for the people whose record moves it (`_moves`)."""
    numbers = [p["id_number"] for p in plan]
    day = StatusRecord.status_date.python_value
    stamp = now()
    with db.atomic():
        existing = {number: (rid, day(d), employment) for rid, number, d, employment in fetch(StatusRecord.select(
            StatusRecord.id, StatusRecord.id_number, StatusRecord.status_date, StatusRecord.employment).where(
            in_values(StatusRecord.id_number, numbers)))} if plan else {}
        moving = [p["id_number"] for p in plan if _moves(existing.get(p["id_number"]), p)]
        holders = [i for (i,) in fetch(Person.select(Person.id).where(in_values(Person.id_number, moving)))] \
            if moving else []
        fresh = [p for p in plan if p["id_number"] not in existing]
        changed = [(*[p[f.name] for f in STATUS_FIELDS], stamp, old[0]) for p in plan
                   if (old := existing.get(p["id_number"])) is not None and old[1] <= p["status_date"]]
        with figures.people(holders):  # 退休 / 死亡 move 可参保 (the monitor's counters)
            update_rows(StatusRecord, [*STATUS_FIELDS, StatusRecord.updated_at], changed)
            bulk_insert(StatusRecord, fresh, same={"updated_at": stamp})
    written = len(fresh) + len(changed)
    return written, len(plan) - written


def _moves(old, row: dict) -> bool:
    """Does `row` over the stored `old` ((id, 状态日期, 就业状态) or None; older: not written) move 可参保
    (a 退休 / 死亡 record where there was none or another, or the reverse: tally.eligible_rows)?"""
    after = row["employment"] in NOT_ELIGIBLE
    if old is None:
        return after
    return old[1] <= row["status_date"] and (old[2] in NOT_ELIGIBLE) != after


STATUS_FIELDS = [StatusRecord.id_number, StatusRecord.name, StatusRecord.card_status, StatusRecord.employment,
                 StatusRecord.insurance, StatusRecord.status_date]


def check_individual_rows(rows: list, on: date) -> tuple[list, list, int]:
    """(plan, checked, already): a row whose person already holds this very enrollment is
    `already` (a re-upload). The plain rows (`_plain_individual`) skip the row-by-row checks."""
    years = {y.year: y for y in ProtectionYear.select()}
    types = {(t.year_id, t.code): t for t in ProtectionType.select()}
    plan, checked, seen, already = [], [], {}, 0
    parsed = []
    plain = _plain_individual([values for _, values in rows], on, years, types)
    if None not in plain and len({(r["id_number"], id(r["year"])) for r in plain}) == len(plain):
        parsed = [(number, r, []) for (number, _), r in zip(rows, plain, strict=True)]  # the usual file
        rows = plain = ()
    for (number, values), row in zip(rows, plain, strict=True):
        if row is None:
            row, reasons = _individual_row(values, on, years, types)
        else:
            reasons = []
        if row.get("id_number") and row.get("year"):
            key = (row["id_number"], row["year"].id)
            first = seen.setdefault(key, number)
            if first != number:
                reasons.insert(len(reasons) - (not row["name"]), f"证件号码与第{first}行重复")
        parsed.append((number, row, reasons))
    persons = dict(fetch(Person.select(Person.id_number, Person.id).where(
        in_values(Person.id_number, [r["id_number"] for _, r, _ in parsed if r.get("id_number")]))))
    by_year: dict = {}
    for _, r, reasons in parsed:
        if not reasons and r["id_number"] in persons:
            by_year.setdefault(r["year"].id, (r["year"], []))[1].append(persons[r["id_number"]])
    held = {}
    for year, ids in by_year.values():
        held.update({(year.id, pid): e for pid, e in holder_of(year, ids).items()})
    if not held:  # nobody already insured that year (the usual file): no row changes here
        for _, r, _ in parsed:
            r["person"] = persons.get(r.get("id_number"))
        return [r for _, r, reasons in parsed if not reasons], [(r["values"], reasons) for _, r, reasons in parsed], 0
    for _, r, reasons in parsed:
        person = persons.get(r.get("id_number"))
        if not reasons and person is not None:
            e = held.get((r["year"].id, person))
            if e is not None:
                if e.source == INDIVIDUAL and e.start == r["start"] and e.type_id == r["type"].id:
                    already += 1
                    checked.append((r["values"], []))
                    continue
                where = f"「{e.org.name}」" if e.org_id else e.source
                reasons.append(f"本年度已在{where}参保，同一保障年度只能参保一次")
        checked.append((r["values"], reasons))
        if not reasons:
            r["person"] = person  # its id, or None: registered by apply_individual
            plan.append(r)
    return plan, checked, already


def _year_type(year_cell, code_cell, years: dict, types: dict):
    """(ProtectionYear, ProtectionType) as _individual_row reads the two cells, or None."""
    try:
        year = years.get(int(normalize(year_cell).removesuffix("年")))
    except ValueError:
        return None
    kind = types.get((year.id, normalize(code_cell).upper())) if year is not None else None
    return (year, kind) if kind is not None else None


def _plain_individual(values: list, on: date, years: dict, types: dict) -> list:
    """Each row's parsed dict when every cell is plain (a plain 身份证 number, a set year and its
    type's code, coverage dates inside the year, a plain name), else None — column by column."""
    if not values:
        return []
    numbers = column(values, "证件号码")
    births = plain_resident_ids(numbers, on)
    pairs = list(zip(column(values, "保障年度"), column(values, "保障类型代码"), strict=True))
    cover = {pair: _year_type(*pair, years, types) for pair in set(pairs)}
    cover = {pair: yt and (*yt, date(yt[0].year, 1, 1), date(yt[0].year, 12, 31)) for pair, yt in cover.items()}
    starts = list(map(parse_day, column(values, "起保日期")))
    ends = list(map(parse_day, column(values, "终保日期")))
    names = [n[:50] for n in normalized(column(values, "姓名"))]
    out = []
    for v, n, b, pair, s, e, m in zip(values, numbers, births, pairs, starts, ends, names, strict=True):
        yt = cover[pair]
        if b is None or yt is None or s is None or e is None or not m:
            out.append(None)
            continue
        first, last = yt[2:]
        out.append({"values": v, "id_number": n, "birth": b, "gender": gender_of(n), "year": yt[0],
                    "type": yt[1], "start": s, "end": e, "name": m} if first <= s <= e <= last else None)
    return out


def _individual_row(values: dict, on: date, years: dict, types: dict) -> tuple[dict, list]:
    reasons, row = [], {"values": values}
    try:
        rid = _id(values, on)
        row.update(id_number=rid.number, birth=rid.birth_date, gender=rid.gender)
    except ValueError as exc:
        reasons.append(str(exc))
    try:
        y = int(normalize(values.get("保障年度")).removesuffix("年"))
        row["year"] = years.get(y)
        if row["year"] is None:
            reasons.append(f"保障年度{y}年尚未设置")
    except ValueError:
        reasons.append("保障年度应为四位数字，如 2027")
    code = normalize(values.get("保障类型代码")).upper()
    if row.get("year"):
        row["type"] = types.get((row["year"].id, code))
        if row["type"] is None:
            reasons.append(f"保障类型代码“{code}”不是该年度的保障类型")
    for key, label in (("start", "起保日期"), ("end", "终保日期")):
        try:
            row[key] = _day(values.get(label), label)
        except ValueError as exc:
            reasons.append(str(exc))
    if row.get("year") and row.get("start") and row.get("end"):
        y = row["year"].year
        if not (date(y, 1, 1) <= row["start"] <= row["end"] <= date(y, 12, 31)):
            reasons.append(f"起保日期和终保日期须在{y}年内，且起保日期不晚于终保日期")
    row["name"] = normalize(values.get("姓名"))[:50]
    if not row["name"]:
        reasons.append("姓名未填写")
    return row, reasons


def apply_individual(plan: list) -> int:
    """The people not yet in the system registered, then the enrollments: two bulk inserts."""
    with db.atomic():
        new = {}
        for r in plan:
            if r["person"] is None and r["id_number"] not in new:
                new[r["id_number"]] = {"id_number": r["id_number"], "name": r["name"], "gender": r["gender"],
                                       "birth_date": r["birth"]}
        ids = {}
        if new:
            got = bulk_insert(Person, list(new.values()), returning=(Person.id_number, Person.id),
                              same={"id_type": "身份证"})
            if got is None:  # an SQLite without RETURNING
                got = Person.select(Person.id_number, Person.id).where(
                    in_values(Person.id_number, list(new)) & (Person.id_type == "身份证")).tuples()
            ids = dict(got)
        terms = {}  # (year, type, start) → (year id, type id, 全年 / 半年, fee): once per distinct
        rows = []
        for r in plan:
            key = (id(r["year"]), id(r["type"]), r["start"])
            term = terms.get(key)
            if term is None:
                t = r["type"]
                half = period_label(r["start"]) == "半年"
                term = terms[key] = (r["year"].id, t.id, "半年" if half else "全年", t.half_fee if half else t.full_fee)
            rows.append({"person": r["person"] or ids[r["id_number"]], "year": term[0], "type": term[1],
                         "start": r["start"], "end": r["end"], "period": term[2], "fee": term[3]})
        bulk_insert(Enrollment, rows, same={"org": None, "source": INDIVIDUAL, "channel": "会员卡参保",
                                            "mode": "即时参保"})
    return len(plan)


def _run(ctx, kind: str):
    account = Account.get_by_id(ctx.params["account"])
    table = uploads.read_columns(ctx, KINDS[kind][1], MAX_ROWS)
    header, total = table.header, len(table)
    on = today()
    if kind == "status_import":
        plan, rows, checked = _plain_status(table.columns, on), [], []  # the usual file: no dict a row
        if not _usual(plan):  # any other: row by row
            rows = table.rows
            plan, checked = check_status_rows(rows, on, plan)
        written, kept = apply_status(plan)
        done, already = written, kept
        summary = f"共{total}行，更新社保状态{written}人" + (f"，{kept}行早于已有状态未更新" if kept else "")
    else:
        fast = column_imports.individual(table, on)  # the usual file, column by column
        if fast is not None:
            rows, checked, already = [], [], 0
            done = column_imports.apply_individual(fast)
        else:
            rows = table.rows
            plan, checked, already = check_individual_rows(rows, on)
            done = apply_individual(plan)
        summary = f"共{total}行，导入个人参保{done}人" + (f"，{already}行已导入过" if already else "")
    failed = uploads.failed_rows(rows, checked)
    if failed:
        summary += f"，{len(failed)}行有错误未导入，请下载错误文件修改后重新上传"
    result = uploads.result(ctx, total, summary + "。", len(failed), imported=done, already=already,
                            errors=uploads.shown(failed, id_number=lambda v: mask_text(v.get("证件号码", ""))),
                            error_file=uploads.error_file_of(header, failed) if failed else None,
                            prefix=kind, download_name=f"{KINDS[kind][0]}错误数据.xlsx")
    ctx.save_progress(total, total)
    AuditLog.record(KINDS[kind][0], ctx.job, account=account,
                    detail={"文件": ctx.params.get("file_name", ""), "行数": total, "导入": done,
                            "错误行数": len(failed)})
    return result


@job_kind("status_import", "社保状态导入")
def run_status(ctx):
    with bulk_work():  # tens of thousands of rows: no cyclic GC rescans (models/jobs.py)
        return _run(ctx, "status_import")


@job_kind("individual_import", "个人参保导入")
def run_individual(ctx):
    with bulk_work():
        return _run(ctx, "individual_import")


def status_of(id_numbers: list) -> dict:
    """{ID number: StatusRecord} for the people asked about."""
    if not id_numbers:
        return {}
    return {r.id_number: r for r in StatusRecord.select().where(in_values(StatusRecord.id_number, id_numbers))}

