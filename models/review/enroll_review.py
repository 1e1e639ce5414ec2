"""The review chain (spec 60, spec 05; issue 8): secondary and district review queues, the
district batch (参保批次, CB number) submitted to the centre, payment vouchers and write-off.

- **Queues** (集中参保审核 / 即时参保审核) are states of the grassroots `Submission`, not copies:
  待审批 = 区局确认中 with no queue level; 待提交 = queued by a secondary union (审核标识 二级工会,
  `queued_by` = that union) or by the district (区局(产业)). ← 移除 clears the level. A row of a pane
  is a *group* of submissions of one union, channel, mode and type (`group_key`), so a union
  that submitted three times shows once; the key names the newest submission the reviewer saw,
  so nothing submitted afterwards is approved or returned unseen. Channel-agnostic: the
  social-security channel's submissions go through the same queues (参保通道 filter).
- **DistrictBatch**: 参保审核中 → 缴费凭证待上传 (centre accepts; 反馈时间) → 凭证审核中 (voucher
  uploaded) → 已完成 (centre confirms; 核销时间); 凭证审核中 → 缴费凭证待上传 (voucher rejected);
  参保审核中 → 已退回 (centre rejects: the submissions go back to the district's 待提交 list);
  缴费凭证待上传 → 失败 (centralized: unpaid after the payment deadline, by the scheduled sweep;
  instant: by the centre with a reason). Numbers CB + yyyymmdd + 4-digit daily sequence.
- **PaymentVoucher**: one voucher covers one or more batches of one district; a batch is covered
  by at most one voucher under review or confirmed (partial unique index on voucher_item).
- **Credit** (退回金额): deducted at district submission of centralized batches; the remainder
  carries to the district's next centralized batch of that year.
"""

from dataclasses import dataclass
from datetime import datetime

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now, yuan
from models.enroll.enrollment import (
    CARD_CHANNEL,
    CENTRAL,
    CHANNELS,
    DONE,
    MODES,
    REVIEWING,
    SOCIAL_CHANNEL,
    Enrollment,
    Submission,
)
from models.enroll.plans import Credit, ProtectionType, ProtectionYear
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.rules.text import bounded_int
from models.workflow import Workflow, transition

CENTRAL_KIND, INSTANT_KIND = "集中参保", "即时参保"
KINDS = {"central": CENTRAL_KIND, "instant": INSTANT_KIND}
INSTANT_MODES = ("有卡无保", "新办卡", "即时参保")
DISTRICT_MARK, SECONDARY_MARK = "区局(产业)", "二级工会"  # 审核标识

CHECKING, AWAIT_VOUCHER, VOUCHER_REVIEW, COMPLETED, FAILED, REJECTED = (
    "参保审核中", "缴费凭证待上传", "凭证审核中", "已完成", "失败", "已退回")
BATCH_STATES = [CHECKING, AWAIT_VOUCHER, VOUCHER_REVIEW, COMPLETED, FAILED, REJECTED]
V_REVIEW, V_DONE, V_REJECTED = "凭证审核中", "已核销", "已驳回"


def modes_of(kind: str) -> tuple:
    return (CENTRAL,) if kind == CENTRAL_KIND else INSTANT_MODES


class DistrictBatch(BaseModel):
    WORKFLOW = Workflow("status", {
        (CHECKING, "accept"): AWAIT_VOUCHER,
        (CHECKING, "reject"): REJECTED,
        (AWAIT_VOUCHER, "upload"): VOUCHER_REVIEW,
        (VOUCHER_REVIEW, "confirm"): COMPLETED,
        (VOUCHER_REVIEW, "reject_voucher"): AWAIT_VOUCHER,
        (AWAIT_VOUCHER, "fail"): FAILED,
    }, actions={"accept": "职保中心确认", "reject": "职保中心退回", "upload": "上传缴费凭证",
                "confirm": "职保中心核销", "reject_voucher": "缴费凭证驳回", "fail": "参保失败"},
        needs_reason=frozenset({"reject", "reject_voucher", "fail"}))

    scope_field = "district"
    number = pw.CharField(max_length=20, unique=True)  # CB202405090002
    district = pw.ForeignKeyField(Organization, on_delete="RESTRICT")
    year = pw.ForeignKeyField(ProtectionYear, on_delete="RESTRICT")
    kind = pw.CharField(max_length=6)  # 集中参保 / 即时参保
    status = pw.CharField(max_length=8, default=CHECKING, index=True)
    count = pw.IntegerField(default=0)  # 参保人数
    card_count = pw.IntegerField(default=0)
    social_count = pw.IntegerField(default=0)
    fee = pw.IntegerField(default=0)  # fen
    city = pw.IntegerField(default=0)
    district_part = pw.IntegerField(default=0)
    grassroots_part = pw.IntegerField(default=0)
    credit_used = pw.IntegerField(default=0)  # 退回金额 deducted
    handler_name = pw.CharField(max_length=50)  # 经办人
    handler_mobile = pw.CharField(max_length=20)
    handler_email = pw.CharField(max_length=100)
    reason = pw.TextField(default="")  # the centre's last rejection / failure reason
    submitted_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    submitted_at = pw.DateTimeField(default=now)  # 提交时间 (确认时间)
    updated_at = pw.DateTimeField(default=now)  # 最后更新时间
    voucher_at = pw.DateTimeField(null=True)  # 凭证上传时间
    feedback_at = pw.DateTimeField(null=True)  # 职保中心反馈时间
    writeoff_at = pw.DateTimeField(null=True)  # 职保中心核销时间

    class Meta:
        indexes = ((("district", "year"), False),)

    @property
    def due(self) -> int:
        """What the district still has to pay (fen): its and the grassroots shares minus credit."""
        return self.district_part + self.grassroots_part - self.credit_used


class PaymentVoucher(BaseModel):
    WORKFLOW = Workflow("status", {
        (V_REVIEW, "confirm"): V_DONE,
        (V_REVIEW, "reject"): V_REJECTED,
    }, actions={"confirm": "职保中心核销", "reject": "缴费凭证驳回"}, needs_reason=frozenset({"reject"}))

    scope_field = "district"
    district = pw.ForeignKeyField(Organization, on_delete="RESTRICT")
    file_name = pw.CharField(max_length=100)  # 文件名称
    stored_name = pw.CharField(max_length=80)
    content_type = pw.CharField(max_length=40)
    size = pw.IntegerField()
    district_amount = pw.IntegerField(default=0)  # 区局/各级工会缴费 (fen)
    grassroots_amount = pw.IntegerField(default=0)  # 基层单位缴费
    credit = pw.IntegerField(default=0)
    status = pw.CharField(max_length=6, default=V_REVIEW, index=True)
    reason = pw.TextField(default="")
    uploaded_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    uploaded_at = pw.DateTimeField(default=now)  # 上传时间
    decided_at = pw.DateTimeField(null=True)

    @property
    def due(self) -> int:
        return self.district_amount + self.grassroots_amount - self.credit


class VoucherItem(BaseModel):
    scope_field = None
    voucher = pw.ForeignKeyField(PaymentVoucher, backref="items", on_delete="CASCADE")
    batch = pw.ForeignKeyField(DistrictBatch, on_delete="CASCADE")
    active = pw.BooleanField(default=True)  # false once the voucher was rejected


# A batch is paid by exactly one voucher: at most one voucher under review or confirmed.
VoucherItem.add_index(VoucherItem.index(VoucherItem.batch, unique=True, where=VoucherItem.active,
                                        name="voucher_item_one_per_batch"))


# 待提交 (queued) rows are few at any time; the pane, its count and its totals read them through
# this partial index instead of every pending submission of the city (migration 010).
Submission.add_index(Submission.index(Submission.year, Submission.status, Submission.mode,
                                      where=Submission.queued_level.is_null(False), name="submission_queued"))


class BatchCounter(BaseModel):
    """CB numbers: one row per day; UPDATE … SET value = value + 1 serialises concurrent submits."""
    scope_field = None
    day = pw.CharField(max_length=8, primary_key=True)  # yyyymmdd
    value = pw.IntegerField(default=0)

    class Meta:
        table_name = "district_batch_counter"


def next_batch_number(on: datetime) -> str:
    day = on.strftime("%Y%m%d")
    with db.atomic():
        if not BatchCounter.update(value=BatchCounter.value + 1).where(BatchCounter.day == day).execute():
            BatchCounter.insert(day=day, value=0).on_conflict_ignore().execute()
            BatchCounter.update(value=BatchCounter.value + 1).where(BatchCounter.day == day).execute()
        value = BatchCounter.get_by_id(day).value
    if value > 9999:
        raise DomainError("今日参保批次编号已用完，请明日再提交", 409)
    return f"CB{day}{value:04d}"


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
    """(the page of Group rows, how many groups) of a pane query (already filtered)."""
    total = group_count(query).count()
    rows = list(group_page(query, page, per_page).tuples())
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


def _stamp(subs: list, action: str, account, detail: dict, from_state=REVIEWING, to_state=REVIEWING) -> None:
    AuditLog.insert_many([AuditLog.row(action, s, from_state=from_state, to_state=to_state, account=account,
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
        _stamp(subs, "添加至待提交", account, {"审核标识": mark_of(reviewer)})
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
        _stamp(subs, "移除（退回待审批）", account, {})
    return sum(s.count for s in subs)


def return_groups(reviewer: Organization, year, kind: str, keys: list, reason: str, account) -> int:
    """退回 to the grassroots union, with a reason; the people are released."""
    from models import messages
    from models.enroll import enrollment
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
    from models.enroll import plans
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
        ids = [s.id for s in subs]
        changed = (Submission.update(status=DONE, batch=batch.id, district_batch=batch.number, updated_at=at)
                   .where(Submission.id.in_(ids) & (Submission.status == REVIEWING) & Submission.batch.is_null())
                   .execute())
        if changed != len(ids):
            raise DomainError("待提交参保列表已被他人修改，请刷新页面后重试", 409)
        _stamp(subs, "区局提交至职保中心", account, {"批次编号": batch.number}, to_state=DONE)
        AuditLog.record("提交参保批次", batch, to_state=CHECKING, account=account,
                        detail={"批次编号": batch.number, "人数": t.count, "经办人": handler["name"]})
    return batch


def batch_submissions(batch: DistrictBatch):
    """The batch's submissions with their union and type (one query for the detail page, the
    payment-detail Excel and the notice, not one per row)."""
    return (Submission.select(Submission, Organization, ProtectionType)
            .join(Organization, on=Submission.org).switch(Submission)
            .join(ProtectionType, on=Submission.type).where(Submission.batch == batch.id))


def counts_by_type(batch: DistrictBatch) -> list[tuple[str, str, int]]:
    """[(code, name, people)] of a batch, in the year's type order."""
    rows = (Submission.select(ProtectionType.code, ProtectionType.name, pw.fn.SUM(Submission.count))
            .join(ProtectionType, on=(Submission.type == ProtectionType.id))
            .where(Submission.batch == batch.id)
            .group_by(ProtectionType.code, ProtectionType.name, ProtectionType.sort)
            .order_by(ProtectionType.sort, ProtectionType.code).tuples())
    return [(code, name, int(n)) for code, name, n in rows]


# --- the centre -----------------------------------------------------------------------------
def _centre_only(account) -> None:
    if not (account.is_admin or account.role == "centre"):
        raise DomainError("只有市职保中心可以执行此操作", 403)


def accept(batch: DistrictBatch, account, at: datetime | None = None, mail: bool = True) -> DistrictBatch:
    """职保中心确认: → 缴费凭证待上传, 反馈时间; the payment detail e-mailed to the handler."""
    from models import mailer, messages
    _centre_only(account)
    at = at or now()
    with db.atomic():
        batch = transition(batch, "accept", account=account, updates={"feedback_at": at, "updated_at": at})
        messages.post(batch.district_id, f"参保批次 {batch.number} 已由职保中心确认，请缴费并上传缴费凭证",
                      f"应缴金额：{yuan(batch.due)}元", kind="审核", link=f"/batches/{batch.id}")
    if mail:
        mailer.send_payment_detail(batch)
    return batch


def reject(batch: DistrictBatch, account, reason: str) -> DistrictBatch:
    """职保中心退回: the batch ends (已退回); its submissions go back to the district's 待提交 list."""
    from models import messages
    _centre_only(account)
    with db.atomic():
        batch = transition(batch, "reject", account=account, reason=reason,
                           updates={"reason": (reason or "").strip(), "updated_at": now()})
        subs = list(batch_submissions(batch))
        Submission.update(status=REVIEWING, batch=None, district_batch=None, updated_at=now()).where(
            Submission.batch == batch.id).execute()
        _stamp(subs, "职保中心退回区局批次", account, {"批次编号": batch.number}, from_state=DONE)
        messages.post(batch.district_id, f"参保批次 {batch.number} 被职保中心退回",
                      f"退回原因：{reason}。参保信息已回到待提交参保列表。", kind="退回", link=f"/batches/{batch.id}")
    return batch


def fail(batch: DistrictBatch, account, reason: str) -> DistrictBatch:
    """失败: the batch's submissions fail and their people are released (eligible for instant)."""
    from models import messages
    with db.atomic():
        batch = transition(batch, "fail", account=account, reason=reason,
                           updates={"reason": (reason or "").strip(), "updated_at": now()})
        subs = list(batch_submissions(batch))
        Submission.update(status="失败", updated_at=now()).where(Submission.batch == batch.id).execute()
        Enrollment.update(active=False).where(Enrollment.submission.in_([s.id for s in subs] or [0])).execute()
        _stamp(subs, "逾期未缴费", account, {"批次编号": batch.number}, from_state=DONE, to_state="失败")
        messages.post(batch.district_id, f"参保批次 {batch.number} 参保失败", f"原因：{reason}",
                      kind="退回", link=f"/batches/{batch.id}")
        for org_id in {s.org_id for s in subs}:
            messages.post(org_id, f"{batch.year.year}年度{batch.kind}参保失败",
                          f"所在区局（产业）工会的参保批次 {batch.number} {reason}，可按即时参保流程另行办理。",
                          kind="退回")
    return batch


def fail_unpaid(at: datetime | None = None, account=None) -> list[str]:
    """The scheduled sweep: centralized batches still 缴费凭证待上传 after the payment deadline
    (the district's window, extensions included) fail. Idempotent."""
    from models.enroll import plans
    at = at or now()
    failed = []
    for batch in DistrictBatch.select().where((DistrictBatch.status == AWAIT_VOUCHER)
                                              & (DistrictBatch.kind == CENTRAL_KIND)):
        state = plans.window_state(batch.year, "payment", batch.district, at=at)
        if state.ends is not None and at > state.ends:
            try:
                fail(batch, account, f"逾期未缴费（缴费截止：{state.ends:%Y-%m-%d %H:%M}）")
            except DomainError:
                continue  # moved on meanwhile
            failed.append(batch.number)
    return failed


# --- vouchers -------------------------------------------------------------------------------
MAX_VOUCHER_BYTES = 10 * 1024 * 1024


def payable(district: Organization):
    """Batches a new voucher can cover: 缴费凭证待上传, not covered by a voucher under review."""
    covered = VoucherItem.select(VoucherItem.batch).where(VoucherItem.active)
    return (DistrictBatch.select().where((DistrictBatch.district == district.id)
                                         & (DistrictBatch.status == AWAIT_VOUCHER)
                                         & DistrictBatch.id.not_in(covered))
            .order_by(DistrictBatch.submitted_at))


@dataclass
class Amounts:
    district: int
    grassroots: int
    credit: int

    @property
    def due(self) -> int:
        return self.district + self.grassroots - self.credit


def amounts(batches: list) -> Amounts:
    return Amounts(sum(b.district_part for b in batches), sum(b.grassroots_part for b in batches),
                   sum(b.credit_used for b in batches))


def check_voucher_file(data: bytes, filename: str) -> tuple[bytes, str, str]:
    """(the bytes to store, content type, extension) of an uploaded voucher: a PNG/JPEG image
    (re-encoded, so nothing but pixels is kept) or a PDF that parses — judged by content."""
    import io
    if not data:
        raise DomainError("请选择缴费凭证文件", 422)
    if len(data) > MAX_VOUCHER_BYTES:
        raise DomainError(f"缴费凭证文件不能超过{MAX_VOUCHER_BYTES // 1024 // 1024}MB", 422)
    if data.startswith(b"%PDF-"):
        from pypdf import PdfReader
        try:
            pages = len(PdfReader(io.BytesIO(data)).pages)
        except Exception:  # noqa: BLE001 - any parse failure is a bad file
            pages = 0
        if not pages:
            raise DomainError("缴费凭证PDF文件已损坏，无法打开", 422)
        return data, "application/pdf", "pdf"
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise DomainError("缴费凭证只能是图片（JPG/PNG）或PDF文件", 422)
            if image.width * image.height > 40_000_000:
                raise DomainError("缴费凭证图片尺寸过大", 422)
            image.load()
            out = io.BytesIO()
            if image.format == "JPEG":
                image.convert("RGB").save(out, "JPEG", quality=90)
                return out.getvalue(), "image/jpeg", "jpg"
            image.save(out, "PNG")
            return out.getvalue(), "image/png", "png"
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - not an image Pillow can read
        raise DomainError("缴费凭证只能是图片（JPG/PNG）或PDF文件，所选文件无法识别", 422) from None


def upload_voucher(district: Organization, batch_ids: list, file_name: str, data: bytes, account) -> PaymentVoucher:
    """保存提交至职保中心: the voucher for the chosen batches (→ 凭证审核中, 凭证上传时间)."""
    import secrets

    from models.storage import stored_file
    file_name = (file_name or "").strip()
    if not file_name:
        raise DomainError("请填写文件名称", 422)
    if len(file_name) > 100:
        raise DomainError("文件名称不能超过100个字", 422)
    if not batch_ids:
        raise DomainError("请选择批次", 422)
    batches = list(payable(district).where(DistrictBatch.id.in_(batch_ids)))
    if len(batches) != len(set(batch_ids)):
        raise DomainError("所选批次不是本单位待上传缴费凭证的批次，或已有缴费凭证", 409)
    content, content_type, ext = check_voucher_file(data, file_name)
    stored = f"{secrets.token_hex(16)}.{ext}"
    path = stored_file("vouchers", stored)
    path.write_bytes(content)
    total = amounts(batches)
    at = now()
    try:
        with db.atomic():
            voucher = PaymentVoucher.create(district=district.id, file_name=file_name, stored_name=stored,
                                            content_type=content_type, size=len(content),
                                            district_amount=total.district, grassroots_amount=total.grassroots,
                                            credit=total.credit, uploaded_by=account.id if account else None,
                                            uploaded_at=at)
            VoucherItem.insert_many([{"voucher": voucher.id, "batch": b.id, "active": True} for b in batches]).execute()
            for b in batches:
                transition(b, "upload", account=account, updates={"voucher_at": at, "updated_at": at},
                           detail={"文件名称": file_name})
            AuditLog.record("上传缴费凭证", voucher, to_state=V_REVIEW, account=account,
                            detail={"批次": [b.number for b in batches], "应缴": yuan(total.due)})
    except (pw.IntegrityError, DomainError) as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, DomainError):
            raise
        raise DomainError("所选批次已有缴费凭证，请刷新页面后重试", 409) from None
    return voucher


def voucher_batches(voucher: PaymentVoucher):
    return (DistrictBatch.select().join(VoucherItem, on=(VoucherItem.batch == DistrictBatch.id))
            .where(VoucherItem.voucher == voucher.id).order_by(DistrictBatch.number))


def confirm_voucher(voucher: PaymentVoucher, account) -> PaymentVoucher:
    """核销: the voucher 已核销, its batches 已完成 with 核销时间."""
    from models import messages
    _centre_only(account)
    at = now()
    with db.atomic():
        voucher = transition(voucher, "confirm", account=account, updates={"decided_at": at})
        for b in voucher_batches(voucher):
            transition(b, "confirm", account=account, updates={"writeoff_at": at, "updated_at": at})
        messages.post(voucher.district_id, f"缴费凭证「{voucher.file_name}」已核销", kind="审核",
                      link=f"/batches/vouchers/{voucher.id}")
    return voucher


def reject_voucher(voucher: PaymentVoucher, account, reason: str) -> PaymentVoucher:
    """驳回: its batches go back to 缴费凭证待上传 and can get a new voucher."""
    from models import messages
    _centre_only(account)
    at = now()
    with db.atomic():
        voucher = transition(voucher, "reject", account=account, reason=reason,
                             updates={"decided_at": at, "reason": (reason or "").strip()})
        batches = list(voucher_batches(voucher))
        VoucherItem.update(active=False).where(VoucherItem.voucher == voucher.id).execute()
        for b in batches:
            transition(b, "reject_voucher", account=account, reason=reason,
                       updates={"reason": reason.strip(), "updated_at": at})
        messages.post(voucher.district_id, f"缴费凭证「{voucher.file_name}」被驳回",
                      f"驳回原因：{reason}。请重新上传缴费凭证。", kind="退回", link=f"/batches/vouchers/{voucher.id}")
    return voucher


# --- admin quick fix ------------------------------------------------------------------------
def restore_returned(sub: Submission, account, reason: str) -> Submission:
    """Reopen a wrongly returned grassroots submission: 退回 → 区局确认中, its people enrolled
    again — refused when one of them is insured elsewhere meanwhile."""
    from models.enroll import enrollment
    from models.members.people import Person
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
    return sub


# --- reminders ------------------------------------------------------------------------------
def remind_deadlines(at: datetime | None = None, days: int = 3) -> int:
    """消息提醒 of approaching deadlines (once per organisation and deadline): districts with
    submissions still waiting before the district-submit window closes, and districts with
    unpaid batches before the payment deadline."""
    from datetime import timedelta

    from models import messages
    from models.enroll import plans
    at = at or now()
    posted = 0
    for year in ProtectionYear.select():
        for kind, label in (("district_submit", "提交至职保中心"), ("payment", "缴费")):
            window = plans.Window.get_or_none((plans.Window.year == year.id) & (plans.Window.kind == kind))
            if window is None or not (window.starts <= at <= window.ends) or window.ends - at > timedelta(days=days):
                continue
            if kind == "district_submit":
                orgs = set(Organization.select(Organization.district).join(
                    Submission, on=(Submission.org == Organization.id)).where(
                    (Submission.year == year.id) & (Submission.status == REVIEWING) & (Submission.mode == CENTRAL))
                    .tuples())
            else:
                orgs = set(DistrictBatch.select(DistrictBatch.district).where(
                    (DistrictBatch.year == year.id) & (DistrictBatch.status == AWAIT_VOUCHER)
                    & (DistrictBatch.kind == CENTRAL_KIND)).tuples())
            title = f"{year.year}年度集中参保{label}截止提醒：{window.ends:%Y-%m-%d %H:%M}"
            for (org_id,) in orgs:
                if org_id is None or messages.Message.select().where(
                        (messages.Message.org == org_id) & (messages.Message.title == title)).exists():
                    continue
                messages.post(org_id, title, f"{plans.WINDOWS[kind]}将于{window.ends:%Y-%m-%d %H:%M}截止，请及时办理。",
                              kind="截止提醒")
                posted += 1
    return posted

