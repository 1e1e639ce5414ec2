"""给付信息查询 (spec 60 "Centre", issue 8): the benefits the centre paid to people (给付), recorded
by a form or imported from a file, and the query by ID number with each year's
给付申请材料截止 (ProtectionYear.claims_deadline).

A claim is accepted only for a person who held an active enrollment of that protection year
covering the 给付日期; the claim keeps that enrollment and its union (`org`, the scope: a district
sees the claims of people whose enrollment that year was in its subtree; 申工社 enrollments have
no union — city-wide only). 姓名 must be the person's name as registered.

The import (job kind `claim_import`, models/enroll/claim_import.py) checks every row first with
`check()`; if any row is wrong nothing is recorded and the whole file comes back with a 错误原因
column to fix and upload again. A claim already recorded (same person, 给付日期, 给付类型 and amount
— the same file uploaded twice) is counted, not recorded twice: the unique index makes it so when
two uploads run at once. Amounts are entered in 元 (at most two decimals), stored in fen.
"""

import operator
from collections import namedtuple
from datetime import date

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import BaseModel, DomainError, FieldErrors, in_values, now, today
from models.enroll.coverage import clean_id_number
from models.enroll.enrollment import Enrollment
from models.enroll.plans import ProtectionYear
from models.io.bulk import bulk_insert, fetch
from models.io.columns import column, normalized, plain_resident_ids
from models.io.tables import lost_digits, lost_digits_message
from models.members.people import Person
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.rules.fees import FeeError, fen, yuan
from models.rules.text import mask, normalize, parse_day

# 给付类型: the benefits of the protection types (保障内容, seed 001).
CLAIM_TYPES = ["重大疾病", "意外伤残", "意外身故", "疾病身故", "住院津贴"]
# (form field, import column)
FIELDS = [("id_number", "证件号码"), ("name", "姓名"), ("year", "保障年度"), ("claim_date", "给付日期"),
          ("claim_type", "给付类型"), ("amount", "给付金额(元)"), ("note", "备注")]
COLUMNS = [column for _, column in FIELDS]
REQUIRED = COLUMNS[:6]
LABELS = dict(FIELDS)
KIND = "claim_import"
MAX_ROWS = 50_000
MAX_AMOUNT = 1_000_000_00  # 100万元: more is a typing error
ALREADY = "该给付记录已登记（同一人、同一给付日期、给付类型和金额）"


class Claim(BaseModel):
    """One 给付 paid. A claim is recorded once: the same person, 给付日期, 给付类型 and amount again is
    the same claim (the unique index, migration 042 — also the index of a person's claims)."""
    person = pw.ForeignKeyField(Person, on_delete="RESTRICT", index=False)
    id_number = pw.CharField(max_length=32)  # as recorded
    name = pw.CharField(max_length=50)  # as recorded
    year = pw.ForeignKeyField(ProtectionYear, on_delete="RESTRICT")  # 保障年度
    enrollment = pw.ForeignKeyField(Enrollment, null=True, on_delete="SET NULL")  # the covering period
    org = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL")  # its union (scope)
    claim_date = pw.DateField()  # 给付日期
    claim_type = pw.CharField(max_length=10)  # 给付类型
    amount = pw.IntegerField()  # 给付金额 (fen)
    note = pw.CharField(max_length=200, default="")  # 备注
    created_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("person", "claim_date", "claim_type", "amount"), True),)


# --- checking ----------------------------------------------------------------------------------
def _id(raw, on: date) -> str:
    try:
        return clean_id_number(raw, on)
    except DomainError as exc:
        raise ValueError(exc.message.removeprefix("证件号码：")) from None


def _parse(values: dict, on: date, years: dict) -> tuple[dict, dict]:
    """One row's fields and {column: reason}."""
    row, reasons = {}, {}
    raw_id = values.get("证件号码", "")
    if lost_digits(raw_id):
        reasons["证件号码"] = lost_digits_message("证件号码")
    elif getattr(raw_id, "numeric", False):
        reasons["证件号码"] = "证件号码须为文本格式（数字格式会丢失末尾的数字），请把该列设为文本后重新填写"
    else:
        try:
            row["id_number"] = _id(raw_id, on)
        except ValueError as exc:
            reasons["证件号码"] = str(exc)
    row["name"] = normalize(values.get("姓名"))[:50]
    if not row["name"]:
        reasons["姓名"] = "请填写姓名"
    text = normalize(values.get("保障年度")).removesuffix("年")
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        reasons["保障年度"] = "保障年度应为四位数字，如 2027"
    elif int(text) not in years:
        reasons["保障年度"] = f"{text}年度尚未设置"
    else:
        row["year"] = years[int(text)]
    day = parse_day(values.get("给付日期"))
    if day is None:
        reasons["给付日期"] = "给付日期格式应为 年-月-日，如 2027-03-15"
    elif day > on:
        reasons["给付日期"] = "给付日期不能晚于今天"
    else:
        row["claim_date"] = day
    kind = normalize(values.get("给付类型"))
    if kind not in CLAIM_TYPES:
        reasons["给付类型"] = f"给付类型“{kind}”不正确，可选：{'、'.join(CLAIM_TYPES)}" if kind else \
            f"请选择给付类型（{'、'.join(CLAIM_TYPES)}）"
    row["claim_type"] = kind
    try:
        amount = fen(values.get("给付金额(元)"))
    except FeeError:
        reasons["给付金额(元)"] = "给付金额应为元，最多两位小数，如 10000 或 360.50"
    else:
        if amount <= 0:
            reasons["给付金额(元)"] = "给付金额须大于0"
        elif amount > MAX_AMOUNT:
            reasons["给付金额(元)"] = f"给付金额不能超过{yuan(MAX_AMOUNT)}元，请核对"
        row["amount"] = amount
    row["note"] = normalize(values.get("备注"))
    if len(row["note"]) > 200:
        reasons["备注"] = "备注不能超过200个字"
    return row, reasons


_key = operator.itemgetter("id_number", "claim_date", "claim_type", "amount")  # a claim recorded once


def _plain(values: list, on: date, years: dict) -> list:
    """Each row's fields when every cell is plain (a plain 身份证 number as text, a plain name, a
    set year as four digits, a 给付日期 not after `on`, one of the types as written, an amount in
    range, a plain 备注 of at most 200 characters), else None — column by column
    (models/io/columns.py); _parse words the refusals of the others."""
    if not values:
        return []
    numbers = column(values, "证件号码")
    births = plain_resident_ids(numbers, on)
    names = [n[:50] for n in normalized(column(values, "姓名"))]
    year_cells = column(values, "保障年度")
    year_of = {}
    for cell in set(year_cells):
        text = normalize(cell).removesuffix("年")
        year_of[cell] = years.get(int(text)) if text.isascii() and text.isdigit() and len(text) == 4 else None
    days = list(map(parse_day, column(values, "给付日期")))
    kinds = column(values, "给付类型")
    amount_cells = column(values, "给付金额(元)")
    amount_of = {}
    for cell in set(amount_cells):
        try:
            amount = fen(cell)
        except FeeError:
            amount = None
        amount_of[cell] = amount if amount is not None and 0 < amount <= MAX_AMOUNT else None
    notes = normalized(column(values, "备注"))
    allowed = frozenset(CLAIM_TYPES)
    out = []
    for n, b, m, y, d, k, a, note in zip(numbers, births, names, year_cells, days, kinds, amount_cells, notes,
                                         strict=True):
        year, amount = year_of[y], amount_of[a]
        out.append({"id_number": n, "name": m, "year": year, "claim_date": d, "claim_type": k, "amount": amount,
                    "note": note}
                   if b is not None and m and year is not None and d is not None and d <= on and k in allowed
                   and amount is not None and len(note) <= 200 else None)
    return out


def check(rows: list, on: date | None = None) -> tuple[list, list, int]:
    """rows = [(row number, {column: value})]. Returns (plan, checked, already): plan = the row
    dicts to record (with person and enrollment), checked = [(values, {column: reason})] in file
    order, already = rows recorded before (nothing to do). A few queries for the whole file; the
    plain rows (`_plain`) skip the row-by-row checks."""
    on = on or today()
    years = {y.year: y for y in ProtectionYear.select()}
    parsed, seen = [], {}
    plain = _plain([values for _, values in rows], on, years)
    if None not in plain and len(set(map(_key, plain))) == len(plain):  # the usual file
        parsed = [(values, row, {}) for (_, values), row in zip(rows, plain, strict=True)]
        rows = plain = ()
    for (number, values), row in zip(rows, plain, strict=True):
        if row is None:
            row, reasons = _parse(values, on, years)
        else:
            reasons = {}
        if not reasons:
            first = seen.setdefault(_key(row), number)
            if first != number:
                reasons["证件号码"] = f"与第{first}行重复（同一人、同一给付日期、给付类型和金额）"
        parsed.append((values, row, reasons))
    numbers = list({r["id_number"] for _, r, reasons in parsed if "id_number" in r})
    # plain tuples with the attributes the check reads (a file holds tens of thousands: no model rows)
    found = fetch(Person.select(Person.id, Person.name, Person.id_number).where(in_values(Person.id_number, numbers)))
    persons = {}
    if found:
        pids, names, numbers = zip(*found, strict=True)
        persons = dict(zip(numbers, map(_Person, pids, normalized(list(names))), strict=True))
    person_ids = [p.id for p in persons.values()]
    periods: dict = {}
    if person_ids:
        held = fetch(Enrollment.select(
            Enrollment.id, Enrollment.person, Enrollment.year, Enrollment.start, Enrollment.end, Enrollment.org)
            .where(in_values(Enrollment.person, person_ids) & Enrollment.active).order_by(Enrollment.start))
        if held:
            eids, pids, year_ids, starts, ends, orgs = zip(*held, strict=True)
            day = {v: Enrollment.start.python_value(v) for v in {*starts, *ends}}  # once per distinct value
            for period in map(_Period, eids, pids, year_ids, map(day.__getitem__, starts),
                              map(day.__getitem__, ends), orgs):
                periods.setdefault((period.person_id, period.year_id), []).append(period)
    recorded = set()  # (person id, 给付日期, 给付类型, amount): the unique index's key
    if person_ids:
        recorded = set(Claim.select(Claim.person, Claim.claim_date, Claim.claim_type, Claim.amount)
                       .where(in_values(Claim.person, person_ids)).tuples())
    plan, checked, already = [], [], 0
    year_of = {id(y): (y.id, y.claims_deadline) for y in years.values()}
    for values, row, reasons in parsed:
        if not reasons:
            # the usual row inline (the person, their name, the year's first period covering the day,
            # no deadline passed); _cover words every other case
            person = persons.get(row["id_number"])
            year_id, deadline = year_of[id(row["year"])]
            held = periods.get((person.id, year_id)) if person is not None and person.name == row["name"] else None
            if held and held[0].start <= row["claim_date"] and not (deadline and row["claim_date"] > deadline):
                row["person"], row["enrollment"] = person, held[0]
            else:
                _cover(row, persons, periods, reasons)
        if not reasons and recorded and \
                (row["person"].id, row["claim_date"], row["claim_type"], row["amount"]) in recorded:
            already += 1
            checked.append((values, {}))
            continue
        checked.append((values, reasons))
        if not reasons:
            plan.append(row)
    return plan, checked, already


_Person = namedtuple("_Person", "id name")  # name: normalize()d
_Period = namedtuple("_Period", "id person_id year_id start end org_id")  # an active enrollment


def _cover(row: dict, persons: dict, periods: dict, reasons: dict) -> None:
    """The person and the active enrollment of the year the claim is paid under, or the reason."""
    person = persons.get(row["id_number"])
    year = row["year"]
    if person is None:
        reasons["证件号码"] = "系统中没有该证件号码的人员，不能登记给付"
        return
    if person.name != row["name"]:
        reasons["姓名"] = "姓名与该证件号码登记的姓名不一致"
        return
    held = periods.get((person.id, year.id), [])
    # 给付日期 is the day the money is paid: on or after the start of the coverage period (nothing is
    # paid for a time the person was not insured) and, when the centre set one, not after the
    # year's 给付申请材料截止 — payments after the year's end are normal.
    deadline = year.claims_deadline
    covering = next((e for e in held if e.start <= row["claim_date"]), None)
    if covering is None:
        if held:
            spans = "、".join(f"{e.start:%Y-%m-%d} 至 {e.end:%Y-%m-%d}" for e in held)
            reasons["给付日期"] = f"给付日期早于该人员{year.year}年度的起保日期（保障期间：{spans}）"
        else:
            reasons["给付日期"] = f"该人员{year.year}年度没有有效的参保，不能登记给付"
        return
    if deadline and row["claim_date"] > deadline:
        reasons["给付日期"] = f"给付日期晚于{year.year}年度的给付申请材料截止日期（{deadline:%Y-%m-%d}）"
        return
    row.update(person=person, enrollment=covering)


def _values(r: dict, account, stamp) -> dict:
    return {"person": r["person"].id, "id_number": r["id_number"], "name": r["name"], "year": r["year"].id,
            "enrollment": r["enrollment"].id, "org": r["enrollment"].org_id, "claim_date": r["claim_date"],
            "claim_type": r["claim_type"], "amount": r["amount"], "note": r["note"],
            "created_by": account.id if account else None, "created_at": stamp}


def insert_checked(plan: list, account) -> None:
    year_ids = {id(r["year"]): r["year"].id for r in plan[:1]}
    rows = []
    for r in plan:
        year_id = year_ids.get(id(r["year"])) or year_ids.setdefault(id(r["year"]), r["year"].id)
        rows.append({"person": r["person"].id, "id_number": r["id_number"], "name": r["name"], "year": year_id,
                     "enrollment": r["enrollment"].id, "org": r["enrollment"].org_id,
                     "claim_date": r["claim_date"], "claim_type": r["claim_type"], "amount": r["amount"],
                     "note": r["note"]})
    bulk_insert(Claim, rows, same={"created_by": account.id if account else None, "created_at": now()})


# --- the form ----------------------------------------------------------------------------------
def record(form: dict, account) -> Claim:
    """登记给付 from the form ({field: text}); FieldErrors (422) names the fields."""
    values = {column: form.get(field, "") for field, column in FIELDS}
    plan, checked, already = check([(1, values)])
    reasons = {field: checked[0][1][column] for field, column in FIELDS if column in checked[0][1]}
    if already:
        reasons["claim_date"] = ALREADY
    if reasons:
        raise FieldErrors("请按提示修改后重新提交", reasons)
    row = plan[0]
    try:
        with db.atomic():
            claim = Claim.create(**_values(row, account, now()))
            AuditLog.record("登记给付", claim, account=account,
                            detail={"证件号码": mask(row["id_number"]), "保障年度": row["year"].year,
                                    "给付日期": row["claim_date"], "给付类型": row["claim_type"],
                                    "给付金额(元)": yuan(row["amount"])})
    except pw.IntegrityError:  # recorded by someone else since the check (the unique index), or the person changed
        if check([(1, values)])[2]:
            raise FieldErrors("请按提示修改后重新提交", {"claim_date": ALREADY}) from None
        raise DomainError("登记期间该人员的信息被其他操作修改，请重新提交", 409) from None
    return claim


# --- the query ---------------------------------------------------------------------------------
def of_person(id_number: str, org_ids=None) -> list:
    """The person's claims (newest first) with .year loaded; only those whose enrollment was in a
    union of `org_ids` when it is given."""
    query = (Claim.select(Claim, ProtectionYear).join(ProtectionYear, on=(Claim.year == ProtectionYear.id))
             .where(Claim.person.in_(Person.select(Person.id).where(Person.id_number == id_number)))
             .order_by(Claim.claim_date.desc(), Claim.id.desc()))
    if org_ids is not None:
        query = query.where(Claim.org.in_(org_ids))
    return list(query)


def by_year(id_number: str, org_ids=None) -> list:
    """[(ProtectionYear, [Claim], total fen)] newest year first: every year the person was
    covered in scope or was paid in scope — each with its 给付申请材料截止."""
    claims = of_person(id_number, org_ids)
    query = (ProtectionYear.select().join(Enrollment, on=(Enrollment.year == ProtectionYear.id))
             .join(Person, on=(Enrollment.person == Person.id)).where(Person.id_number == id_number).distinct())
    if org_ids is not None:
        query = query.where(Enrollment.org.in_(org_ids))
    years = {y.id: y for y in query}
    for c in claims:
        years.setdefault(c.year_id, c.year)
    out = []
    for y in sorted(years.values(), key=lambda y: y.year, reverse=True):
        mine = [c for c in claims if c.year_id == y.id]
        out.append((y, mine, sum(c.amount for c in mine)))
    return out
