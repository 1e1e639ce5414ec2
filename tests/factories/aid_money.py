"""互助保障缴费凭证 / 专用收据 test data (issue 18 item 8): batches 缴费凭证待上传 with their premium
total (what 生成保费信息 / 提交确认保费 leave), the 新增缴费信息 fields and uploaded vouchers."""

from datetime import date, datetime

from models.mutual_aid import voucher_ops, years
from models.mutual_aid.batches import AidBatch
from models.mutual_aid.vouchers import R_PASSED, AidReceipt, AidReceiptSet, AidVoucher, AidVoucherBatch
from models.rules.fees import yuan
from tests.factories.mutual_aid import aid_year, code_of, png

PAID_ON = "2026-06-20"
REFUND_DETAILS = {"refund_name": "上海互助测试1有限公司", "refund_account": "6222000011113333",
                  "refund_bank": "工商银行黄浦支行"}


def payable_batch(code, premium_total: int, kind: str = years.CENTRAL, year=None,
                  submitted: datetime = datetime(2026, 6, 12, 9, 0), confirmed: datetime = datetime(2026, 6, 15, 9, 0)):
    """A batch 缴费凭证待上传 with its premium (fen) generated and confirmed."""
    year = year or aid_year()
    return AidBatch.create(code=code.id, org=code.org_id, year=year.id, kind=kind, status=AidBatch.AWAIT_VOUCHER,
                           premium_total=premium_total, submitted_at=submitted, premium_confirmed_at=confirmed)


def payer(paid: str, **fields) -> dict:
    """新增缴费信息's fields (付款单位 / 付款账号 / 开户行, 缴费金额 in 元, 缴费日期), refund details if given."""
    return {"payer_name": "上海互助测试1有限公司", "payer_account": "6222000011112222",
            "payer_bank": "工商银行黄浦支行",
            "paid": paid, "paid_on": PAID_ON, **fields}


def uploaded_voucher(code, batches: list, paid: str | None = None, **fields):
    """A voucher the unit uploaded for `batches` (paid = their total unless told)."""
    paid = paid or yuan(sum(b.premium_total for b in batches))
    return voucher_ops.upload(code.account, [b.id for b in batches], payer(paid, **fields), "回单.png", png())


def voucher_of(org):
    """The scope matrix's object: a voucher (凭证审核中, with its 专用收据 set) of the organisation's code."""
    code = code_of(org)
    batch = AidBatch.create(code=code.id, org=org.id, year=aid_year().id, kind=years.INSTANT,
                            status=AidBatch.AWAIT_VOUCHER, premium_total=100_00)
    voucher = AidVoucher.create(code=code.id, org=org.id, payer_name="付款单位", payer_account="1", payer_bank="开户行",
                                paid=100_00, paid_on=date(2026, 6, 20), due=100_00, file_name="回单.png",
                                stored_name=f"scope-{org.id}.png", content_type="image/png", size=1)
    voucher_ops.file_path(voucher).write_bytes(png())
    AidVoucherBatch.create(voucher=voucher.id, batch=batch.id, amount=100_00)
    AidReceiptSet.create(voucher=voucher.id, org=org.id)
    return voucher


def receipts_of(org):
    """The scope matrix's 专用收据: passed by the centre (so its 电子专用收据 opens), one receipt."""
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher_of(org).id)
    AidReceipt.create(receipt_set=receipts.id, title="收据抬头", amount=100_00)
    AidReceiptSet.update(status=R_PASSED, decided_at=datetime(2026, 6, 25, 9)).where(
        AidReceiptSet.id == receipts.id).execute()
    return AidReceiptSet.get_by_id(receipts.id)
