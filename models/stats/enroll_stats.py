"""集中参保统计 (spec 60, issue 8 items 6, 7, 9): what the district, the secondary unions, the centre
and 市总工会 read about a protection year's enrollment — never a write.

- **下载集中参保统计表** (`union_rows`, `write_unions`): one row per grassroots union of a subtree with
  its active centralized submissions (区局确认中 / 已完成) summed per channel, fee parts in fen.
- **集中参保实时监控画面**: in models/stats/monitor.py, on the states and the 可参保 rule defined here.
- **City-wide** (`district_rows`, `write_districts`, `people`, `write_people`): one row per district,
  and the 参保人员名单 of a year with its filters.

A union's state (`union_state`, the same sub-queries behind the monitor's counts and the lists it
links to): 已提交 = at least one active centralized submission; 退回 = none active and its latest
centralized submission was 退回; 未提交 = everything else (none, or only 已撤回 / 失败).
可参保 (eligible) is defined with the monitor (models/stats/monitor.py).
"""

import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import peewee as pw

from models.audit import AuditLog
from models.base import now
from models.enroll.enrollment import (
    ACTIVE,
    CARD_CHANNEL,
    CENTRAL,
    CHANNELS,
    MODES,
    RETURNED,
    SOCIAL_CHANNEL,
    Enrollment,
    Submission,
    TypeLock,
)
from models.enroll.plans import Credit, ProtectionType, ProtectionYear
from models.io.excel import export_row, safe_cell
from models.jobs import Job, job_kind
from models.members.people import Person
from models.orgs.organizations import ACTIVE as ORG_ACTIVE
from models.orgs.organizations import Organization
from models.rules.text import bounded_int, mask, normalize
from models.storage import storage_dir

STATES = {"submitted": "已提交", "returned": "退回", "not_submitted": "未提交"}
NOT_SUBMITTED = "未提交"


def money(fen: int | None) -> Decimal:
    """Fen as yuan for a spreadsheet cell: an exact number (Decimal), never a float."""
    return Decimal(fen or 0) / 100


# --- the sets behind the states ---------------------------------------------------------------------
def active_orgs(year: ProtectionYear) -> pw.ModelSelect:
    """Ids of the unions with an active centralized submission in the year (已提交)."""
    return Submission.select(Submission.org).where(
        (Submission.year == year.id) & (Submission.mode == CENTRAL) & Submission.status.in_(ACTIVE))


def latest_ids(year: ProtectionYear) -> pw.ModelSelect:
    """Ids of each union's latest centralized submission of the year, whatever its status."""
    return (Submission.select(pw.fn.MAX(Submission.id))
            .where((Submission.year == year.id) & (Submission.mode == CENTRAL)).group_by(Submission.org))


def returned_orgs(year: ProtectionYear) -> pw.ModelSelect:
    """Ids of the unions whose latest centralized submission was 退回 and that have none active."""
    return Submission.select(Submission.org).where(
        Submission.id.in_(latest_ids(year)) & (Submission.status == RETURNED)
        & Submission.org.not_in(active_orgs(year)))


def grassroots_of(root: Organization):
    """The clause for the grassroots unions of root's subtree (open ones)."""
    return ((Organization.level == "grassroots") & (Organization.status == ORG_ACTIVE)
            & Organization.id.in_(root.subtree_ids()))


def union_state(year: ProtectionYear, state: str):
    """The clause on Organization.id for one of STATES."""
    if state == "submitted":
        return Organization.id.in_(active_orgs(year))
    if state == "returned":
        return Organization.id.in_(returned_orgs(year))
    return Organization.id.not_in(active_orgs(year)) & Organization.id.not_in(returned_orgs(year))


# --- 集中参保统计表 (one row per grassroots union) ------------------------------------------------------
UNION_COLUMNS = ["单位名称", "组织机构代码", "上级工会", "保障类型", "会员卡参保人数", "社保卡参保人数", "合计人数",
                 "保障费用(元)", "市总统一划拨(元)", "区局/各级工会缴费(元)", "基层单位缴费(元)", "提交时间", "状态",
                 "批次编号"]


def _channel_sum(channel: str, column):
    return pw.fn.COALESCE(pw.fn.SUM(pw.Case(None, [(Submission.channel == channel, column)], 0)), 0)


def _sums(where) -> pw.ModelSelect:
    """Active centralized submissions summed per union (one grouped query)."""
    return (Submission.select(
        Submission.org.alias("org_id"), _channel_sum(CARD_CHANNEL, Submission.count).alias("card"),
        _channel_sum(SOCIAL_CHANNEL, Submission.count).alias("social"),
        pw.fn.SUM(Submission.fee).alias("fee"), pw.fn.SUM(Submission.city).alias("city"),
        pw.fn.SUM(Submission.district).alias("district"), pw.fn.SUM(Submission.grassroots).alias("grassroots"),
        pw.fn.MAX(Submission.submitted_at).alias("last"),
        pw.fn.SUM(pw.Case(None, [(Submission.status == ACTIVE[0], 1)], 0)).alias("reviewing"))
        .where(where & (Submission.mode == CENTRAL) & Submission.status.in_(ACTIVE))
        .group_by(Submission.org))


@dataclass
class UnionRow:
    name: str
    code: str
    parent: str
    type: str
    card: int
    social: int
    fee: int
    city: int
    district: int
    grassroots: int
    submitted_at: object  # datetime or None
    status: str
    batches: str

    @property
    def people(self) -> int:
        return self.card + self.social

    def cells(self) -> list:
        return [self.name, self.code, self.parent, self.type, self.card, self.social, self.people, money(self.fee),
                money(self.city), money(self.district), money(self.grassroots),
                self.submitted_at or "", self.status, self.batches]


def union_rows(root: Organization, year: ProtectionYear, unions=None):
    """UnionRow per grassroots union of root's subtree (or of the `unions` id sub-query), streamed:
    one grouped query for the sums, one for the latest statuses, one for the batch numbers."""
    ids = unions if unions is not None else Organization.select(Organization.id).where(grassroots_of(root))
    in_year = (Submission.year == year.id) & Submission.org.in_(ids)
    latest = dict(Submission.select(Submission.org, Submission.status)
                  .where(Submission.id.in_(latest_ids(year).where(Submission.org.in_(ids)))).tuples())
    batches: dict = {}
    for org_id, number in (Submission.select(Submission.org, Submission.district_batch).distinct()
                           .where(in_year & (Submission.mode == CENTRAL) & Submission.status.in_(ACTIVE)
                                  & Submission.district_batch.is_null(False))
                           .order_by(Submission.org, Submission.district_batch).tuples()):
        batches.setdefault(org_id, []).append(number)
    sums = _sums(in_year).alias("sums")
    parent = Organization.alias("parent")
    query = (Organization.select(Organization.id, Organization.name, Organization.uscc, parent.name,
                                 ProtectionType.name, sums.c.card, sums.c.social, sums.c.fee, sums.c.city,
                                 sums.c.district, sums.c.grassroots, sums.c.last, sums.c.reviewing)
             .join(parent, pw.JOIN.LEFT_OUTER, on=(parent.id == Organization.parent))
             .switch(Organization)
             .join(TypeLock, pw.JOIN.LEFT_OUTER, on=((TypeLock.org == Organization.id) & (TypeLock.year == year.id)))
             .join(ProtectionType, pw.JOIN.LEFT_OUTER, on=(ProtectionType.id == TypeLock.type))
             .switch(Organization)
             .join(sums, pw.JOIN.LEFT_OUTER, on=(sums.c.org_id == Organization.id))
             .where(Organization.id.in_(ids))
             .order_by(Organization.parent, Organization.id))
    for (oid, name, code, parent_name, type_name, card, social, fee, city, district, grassroots, last,
         reviewing) in query.tuples().iterator():
        if last is not None:
            status = ACTIVE[0] if reviewing else ACTIVE[1]
        else:
            status = latest.get(oid, NOT_SUBMITTED)
        yield UnionRow(name=name, code=code or "", parent=parent_name or "", type=type_name or "",
                       card=int(card or 0), social=int(social or 0), fee=int(fee or 0), city=int(city or 0),
                       district=int(district or 0), grassroots=int(grassroots or 0), submitted_at=_datetime(last),
                       status=status, batches="、".join(batches.get(oid, [])))


def _datetime(value):
    """MAX() of a datetime column comes back as text on SQLite."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _workbook(title: str, columns: list):
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(columns)
    return book, sheet


def _finish(book):
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book.save(handle)
    handle.seek(0)
    return handle


def write_unions(root: Organization, year: ProtectionYear, unions=None):
    """下载集中参保统计表: the .xlsx in a temporary file (write-only, constant memory) and the
    number of unions; a 合计 row last. Cells by export_row (提交时间 a date cell, text escaped)."""
    book, sheet = _workbook(f"{year.year}年度集中参保统计表", UNION_COLUMNS)
    total = [0] * 6
    n = 0
    for row in union_rows(root, year, unions):
        sheet.append(export_row(sheet, row.cells(), text=False))
        for i, value in enumerate((row.card, row.social, row.fee, row.city, row.district, row.grassroots)):
            total[i] += value
        n += 1
    card, social, fee, city, district, grassroots = total
    sheet.append(["合计", "", "", "", card, social, card + social, money(fee), money(city), money(district),
                  money(grassroots), "", "", ""])
    return _finish(book), n


# --- city-wide: one row per district ------------------------------------------------------------------
DISTRICT_COLUMNS = ["区局（产业）工会", "已提交基层工会数", "会员卡参保人数", "社保卡参保人数", "合计人数",
                    "保障费用(元)", "市总统一划拨(元)", "区局/各级工会缴费(元)", "基层单位缴费(元)", "抵扣金额(元)"]


def district_rows(year: ProtectionYear):
    """[(district name, unions submitted, card, social, fee, city, district, grassroots, credit)] for
    every district: one grouped query over the active centralized submissions, by the union's
    denormalised district."""
    member = Organization.alias("member")
    sums = (Submission.select(
        member.district.alias("district_id"), pw.fn.COUNT(Submission.org.distinct()).alias("unions"),
        _channel_sum(CARD_CHANNEL, Submission.count).alias("card"),
        _channel_sum(SOCIAL_CHANNEL, Submission.count).alias("social"),
        pw.fn.SUM(Submission.fee).alias("fee"), pw.fn.SUM(Submission.city).alias("city"),
        pw.fn.SUM(Submission.district).alias("district"), pw.fn.SUM(Submission.grassroots).alias("grassroots"))
        .join(member, on=(member.id == Submission.org))
        .where((Submission.year == year.id) & (Submission.mode == CENTRAL) & Submission.status.in_(ACTIVE))
        .group_by(member.district)).alias("sums")
    query = (Organization.select(Organization.name, sums.c.unions, sums.c.card, sums.c.social, sums.c.fee,
                                 sums.c.city, sums.c.district, sums.c.grassroots, Credit.amount)
             .join(sums, pw.JOIN.LEFT_OUTER, on=(sums.c.district_id == Organization.id))
             .switch(Organization)
             .join(Credit, pw.JOIN.LEFT_OUTER, on=((Credit.org == Organization.id) & (Credit.year == year.id)))
             .where(Organization.level == "district").order_by(Organization.id))
    for name, *numbers in query.tuples().iterator():
        yield (name, *[int(x or 0) for x in numbers])


def write_districts(year: ProtectionYear):
    book, sheet = _workbook(f"{year.year}年度集中参保区局汇总", DISTRICT_COLUMNS)
    total = [0] * 8
    n = 0
    for name, unions, card, social, fee, city, district, grassroots, credit in district_rows(year):
        numbers = (unions, card, social, fee, city, district, grassroots, credit)
        sheet.append([safe_cell(name), unions, card, social, card + social, *[money(x) for x in numbers[3:]]])
        total = [a + b for a, b in zip(total, numbers, strict=True)]
        n += 1
    unions, card, social, *amounts = total
    sheet.append(["合计", unions, card, social, card + social, *[money(x) for x in amounts]])
    return _finish(book), n


# --- 参保人员名单 ---------------------------------------------------------------------------------------
PEOPLE_COLUMNS = ["姓名", "证件类型", "证件号码", "单位名称", "区局（产业）工会", "参保通道", "参保类型", "保障类型",
                  "起保日期", "终保日期", "全年/半年", "保障费用(元)", "来源"]


@dataclass
class PeopleFilters:
    district: int = 0  # 区局
    union: str = ""  # 单位名称 (contains)
    channel: str = ""  # 参保通道
    mode: str = ""  # 参保类型
    type: str = ""  # 保障类型 (code: A, A+, B, B+)
    id_number: str = ""  # 证件号码 (exact)

    def args(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def parse_people_filters(values) -> PeopleFilters:
    f = PeopleFilters()
    f.district = bounded_int(values.get("district")) or 0
    f.union = normalize(values.get("union"))
    f.channel = values.get("channel") if values.get("channel") in CHANNELS else ""
    f.mode = values.get("mode") if values.get("mode") in MODES else ""
    f.type = normalize(values.get("type"))[:10]
    f.id_number = normalize(values.get("id_number")).upper()
    return f


def people(year: ProtectionYear, f: PeopleFilters) -> pw.ModelSelect:
    """The active enrollments of the year with their person, union, district and type."""
    district = Organization.alias("district_org")
    query = (Enrollment.select(Enrollment, Person, Organization, district, ProtectionType)
             .join(Person, on=(Person.id == Enrollment.person), attr="person")
             .switch(Enrollment)
             .join(Organization, pw.JOIN.LEFT_OUTER, on=(Organization.id == Enrollment.org), attr="org")
             .join(district, pw.JOIN.LEFT_OUTER, on=(district.id == Organization.district), attr="district_org")
             .switch(Enrollment)
             .join(ProtectionType, pw.JOIN.LEFT_OUTER, on=(ProtectionType.id == Enrollment.type), attr="type")
             .where((Enrollment.year == year.id) & Enrollment.active))
    if f.district:
        query = query.where(Organization.district == f.district)
    if f.union:
        query = query.where(Organization.name.contains(f.union))
    if f.channel:
        query = query.where(Enrollment.channel == f.channel)
    if f.mode:
        query = query.where(Enrollment.mode == f.mode)
    if f.type:
        query = query.where(ProtectionType.code == f.type)
    if f.id_number:
        query = query.where(Person.id_number == f.id_number)
    return query.order_by(Enrollment.id)


def person_cells(e: Enrollment, masked: bool) -> list:
    org = e.org if e.org_id else None
    district = getattr(org, "district_org", None) if org else None
    return [e.person.name, e.person.id_type, mask(e.person.id_number) if masked else e.person.id_number,
            org.name if org else "", district.name if district else "", e.channel, e.mode,
            e.type.name if e.type_id else "", e.start, e.end, e.period, money(e.fee), e.source]


def write_people(year: ProtectionYear, f: PeopleFilters, masked: bool, progress=None, handle=None):
    """参保人员名单 as .xlsx (write-only, streaming cursor); ID numbers as text, formula-safe, the
    dates date cells (export_row). `progress(n)` every 2,000 rows; `handle` a file to write to
    (default a temporary file)."""
    book, sheet = _workbook(f"{year.year}年度参保人员名单", PEOPLE_COLUMNS)
    n = 0
    for e in people(year, f).iterator():
        sheet.append(export_row(sheet, person_cells(e, masked)))
        n += 1
        if progress and n % 2000 == 0:
            progress(n)
    if handle is not None:
        book.save(handle)
        return handle, n
    return _finish(book), n


PEOPLE_INLINE_LIMIT = 20_000  # bigger lists are exported by a background job with progress


def export(year: ProtectionYear, f: PeopleFilters, masked: bool, account) -> tuple:
    """参保人员名单 → 导出, audited: (the background job, None) for a list longer than
    PEOPLE_INLINE_LIMIT (a city-wide list: progress, not a long request), else (None, the .xlsx)."""
    count = people(year, f).count()
    detail = {"保障年度": year.year, "条数": count, "筛选条件": f.args(), "号码": "已遮蔽" if masked else "完整"}
    if count > PEOPLE_INLINE_LIMIT:
        job = Job.submit("people_export", {"year": year.year, "filters": f.args(), "masked": masked}, account=account)
        AuditLog.record("导出参保人员名单", object_type="Enrollment", detail={**detail, "后台任务": job.id})
        return job, None
    handle, n = write_people(year, f, masked)
    AuditLog.record("导出参保人员名单", object_type="Enrollment", detail={**detail, "条数": n})
    return None, handle


@job_kind("people_export", "导出参保人员名单")
def export_people(ctx):
    """The big 参保人员名单 export; written from scratch on every run (a resumed run never
    duplicates rows)."""
    params = ctx.params
    year = ProtectionYear.get(ProtectionYear.year == params["year"])
    f = parse_people_filters(params.get("filters", {}))
    total = people(year, f).count()
    ctx.save_progress(0, total)
    name = f"people-{ctx.job.id}.xlsx"
    with open(storage_dir() / name, "wb") as handle:
        _, n = write_people(year, f, bool(params.get("masked", True)), progress=ctx.save_progress, handle=handle)
    ctx.save_progress(n)
    return {"file": name, "download_name": f"{year.year}年度参保人员名单_{now():%Y%m%d%H%M}.xlsx", "rows": n}
