"""集中参保审核 / 即时参保审核 (spec 60, spec 05; issue 8): the secondary and district review
queues, and the district's submission of its 待提交 list to the centre as one district batch
(models/review/batches.py: the batch, the centre's decisions; vouchers in models/review/vouchers.py).

- **Queues** (集中参保审核 / 即时参保审核) are states of the grassroots `Submission`, not copies:
  待审批 = 区局确认中 with no queue level; 待提交 = queued by a secondary union (审核标识 二级工会,
  `queued_by` = that union) or by the district (区局(产业)). ← 移除 clears the level. A row of a pane
  is a *group* of submissions of one union, channel, mode and type (`group_key`), so a union
  that submitted three times shows once; the key names the newest submission the reviewer saw,
  so nothing submitted afterwards is approved or returned unseen. Channel-agnostic: the
  social-security channel's submissions go through the same queues (参保通道 filter).
- **Credit** (退回金额): deducted at district submission of centralized batches; the remainder
  carries to the district's next centralized batch of that year.
"""

from dataclasses import dataclass
from datetime import datetime

import peewee as pw

from models import db, figures, messages
from models.audit import AuditLog
from models.base import DomainError, now
from models.enroll import enrollment, plans
from models.enroll.enrollment import (
    CARD_CHANNEL,
    CENTRAL,
    CHANNELS,
    HAS_CARD_NO_COVER,
    INSTANT,
    MODES,
    NEW_CARD,
    RETURNED,
    REVIEWING,
    SOCIAL_CHANNEL,
    Enrollment,
    Submission,
)
from models.enroll.plans import Credit, ProtectionType, ProtectionYear
from models.members.people import Person
from models.orgs.organizations import Organization
from models.review.batches import (
    CENTRAL_KIND,
    CHECKING,
    FAILED,
    INSTANT_KIND,
    REJECTED,
    DistrictBatch,
    next_batch_number,
)
from models.rules.fees import yuan
from models.rules.text import bounded_int
from models.workflow import bulk_transition, transition

KINDS = {"central": CENTRAL_KIND, "instant": INSTANT_KIND}
INSTANT_MODES = (HAS_CARD_NO_COVER, NEW_CARD, INSTANT)
DISTRICT_MARK, SECONDARY_MARK = "区局(产业)", "二级工会"  # 审核标识


def modes_of(kind: str) -> tuple:
    return (CENTRAL,) if kind == CENTRAL_KIND else INSTANT_MODES


# 待提交 (queued) rows are few at any time; the pane, its count and its totals read them through
# this partial index instead of every pending submission of the city (migration 010).
Submission.add_index(Submission.index(Submission.year, Submission.status, Submission.mode,
                                      where=Submission.queued_level.is_null(False), name="submission_queued"))


# --- the queues ---------------------------------------------------------------------------------
def mark_of(reviewer: Organization) -> str:
    return DISTRICT_MARK if reviewer.level == "district" else SECONDARY_MARK


@dataclass
class Group:
    """One row of a pane: a union's submissions of one channel, mode and type."""
    org_id: int
    org_name: str
    org_code: str
    parent_name: str
    channel: str
    mode: str
    type_id: int
    type_name: str
    mark: str
    count: int
    fee: int
    submitted_at: datetime
    last_id: int

    @property
    def key(self) -> str:
        return group_key(self.org_id, self.channel, self.mode, self.type_id, self.last_id)


def group_key(org_id, channel, mode, type_id, last_id) -> str:
    return f"{org_id}-{CHANNELS.index(channel)}-{MODES.index(mode)}-{type_id}-{last_id}"


def parse_key(key: str) -> tuple | None:
    parts = [bounded_int(x) for x in str(key).split("-")]
    if len(parts) != 5 or None in parts:
        return None
    org_id, channel, mode, type_id, last_id = parts
    if channel >= len(CHANNELS) or mode >= len(MODES):
        return None
    return org_id, CHANNELS[channel], MODES[mode], type_id, last_id


def pane(reviewer: Organization, year: ProtectionYear, kind: str, queued: bool):
    """Submissions of a pane in the reviewer's subtree. 待审批 (queued False): not yet added by
    anyone. 待提交 (queued True): the district sees everything added in its subtree; a secondary
    union only what it added itself."""
    # `batch_id + 0`: SQLite's statistics count rows per batch, not the NULLs, so it took the batch
    # index for "IS NULL" — every unbatched submission of every district and year — over the
    # queued partial index and (year, status, mode); the same rows either way.
    query = (Submission.select().where((Submission.year == year.id) & (Submission.status == REVIEWING)
                                       & (Submission.batch + 0).is_null() & Submission.mode.in_(modes_of(kind))))
    if reviewer.level == "district":
        query = query.where(Submission.org.in_(reviewer.subtree_ids()))
    else:
        query = query.where(Submission.org.in_(reviewer.subtree_ids()) | (Submission.queued_by == reviewer.id))
    if not queued:
        return query.where(Submission.queued_level.is_null())
    query = query.where(Submission.queued_level.is_null(False))
    if reviewer.level != "district":
        query = query.where(Submission.queued_by == reviewer.id)
    return query


def filter_pane(query, year: ProtectionYear, kind: str, queued: bool, f: dict):
    """A pane's filters: 单位名称 and 上级工会 (names contain), and on 待审批 only 组织机构代码,
    参保通道, 参保类型 and 保障类型 (its code in the year); an unknown choice filters nothing."""
    units = Organization.select(Organization.id)
    if f["name"]:
        units = units.where(Organization.name.contains(f["name"]))
    if not queued and f["code"]:
        units = units.where(Organization.uscc.contains(f["code"].upper()))
    if f["parent"]:
        parents = Organization.select(Organization.id).where(Organization.name.contains(f["parent"]))
        units = units.where(Organization.parent.in_(parents))
    if f["name"] or f["parent"] or (not queued and f["code"]):
        query = query.where(Submission.org.in_(units))
    if not queued:
        if f["channel"] in CHANNELS:
            query = query.where(Submission.channel == f["channel"])
        if f["mode"] in modes_of(kind):
            query = query.where(Submission.mode == f["mode"])
        if f["type"]:
            query = query.where(Submission.type.in_(
                ProtectionType.select(ProtectionType.id).where((ProtectionType.year == year.id)
                                                               & (ProtectionType.code == f["type"]))))
    return query


GROUP_FIELDS = (Submission.org, Submission.channel, Submission.mode, Submission.type, Submission.queued_level)


def group_page(query, page: int = 1, per_page: int = 15):
    """One page of a pane's groups, narrow: (org, channel, mode, type, level, people, fee, newest
    提交时间, newest id) over the submission table alone, newest first; the names are joined to
    the page's rows afterwards (group_names) — aggregating 2,000 groups with their names and
    sorting them all cost more than the rest of the page."""
    return (query.select(*GROUP_FIELDS, pw.fn.SUM(Submission.count), pw.fn.SUM(Submission.fee),
                         pw.fn.MAX(Submission.submitted_at), pw.fn.MAX(Submission.id))
            .group_by(*GROUP_FIELDS)
            .order_by(pw.fn.MAX(Submission.submitted_at).desc(), Submission.org).paginate(page, per_page))


def group_count(query):
    return query.select(*GROUP_FIELDS).group_by(*GROUP_FIELDS)


def group_names(org_ids: list):
    """(org id, name, 组织机构代码, parent name) of the organisations of a page of groups."""
    Parent = Organization.alias()
    return (Organization.select(Organization.id, Organization.name, Organization.uscc, Parent.name)
            .join(Parent, pw.JOIN.LEFT_OUTER, on=(Organization.parent == Parent.id))
            .where(Organization.id.in_(org_ids or [0])))


def groups(query, page: int = 1, per_page: int = 15) -> tuple[list, int]:
    """(the page of Group rows, how many groups) of a pane query (already filtered). The total rides
    on the page's rows (COUNT(*) OVER ()): one aggregation, not two; counted apart past the end."""
    rows = list(group_page(query, page, per_page).select_extend(pw.fn.COUNT(pw.SQL("*")).over()).tuples())
    if rows:
        total, rows = rows[0][-1], [r[:-1] for r in rows]
    else:
        total = group_count(query).count() if page > 1 else 0
    orgs = {oid: (name, code, parent) for oid, name, code, parent in group_names([r[0] for r in rows]).tuples()}
    types = dict(ProtectionType.select(ProtectionType.id, ProtectionType.name)
                 .where(ProtectionType.id.in_({r[3] for r in rows} or {0})).tuples())
    out = []
    for (org_id, channel, mode, type_id, level, count, fee, at, last) in rows:
        if isinstance(at, str):  # SQLite returns MAX() of a datetime as text
            at = datetime.fromisoformat(at)
        name, code, parent = orgs[org_id]
        out.append(Group(org_id, name, code or "", parent or "", channel, mode, type_id, types[type_id], level or "",
                         int(count or 0), int(fee or 0), at, last))
    return out, total


@dataclass
class Totals:
    count: int = 0
    card: int = 0
    social: int = 0
    fee: int = 0
    city: int = 0
    district: int = 0
    grassroots: int = 0

    def header(self) -> str:
        """合计参保人数：3 人(会员卡参保人数1 人，社保卡参保人数2人)。保障费用：78元；… (seed 002; every
        figure with its 元, which the manual's last one lacks)."""
        return (f"合计参保人数：{self.count}人(会员卡参保人数{self.card}人，社保卡参保人数{self.social}人)。"
                f"保障费用：{yuan(self.fee)}元；市总统一划拨：{yuan(self.city)}元；"
                f"区局/各级工会缴费：{yuan(self.district)}元；基层单位缴费：{yuan(self.grassroots)}元。")


def totals(query) -> Totals:
    rows = query.select(Submission.channel, pw.fn.SUM(Submission.count), pw.fn.SUM(Submission.fee),
                        pw.fn.SUM(Submission.city), pw.fn.SUM(Submission.district),
                        pw.fn.SUM(Submission.grassroots)).group_by(Submission.channel).tuples()
    t = Totals()
    for channel, count, fee, city, district, grassroots in rows:
        count = int(count or 0)
        t.count += count
        if channel == CARD_CHANNEL:
            t.card += count
        elif channel == SOCIAL_CHANNEL:
            t.social += count
        t.fee += int(fee or 0)
        t.city += int(city or 0)
        t.district += int(district or 0)
        t.grassroots += int(grassroots or 0)
    return t


def credit_available(district: Organization, year: ProtectionYear) -> tuple[int, str]:
    """(unused credit in fen, its note) of a district for a year's centralized batches."""
    credit = Credit.get_or_none((Credit.org == district.id) & (Credit.year == year.id))
    if credit is None or credit.amount <= 0:
        return 0, ""
    used = (DistrictBatch.select(pw.fn.COALESCE(pw.fn.SUM(DistrictBatch.credit_used), 0))
            .where((DistrictBatch.district == district.id) & (DistrictBatch.year == year.id)
                   & DistrictBatch.status.not_in((REJECTED, FAILED))).scalar())
    return max(0, credit.amount - int(used or 0)), credit.note


def credit_line(district: Organization | None, year: ProtectionYear) -> str:
    """2018年会员计划退回金额*****元，可用于抵扣2020年集中参保费用。 — only when there is credit."""
    if district is None:
        return ""
    amount, note = credit_available(district, year)
    if not amount:
        return ""
    return f"{note or f'{year.year - 2}年会员计划退回金额'}{yuan(amount)}元，可用于抵扣{year.year}年集中参保费用。"


def resolve(reviewer: Organization, year: ProtectionYear, kind: str, keys: list, queued: bool) -> list:
    """The submissions behind the chosen rows of a pane (forged or stale keys are refused)."""
    chosen = []
    for key in keys:
        parsed = parse_key(key)
        if parsed is None:
            raise DomainError("所选记录无效，请刷新页面后重试", 422)
        org_id, channel, mode, type_id, last_id = parsed
        found = list(pane(reviewer, year, kind, queued).where(
            (Submission.org == org_id) & (Submission.channel == channel) & (Submission.mode == mode)
            & (Submission.type == type_id) & (Submission.id <= last_id)))
        if not found:
            raise DomainError("所选记录已被他人处理或不在本单位审核范围内，请刷新页面后重试", 409)
        chosen.extend(found)
    if not chosen:
        raise DomainError("请先勾选要处理的参保信息", 422)
    return chosen


def _log(subs: list, action: str, account, detail: dict) -> None:
    """The 操作日志 rows of a queue move (the status stays 区局确认中; only the queue level moves)."""
    AuditLog.insert_many([AuditLog.row(action, s, from_state=REVIEWING, to_state=REVIEWING, account=account,
                                       detail=detail) for s in subs]).execute()


def add_to_queue(reviewer: Organization, year, kind: str, keys: list, account) -> int:
    """→ 添加至待提交."""
    with db.atomic():
        subs = resolve(reviewer, year, kind, keys, queued=False)
        ids = [s.id for s in subs]
        changed = (Submission.update(queued_level=mark_of(reviewer), queued_by=reviewer.id, updated_at=now())
                   .where(Submission.id.in_(ids) & Submission.queued_level.is_null()
                          & (Submission.status == REVIEWING)).execute())
        if changed != len(ids):
            raise DomainError("所选记录已被他人处理，请刷新页面后重试", 409)
        _log(subs, "添加至待提交", account, {"审核标识": mark_of(reviewer)})
    return sum(s.count for s in subs)


def remove_from_queue(reviewer: Organization, year, kind: str, keys: list, account) -> int:
    """← 移除 (back to 待审批)."""
    with db.atomic():
        subs = resolve(reviewer, year, kind, keys, queued=True)
        ids = [s.id for s in subs]
        changed = (Submission.update(queued_level=None, queued_by=None, updated_at=now())
                   .where(Submission.id.in_(ids) & Submission.queued_level.is_null(False)
                          & Submission.batch.is_null()).execute())
        if changed != len(ids):
            raise DomainError("所选记录已被他人处理，请刷新页面后重试", 409)
        _log(subs, "移除（退回待审批）", account, {})
    return sum(s.count for s in subs)


def return_groups(reviewer: Organization, year, kind: str, keys: list, reason: str, account) -> int:
    """退回 to the grassroots union, with a reason; the people are released."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("「退回」须填写原因", 422)
    with db.atomic():
        subs = resolve(reviewer, year, kind, keys, queued=False)
        for sub in subs:
            enrollment.move(sub, "return", account, reason)
        for org_id in {s.org_id for s in subs}:
            mine = [s for s in subs if s.org_id == org_id]
            messages.post(org_id, f"{year.year}年度{kind}信息被退回（{sum(s.count for s in mine)}人）",
                          f"退回单位：{reviewer.name}。退回原因：{reason}", kind="退回",
                          link=f"/enroll/submissions/{mine[0].id}")
    return sum(s.count for s in subs)


# --- submitting to the centre ---------------------------------------------------------------
def submit_to_centre(district: Organization, year: ProtectionYear, kind: str, handler: dict, account,
                     at: datetime | None = None) -> DistrictBatch:
    """提交列表中的参保信息 → 确认提交至职保中心: the district's whole 待提交 list becomes one batch
    (参保审核中); its submissions become 已完成 with the CB number. Centralized only in the
    district-submit window. A resent request finds an empty list and is refused."""
    if district.level != "district":
        raise DomainError("只有区局（产业）工会可以提交至职保中心", 403)
    at = at or now()
    if kind == CENTRAL_KIND:
        plans.require_window(year, "district_submit", district, at=at)
    with db.atomic():
        subs = list(pane(district, year, kind, queued=True).order_by(Submission.id))
        if not subs:
            raise DomainError("待提交参保列表中没有参保信息（可能已提交），请先添加至待提交", 409)
        t = totals(Submission.select().where(Submission.id.in_([s.id for s in subs])))
        credit = 0
        if kind == CENTRAL_KIND:
            available, _ = credit_available(district, year)
            credit = min(available, t.district + t.grassroots)
        batch = DistrictBatch.create(
            number=next_batch_number(at), district=district.id, year=year.id, kind=kind, count=t.count,
            card_count=t.card, social_count=t.social, fee=t.fee, city=t.city, district_part=t.district,
            grassroots_part=t.grassroots, credit_used=credit, handler_name=handler["name"],
            handler_mobile=handler["mobile"], handler_email=handler["email"],
            submitted_by=account.id if account else None, submitted_at=at, updated_at=at)
        bulk_transition(Submission, subs, "complete", account=account,
                        updates={"batch": batch.id, "district_batch": batch.number, "updated_at": at},
                        detail={"批次编号": batch.number}, where=Submission.batch.is_null(),
                        stale="待提交参保列表已被他人修改，请刷新页面后重试")
        AuditLog.record("提交参保批次", batch, to_state=CHECKING, account=account,
                        detail={"批次编号": batch.number, "人数": t.count, "经办人": handler["name"]})
    return batch


# --- admin quick fix ------------------------------------------------------------------------
def returned_of(name: str, limit: int = 50) -> list:
    """The returned (退回) submissions of unions whose name contains `name`, newest first."""
    return list(Submission.select(Submission, Organization)
                .join(Organization, on=(Submission.org == Organization.id))
                .where((Submission.status == RETURNED) & Organization.name.contains(name))
                .order_by(Submission.updated_at.desc()).limit(limit))


def returned_submission(submission_id) -> Submission | None:
    """The submission if it exists and is still 退回."""
    return Submission.get_or_none((Submission.id == bounded_int(submission_id, 1) or 0)
                                  & (Submission.status == RETURNED))


def restore_returned(sub: Submission, account, reason: str) -> Submission:
    """Reopen a wrongly returned grassroots submission: 退回 → 区局确认中, its people enrolled
    again — refused when one of them is insured elsewhere meanwhile."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写原因", 422)
    with db.atomic():
        person_ids = [e.person_id for e in Enrollment.select(Enrollment.person).where(Enrollment.submission == sub.id)]
        held = enrollment.holder_of(sub.year, person_ids)
        if held:
            pid = next(iter(held))
            raise DomainError(enrollment.insured_elsewhere_message(held[pid], Person.get_by_id(pid).name)
                              + "，不能恢复该次提交", 409)
        sub = transition(sub, "restore", account=account, reason=reason,
                         updates={"updated_at": now(), "reason": "", "queued_level": None, "queued_by": None})
        Enrollment.update(active=True).where(Enrollment.submission == sub.id).execute()
        figures.year([sub.org_id], sub.year_id)
    return sub
