"""专用收据 operations (spec 70 Money, seed 004 (六) 专用收据填报 and its FAQ; issue 18 item 8).

A voucher's receipt set opens with the voucher (待提交). The unit adds any number of receipts, each
with its 抬头 (which need not be the unit's name) and amount, removes them while the set is 待提交 /
审核不通过, and 提交审核 once their sum equals the premium total the voucher pays (refused with the
difference named otherwise). The centre's 专用收据审核: 审核通过 once the voucher is 已核销 (the
money is in), or 审核不通过 with a reason (消息提醒 to the unit; it corrects and submits again).
After 审核通过 corrections are made at the association's office (seed 004).
"""

from models import db, messages
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.mutual_aid.code_ops import centre_only
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.vouchers import (
    R_REVIEW,
    RECEIPT_STATES,
    V_DONE,
    AidReceipt,
    AidReceiptSet,
    AidVoucher,
)
from models.rules.fees import FeeError, fen, yuan
from models.rules.text import normalize
from models.workflow import transition

PAGE = "/mutual-aid/receipts/"
MAX_RECEIPTS = 200


def receipts_of(receipt_set: AidReceiptSet) -> list:
    return list(AidReceipt.select().where(AidReceipt.receipt_set == receipt_set.id).order_by(AidReceipt.id))


def total_of(receipt_set: AidReceiptSet) -> int:
    return sum(r.amount for r in receipts_of(receipt_set))


def _own(receipt_set: AidReceiptSet, account) -> None:
    if account is None or receipt_set.voucher.code.account_id != account.id:
        raise DomainError("只能填报本单位的专用收据", 403)
    if not receipt_set.editable:
        raise DomainError(f"专用收据{receipt_set.status}，不能修改", 409)


def add(receipt_set: AidReceiptSet, account, title: str, amount: str) -> AidReceipt:
    """新增专用收据: 抬头 and 金额 (元), both required."""
    _own(receipt_set, account)
    title, amount = normalize(title), normalize(amount)
    errors = {}
    if not title:
        errors["title"] = "请填写收据抬头"
    elif len(title) > 100:
        errors["title"] = "收据抬头不能超过100个字"
    value = 0
    if not amount:
        errors["amount"] = "请填写收据金额"
    else:
        try:
            value = fen(amount)
        except FeeError as exc:
            errors["amount"] = f"收据金额：{exc}"
        else:
            if value <= 0:
                errors["amount"] = "收据金额须大于0"
    if errors:
        raise FieldErrors("；".join(errors.values()), errors)
    with db.atomic():
        if AidReceipt.select().where(AidReceipt.receipt_set == receipt_set.id).count() >= MAX_RECEIPTS:
            raise DomainError(f"专用收据最多{MAX_RECEIPTS}张", 422)
        receipt = AidReceipt.create(receipt_set=receipt_set.id, title=title, amount=value)
        AuditLog.record("新增专用收据", receipt_set, account=account, detail={"抬头": title, "金额": yuan(value)})
    return receipt


def remove(receipt_set: AidReceiptSet, account, receipt_id: int) -> None:
    """删除 one receipt of the set (待提交 / 审核不通过)."""
    _own(receipt_set, account)
    receipt = AidReceipt.get_or_none((AidReceipt.id == receipt_id) & (AidReceipt.receipt_set == receipt_set.id))
    if receipt is None:
        raise DomainError("该专用收据不存在", 404)
    with db.atomic():
        receipt.delete_instance()
        AuditLog.record("删除专用收据", receipt_set, account=account,
                        detail={"抬头": receipt.title, "金额": yuan(receipt.amount)})


def submit(receipt_set: AidReceiptSet, account) -> AidReceiptSet:
    """提交审核: the receipts' sum must equal the premium total the voucher pays."""
    _own(receipt_set, account)
    voucher = receipt_set.voucher
    if voucher.status not in (AidVoucher.V_REVIEW, V_DONE):
        raise DomainError(f"缴费凭证{voucher.status}，不能提交专用收据", 409)
    receipts = receipts_of(receipt_set)
    if not receipts:
        raise DomainError("请先新增专用收据", 422)
    total = sum(r.amount for r in receipts)
    if total != voucher.due:
        more = "多" if total > voucher.due else "少"
        raise DomainError(f"专用收据金额合计{yuan(total)}元，应等于应缴纳保费{yuan(voucher.due)}元，"
                          f"{more}{yuan(abs(total - voucher.due))}元", 422)
    return transition(receipt_set, "submit", account=account, updates={"submitted_at": now(), "reason": ""},
                      detail={"张数": len(receipts), "金额合计": yuan(total)})


def decide(receipt_set: AidReceiptSet, passed: bool, account, reason: str = "") -> AidReceiptSet:
    """专用收据审核: 审核通过 (the voucher written off first) / 审核不通过 with a reason."""
    centre_only(account)
    reason = (reason or "").strip()
    voucher = receipt_set.voucher
    if passed and receipt_set.status == R_REVIEW and voucher.status != V_DONE:
        raise DomainError(f"缴费凭证{voucher.status}，请先核销缴费凭证再审核专用收据", 409)
    updates = {"decided_at": now(), "decided_by": account.id, **({"reason": reason} if not passed else {})}
    with db.atomic():
        receipt_set = transition(receipt_set, "pass" if passed else "fail", account=account, reason=reason,
                                 updates=updates)
        if voucher.org_id:
            title = f"专用收据（缴费凭证「{voucher.file_name}」）{receipt_set.status}"
            messages.post(voucher.org_id, title, body=f"原因：{reason}，请修改后重新提交审核" if not passed else "",
                          kind="审核" if passed else "退回", link=f"{PAGE}{receipt_set.id}",
                          account=voucher.code.account_id)
    return receipt_set


def search(query, status: str = "", unit: str = "", code: str = ""):
    """专用收据审核 filters over an (already scoped) query, the submitted first."""
    query = (query.select_extend(AidVoucher, InsuranceCode)
             .join(AidVoucher, on=(AidReceiptSet.voucher == AidVoucher.id))
             .join(InsuranceCode, on=(AidVoucher.code == InsuranceCode.id)).switch(AidReceiptSet))
    if status in RECEIPT_STATES:
        query = query.where(AidReceiptSet.status == status)
    if unit:
        query = query.where(InsuranceCode.unit_name.contains(unit))
    if code:
        query = query.where(InsuranceCode.code.contains(code.upper()))
    return query.order_by(AidReceiptSet.submitted_at.desc(nulls="LAST"), AidReceiptSet.id.desc())


def of_account(account):
    """The unit's receipt sets (one per voucher), newest first."""
    return (AidReceiptSet.select(AidReceiptSet, AidVoucher, InsuranceCode).join(AidVoucher).join(InsuranceCode)
            .where(InsuranceCode.account == account.id).order_by(AidReceiptSet.id.desc()))
