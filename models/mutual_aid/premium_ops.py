"""保障项目选择 → 生成保费信息 → 提交确认保费 → 保费详细 (spec 70, seed 004 集中参保操作流程 （四） and
即时参保操作流程 4; issue 18 item 7) over models/rules/mutual_fees.py and mutual_year.py.

- `generate` (生成保费信息): the unit's account, its batch in 保障项目待选择, the batch's window open;
  the ticked items checked (`check_items`; an instant batch of a unit whose centralized batch of the
  year is past item selection must tick the same items, `check_instant_items`); in one transaction
  the items (BatchItem), the coverage and 免责期 (BatchCoverage, BatchItem.covered_from), every
  person's premium and the batch's premium_total.
- Premiums are written set-based: all the people of a batch share its start date, so a person's
  premium depends only on 职保 or not (`mutual_rules.zhibao`) — two UPDATEs (and one that zeroes the
  removed people), whatever the roster's size. The total is each class's premium times its count,
  which is the sum of the people's premiums (a property test checks it against the rows).
- `confirm` (提交确认保费): the premiums are worked out again from the stored items in the same
  transaction as the move to 缴费凭证待上传 (with premium_confirmed_at), so what is confirmed is what
  the rows hold; a total other than the one the page showed is refused (the roster or the prices
  changed meanwhile: 请重新生成保费信息).
"""

import io
from datetime import date, datetime

import peewee as pw
from openpyxl import Workbook

from models import db, is_postgres
from models.audit import AuditLog
from models.base import DomainError, now
from models.io.excel import export_cell, export_row, safe_cell
from models.mutual_aid import batch_ops, years
from models.mutual_aid.batches import (
    AWAIT_VOUCHER,
    CHOOSE_ITEMS,
    IN_SERVICE,
    INSURED,
    RETIRED,
    VOUCHER_REVIEW,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.premiums import BatchCoverage, BatchItem
from models.rules import mutual_fees, mutual_year
from models.rules.fees import yuan
from models.rules.mutual_roster import zhibao
from models.rules.text import mask
from models.workflow import STALE, transition

PAST_ITEMS = (AWAIT_VOUCHER, VOUCHER_REVIEW, INSURED)  # the centralized items are fixed for the year
NOT_YOURS = "只能为本账号的参保批次选择保障项目"
CHANGED = "保费信息已变化（清册或保费标准已更新），请重新生成保费信息"


# --- reading ---------------------------------------------------------------------------------------
def prices_of(year) -> tuple[dict, int]:
    """The year's prices {code: (full, half)} (fen) and the A0+B0+C0 discount (fen): the three
    basic items' full prices less AidYear.basic_combo_fee (190 − 180 = 10 元)."""
    prices = {i.code: (i.full_fee, i.half_fee) for i in years.items_of(year)}
    for code, fees in mutual_fees.REFERENCE_PRICES.items():
        prices.setdefault(code, fees)
    discount = sum(prices[c][0] for c in mutual_fees.BASIC) - year.basic_combo_fee
    return prices, max(discount, 0)


def chosen_items(batch) -> tuple[str, ...]:
    codes = {row.code for row in BatchItem.select(BatchItem.code).where(BatchItem.batch == batch.id)}
    return tuple(c for c in mutual_fees.CODES if c in codes)


def item_rows(batch) -> list:
    order = {c: i for i, c in enumerate(mutual_fees.CODES)}
    return sorted(BatchItem.select().where(BatchItem.batch == batch.id), key=lambda r: order.get(r.code, 99))


def waiting_notes(batch, cover=None) -> dict:
    """{item code: its 免责期 as the coverage record shows it} once 生成保费信息 has run."""
    cover = cover or coverage_row(batch)
    if cover is None:
        return {}
    return {row.code: mutual_year.waiting_period(batch.kind, row.code, cover.starts, cover.ends).note
            for row in item_rows(batch)}


def coverage_row(batch) -> BatchCoverage | None:
    return BatchCoverage.get_or_none(BatchCoverage.batch == batch.id)


def central_items(batch) -> tuple[str, ...] | None:
    """An instant batch of a unit whose centralized batch of the same year is past item selection
    (提交确认保费 done, or 参保成功): that batch's items (seed 004: "保障项目即为参加集中参保时选择的
    保障项目，不可更改"); otherwise None."""
    if batch.kind != years.INSTANT:
        return None
    central = batch_ops.central_batch(batch.code, batch.year)
    if central is None or central.status not in PAST_ITEMS:
        return None
    return chosen_items(central) or None


def coverage_dates(batch) -> tuple[date, date]:
    """(起保日期, 终保日期): centralized the whole year; instant from the day after 清册提交."""
    submitted = batch.submitted_at.date() if batch.submitted_at else None
    try:
        return mutual_year.coverage(batch.kind, batch.year.year, submitted)
    except mutual_year.CoverageError as exc:
        raise DomainError(str(exc), 409) from None


def is_zhibao():
    """zhibao() as SQL over RosterEntry: 职退状态 在职, or 是否有社保 = 是 for a person not 退休."""
    return (RosterEntry.employment != RETIRED) & ((RosterEntry.employment == IN_SERVICE)
                                                   | (RosterEntry.has_social_insurance == True))  # noqa: E712


def class_counts(batch) -> dict:
    """{zhibao: active people} of the batch."""
    flag = pw.Case(None, [(is_zhibao(), 1)], 0)
    rows = (RosterEntry.select(flag.alias("z"), pw.fn.COUNT(RosterEntry.id).alias("n"))
            .where((RosterEntry.batch == batch.id) & RosterEntry.active).group_by(flag).tuples())
    counts = {True: 0, False: 0}
    for z, n in rows:
        counts[bool(z)] += n
    return counts


def premiums_by_class(batch, items=None) -> dict:
    """{zhibao: mutual_fees.Premium} for the batch's items, half or full by its coverage start."""
    items = chosen_items(batch) if items is None else items
    prices, discount = prices_of(batch.year)
    half = mutual_year.is_half_year(batch.kind, coverage_dates(batch)[0])
    return {z: mutual_fees.premium(items, z, half, prices, discount) for z in (True, False)}


# --- 生成保费信息 ------------------------------------------------------------------------------------
def _require(batch, account, at) -> None:
    if batch.code.account_id != getattr(account, "id", None):
        raise DomainError(NOT_YOURS, 403)
    if batch.status != CHOOSE_ITEMS:
        raise DomainError(f"当前状态为「{batch.status}」，只有「{CHOOSE_ITEMS}」状态的批次可以选择保障项目、"
                          "生成保费信息和提交确认保费", 409)
    state = years.window_state(batch.year, batch.kind, batch.code, at)
    if not state.open:
        raise DomainError(f"保障项目选择只能在办理期间进行：{state.reason}", 409)


def check_choice(batch, codes) -> tuple[str, ...]:
    try:
        return mutual_fees.check_instant_items(central_items(batch), codes)
    except mutual_fees.ItemsError as exc:
        raise DomainError(str(exc), 422) from None


def _write_premiums(batch, items) -> tuple[int, int]:
    """Every person's premium (set-based: one UPDATE per premium class, touching only the rows
    whose premium changes — a second run, 提交确认保费's, writes nothing); returns (total fen, active
    people)."""
    by_class = premiums_by_class(batch, items)
    mine = (RosterEntry.batch == batch.id)
    for z, cond in ((True, is_zhibao()), (False, ~is_zhibao())):
        fee = by_class[z].total
        (RosterEntry.update(premium=fee)
         .where(mine & RosterEntry.active & cond & (RosterEntry.premium != fee)).execute())
    RosterEntry.update(premium=0).where(mine & ~RosterEntry.active & (RosterEntry.premium != 0)).execute()
    counted = class_counts(batch)
    total = sum(by_class[z].total * n for z, n in counted.items())
    return total, sum(counted.values())


def _lock(batch) -> None:
    """Hold the batch row (PostgreSQL: FOR UPDATE; SQLite: BEGIN IMMEDIATE) while its items and
    premiums are rewritten: a second 生成保费信息 at once waits and then rewrites them after it."""
    query = AidBatch.select(AidBatch.id).where((AidBatch.id == batch.id) & (AidBatch.status == CHOOSE_ITEMS))
    if (query.for_update() if is_postgres() else query).first() is None:
        raise DomainError(STALE, 409)


def generate(batch: AidBatch, codes, account, at: datetime | None = None) -> AidBatch:
    """生成保费信息: store the ticked items, the coverage and every premium; returns the batch."""
    at = at or now()
    _require(batch, account, at)
    items = check_choice(batch, codes)
    starts, ends = coverage_dates(batch)
    half = mutual_year.is_half_year(batch.kind, starts)
    prices, _ = prices_of(batch.year)
    with db.atomic():
        _lock(batch)
        BatchItem.delete().where(BatchItem.batch == batch.id).execute()
        BatchItem.insert_many([{
            "batch": batch.id, "code": w.code, "fee": prices[w.code][1 if half else 0],
            "waiting_days": w.days, "covered_from": w.first_day}
            for w in mutual_year.waiting_periods(batch.kind, items, starts, ends)]).execute()
        total, people = _write_premiums(batch, items)
        BatchCoverage.insert(batch=batch.id, starts=starts, ends=ends, half=half, people=people,
                             generated_by=account.id, generated_at=at).on_conflict(
            conflict_target=[BatchCoverage.batch],
            update={BatchCoverage.starts: starts, BatchCoverage.ends: ends, BatchCoverage.half: half,
                    BatchCoverage.people: people, BatchCoverage.generated_by: account.id,
                    BatchCoverage.generated_at: at}).execute()
        AidBatch.update(premium_total=total, updated_at=at).where(AidBatch.id == batch.id).execute()
        AuditLog.record("生成保费信息", batch, account=account,
                        detail={"保障项目": "、".join(items), "人数": people, "保费合计": f"{yuan(total)}元",
                                "缴费标准": "半年" if half else "全年"})
    return AidBatch.get_by_id(batch.id)


# --- 提交确认保费 ------------------------------------------------------------------------------------
def confirm(batch: AidBatch, account, shown_total: int | None = None, at: datetime | None = None) -> AidBatch:
    """提交确认保费 → 缴费凭证待上传, with premium_confirmed_at, in one transaction."""
    at = at or now()
    _require(batch, account, at)
    items = chosen_items(batch)
    if not items or coverage_row(batch) is None:
        raise DomainError("请先勾选保障项目并点击【生成保费信息】", 409)
    check_choice(batch, items)
    with db.atomic():
        _lock(batch)
        batch = AidBatch.get_by_id(batch.id)
        total, people = _write_premiums(batch, items)
        if (shown_total is not None and total != shown_total) or total != batch.premium_total:
            raise DomainError(CHANGED, 409)
        if people == 0:
            raise DomainError("清册中没有参保人员，不能提交确认保费", 409)
        return transition(batch, "confirm_premium", account=account,
                          updates={"premium_confirmed_at": at, "premium_total": total, "updated_at": at},
                          detail={"保障项目": "、".join(items), "人数": people, "保费合计": f"{yuan(total)}元"})


def payment_deadline(batch) -> date | None:
    """The later of 15 days after 清册提交 and after 提交确认保费 (`mutual_year.payment_deadline`)."""
    if batch.submitted_at is None:
        return None
    confirmed = batch.premium_confirmed_at.date() if batch.premium_confirmed_at else None
    return mutual_year.payment_deadline(batch.submitted_at.date(), confirmed)


# --- 保费详细 ---------------------------------------------------------------------------------------
def people_query(batch):
    return (RosterEntry.select().where((RosterEntry.batch == batch.id) & RosterEntry.active)
            .order_by(RosterEntry.id))


def people_paying(batch, code: str):
    """The active people who pay for `code` (an item or the discount line): the count beside an
    item in 保费详细 opens them. A0 and the A0+B0+C0 discount: the 职保 people; another chosen item:
    everyone; an item not chosen: nobody."""
    items = chosen_items(batch)
    query = people_query(batch)
    if code == mutual_fees.DISCOUNT_LINE:
        return query.where(is_zhibao()) if any(c == code for c, *_ in item_totals(batch)) else query.where(False)
    if code not in items:
        return query.where(False)
    return query.where(is_zhibao()) if code == "A0" else query


def person_codes(items, entry) -> tuple[str, ...]:
    return mutual_fees.person_items(items, zhibao(entry.employment, entry.has_social_insurance))


def item_totals(batch) -> list:
    """保费详细's totals by item: (code or the discount line, label, people, fen); they add up to the
    batch's total."""
    counts = class_counts(batch)
    if not chosen_items(batch):
        return []
    try:
        by_class = premiums_by_class(batch)
    except DomainError:  # no start yet (an instant batch back before its roster submission)
        return []
    out: dict = {}
    for z, n in counts.items():
        for code, fen in by_class[z].lines:
            people, money = out.get(code, (0, 0))
            out[code] = (people + n, money + fen * n)
    order = list(mutual_fees.CODES) + [mutual_fees.DISCOUNT_LINE]
    return [(code, mutual_fees.ITEMS[code].name if code in mutual_fees.ITEMS else "A0、B0、C0同时参保优惠",
             people, fen) for code, (people, fen) in sorted(out.items(), key=lambda kv: order.index(kv[0]))
            if people]


DETAIL_COLUMNS = ["序号", "姓名", "证件类型", "证件号码", "职退状态", "是否有社保", "保障项目", "保费(元)"]


def detail_rows(batch, query=None, masked: bool = False):
    """保费详细's rows (the page and the Excel file): one list per active person."""
    items = chosen_items(batch)
    if query is None:
        query = (people_query(batch).select(RosterEntry.name, RosterEntry.id_type, RosterEntry.id_number,
                                            RosterEntry.employment, RosterEntry.has_social_insurance,
                                            RosterEntry.premium).tuples().iterator())
    else:
        query = ((e.name, e.id_type, e.id_number, e.employment, e.has_social_insurance, e.premium) for e in query)
    codes = {z: "、".join(mutual_fees.person_items(items, z)) for z in (True, False)}
    for i, (name, id_type, number, employment, social, fen) in enumerate(query, 1):
        yield [i, name, id_type, mask(number) if masked else number, employment, "是" if social else "否",
               codes[zhibao(employment, social)], fen]


def premium_workbook(batch, masked: bool = False) -> bytes:
    """保费详细 as .xlsx: every person's premium (元), then the totals by item and the batch total.
    Plain values (text escaped by safe_cell) but the ID number, a text cell: 50,000 people in a
    few seconds."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("保费详细")
    sheet.append([f"{batch.code.unit_name} {batch.year.year}年度{batch.kind} 保费详细"])
    sheet.append(DETAIL_COLUMNS)
    for row in detail_rows(batch, masked=masked):
        sheet.append([row[0], safe_cell(row[1]), row[2], export_cell(sheet, row[3]), row[4], row[5], row[6],
                      row[7] / 100])
    sheet.append([])
    sheet.append(["保障项目", "名称", "人数", "保费(元)"])
    for code, label, people, fen in item_totals(batch):
        sheet.append(export_row(sheet, [code, label, people, fen / 100]))
    sheet.append(export_row(sheet, ["保费合计", "", class_counts_total(batch), batch.premium_total / 100]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def class_counts_total(batch) -> int:
    return sum(class_counts(batch).values())


# --- 保障信息查询 (the mutual-aid line) --------------------------------------------------------------
def aid_coverage_of(id_number: str, org_ids=None) -> list:
    """The person's mutual-aid enrollments (active roster rows), newest year first, each as a dict:
    entry, batch, code, year, coverage (BatchCoverage or None), items [(BatchItem, Waiting note)]."""
    query = (RosterEntry.select(RosterEntry, AidBatch, InsuranceCode, years.AidYear)
             .join(AidBatch).join(InsuranceCode).switch(AidBatch).join(years.AidYear)
             .where((RosterEntry.id_number == id_number) & RosterEntry.active)
             .order_by(years.AidYear.year.desc(), AidBatch.id.desc()))
    if org_ids is not None:
        query = query.where(AidBatch.org.in_(org_ids))
    out = []
    for entry in query:
        batch = entry.batch
        cover = coverage_row(batch)
        rows = item_rows(batch) if cover else []
        mine = set(person_codes([r.code for r in rows], entry))
        items = []
        for row in rows:
            if row.code in mine:
                note = mutual_year.waiting_period(batch.kind, row.code, cover.starts, cover.ends).note
                items.append((row, note))
        out.append({"entry": entry, "batch": batch, "code": batch.code, "year": batch.year, "coverage": cover,
                    "items": items})
    return out
