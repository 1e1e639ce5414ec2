"""参保批次管理 / 缴费凭证管理 (spec 60, spec 05; issue 8): the district batch (参保批次, CB number)
submitted to the centre, the centre's decisions, payment vouchers and write-off, the payment-detail
mail and the scheduled sweep's deadlines. The review queues that fill a batch live in
models/review/enroll_review.py, the payment vouchers in models/review/vouchers.py.

- **DistrictBatch**: 参保审核中 → 缴费凭证待上传 (centre accepts; 反馈时间) → 凭证审核中 (voucher
  uploaded) → 已完成 (centre confirms; 核销时间); 凭证审核中 → 缴费凭证待上传 (voucher rejected);
  参保审核中 → 已退回 (centre rejects: the submissions go back to the district's 待提交 list);
  缴费凭证待上传 → 失败 (centralized: unpaid after the payment deadline, by the scheduled sweep;
  instant: by the centre with a reason). Numbers CB + yyyymmdd + 4-digit daily sequence.
"""

import io
from datetime import datetime, timedelta

import peewee as pw

from models import db, figures, jobs, mailer, messages
from models.base import BaseModel, DomainError, now
from models.enroll import plans
from models.enroll.enrollment import CENTRAL, REVIEWING, Enrollment, Submission
from models.enroll.plans import ProtectionType, ProtectionYear
from models.io.excel import safe_cell
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.rules.fees import yuan
from models.workflow import Workflow, bulk_transition, transition

CENTRAL_KIND, INSTANT_KIND = "集中参保", "即时参保"  # DistrictBatch.kind, the queue a batch came from
CHECKING, AWAIT_VOUCHER, VOUCHER_REVIEW, COMPLETED, FAILED, REJECTED = (
    "参保审核中", "缴费凭证待上传", "凭证审核中", "已完成", "失败", "已退回")
BATCH_STATES = [CHECKING, AWAIT_VOUCHER, VOUCHER_REVIEW, COMPLETED, FAILED, REJECTED]


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

    @property
    def shown_reason(self) -> str:
        """The centre's reason, beside the state it explains (退回, 失败, a rejected voucher)."""
        return self.reason if self.status in (REJECTED, FAILED, AWAIT_VOUCHER) else ""


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


# --- 参保批次管理 (the list) ------------------------------------------------------------------
def search(query, number: str = "", status: str = "", district: str = ""):
    """The batch list over an (already scoped) query, newest first: 批次编号 contains, 状态 (an
    unknown one filters nothing), 区局（产业）工会 name contains."""
    if number:
        query = query.where(DistrictBatch.number.contains(number))
    if status in BATCH_STATES:
        query = query.where(DistrictBatch.status == status)
    if district:
        query = query.where(DistrictBatch.district.in_(
            Organization.select(Organization.id).where(Organization.name.contains(district))))
    return query.order_by(DistrictBatch.submitted_at.desc(), DistrictBatch.id.desc())


def latest_central(district_id: int) -> DistrictBatch | None:
    """The district's newest centralized batch that was not 已退回 (the list's 告知书 link)."""
    return (DistrictBatch.select().where((DistrictBatch.district == district_id)
                                         & (DistrictBatch.kind == CENTRAL_KIND) & (DistrictBatch.status != REJECTED))
            .order_by(DistrictBatch.id.desc()).first())


def with_districts(items: list) -> None:
    """Each batch of a page gets its district from one query, not a lookup per row."""
    districts = {o.id: o for o in Organization.select().where(Organization.id.in_({b.district_id for b in items}
                                                                                  or {0}))}
    for b in items:
        b.district = districts[b.district_id]


# --- the centre -----------------------------------------------------------------------------
def centre_only(account) -> None:
    if not account.acts_for_centre:
        raise DomainError("只有市职保中心可以执行此操作", 403)


def accept(batch: DistrictBatch, account, at: datetime | None = None, mail: bool = True) -> DistrictBatch:
    """职保中心确认: → 缴费凭证待上传, 反馈时间; the payment detail e-mailed to the handler."""
    centre_only(account)
    at = at or now()
    with db.atomic():
        batch = transition(batch, "accept", account=account, updates={"feedback_at": at, "updated_at": at})
        messages.post(batch.district_id, f"参保批次 {batch.number} 已由职保中心确认，请缴费并上传缴费凭证",
                      f"应缴金额：{yuan(batch.due)}元", kind="审核", link=f"/batches/{batch.id}")
    if mail:
        send_payment_detail(batch)
    return batch


def reject(batch: DistrictBatch, account, reason: str) -> DistrictBatch:
    """职保中心退回: the batch ends (已退回); its submissions go back to the district's 待提交 list."""
    centre_only(account)
    with db.atomic():
        batch = transition(batch, "reject", account=account, reason=reason,
                           updates={"reason": (reason or "").strip(), "updated_at": now()})
        bulk_transition(Submission, list(batch_submissions(batch)), "reopen", account=account,
                        updates={"batch": None, "district_batch": None, "updated_at": now()},
                        detail={"批次编号": batch.number})
        messages.post(batch.district_id, f"参保批次 {batch.number} 被职保中心退回",
                      f"退回原因：{reason}。参保信息已回到待提交参保列表。", kind="退回", link=f"/batches/{batch.id}")
    return batch


def fail(batch: DistrictBatch, account, reason: str) -> DistrictBatch:
    """失败: the batch's submissions fail and their people are released (eligible for instant)."""
    with db.atomic():
        batch = transition(batch, "fail", account=account, reason=reason,
                           updates={"reason": (reason or "").strip(), "updated_at": now()})
        subs = list(batch_submissions(batch))
        bulk_transition(Submission, subs, "fail", account=account, updates={"updated_at": now()},
                        detail={"批次编号": batch.number})
        Enrollment.update(active=False).where(Enrollment.submission.in_([s.id for s in subs] or [0])).execute()
        figures.year({s.org_id for s in subs}, batch.year_id)
        messages.post(batch.district_id, f"参保批次 {batch.number} 参保失败", f"原因：{reason}",
                      kind="退回", link=f"/batches/{batch.id}")
        for org_id in {s.org_id for s in subs}:
            messages.post(org_id, f"{batch.year.year}年度{batch.kind}参保失败",
                          f"所在区局（产业）工会的参保批次 {batch.number} {reason}，可按即时参保流程另行办理。",
                          kind="退回")
    return batch


@jobs.hourly("failed")
def fail_unpaid(at: datetime | None = None, account=None) -> list[str]:
    """The scheduled sweep: centralized batches still 缴费凭证待上传 after the payment deadline
    (the district's window, extensions included) fail. Idempotent."""
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


# --- the payment-detail mail (集中参保缴费明细) ---------------------------------------------------
def excel_yuan(fen: int):
    """An amount for an Excel cell: a number (yuan), exact for whole yuan."""
    return fen // 100 if fen % 100 == 0 else fen / 100


def payment_detail_xlsx(batch: DistrictBatch) -> bytes:
    """集中参保缴费明细: one row per grassroots submission of the batch, with the totals."""
    from openpyxl import Workbook  # heavy third-party module, loaded only when a batch is accepted
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("缴费明细")
    ws.append(["批次编号", "单位名称", "参保通道", "参保类型", "保障类型", "参保人数", "保障费用(元)",
               "市总统一划拨(元)", "区局/各级工会缴费(元)", "基层单位缴费(元)"])
    for s in batch_submissions(batch).order_by(Submission.id):
        ws.append([batch.number, safe_cell(s.org.name), s.channel, s.mode, s.type.name, s.count, excel_yuan(s.fee),
                   excel_yuan(s.city), excel_yuan(s.district), excel_yuan(s.grassroots)])
    ws.append(["合计", "", "", "", "", batch.count, excel_yuan(batch.fee), excel_yuan(batch.city),
               excel_yuan(batch.district_part), excel_yuan(batch.grassroots_part)])
    if batch.credit_used:
        ws.append(["抵扣退回金额", "", "", "", "", "", "", "", excel_yuan(batch.credit_used), ""])
    ws.append(["应缴金额", "", "", "", "", "", "", "", excel_yuan(batch.due), ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def send_payment_detail(batch: DistrictBatch) -> str:
    """The mail to the batch's handler when the centre accepts it, the Excel attached."""
    year = batch.year
    body = (f"{batch.handler_name}：\n\n贵单位提交的参保批次 {batch.number}（{year.year}年度{batch.kind}，"
            f"{batch.count}人）已由职保中心确认。\n保障费用：{yuan(batch.fee)}元；市总统一划拨：{yuan(batch.city)}元；"
            f"区局/各级工会缴费：{yuan(batch.district_part)}元；基层单位缴费：{yuan(batch.grassroots_part)}元。\n"
            + (f"已抵扣退回金额：{yuan(batch.credit_used)}元。\n" if batch.credit_used else "")
            + f"应缴金额：{yuan(batch.due)}元。\n\n请按时划款至：\n户名：{year.account_name}\n帐号：{year.account_no}\n"
            f"开户行：{year.bank}\n并在“参保批次管理”-“缴费凭证管理”上传缴费凭证。\n\n{year.district_signature}\n")
    return mailer.send(batch.handler_email, f"集中参保缴费明细 {batch.number}", body,
                       [(f"集中参保缴费明细{batch.number}.xlsx", payment_detail_xlsx(batch),
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")])


# --- reminders ------------------------------------------------------------------------------
@jobs.hourly("reminded")
def remind_deadlines(at: datetime | None = None, days: int = 3) -> int:
    """消息提醒 of approaching deadlines (once per organisation and deadline): districts with
    submissions still waiting before the district-submit window closes, and districts with
    unpaid batches before the payment deadline."""
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
