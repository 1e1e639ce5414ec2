"""互助保障统计 (issue 18 item 10): units, people and premium of a protection year — in total, by
batch state, by district and by plan item — for the centre and 市总工会; read-only.

- A unit is an insurance code; 参保单位 = a code with a 参保成功 batch in the year. 参保人数 = the
  active people of the year's 参保成功 batches; 保费合计 = their batches' premium_total (fen).
- By state: per BATCH_STATES the batches, the units (codes with a batch in that state) and the
  people of those batches.
- By district: the district of the code's organisation (Organization.district); a code outside
  every district (an enterprise without a union, registered by 企业注册) counts in 未建会企业.
- By item (A0 … C3): each insured person pays for the items the unit ticked that they may take
  (models/rules/mutual_fees.person_items: A0 only for 职保 people), at the year's prices, the
  A0+B0+C0 discount as its own line, half or full as 生成保费信息 recorded (BatchCoverage) —
  `item_table`; what the unit ticked is its BatchItem rows (`chosen_items`).

Every figure is a grouped query (no query per unit or person); `units()` and `people()` are the
lists each count opens, built on the same clauses, so a count equals its list's total.
"""

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import peewee as pw
from openpyxl import Workbook

from models.base import in_values
from models.mutual_aid.batch_list import NO_UNION, NO_UNION_LABEL, district_clause
from models.mutual_aid.batches import BATCH_STATES, INSURED, AidBatch, RosterEntry
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.premium_ops import is_zhibao
from models.mutual_aid.premiums import BatchCoverage, BatchItem
from models.mutual_aid.years import AidYear, items_of
from models.orgs.organizations import Organization
from models.rules.mutual_fees import BASIC, CODES, DISCOUNT_LINE, premium
from models.rules.mutual_roster import zhibao
from models.rules.mutual_year import CoverageError, coverage, is_half_year


def money(fen: int | None) -> Decimal:
    """Fen as yuan for a spreadsheet cell (exact)."""
    return Decimal(fen or 0) / 100


# --- totals and states ------------------------------------------------------------------------------
@dataclass
class StateRow:
    status: str
    batches: int = 0
    units: int = 0
    people: int = 0
    premium: int = 0  # fen


def by_state(year: AidYear) -> dict:
    """{状态: StateRow} for every state (zeros included): two grouped queries."""
    rows = {s: StateRow(s) for s in BATCH_STATES}
    for status, batches, units, fen in (
            AidBatch.select(AidBatch.status, pw.fn.COUNT(AidBatch.id), pw.fn.COUNT(AidBatch.code.distinct()),
                            pw.fn.COALESCE(pw.fn.SUM(AidBatch.premium_total), 0))
            .where(AidBatch.year == year.id).group_by(AidBatch.status).tuples()):
        if status in rows:
            rows[status].batches, rows[status].units, rows[status].premium = batches, units, int(fen or 0)
    for status, n in (RosterEntry.select(AidBatch.status, pw.fn.COUNT(RosterEntry.id))
                      .join(AidBatch, on=(AidBatch.id == RosterEntry.batch))
                      .where((AidBatch.year == year.id) & RosterEntry.active).group_by(AidBatch.status).tuples()):
        if status in rows:
            rows[status].people = n
    return rows


# --- by district ------------------------------------------------------------------------------------
@dataclass
class DistrictRow:
    key: str  # the 区 filter's value: a district id, or NO_UNION
    name: str
    units: int = 0
    people: int = 0
    premium: int = 0


def by_district(year: AidYear) -> list:
    """DistrictRow per district (every district, zeros included) and 未建会企业 last, over the year's
    参保成功 batches: two grouped queries by the code organisation's district."""
    insured = (AidBatch.year == year.id) & (AidBatch.status == INSURED)
    sums = {d: (units, int(fen or 0)) for d, units, fen in (
        AidBatch.select(Organization.district, pw.fn.COUNT(AidBatch.code.distinct()),
                        pw.fn.SUM(AidBatch.premium_total))
        .join(Organization, pw.JOIN.LEFT_OUTER, on=(Organization.id == AidBatch.org))
        .where(insured).group_by(Organization.district).tuples())}
    people = dict(RosterEntry.select(Organization.district, pw.fn.COUNT(RosterEntry.id))
                  .join(AidBatch, on=(AidBatch.id == RosterEntry.batch))
                  .join(Organization, pw.JOIN.LEFT_OUTER, on=(Organization.id == AidBatch.org))
                  .where(insured & RosterEntry.active).group_by(Organization.district).tuples())
    rows = []
    for did, name in (Organization.select(Organization.id, Organization.name)
                      .where(Organization.level == "district").order_by(Organization.id).tuples()):
        units, fen = sums.get(did, (0, 0))
        rows.append(DistrictRow(str(did), name, units, people.get(did, 0), fen))
    units, fen = sums.get(None, (0, 0))
    rows.append(DistrictRow(NO_UNION, NO_UNION_LABEL, units, people.get(None, 0), fen))
    return rows


# --- by item ----------------------------------------------------------------------------------------
def chosen_items(batch_ids: list) -> dict:
    """{batch id: (item codes the unit ticked, fee-table order)} from the 保障项目选择 (BatchItem),
    one query."""
    ticked: dict = {}
    if batch_ids:
        for bid, code in (BatchItem.select(BatchItem.batch, BatchItem.code)
                          .where(in_values(BatchItem.batch, list(batch_ids))).tuples()):
            ticked.setdefault(bid, set()).add(code)
    return {bid: tuple(c for c in CODES if c in codes) for bid, codes in ticked.items()}


@dataclass
class ItemTable:
    people: dict = field(default_factory=lambda: dict.fromkeys(CODES, 0))  # code → 人数
    premium: dict = field(default_factory=lambda: dict.fromkeys(CODES, 0))  # code → fen
    discount: int = 0  # the A0+B0+C0 lines (negative fen)
    unknown: int = 0  # insured people of batches whose items are not known

    @property
    def total(self) -> int:
        return sum(self.premium.values()) + self.discount


def _half(batch_kind: str, year: int, submitted) -> bool:
    try:
        start, _end = coverage(batch_kind, year, submitted.date() if submitted else None)
    except CoverageError:
        return False
    return is_half_year(batch_kind, start)


def item_table(year: AidYear, chosen: dict | None = None) -> ItemTable:
    """People and premium per item over the year's 参保成功 batches: the people grouped by (batch,
    职退状态, 是否有社保) in one query, each group priced once by the rules at the year's prices."""
    batches = {bid: (kind, submitted) for bid, kind, submitted in (
        AidBatch.select(AidBatch.id, AidBatch.kind, AidBatch.submitted_at)
        .where((AidBatch.year == year.id) & (AidBatch.status == INSURED)).tuples())}
    chosen = chosen_items(list(batches)) if chosen is None else chosen
    halves = dict(BatchCoverage.select(BatchCoverage.batch, BatchCoverage.half)
                  .where(in_values(BatchCoverage.batch, list(batches) or [0])).tuples())
    prices = {i.code: (i.full_fee, i.half_fee) for i in items_of(year)}
    discount = sum(prices[c][0] for c in BASIC if c in prices) - year.basic_combo_fee
    table = ItemTable()
    if not batches:
        return table
    groups = (RosterEntry.select(RosterEntry.batch, RosterEntry.employment, RosterEntry.has_social_insurance,
                                 pw.fn.COUNT(RosterEntry.id))
              .where(in_values(RosterEntry.batch, list(batches)) & RosterEntry.active)
              .group_by(RosterEntry.batch, RosterEntry.employment, RosterEntry.has_social_insurance))
    for bid, employment, insured, n in groups.tuples():
        items = chosen.get(bid)
        if not items:
            table.unknown += n
            continue
        kind, submitted = batches[bid]
        half = halves[bid] if bid in halves else _half(kind, year.year, submitted)  # as 生成保费信息 wrote it
        p = premium(items, zhibao(employment, bool(insured)), bool(half), prices or None, discount)
        for code, fen in p.lines:
            if code == DISCOUNT_LINE:
                table.discount += fen * n
            else:
                table.people[code] += n
                table.premium[code] += fen * n
    return table


def item_clause(code: str):
    """RosterEntry rows that pay for item `code` (for 人数 by item → its people): their batch ticked
    it, and for A0 they are covered by 职保 (premium_ops.is_zhibao, the rules' zhibao as SQL)."""
    clause = RosterEntry.batch.in_(BatchItem.select(BatchItem.batch).where(BatchItem.code == code))
    return clause & is_zhibao() if code == "A0" else clause


# --- the lists behind the counts --------------------------------------------------------------------
def units(year: AidYear, status: str = INSURED, district: str = "") -> pw.ModelSelect:
    """The codes with a batch of `status` in the year (of one 区 / 未建会企业)."""
    batches = AidBatch.select(AidBatch.code).where((AidBatch.year == year.id) & (AidBatch.status == status))
    clause = district_clause(district)
    if clause is not None:
        batches = batches.where(clause)
    return InsuranceCode.select().where(InsuranceCode.id.in_(batches)).order_by(InsuranceCode.code,
                                                                                  InsuranceCode.id)


def people(year: AidYear, status: str = INSURED, district: str = "", item: str = "") -> pw.ModelSelect:
    """The active people of the year's batches of `status` (of one 区, paying for one item)."""
    query = (RosterEntry.select(RosterEntry, AidBatch, InsuranceCode)
             .join(AidBatch, on=(AidBatch.id == RosterEntry.batch), attr="batch")
             .join(InsuranceCode, on=(InsuranceCode.id == AidBatch.code), attr="code")
             .where((AidBatch.year == year.id) & (AidBatch.status == status) & RosterEntry.active))
    clause = district_clause(district)
    if clause is not None:
        query = query.where(clause)
    if item:
        query = query.where(item_clause(item))
    return query.order_by(RosterEntry.id)


# --- Excel ------------------------------------------------------------------------------------------
def write_excel(year: AidYear):
    """互助保障统计 as .xlsx in a temporary file: 按状态, 按区, 按保障项目 sheets (write-only)."""
    book = Workbook(write_only=True)
    states = by_state(year)
    sheet = book.create_sheet("汇总")
    sheet.append([f"{year.year}年度互助保障统计"])
    insured = states[INSURED]
    sheet.append(["参保单位数", insured.units])
    sheet.append(["参保人数", insured.people])
    sheet.append(["保费合计(元)", money(insured.premium)])
    sheet.append([])
    sheet.append(["状态", "批次数", "单位数", "人数", "保费合计(元)"])
    for row in states.values():
        sheet.append([row.status, row.batches, row.units, row.people, money(row.premium)])
    sheet = book.create_sheet("按区统计")
    sheet.append(["区", "参保单位数", "参保人数", "保费合计(元)"])
    total = Counter()
    for row in by_district(year):
        sheet.append([row.name, row.units, row.people, money(row.premium)])
        total.update(units=row.units, people=row.people, premium=row.premium)
    sheet.append(["合计", total["units"], total["people"], money(total["premium"])])
    sheet = book.create_sheet("按保障项目统计")
    sheet.append(["保障项目", "参保人数", "保费(元)"])
    table = item_table(year)
    for code in CODES:
        sheet.append([code, table.people[code], money(table.premium[code])])
    sheet.append([DISCOUNT_LINE, "", money(table.discount)])
    sheet.append(["合计", "", money(table.total)])
    if table.unknown:
        sheet.append([f"保障项目未知的参保人数：{table.unknown}"])
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book.save(handle)
    handle.seek(0)
    return handle
