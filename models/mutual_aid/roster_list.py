"""参保清册 as the roster page shows it (seed 004 编辑名单): the batch's people filtered by 职退状态,
是否超龄 and 警告 (姓名匹配异常), and the counts at the top — each count is the size of exactly the
list its link opens (`people(batch, <its filter>)`).

是否超龄 is rule 1's (models/rules/mutual_roster.is_over_age) on the batch's reference day
(`reference_day`: 1 July for 集中参保, tomorrow for 即时参保), turned into a birth-date bound per
gender so the database filters it (`latest_birth`; a test compares it with is_over_age day by day).
"""

import operator
from datetime import date
from functools import reduce

from models.base import today
from models.mutual_aid.batches import (
    ATTACH_FAILED,
    ATTACH_REVIEW,
    AWAIT_VOUCHER,
    CHECK_FAILED,
    CHOOSE_ITEMS,
    EMPLOYMENT,
    IN_SERVICE,
    INSURED,
    RETIRED,
    TO_CHECK,
    UNKNOWN,
    VOUCHER_REVIEW,
    AidBatch,
    RosterEntry,
)
from models.orgs.accounts import AID_UNIT_ROLES, ROLES
from models.rules.mutual_roster import OVER_AGE, is_over_age, reference_day

# Who opens 参保批次管理 and a roster: the unit's own account (an enterprise's too, once that role
# exists); district / secondary unions (their subtree), 市总工会 and the centre look.
UNIT_ROLES = tuple(r for r in AID_UNIT_ROLES if r in ROLES)
VIEWERS = (*UNIT_ROLES, "district", "secondary", "city", "centre")

OVER, NOT_OVER = "超龄", "未超龄"
AGE_FILTERS = (OVER, NOT_OVER)
WARNING = "警告"
# The counts at the top of the roster page: (label, the filter its link opens)
COUNTS = (("拟参保人数", {}), ("在职", {"employment": IN_SERVICE}), ("退休", {"employment": RETIRED}),
          ("-", {"employment": UNKNOWN}), ("超龄", {"age": OVER}), ("警告", {"warning": "1"}))


def operated_by(batch: AidBatch, account) -> bool:
    """The account is the batch's unit (its code's account): it may change the batch."""
    return account.operates_mutual_aid and batch.code.account_id == account.id


# The steps of a batch (参保批次管理 and 参保清册 show the same links; the templates name them,
# partials/mutual_aid_batches/_steps.html): per state the next action the manual names.
CHECK_STATES = (TO_CHECK, CHECK_FAILED, ATTACH_REVIEW, ATTACH_FAILED)  # 清册校验 (附件审核中: its progress)
PREMIUM_STATES = (AWAIT_VOUCHER, VOUCHER_REVIEW, INSURED)  # 保费详细


def next_steps(batch: AidBatch, account) -> list[str]:
    """The keys of the batch's steps this account may open now: roster (参保清册), check (清册校验),
    items (保障项目选择: the unit, 保障项目待选择), premiums (保费详细), voucher (上传缴费凭证 → 互助保障缴费凭证:
    the unit, 缴费凭证待上传), withdraw (批次撤回: the unit, 缴费凭证待上传), delete (批次删除: the unit, while
    the roster is editable). Each screen refuses on the server what it must; these are only the links."""
    own = operated_by(batch, account)
    steps = ["roster"]
    if batch.status in CHECK_STATES:
        steps.append("check")
    if batch.status == CHOOSE_ITEMS and own:
        steps.append("items")
    if batch.status in PREMIUM_STATES:
        steps.append("premiums")
    if batch.status == AWAIT_VOUCHER and own:
        steps += ["voucher", "withdraw"]
    if batch.editable and own:
        steps.append("delete")
    return steps


def foreign_to(batch: AidBatch, account) -> bool:
    """A unit's account opening another code's batch (shown as not found)."""
    return account.role in UNIT_ROLES and batch.code.account_id != account.id


def ref_day(batch: AidBatch, on: date | None = None) -> date:
    """The day 是否超龄 is judged on (rule 1's reference day for this batch)."""
    return reference_day(batch.kind, batch.year.year, on or today())


def latest_birth(on: date, limit: int) -> date:
    """The latest birth date of someone aged `limit` or more on `on` (29 Feb births have their
    birthday on 28 Feb in common years, as is_over_age counts)."""
    year = on.year - limit
    try:
        latest = date(year, on.month, on.day)
    except ValueError:  # `on` is 29 Feb, `year` a common year
        latest = date(year, 2, 28)
    if (on.month, on.day) == (2, 28) and _leap(year) and not _leap(on.year):
        latest = date(year, 2, 29)
    return latest


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def over_age(on: date):
    """SQL condition: is_over_age(birth_date, gender, on)."""
    return reduce(operator.or_, [(RosterEntry.gender == gender) & (RosterEntry.birth_date <= latest_birth(on, limit))
                                 for gender, limit in OVER_AGE.items()])


def name_warning():
    """SQL condition: RosterEntry.name_warning (another name known, none confirmed)."""
    return (~RosterEntry.name_confirmed
            & (((RosterEntry.member_name != "") & (RosterEntry.member_name != RosterEntry.name))
               | ((RosterEntry.registry_name != "") & (RosterEntry.registry_name != RosterEntry.name))))


def clean_filters(values) -> dict:
    """The roster page's filters from a query string or form (unknown values are ignored)."""
    f = {}
    if values.get("employment") in EMPLOYMENT:
        f["employment"] = values.get("employment")
    if values.get("age") in AGE_FILTERS:
        f["age"] = values.get("age")
    if values.get("warning") == "1":
        f["warning"] = "1"
    return f


def people(batch: AidBatch, filters: dict | None = None, on: date | None = None):
    """The batch's people matching `filters`, in the order they came."""
    filters = filters or {}
    query = RosterEntry.select().where((RosterEntry.batch == batch.id) & RosterEntry.active)
    if "employment" in filters:
        query = query.where(RosterEntry.employment == filters["employment"])
    if "age" in filters:
        condition = over_age(ref_day(batch, on))
        query = query.where(condition if filters["age"] == OVER else ~condition)
    if filters.get("warning"):
        query = query.where(name_warning())
    return query.order_by(RosterEntry.id)


def counts(batch: AidBatch, on: date | None = None) -> list:
    """[(label, filters, n)] for the top of the roster page."""
    return [(label, f, people(batch, f, on).count()) for label, f in COUNTS]


def over_age_of(entry: RosterEntry, on: date) -> bool:
    return is_over_age(entry.birth_date, entry.gender, on)


def candidates(entry: RosterEntry) -> list:
    """The names the operator may pick for a 警告 row: [(where it comes from, name)], each name
    once — the roster's (as it came in), the 会员库's, the 建议清册's (and the one shown now)."""
    found = {}
    for source, name in (("参保清册姓名", entry.imported_name), ("会员库姓名", entry.member_name),
                         ("建议清册姓名", entry.registry_name), ("当前姓名", entry.name)):
        if name:
            found.setdefault(name, []).append(source)
    return [("、".join(sources), name) for name, sources in found.items()]
