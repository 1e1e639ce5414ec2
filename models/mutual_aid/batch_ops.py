"""参保批次管理 operations (spec 70, seed 004 参保状态说明; issue 18 item 9).

- `find_code` (参保编码 + 单位名称 → 确定操作): the account's approved code covering that unit.
- `create_batch` (集中参保办理 / 即时参保办理): an approved code of this account, its handler filled
  (经办人填报 first), the window open for the code; a second centralized batch of the code and year is
  refused — by the partial unique index aid_batch_one_central, whose IntegrityError (two at once)
  reads like the friendly check before it.
- `move`: any step of the table (清册校验 / 提交, the centre's 附件 review, 提交确认保费, vouchers).
- `withdraw` (批次撤回): from 缴费凭证待上传 with a reason and a choice (重新整理清册 → 清册待校验,
  重新选择保障项目 → 保障项目待选择), while the batch's window is open and no voucher pays it
  (已上传缴费凭证…).
- `claim` (first thing in the transaction of every roster change and of 清册提交): the batch row,
  still in the state the page showed, taken for this transaction — so a person added, removed or
  ticked at the instant of 清册提交 either lands before the submit's re-check (which then sees it) or
  is refused (STALE) after it, never slips past it.
- `delete_batch` (批次删除): the batch and its people, only in 清册待校验 / 清册校验不通过 — one
  DELETE … WHERE status = <the state shown>, so a batch moved meanwhile is not deleted. Its uploaded
  attachments go with it: the rows in the transaction, their stored files once it has committed.
"""

from datetime import datetime

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError, now
from models.mutual_aid import years
from models.mutual_aid.batches import EDITABLE, INSURED, WITHDRAW_CHOICES, AidBatch, RosterEntry
from models.mutual_aid.checks import FILE_DIR, BatchAttachment
from models.mutual_aid.code_ops import units_of
from models.mutual_aid.codes import APPROVED, CodeUnit, InsuranceCode
from models.mutual_aid.handler_ops import require_handler
from models.mutual_aid.vouchers import AidVoucherBatch
from models.rules.text import compact, normalize
from models.storage import stored_file
from models.workflow import STALE, transition


def find_code(account, number: str, unit_name: str) -> InsuranceCode:
    """确定操作: the code typed must be this account's, approved, and cover the unit typed."""
    number, unit_name = compact(number).upper(), normalize(unit_name)
    if not number or not unit_name:
        raise DomainError("请填写参保编码和参保单位名称", 422)
    code = InsuranceCode.get_or_none(InsuranceCode.code == number)
    if code is None or code.status != APPROVED:
        raise DomainError(f"参保编码{number}不存在或尚未审核通过", 404)
    if code.account_id != account.id:
        raise DomainError(f"参保编码{number}不属于本账号（一个参保编码只能在一个平台账号中使用）", 403)
    if not CodeUnit.select().where((CodeUnit.code == code.id) & (CodeUnit.name == unit_name)).exists():
        names = "、".join(u.name for u in units_of(code))
        raise DomainError(f"参保编码{number}与单位名称「{unit_name}」不匹配（该编码的单位：{names}）", 422)
    return code


def central_batch(code: InsuranceCode, year) -> AidBatch | None:
    return AidBatch.get_or_none((AidBatch.code == code.id) & (AidBatch.year == year.id)
                                & (AidBatch.kind == years.CENTRAL))


def central_refusal(batch: AidBatch) -> str:
    if batch.status == INSURED:
        return (f"本单位{batch.year.year}年度集中参保已办理完毕，不能再次办理集中参保；"
                "遗漏的职工请通过即时参保办理")
    return f"本单位{batch.year.year}年度已有集中参保批次（{batch.status}），请在该批次中继续办理"


def create_batch(code: InsuranceCode, kind: str, account, at: datetime | None = None) -> AidBatch:
    """A new batch of `kind` for the protection year being enrolled, in 清册待校验."""
    if kind not in years.KINDS:
        raise DomainError("请选择集中参保或即时参保", 422)
    if code.account_id != account.id:
        raise DomainError("该参保编码不属于本账号（一个参保编码只能在一个平台账号中使用）", 403)
    if code.status != APPROVED:
        raise DomainError(f"参保编码申请{code.status}，审核通过后才能办理参保", 409)
    require_handler(code)
    at = at or now()
    year = years.enrolling_year(kind, at.date())
    years.require_window(year, kind, code, at)
    if kind == years.CENTRAL:
        held = central_batch(code, year)
        if held:
            raise DomainError(central_refusal(held), 409)
    try:
        with db.atomic():
            batch = AidBatch.create(code=code.id, org=code.org_id, year=year.id, kind=kind,
                                    created_by=account.id, created_at=at, updated_at=at)
            AuditLog.record(f"{kind}办理", batch, to_state=batch.status, account=account,
                            detail={"参保编码": code.code, "保障年度": year.year})
    except pw.IntegrityError:
        held = central_batch(code, year)  # another page of the unit started it just now
        if held is None:
            raise
        raise DomainError(central_refusal(held), 409) from None
    return batch


def move(batch: AidBatch, action: str, account, reason: str = "") -> AidBatch:
    """One step of the batch table; a reason, when given, is kept as the batch's last one."""
    reason = (reason or "").strip()
    updates = {"updated_at": now(), **({"reason": reason} if reason else {})}
    if action in ("submit_attachments", "resubmit_attachments"):
        updates["attachments_sent"] = True  # into the 附件审核 queue, for good
    return transition(batch, action, account=account, reason=reason, updates=updates)


def claim(batch: AidBatch, states=None) -> None:
    """Inside a transaction, before anything else: take the batch row while it is still in
    `batch.status` (or, `states` given, in one of them — a background import that read the batch
    long ago) — a status-conditioned UPDATE of updated_at: on PostgreSQL a row lock that a
    concurrent roster change or 清册提交 waits on, its WHERE re-read once the other commits; on
    SQLite the transaction is BEGIN IMMEDIATE, serialised already. Raises STALE (nothing written)
    when the batch moved meanwhile."""
    state = AidBatch.status.in_(list(states)) if states else (AidBatch.status == batch.status)
    taken = AidBatch.update(updated_at=now()).where((AidBatch.id == batch.id) & state).execute()
    if taken != 1:
        raise DomainError(STALE, 409)


def paid_by_voucher(batch: AidBatch) -> bool:
    """A voucher under review or written off pays the batch (缴费凭证上传后 the roster is locked)."""
    return AidVoucherBatch.select().where((AidVoucherBatch.batch == batch.id) & AidVoucherBatch.active).exists()


def withdraw(batch: AidBatch, choice: str, account, reason: str, at: datetime | None = None) -> AidBatch:
    """批次撤回 with 重新整理清册 (withdraw_roster) or 重新选择保障项目 (withdraw_items)."""
    if choice not in WITHDRAW_CHOICES:
        raise DomainError("请选择重新整理清册或重新选择保障项目", 422)
    if batch.code.account_id != getattr(account, "id", None):
        raise DomainError("只能撤回本账号的参保批次", 403)
    if paid_by_voucher(batch):
        raise DomainError("已上传缴费凭证，不能撤回批次（缴费凭证被驳回后方可撤回）", 409)
    state = years.window_state(batch.year, batch.kind, batch.code, at)
    if not state.open:
        raise DomainError(f"批次撤回只能在办理期间进行：{state.reason}", 409)
    return move(batch, choice, account, reason)


def delete_batch(batch: AidBatch, account) -> int:
    """批次删除: the batch and all its people; returns how many people went."""
    if batch.status not in EDITABLE:
        raise DomainError(f"当前状态为「{batch.status}」，只有「清册待校验」「清册校验不通过」状态的批次可以删除", 409)
    if batch.code.account_id != getattr(account, "id", None):
        raise DomainError("只能删除本账号的参保批次", 403)
    with db.atomic():
        files = [name for (name,) in BatchAttachment.select(BatchAttachment.stored_name)
                 .where(BatchAttachment.batch == batch.id).tuples()]
        BatchAttachment.delete().where(BatchAttachment.batch == batch.id).execute()
        people = RosterEntry.delete().where(RosterEntry.batch == batch.id).execute()
        gone = AidBatch.delete().where((AidBatch.id == batch.id) & (AidBatch.status == batch.status)).execute()
        if gone != 1:
            raise DomainError(STALE, 409)
        AuditLog.record("批次删除", object_type="AidBatch", object_id=batch.id, from_state=batch.status,
                        account=account, detail={"参保编码": batch.code.code, "保障年度": batch.year.year,
                                                 "参保类型": batch.kind, "删除人数": people})
    for name in files:  # after the commit: a rolled-back delete keeps its files
        stored_file(FILE_DIR, name).unlink(missing_ok=True)
    return people
