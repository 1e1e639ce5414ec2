"""互助保障缴费凭证 and 专用收据 (spec 70 Money, seed 004 (五) 缴费凭证、退款填报 / (六) 专用收据填报;
issue 18 item 8): the tables and their status words.

- **AidVoucher** (缴费信息): a unit's payment for one or more of its batches 缴费凭证待上传 — the
  payer (付款单位 / 付款账号 / 开户行), the amount paid and its date, the voucher file, the premium
  total it pays (应缴保费合计) and, when it paid more, the refund (退款金额) with the bank details it
  goes back to (退款户名 / 退款账号 / 退款开户行). 凭证审核中 → 已核销 (its batches 参保成功) / 已驳回
  (its batches back to 缴费凭证待上传, a new voucher may be uploaded).
- **AidVoucherBatch**: the batches a voucher pays. A batch is in at most one live voucher (under
  review or written off): the partial unique index aid_voucher_one_per_batch WHERE active; a
  rejected voucher's rows are made inactive.
- **AidReceiptSet** (专用收据) of a voucher, with its **AidReceipt** rows (抬头 and amount each, any
  number, any titles): 待提交 → 收据审核中 (提交审核, the amounts summing to the voucher's premium
  total) → 审核通过 / 审核不通过 (reason; edit and 提交审核 again). A rejected voucher voids its receipts
  (已作废): the next voucher gets a set of its own.
"""

import peewee as pw

from models.base import BaseModel, now
from models.mutual_aid.batches import AidBatch
from models.mutual_aid.codes import InsuranceCode
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.workflow import Workflow

V_REVIEW, V_DONE, V_REJECTED = "凭证审核中", "已核销", "已驳回"
VOUCHER_STATES = (V_REVIEW, V_DONE, V_REJECTED)
LIVE = (V_REVIEW, V_DONE)  # a voucher that pays its batches
R_DRAFT, R_REVIEW, R_PASSED, R_FAILED, R_VOID = "待提交", "收据审核中", "审核通过", "审核不通过", "已作废"
RECEIPT_STATES = (R_DRAFT, R_REVIEW, R_PASSED, R_FAILED, R_VOID)
R_EDITABLE = (R_DRAFT, R_FAILED)
FILE_DIR = "aid-vouchers"


class AidVoucher(BaseModel):
    WORKFLOW = Workflow("status", {
        (V_REVIEW, "write_off"): V_DONE,
        (V_REVIEW, "reject"): V_REJECTED,
    }, actions={"write_off": "核销", "reject": "驳回"}, needs_reason=frozenset({"reject"}))
    V_REVIEW, V_DONE, V_REJECTED = V_REVIEW, V_DONE, V_REJECTED

    scope_field = "org"
    code = pw.ForeignKeyField(InsuranceCode, backref="vouchers", on_delete="RESTRICT")
    org = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL")  # the code's organisation (scope)
    payer_name = pw.CharField(max_length=100)  # 付款单位
    payer_account = pw.CharField(max_length=40)  # 付款账号
    payer_bank = pw.CharField(max_length=100)  # 开户行
    paid = pw.BigIntegerField()  # 缴费金额 (fen)
    paid_on = pw.DateField()  # 缴费日期
    due = pw.BigIntegerField()  # 应缴保费合计 of its batches (fen) at upload
    refund = pw.BigIntegerField(default=0)  # 退款金额 = paid − due
    refund_name = pw.CharField(max_length=100, default="")  # 退款户名
    refund_account = pw.CharField(max_length=40, default="")  # 退款账号
    refund_bank = pw.CharField(max_length=100, default="")  # 退款开户行
    file_name = pw.CharField(max_length=100)
    stored_name = pw.CharField(max_length=80)
    content_type = pw.CharField(max_length=40)
    size = pw.IntegerField()
    status = pw.CharField(max_length=6, default=V_REVIEW, index=True)
    reason = pw.TextField(default="")  # 驳回原因
    uploaded_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    uploaded_at = pw.DateTimeField(default=now, index=True)
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL", backref="decided_aid_vouchers")
    decided_at = pw.DateTimeField(null=True)

    def __str__(self):
        return f"缴费凭证「{self.file_name}」"


class AidVoucherBatch(BaseModel):
    scope_field = None  # its voucher's
    voucher = pw.ForeignKeyField(AidVoucher, backref="items", on_delete="CASCADE")
    batch = pw.ForeignKeyField(AidBatch, on_delete="CASCADE")
    amount = pw.BigIntegerField()  # the batch's 保费合计 when the voucher was uploaded (fen)
    active = pw.BooleanField(default=True)  # false once the voucher was rejected


# A batch is paid by one voucher: at most one under review or written off.
AidVoucherBatch.add_index(AidVoucherBatch.index(AidVoucherBatch.batch, unique=True, where=AidVoucherBatch.active,
                                                name="aid_voucher_one_per_batch"))


class AidReceiptSet(BaseModel):
    WORKFLOW = Workflow("status", {
        (R_DRAFT, "submit"): R_REVIEW,
        (R_FAILED, "submit"): R_REVIEW,
        (R_REVIEW, "pass"): R_PASSED,
        (R_REVIEW, "fail"): R_FAILED,
        (R_DRAFT, "void"): R_VOID,
        (R_REVIEW, "void"): R_VOID,
        (R_FAILED, "void"): R_VOID,
    }, actions={"submit": "提交审核", "pass": "专用收据审核通过", "fail": "专用收据审核不通过",
                "void": "专用收据作废（缴费凭证驳回）"}, needs_reason=frozenset({"fail", "void"}))

    R_REVIEW, R_PASSED = R_REVIEW, R_PASSED

    scope_field = "org"
    voucher = pw.ForeignKeyField(AidVoucher, unique=True, backref="receipt_sets", on_delete="CASCADE")
    org = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL")
    status = pw.CharField(max_length=6, default=R_DRAFT, index=True)
    reason = pw.TextField(default="")  # 不通过原因
    submitted_at = pw.DateTimeField(null=True, index=True)
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    decided_at = pw.DateTimeField(null=True)

    @property
    def editable(self) -> bool:
        return self.status in R_EDITABLE

    def __str__(self):
        return f"专用收据（缴费凭证「{self.voucher.file_name}」）"


class AidReceipt(BaseModel):
    scope_field = None  # its set's
    receipt_set = pw.ForeignKeyField(AidReceiptSet, backref="receipts", on_delete="CASCADE")
    title = pw.CharField(max_length=100)  # 收据抬头
    amount = pw.BigIntegerField()  # 金额 (fen)
    created_at = pw.DateTimeField(default=now)
