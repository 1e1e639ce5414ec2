"""会员信息: the roster's filters, its one list query, the retirement filter, and 导出会员.

`roster(members_in_scope, filters)` is the query behind the batch actions ("选择全部 N 条符合条件的
记录" recomputes it from the same filters) and the export: Membership ⋈ Person ⋈ Organization in
one statement. The list page uses `Pages` with the same filters: a total and one statement for
the page's keys (by a cursor, views.paging.keyset), then the page's rows — whatever the scope.
The caller passes the memberships already restricted to the account's scope
(`views.access.scoped(Membership, account)`).
"""

import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

import peewee as pw
from openpyxl import Workbook

from models import db, is_postgres
from models.audit import AuditLog
from models.base import today, until_end_of
from models.io.excel import export_row
from models.members import counts
from models.members.people import (
    ACTIVE_STATUSES,
    HELD,
    MEMBER_STATUSES,
    NORMAL,
    PENDING,
    TRANSFER_IN,
    Membership,
    Person,
)
from models.members.wide_lists import bounded_scope, in_subtree, list_key
from models.orgs.organizations import ACTIVE, Organization, OrgTree
from models.rules import retirement
from models.rules.idnumber import IdError, check_resident_id, normalize_id
from models.rules.text import mask, normalize

ALL = "全部"  # 请选择状态 → every status (the default shows current members)
SYNC_CHOICES = {"是": True, "否": False}  # 请选择同步会员状态
DATE_FILTERS = {"joined_from": "入会日期（起）", "joined_to": "入会日期（止）",
                "approved_from": "激活日期（起）", "approved_to": "激活日期（止）"}
TEXT_FILTERS = ("name", "member_no", "id_number")
NAME_WINDOW = 300  # a common name prefix over a district or the city lists this many (by name), then asks for more
SCAN_ROWS = 10_000  # a district's or the city's total of a filter no index narrows reads at most this many rows


@dataclass
class Filters:
    """The list's search boxes and selects, parsed; `errors` explains what was ignored."""
    name: str = ""  # 姓名搜索: exact or prefix
    member_no: str = ""  # 会员编号搜索
    id_number: str = ""  # 身份证号搜索 (normalised)
    status: str = ""  # 请选择状态: "" current members, ALL, or one of MEMBER_STATUSES
    ALL = ALL  # not a field: the 全部 choice, for the template
    synced: str = ""  # 请选择同步会员状态: 是 / 否
    retirement: bool = False  # 可能已达退休年龄
    dates: dict = field(default_factory=dict)  # DATE_FILTERS key → date
    errors: list = field(default_factory=list)

    def args(self) -> dict:
        """The filter as query-string values (links, hidden inputs of the batch form)."""
        out = {k: getattr(self, k) for k in TEXT_FILTERS + ("status", "synced") if getattr(self, k)}
        if self.retirement:
            out["retirement"] = "1"
        out.update({k: v.isoformat() for k, v in self.dates.items()})
        return out


def parse_filters(values) -> Filters:
    """Filters from request.args / request.form (anything with .get)."""
    f = Filters(name=normalize(values.get("name")), member_no=normalize(values.get("member_no")),
                id_number=normalize_id(values.get("id_number")))
    status = normalize(values.get("status"))
    if status and status != ALL and status not in MEMBER_STATUSES:
        f.errors.append("请选择正确的用户状态")
    else:
        f.status = status
    synced = normalize(values.get("synced"))
    if synced and synced not in SYNC_CHOICES:
        f.errors.append("请选择正确的同步会员状态")
    else:
        f.synced = synced
    f.retirement = values.get("retirement") in ("1", "on", "true")
    for key, label in DATE_FILTERS.items():
        text = normalize(values.get(key))
        if text:
            try:
                f.dates[key] = datetime.strptime(text, "%Y-%m-%d").date()
            except ValueError:
                f.errors.append(f"{label}格式应为 年-月-日")
    return f


def id_candidates(number: str) -> list[str]:
    """The typed number, and for an old 15-digit 身份证 its 18-digit form."""
    out = [number]
    if len(number) == 15:
        try:
            out.append(check_resident_id(number, date.max).number)
        except IdError:
            pass
    return out


def retirement_condition(on: date):
    """SQL for 可能已达退休年龄: men born on or before the latest birth date that has reached
    the men's age by `on`, women likewise for the earlier (worker, 女50) schedule — the same
    people retirement.flag() marks 已达 or 可能已达."""
    men = retirement.latest_birth(on, "男")
    women = retirement.latest_birth(on, "女50")
    gender, birth = Membership.person_gender, Membership.person_birth_date  # the person's, copied (migration 030)
    return (((gender == "男") & (birth <= men)) | ((gender == "女") & (birth <= women)))


def roster(members_in_scope, filters: Filters, on: date | None = None):
    """Membership + Person + Organization (one join) for the filters, newest first."""
    query = (members_in_scope.select(Membership, Person, Organization)
             .join(Person).switch(Membership).join(Organization))
    return _filtered(query, filters, on).order_by(Membership.id.desc())


class Pages:
    """The list page's statements, shaped for views.paging.keyset: `narrow` selects the rows' key
    (`KEY`, list_key: by union, newest first within it) filtered and scoped — a district's page walks
    its unions through the closure table and reads the page's rows, a page of the city walks membership
    (org_id, id). `total()` is exact for one union; for a district or the city the 会员数 counters (plus
    the few 待审核 / 转入审核中 rows) when nothing is filtered, otherwise capped (views.paging.CAP) or
    sampled (sampled_total). `rows(keys)` joins the page's rows with Person and Organization."""

    def __init__(self, members_in_scope, filters: Filters, on: date | None = None, wide: bool = False,
                 root_id: int | None = None, cap: int | None = None):
        self.scope, self.filters, self.on, self.wide, self.root_id = members_in_scope, filters, on, wide, root_id
        # 姓名搜索 over a district or the city: a name that at most `cap` members of the city carry
        # is read from the name index (the page sorts those few).
        self.by_name = bool(wide and cap and filters.name) and name_matches(filters.name, cap) <= cap
        # A more common prefix (会员1: 111,111): its matches could sit anywhere in the order, so the list
        # holds the first NAME_WINDOW + 1 matching members of the scope in name order (name_window)
        # and says so (`note`): a search that broad is refined, not paged.
        self.name_window = bool(wide and cap and filters.name) and not self.by_name
        self.cap, self.note, self.window = cap, "", None
        self.per_row = self.by_name or self.name_window  # few rows from the name index (bounded_scope)
        self.KEY = list_key(None if self.per_row else root_id)
        self.narrow = self.bounded()

    def bounded(self, low: int | None = None, high: int | None = None):
        """`narrow` with 所在工会 between low and high (a cursor's union, bounded_scope)."""
        narrow = bounded_scope(self.scope, self.root_id, low, high, self.per_row).select(*self.KEY)
        filters = self.filters
        if self.name_window:  # read once per request (≤ NAME_WINDOW + 1 ids): the count and the page use it
            if self.window is None:
                self.window = [i for (i,) in name_window(self.root_id, filters.name, lambda q: _filtered(
                    q, replace(filters, name=""), self.on), person=bool(filters.id_number)).tuples()]
            return narrow.where(Membership.id.in_(self.window or [0]))
        if self.by_name:
            narrow = narrow.where(Membership.id.in_(named(filters.name)))
            filters = replace(filters, name="")
        if filters.id_number:  # 姓名 / 性别 / 出生日期 are on the membership too (person_name …)
            narrow = narrow.join(Person)
        return _filtered(narrow, filters, self.on)

    def total(self, cap: int) -> tuple[int, bool]:
        """(count, exact): exact within a union or from the counters; else at most cap + 1 read."""
        if not self.wide:
            return self.narrow.count(), True
        f = self.filters
        if not (f.args().keys() - {"status"}) and f.status in ("", NORMAL):
            normal = counts.member_total(self.root_id or 0, whole=self.root_id is None)
            if f.status == NORMAL:
                return normal, True
            waiting = Membership.select().where(Membership.status.in_((PENDING, TRANSFER_IN)))
            if self.root_id is not None:  # the city's few waiting rows (index status, org_id), each in the district?
                waiting = waiting.where(in_subtree(self.root_id))
            waiting = waiting.count()
            return normal + waiting, True
        if self.by_name:  # at most `cap` people: counted exactly
            return self.narrow.count(), True
        if self.name_window:
            n = self.narrow.count()  # at most NAME_WINDOW + 1
            if n > NAME_WINDOW:
                self.note = window_note(f.name)
            return (n, True) if n <= NAME_WINDOW else (max(n, cap + 1), False)
        if f.member_no or f.id_number or f.status not in ("", ALL):
            n = self.narrow.limit(cap + 1).count()  # read from an index (会员编号, 证件号码, a status)
            return n, n <= cap
        return self.sampled_total(cap)

    def sampled_total(self, cap: int) -> tuple[int, bool | None]:
        """The total of a filter no index narrows (同步会员, 可能已达退休年龄, the dates, 全部) over a district or
        the city: the matches among at most SCAN_ROWS memberships of the scope, counted up to cap + 1 (a
        common filter stops early; a rare combination such as 同步 否 + 退休, ≈ 1 %, would otherwise read the
        whole district). More than cap: (n, False) "超过 1000 条"; the scope read to its end: exact; else
        (n, None), a lower bound: "总共至少 n 条记录"."""
        hit = _filtered(Membership.select(), self.filters, self.on)._where or pw.SQL("1 = 1")  # 全部 alone
        rows = bounded_scope(self.scope, self.root_id).select(pw.Case(None, [(hit, 1)], 0).alias("hit"))
        sql, params = rows.limit(SCAN_ROWS + 1).sql()
        n = db.execute_sql(f'SELECT COUNT(*) FROM (SELECT 1 FROM ({sql}) AS "sampled" WHERE "hit" = 1 LIMIT {cap + 1}) '
                           'AS "hits"', params).fetchone()[0]
        if n > cap:
            return n, False
        if counts.member_total(self.root_id or 0, whole=self.root_id is None) > SCAN_ROWS:
            return n, None  # the scope holds more rows than were read (its 正常 members alone)
        return n, (True if bounded_scope(self.scope, self.root_id).limit(SCAN_ROWS + 1).count() <= SCAN_ROWS else None)

    @staticmethod
    def rows(ids) -> list:
        """The page's memberships with person and union (ids: a list, or the page's sub-query)."""
        return list(Membership.select(Membership, Person, Organization).join(Person).switch(Membership)
                    .join(Organization).where(Membership.id.in_(ids))
                    .order_by(Membership.org.desc(), Membership.id.desc()))


def name_window(root_id: int | None, name: str, narrowing, person: bool = False):
    """The first NAME_WINDOW + 1 memberships of a district (root_id) or the city (None) whose name starts
    with `name`, in name order (a sub-query of their ids). The walk reads the membership name index
    (person_name, org_id — migration 033) and keeps the scope's unions from the index entry alone (a
    district's units hashed once), so a member of another district costs one index entry, not a person
    and a membership read; only the scope's matches are joined to their rows, where `narrowing(query)`
    adds the list's other filters on Membership (`person`: on Person too)."""
    walk = Membership.alias("walk")
    query = Membership.select(Membership.id).join(walk, on=(walk.id == Membership.id))
    if person:
        query = query.switch(Membership).join(Person)
    if root_id is not None:
        units = OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == root_id)
        query = query.where((walk.org + 0).in_(units))
    # PostgreSQL's index is in the "C" collation (the window's order); SQLite compares bytes
    order = walk.person_name.collate('"C"') if is_postgres() else walk.person_name
    return (narrowing(query).where(starts_with(walk.person_name, name, indexed=True))
            .order_by(order, walk.org, walk.id).limit(NAME_WINDOW + 1))


def window_note(name: str) -> str:
    """What a list held to the name window says after its summary."""
    return f"（姓名以“{name}”开头的会员过多，只列出按姓名排在最前的 {NAME_WINDOW} 余人，请输入更完整的姓名）"


def starts_with(column, text: str, indexed: bool = False):
    """column LIKE 'text%' (wildcards in `text` escaped): exact or prefix. LIKE rather than
    ILIKE: names are Chinese, and PostgreSQL's ILIKE lower-cases every row first. `indexed`: read
    the prefix from the column's index — PostgreSQL does from LIKE itself (an index in the "C"
    collation, migration 030); SQLite, whose LIKE … ESCAPE uses no index, is given the same prefix as a
    range of its byte-ordered index too. Left out where the scope's rows are walked instead."""
    escaped = text.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    pattern = pw.NodeList((pw.Value(escaped + "%", converter=False), pw.SQL("ESCAPE"),
                           pw.Value("\\", converter=False)))
    if is_postgres() and not indexed and column is Membership.person_name:
        # Not from the name index (033): for a common prefix PostgreSQL could bitmap-scan every
        # member of the city who carries it (111,111 for 会员1) to count a union's 5,000 members.
        column = column.concat("")
    like = pw.NodeList((column, pw.SQL("LIKE"), pattern))  # (peewee's OP.LIKE is GLOB on SQLite)
    if not indexed or is_postgres() or not text or ord(text[-1]) >= 0x10FFFF:
        return like
    return (column >= text) & (column < text[:-1] + chr(ord(text[-1]) + 1)) & like


def named(text: str):
    """Sub-query of the memberships whose name starts with `text`, from the name index (migration 033)."""
    walk = Membership.alias("named")
    return walk.select(walk.id).where(starts_with(walk.person_name, text, indexed=True))


def name_matches(text: str, cap: int) -> int:
    """Memberships city-wide whose name starts with `text`, counted from the name index up to cap + 1."""
    return named(text).limit(cap + 1).count()


def _filtered(query, filters: Filters, on: date | None):
    d = filters.dates
    if filters.status in MEMBER_STATUSES:
        query = query.where(Membership.status == filters.status)
    elif filters.status != ALL and not ({"approved_from", "approved_to"} & set(d)):
        # Current members by default. 新增激活电子会员证数 (the dashboard's approved_from/to link)
        # counts every membership approved in the period, whatever happened to it later.
        query = query.where(Membership.status.in_(ACTIVE_STATUSES))
    if filters.name:
        query = query.where(starts_with(Membership.person_name, filters.name))
    if filters.member_no:
        query = query.where(Membership.member_no == filters.member_no)
    if filters.id_number:
        query = query.where(Person.id_number.in_(id_candidates(filters.id_number)))
    if filters.synced:
        query = query.where(Membership.synced == SYNC_CHOICES[filters.synced])
    if filters.retirement:
        query = query.where(retirement_condition(on or today()))
    if "joined_from" in d:
        query = query.where(Membership.join_date >= d["joined_from"])
    if "joined_to" in d:
        query = query.where(Membership.join_date <= d["joined_to"])
    if "approved_from" in d:
        query = query.where(Membership.approved_at >= datetime.combine(d["approved_from"], time()))
    if "approved_to" in d:
        query = query.where(until_end_of(d["approved_to"], Membership.approved_at))
    return query


def selection(members_in_scope, org_id: int, ids=(), all_matching: Filters | None = None):
    """The members a batch action (转出 / 批量转出会员 / 删除) applies to: the ticked `ids`, or
    every member matching `all_matching` — always re-checked against the scope and limited to
    the acting union's own members who belong to it (待审核 / 正常)."""
    if all_matching is not None:
        query = roster(members_in_scope, all_matching)
    else:
        query = roster(members_in_scope, Filters(status=ALL)).where(Membership.id.in_(list(ids) or [0]))
    return query.where((Membership.org == org_id) & Membership.status.in_(HELD))


def flag(person: Person, on: date) -> str:
    """已达法定退休年龄 / 可能已达法定退休年龄 / "" for the list badge and the export."""
    return retirement.flag(person.birth_date, person.gender, on)


def mask_mobile(number: str | None) -> str:
    """139****5678 (lists, and exports for read-only accounts)."""
    if not number:
        return ""
    return number[:3] + "****" + number[-4:] if len(number) == 11 else mask(number)


def temporary_union(org: Organization) -> Organization | None:
    """The 临时工会 of the union's district (where people who left their job go)."""
    if org.district_id is None:
        return None
    return (Organization.select()
            .where(Organization.is_temporary & (Organization.district == org.district_id)
                   & (Organization.status == ACTIVE) & (Organization.id != org.id))
            .order_by(Organization.id).first())


# --- 导出会员 -----------------------------------------------------------------------------------
EXPORT_COLUMNS = ["会员编号", "姓名", "性别", "有效证件类型", "证件号码", "出生日期", "移动电话", "联系地址",
                  "工作单位/服务平台", "会员标签", "学历", "户籍类型", "技术等级", "工会职务", "所在工会", "入会日期",
                  "用户状态", "同步会员", "可能已达退休年龄"]


def export_rows(query, masked: bool, on: date):
    """One list per member, in EXPORT_COLUMNS order; fetched with a streaming cursor."""
    for m in query.iterator():
        p = m.person
        yield [m.member_no or "", p.name, p.gender, p.id_type,
               mask(p.id_number) if masked else p.id_number,
               p.birth_date,
               mask_mobile(m.mobile) if masked else m.mobile, m.address, m.work_unit, m.tags,
               m.education, m.household, m.skill_level, m.union_post, m.org.name,
               m.join_date, m.status, m.sync_label,
               flag(p, on)]


def write_export(query, masked: bool, on: date):
    """The filtered roster as an .xlsx in a temporary file (write-only: constant memory).
    Returns (open file positioned at 0, number of members). Cells by export_row: dates as date
    cells, text as text (ID and phone numbers keep every digit) escaped where it would run."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("会员信息")
    sheet.append(EXPORT_COLUMNS)
    count = 0
    for row in export_rows(query, masked, on):
        sheet.append(export_row(sheet, row))
        count += 1
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book.save(handle)
    handle.seek(0)
    return handle, count



def export(members_in_scope, filters: Filters, masked: bool):
    """导出会员: the filtered roster as an .xlsx (write_export), audited with its filters.
    Returns (open file positioned at 0, number of members)."""
    handle, count = write_export(roster(members_in_scope, filters), masked, today())
    AuditLog.record("导出会员", object_type="Membership",
                    detail={"条数": count, "筛选条件": filters.args(), "号码": "已遮蔽" if masked else "完整"})
    return handle, count
