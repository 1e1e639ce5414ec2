"""参保批次查询 (issue 18 item 10): the centre's list of the mutual-aid batches over all units — read
only. The district and secondary unions see the batches of their subtree's units (the caller
passes `scoped(AidBatch, account)` as the base), 市总工会 and the centre everything.

Filters: 保障年度 (an AidYear), 参保类型, 状态, 单位名称 / 参保编码, 区 (the district of the code's
organisation; NO_UNION = the units outside the union tree — 未建会企业). The list reads the batches
in primary-key order (newest first) from the (year) / (year, status) indexes — a page's ids first,
then its rows —, the page's 人数 in one grouped query; the counts per state at the top are one
grouped query over the same filters but 状态, and their sum is the list's total.
"""

from dataclasses import dataclass

import peewee as pw

from models.base import in_values
from models.mutual_aid.batches import BATCH_STATES, AidBatch, RosterEntry
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.years import KINDS, AidYear
from models.orgs.organizations import Organization
from models.rules.text import bounded_int, normalize

NO_UNION = "none"  # the 区 filter's value for 未建会企业 (a code whose organisation has no district)
NO_UNION_LABEL = "未建会企业"


@dataclass
class BatchFilters:
    year: int = 0  # 保障年度 (the AidYear's year number)
    kind: str = ""  # 参保类型 集中参保 / 即时参保
    state: str = ""  # 状态 (the query's `status`)
    unit: str = ""  # 单位名称 (contains) / 参保编码 (exact)
    district: str = ""  # an Organization id of a district, NO_UNION, or "" for all
    year_id: int = 0  # the AidYear's id (0: no such year, nothing listed)

    def args(self, **changes) -> dict:
        """The filters as query arguments (for the links of the counts), with `changes`."""
        values = {**self.__dict__, **changes}
        values["status"] = values.pop("state")
        values.pop("year_id")
        return {k: v for k, v in values.items() if v}


def years() -> dict:
    """{保障年度: AidYear id}, the latest first."""
    return dict(AidYear.select(AidYear.year, AidYear.id).order_by(AidYear.year.desc()).tuples())


def parse_filters(values, year_ids: dict | None = None) -> BatchFilters:
    """The filters from a query string (`year_ids`: years(); the latest year when none is asked
    for); anything unknown or malformed counts as absent."""
    year_ids = years() if year_ids is None else year_ids
    year = bounded_int(values.get("year"), 1900, 9999) or next(iter(year_ids), 0)
    district = normalize(values.get("district"))
    if district != NO_UNION:
        district = str(bounded_int(district, 1) or "")
    return BatchFilters(year=year, year_id=year_ids.get(year, 0),
                        kind=values.get("kind") if values.get("kind") in KINDS else "",
                        state=values.get("status") if values.get("status") in BATCH_STATES else "",
                        unit=normalize(values.get("unit"))[:100], district=district)


def district_clause(district: str):
    """The clause on AidBatch.org for the 区 filter (None when there is none)."""
    if not district:
        return None
    if district == NO_UNION:  # no organisation, or one outside every district
        inside = Organization.select(Organization.id).where(Organization.district.is_null(False))
        return AidBatch.org.is_null() | AidBatch.org.not_in(inside)
    return AidBatch.org.in_(Organization.select(Organization.id).where(Organization.district == int(district)))


def _filtered(base: pw.ModelSelect, f: BatchFilters, with_status: bool = True) -> pw.ModelSelect:
    query = base.where(AidBatch.year == f.year_id)
    if f.kind:
        query = query.where(AidBatch.kind == f.kind)
    if f.state and with_status:
        query = query.where(AidBatch.status == f.state)
    if f.unit:
        query = query.where(AidBatch.code.in_(InsuranceCode.select(InsuranceCode.id).where(
            InsuranceCode.unit_name.contains(f.unit) | (InsuranceCode.code == f.unit))))
    clause = district_clause(f.district)
    if clause is not None:
        query = query.where(clause)
    return query


def batches(base: pw.ModelSelect, f: BatchFilters, number: int = 1, per_page: int = 15) -> pw.ModelSelect:
    """Page `number` of the filtered batches with their code (参保编码, 单位名称), newest first: the
    page's ids from the index alone (a deep page skips index entries, not joined rows), then those
    batches with their codes."""
    ids = _filtered(base, f).select(AidBatch.id).order_by(AidBatch.id.desc()).paginate(number, per_page)
    return (AidBatch.select(AidBatch, InsuranceCode)
            .join(InsuranceCode, on=(InsuranceCode.id == AidBatch.code), attr="code")
            .where(AidBatch.id.in_(ids)).order_by(AidBatch.id.desc()))


def state_counts_query(base: pw.ModelSelect, f: BatchFilters) -> pw.ModelSelect:
    return _filtered(base, f, with_status=False).select(AidBatch.status, pw.fn.COUNT(AidBatch.id)) \
        .group_by(AidBatch.status).order_by()


def state_counts(base: pw.ModelSelect, f: BatchFilters) -> dict:
    """{状态: 批次数} under every filter but 状态 (all states, zeros included), one grouped query."""
    counts = dict.fromkeys(BATCH_STATES, 0)
    for status, n in state_counts_query(base, f).tuples():
        counts[status] = n
    return counts


def people_counts_query(batch_ids: list) -> pw.ModelSelect:
    return (RosterEntry.select(RosterEntry.batch, pw.fn.COUNT(RosterEntry.id))
            .where(in_values(RosterEntry.batch, list(batch_ids) or [0]) & RosterEntry.active)
            .group_by(RosterEntry.batch))


def people_counts(batch_ids: list) -> dict:
    """{batch id: 人数 (the active people of its roster)} for a page of batches, one grouped query."""
    if not batch_ids:
        return {}
    return dict(people_counts_query(batch_ids).tuples())


def districts(account) -> list:
    """The 区 the filter offers: every district for an account that sees the whole city, its own
    district for a district or secondary union."""
    query = Organization.select(Organization.id, Organization.name).where(Organization.level == "district")
    if not account.sees_whole_city:
        query = query.where(Organization.id == (account.org.district_id or 0))
    return list(query.order_by(Organization.id))


def district_label(district: str) -> str:
    """The 区 filter's value as its name ("" for none or an unknown id)."""
    if district == NO_UNION:
        return NO_UNION_LABEL
    if not district:
        return ""
    return Organization.select(Organization.name).where(
        (Organization.id == int(district)) & (Organization.level == "district")).scalar() or ""
