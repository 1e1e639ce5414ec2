"""互助保障缴费凭证 operations (spec 70 Money, seed 004 (五) 缴费凭证、退款填报; issue 18 item 8).

- `payable(account)`: the account's batches 缴费凭证待上传 that no live voucher pays (选择批次).
- `payment(batches, paid)`: 应缴保费合计, 退款金额 (paid − total when more) or the shortfall.
- `upload` (新增缴费信息 → 缴费凭证上传): payer details, the voucher file (checked by content with the
  voucher checks of models/review/vouchers.py), the chosen batches; paid more than their total → the
  refund is computed and the refund bank details are required, paid less → refused with the
  shortfall. One transaction: the voucher, its batch rows (the partial unique index
  aid_voucher_one_per_batch: two vouchers for one batch at once leave one), each batch
  上传缴费凭证 → 缴费凭证审核中 (from then on the roster is locked) and its 专用收据 set (待提交).
- `write_off` (核销 → each batch 参保成功) / `reject` (驳回 with reason → each batch back to
  缴费凭证待上传, its receipts void): the centre, 消息提醒 to the unit, audited.
- `deadline(batch)`: 缴费截止日 — the later of the two counts spec 70 names.
"""

from dataclasses import dataclass, field
from datetime import date

import peewee as pw

from models import db, messages
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.mutual_aid.batches import AWAIT_VOUCHER, AidBatch
from models.mutual_aid.code_ops import centre_only
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.vouchers import (
    FILE_DIR,
    R_VOID,
    V_REVIEW,
    VOUCHER_STATES,
    AidReceiptSet,
    AidVoucher,
    AidVoucherBatch,
)
from models.mutual_aid.years import AidYear
from models.review.vouchers import MAX_VOUCHER_BYTES, check_voucher_file
from models.rules.fees import FeeError, fen, yuan
from models.rules.mutual_year import payment_deadline
from models.rules.text import normalize, parse_day
from models.storage import new_file, stored_file
from models.workflow import bulk_transition, transition

PAGE = "/mutual-aid/vouchers/"
MAX_FILE_BYTES = MAX_VOUCHER_BYTES
MAX_PAID = 10**11  # fen: a payment of a thousand million yuan is a typing error
PAYER_FIELDS = {"payer_name": ("付款单位", 100), "payer_account": ("付款账号", 40), "payer_bank": ("开户行", 100)}
REFUND_FIELDS = {"refund_name": ("退款户名", 100), "refund_account": ("退款账号", 40),
                 "refund_bank": ("退款开户行", 100)}
FIELDS = (*PAYER_FIELDS, "paid", "paid_on", *REFUND_FIELDS)


def payable(account):
    """选择批次: the account's batches 缴费凭证待上传 not paid by a live voucher, oldest first."""
    paid = AidVoucherBatch.select(AidVoucherBatch.batch).where(AidVoucherBatch.active)
    return (AidBatch.select(AidBatch, InsuranceCode, AidYear).join(InsuranceCode).switch(AidBatch).join(AidYear)
            .where((InsuranceCode.account == getattr(account, "id", None)) & (AidBatch.status == AWAIT_VOUCHER)
                   & AidBatch.id.not_in(paid))
            .order_by(AidBatch.premium_confirmed_at, AidBatch.id))


@dataclass
class Payment:
    """已选中批次: 应缴保费合计, and what the paid amount makes of it."""
    total: int
    paid: int | None = None

    @property
    def refund(self) -> int:
        return max(0, (self.paid or 0) - self.total) if self.paid is not None else 0

    @property
    def shortfall(self) -> int:
        return max(0, self.total - self.paid) if self.paid is not None else 0


def payment(batches: list, paid: int | None = None) -> Payment:
    return Payment(sum(b.premium_total for b in batches), paid)


def deadline(batch: AidBatch) -> date | None:
    """缴费截止日: 15 days from 清册提交 or from 提交确认保费, whichever ends later (spec 70)."""
    submitted = batch.submitted_at.date() if batch.submitted_at else None
    confirmed = batch.premium_confirmed_at.date() if batch.premium_confirmed_at else None
    if submitted is None:
        return payment_deadline(confirmed) if confirmed else None
    return payment_deadline(submitted, confirmed)


@dataclass
class PaymentForm:
    """The 新增缴费信息 fields, cleaned: what was typed and the errors by field."""
    values: dict
    paid: int | None = None
    paid_on: date | None = None
    errors: dict = field(default_factory=dict)


def read_form(form: dict) -> PaymentForm:
    values = {name: normalize(form.get(name)) for name in FIELDS}
    result = PaymentForm(values)
    for name, (label, limit) in {**PAYER_FIELDS, **REFUND_FIELDS}.items():
        if len(values[name]) > limit:
            result.errors[name] = f"{label}不能超过{limit}个字"
    if values["paid"]:
        try:
            result.paid = fen(values["paid"])
        except FeeError as exc:
            result.errors["paid"] = f"缴费金额：{exc}"
        else:
            if result.paid <= 0 or result.paid >= MAX_PAID:
                result.errors["paid"] = "缴费金额须大于0，且不能超过10亿元"
                result.paid = None
    if values["paid_on"]:
        result.paid_on = parse_day(values["paid_on"])
        if result.paid_on is None:
            result.errors["paid_on"] = f"缴费日期“{values['paid_on']}”不是有效日期"
    return result


def _check(form: PaymentForm, due: Payment, today: date) -> None:
    """Every field of 新增缴费信息 on the server; the refund details only when paid more."""
    errors = dict(form.errors)
    for name, (label, _) in PAYER_FIELDS.items():
        if not form.values[name] and name not in errors:
            errors[name] = f"请填写{label}"
    if not form.values["paid"]:
        errors["paid"] = "请填写缴费金额"
    if not form.values["paid_on"]:
        errors["paid_on"] = "请填写缴费日期"
    elif form.paid_on and form.paid_on > today:
        errors["paid_on"] = "缴费日期不能晚于今天"
    if form.paid is not None and due.shortfall:
        errors["paid"] = (f"缴费金额{yuan(form.paid)}元少于已选批次应缴保费合计{yuan(due.total)}元，"
                          f"还差{yuan(due.shortfall)}元")
    if due.refund:
        for name, (label, _) in REFUND_FIELDS.items():
            if not form.values[name] and name not in errors:
                errors[name] = f"缴费金额超出应缴保费合计，退款{yuan(due.refund)}元，请填写{label}"
    if errors:
        raise FieldErrors("；".join(dict.fromkeys(errors.values())), errors)


def _chosen(account, batch_ids: list) -> list:
    if not batch_ids:
        raise DomainError("请选择缴费的参保批次", 422)
    batch_ids = set(batch_ids)
    own = (AidBatch.select(AidBatch.id).join(InsuranceCode)
           .where((InsuranceCode.account == account.id) & AidBatch.id.in_(list(batch_ids))))
    if len(own) != len(batch_ids):
        raise DomainError("所选批次不存在或不属于本单位", 404)
    batches = list(payable(account).where(AidBatch.id.in_(list(batch_ids))))
    if len(batches) != len(batch_ids):
        raise DomainError("所选批次不是本单位缴费凭证待上传的批次，或已上传缴费凭证，请刷新页面后重试", 409)
    if any(b.premium_total <= 0 for b in batches):
        raise DomainError("所选批次尚未生成保费信息，不能上传缴费凭证", 409)
    return batches


def upload(account, batch_ids: list, form: dict, file_name: str, data: bytes) -> AidVoucher:
    """缴费凭证上传: the voucher for the chosen batches, each 缴费凭证审核中 — all or nothing."""
    if account is None or not account.operates_mutual_aid:
        raise DomainError("只有参保单位可以上传缴费凭证", 403)
    batches = _chosen(account, batch_ids)
    fields = read_form(form)
    due = payment(batches, fields.paid)
    _check(fields, due, now().date())
    content, content_type, ext = check_voucher_file(data, file_name)
    values = fields.values
    refund = {name: values[name] for name in REFUND_FIELDS} if due.refund else {}
    code = batches[0].code
    at = now()
    try:
        with new_file(FILE_DIR, content, ext) as stored, db.atomic():
            voucher = AidVoucher.create(
                code=code.id, org=code.org_id, **{name: values[name] for name in PAYER_FIELDS}, paid=fields.paid,
                paid_on=fields.paid_on, due=due.total, refund=due.refund, **refund,
                file_name=normalize(file_name)[:100] or "缴费凭证", stored_name=stored, content_type=content_type,
                size=len(content), uploaded_by=account.id, uploaded_at=at)
            AidVoucherBatch.insert_many([{"voucher": voucher.id, "batch": b.id, "amount": b.premium_total,
                                          "active": True} for b in batches]).execute()
            bulk_transition(AidBatch, batches, "upload_voucher", account=account, updates={"updated_at": at},
                            detail={"缴费凭证": voucher.id})
            AidReceiptSet.create(voucher=voucher.id, org=code.org_id)
            AuditLog.record("新增缴费信息", voucher, to_state=V_REVIEW, account=account,
                            detail={"批次": [b.id for b in batches], "应缴保费合计": yuan(due.total),
                                    "缴费金额": yuan(due.paid), "退款金额": yuan(due.refund)})
    except pw.IntegrityError:
        raise DomainError("所选批次已上传缴费凭证，请刷新页面后重试", 409) from None
    return voucher


def batches_of(voucher: AidVoucher) -> list:
    return list(AidBatch.select(AidBatch, AidVoucherBatch.amount.alias("paid_amount"))
                .join(AidVoucherBatch, on=(AidVoucherBatch.batch == AidBatch.id))
                .where(AidVoucherBatch.voucher == voucher.id).order_by(AidBatch.id).objects())


def file_path(voucher: AidVoucher):
    return stored_file(FILE_DIR, voucher.stored_name)


def _tell(voucher: AidVoucher, title: str, body: str = "", kind: str = "审核") -> None:
    """消息提醒 to the unit's account about the centre's decision."""
    if voucher.org_id:
        messages.post(voucher.org_id, title, body=body, kind=kind, link=f"{PAGE}{voucher.id}",
                      account=voucher.code.account_id)


def write_off(voucher: AidVoucher, account) -> AidVoucher:
    """核销: the voucher 已核销, each of its batches 参保成功."""
    centre_only(account)
    at = now()
    with db.atomic():
        voucher = transition(voucher, "write_off", account=account,
                             updates={"decided_at": at, "decided_by": account.id})
        bulk_transition(AidBatch, batches_of(voucher), "write_off", account=account, updates={"updated_at": at},
                        detail={"缴费凭证": voucher.id})
        _tell(voucher, f"缴费凭证「{voucher.file_name}」已核销，参保成功",
              f"缴费金额{yuan(voucher.paid)}元" + (f"，退款{yuan(voucher.refund)}元" if voucher.refund else ""))
    return voucher


def reject(voucher: AidVoucher, account, reason: str) -> AidVoucher:
    """驳回 with a reason: each batch back to 缴费凭证待上传 (a new voucher may pay it), the receipts void."""
    centre_only(account)
    reason = (reason or "").strip()
    at = now()
    with db.atomic():
        voucher = transition(voucher, "reject", account=account, reason=reason,
                             updates={"decided_at": at, "decided_by": account.id, "reason": reason})
        batches = batches_of(voucher)
        AidVoucherBatch.update(active=False).where(AidVoucherBatch.voucher == voucher.id).execute()
        bulk_transition(AidBatch, batches, "reject_voucher", account=account, reason=reason,
                        updates={"reason": reason, "updated_at": at}, detail={"缴费凭证": voucher.id})
        receipts = list(AidReceiptSet.select().where((AidReceiptSet.voucher == voucher.id)
                                                     & (AidReceiptSet.status != R_VOID)))
        bulk_transition(AidReceiptSet, receipts, "void", account=account, reason=f"缴费凭证驳回：{reason}")
        _tell(voucher, f"缴费凭证「{voucher.file_name}」被驳回", f"驳回原因：{reason}。请重新上传缴费凭证。",
              kind="退回")
    return voucher


def search(query, status: str = "", unit: str = "", code: str = "", year: int | None = None):
    """缴费凭证审核 filters over an (already scoped) query, newest first: 状态, 单位, 参保编码, 保障年度."""
    query = (query.select_extend(InsuranceCode).join(InsuranceCode, on=(AidVoucher.code == InsuranceCode.id))
             .switch(AidVoucher))
    if status in VOUCHER_STATES:
        query = query.where(AidVoucher.status == status)
    if unit:
        query = query.where(InsuranceCode.unit_name.contains(unit) | AidVoucher.payer_name.contains(unit))
    if code:
        query = query.where(InsuranceCode.code.contains(code.upper()))
    if year:
        paying = (AidVoucherBatch.select(AidVoucherBatch.voucher).join(AidBatch)
                  .where(AidBatch.year.in_(AidYear.select(AidYear.id).where(AidYear.year == year))))
        query = query.where(AidVoucher.id.in_(paying))
    return query.order_by(AidVoucher.uploaded_at.desc(), AidVoucher.id.desc())


def of_account(account):
    """缴费信息 of the unit's own account (its code), newest first."""
    return (AidVoucher.select(AidVoucher, InsuranceCode).join(InsuranceCode)
            .where(InsuranceCode.account == account.id)
            .order_by(AidVoucher.uploaded_at.desc(), AidVoucher.id.desc()))
