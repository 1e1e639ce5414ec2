"""互助保障缴费凭证 and 专用收据 (issue 18 item 8, spec 70 Money, seed 004 (五)(六)): 新增缴费信息 with the
refund at its edge (paid = total → no refund details; total + 1 fen → 退款 0.01 元 and the details
required), a shortfall refused, a file that is not an image or PDF refused with nothing written, the
upload moving each batch to 缴费凭证审核中 (roster locked, 批次撤回 refused), 核销 / 驳回 with 消息提醒,
one live voucher per batch (a database constraint and a two-thread race), receipts that must sum to
the premium total (off by 1 fen refused), and every (state, action) pair of both workflows."""

from datetime import date, datetime

import peewee as pw
import pytest

from models import db
from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.messages import for_account
from models.mutual_aid import batch_ops, receipt_ops, roster_ops, voucher_ops
from models.mutual_aid.batches import AWAIT_VOUCHER, BATCH_STATES, INSURED, VOUCHER_REVIEW, AidBatch
from models.mutual_aid.vouchers import (
    R_DRAFT,
    R_FAILED,
    R_PASSED,
    R_REVIEW,
    R_VOID,
    V_DONE,
    V_REJECTED,
    V_REVIEW,
    AidReceiptSet,
    AidVoucher,
    AidVoucherBatch,
)
from models.storage import storage_dir
from tests import factories
from tests.factories.aid_money import REFUND_DETAILS, payable_batch, payer, uploaded_voucher
from tests.factories.mutual_aid import aid_year, approved_code, batch_in, person, png
from tests.helpers import race
from tests.workflow_helpers import check_every_pair


def stored_files() -> int:
    return len(list(storage_dir("aid-vouchers").iterdir()))


def test_paid_exactly_the_total_needs_no_refund_details(city):
    code = approved_code(city, 1)
    a, b = payable_batch(code, 180_00 * 31), payable_batch(code, 60_50, kind="即时参保")
    voucher = voucher_ops.upload(code.account, [a.id, b.id], payer("5640.5"), "回单.png", png())
    assert (voucher.due, voucher.paid, voucher.refund) == (564050, 564050, 0)
    assert (voucher.refund_name, voucher.refund_account, voucher.refund_bank) == ("", "", "")
    assert voucher.status == V_REVIEW and voucher.paid_on == date(2026, 6, 20)
    assert [AidBatch.get_by_id(x.id).status for x in (a, b)] == [VOUCHER_REVIEW] * 2
    assert AidReceiptSet.get(AidReceiptSet.voucher == voucher.id).status == R_DRAFT
    assert AuditLog.select().where(AuditLog.action == "上传缴费凭证").count() == 2


def test_one_fen_over_the_total_is_refunded_and_needs_the_refund_bank_details(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 5580_00)
    files = stored_files()
    with pytest.raises(FieldErrors) as refused:
        voucher_ops.upload(code.account, [batch.id], payer("5580.01"), "回单.png", png())
    assert set(refused.value.errors) == {"refund_name", "refund_account", "refund_bank"}
    assert refused.value.errors["refund_account"] == "缴费金额超出应缴保费合计，退款0.01元，请填写退款账号"
    assert AidVoucher.select().count() == 0 and AidBatch.get_by_id(batch.id).status == AWAIT_VOUCHER
    assert stored_files() == files
    voucher = voucher_ops.upload(code.account, [batch.id], payer("5580.01", **REFUND_DETAILS), "回单.png", png())
    assert (voucher.due, voucher.paid, voucher.refund) == (558000, 558001, 1)
    assert voucher.refund_account == "6222000011113333"
    assert voucher_ops.payment([batch], 558001).refund == 1


def test_paid_less_than_the_total_is_refused_with_the_shortfall(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 5580_00)
    with pytest.raises(FieldErrors) as refused:
        voucher_ops.upload(code.account, [batch.id], payer("5579.99", **REFUND_DETAILS), "回单.png", png())
    assert refused.value.errors["paid"] == "缴费金额5579.99元少于已选批次应缴保费合计5580元，还差0.01元"
    assert AidVoucher.select().count() == 0 and AidBatch.get_by_id(batch.id).status == AWAIT_VOUCHER


def test_the_fields_are_required_and_checked(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    with pytest.raises(FieldErrors) as refused:
        voucher_ops.upload(code.account, [batch.id], {"paid": "abc", "paid_on": "2026-02-30"}, "回单.png", png())
    errors = refused.value.errors
    assert errors["payer_name"] == "请填写付款单位" and errors["payer_bank"] == "请填写开户行"
    assert errors["paid"].startswith("缴费金额：金额“abc”格式不正确")
    assert errors["paid_on"] == "缴费日期“2026-02-30”不是有效日期"
    with pytest.raises(FieldErrors, match="缴费日期不能晚于今天"):
        voucher_ops.upload(code.account, [batch.id], payer("100", paid_on="2999-01-01"), "回单.png", png())
    with pytest.raises(DomainError, match="请选择缴费的参保批次"):
        voucher_ops.upload(code.account, [], payer("100"), "回单.png", png())


def test_a_voucher_that_is_not_an_image_or_pdf_is_refused_and_nothing_is_written(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    files = stored_files()
    for data in (b"PK\x03\x04 a zip, not a voucher", b"%PDF-1.4 broken", b""):
        with pytest.raises(DomainError) as refused:
            voucher_ops.upload(code.account, [batch.id], payer("100"), "回单.docx", data)
        assert "缴费凭证" in refused.value.message
    assert AidVoucher.select().count() == 0 and AidVoucherBatch.select().count() == 0
    assert AidBatch.get_by_id(batch.id).status == AWAIT_VOUCHER and stored_files() == files


def test_only_the_units_own_batches_waiting_for_a_voucher_can_be_paid(city):
    code, other = approved_code(city, 1), approved_code(city, 2)
    theirs = payable_batch(other, 100_00)
    with pytest.raises(DomainError, match="所选批次不存在或不属于本单位") as refused:
        voucher_ops.upload(code.account, [theirs.id], payer("100"), "回单.png", png())
    assert refused.value.status == 404
    year = aid_year()
    for state in BATCH_STATES:
        if state == AWAIT_VOUCHER:
            continue
        batch = batch_in(code, state, kind="即时参保", year=year)
        AidBatch.update(premium_total=100_00).where(AidBatch.id == batch.id).execute()
        with pytest.raises(DomainError, match="不是本单位缴费凭证待上传的批次"):
            voucher_ops.upload(code.account, [batch.id], payer("100"), "回单.png", png())
        assert AidBatch.get_by_id(batch.id).status == state
    assert AidVoucher.select().count() == 0
    with pytest.raises(DomainError, match="只有参保单位"):
        voucher_ops.upload(city.account("centre"), [theirs.id], payer("100"), "回单.png", png())


def test_after_the_upload_the_roster_is_locked_and_withdrawal_refused(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    uploaded_voucher(code, [batch])
    batch = AidBatch.get_by_id(batch.id)
    with pytest.raises(DomainError, match="缴费凭证审核中"):
        roster_ops.add_entries(batch, [person(1)], code.account)
    with pytest.raises(DomainError) as refused:
        batch_ops.withdraw(batch, "withdraw_items", code.account, "漏选项目", at=datetime(2026, 6, 20, 9, 0))
    assert refused.value.message.startswith("已上传缴费凭证")
    assert AidBatch.get_by_id(batch.id).status == VOUCHER_REVIEW


def test_the_centre_writes_off_the_voucher_and_the_batches_are_insured(city):
    code = approved_code(city, 1)
    a, b = payable_batch(code, 100_00), payable_batch(code, 50_00, kind="即时参保")
    voucher = uploaded_voucher(code, [a, b], paid="160", **REFUND_DETAILS)
    with pytest.raises(DomainError, match="只有上海市职工保障互助会可以审核"):
        voucher_ops.write_off(voucher, code.account)
    voucher = voucher_ops.write_off(voucher, city.account("centre"))
    assert voucher.status == V_DONE and voucher.decided_by_id == city.account("centre").id
    assert [AidBatch.get_by_id(x.id).status for x in (a, b)] == [INSURED] * 2
    titles = [m.title for m in for_account(code.account)]
    assert "缴费凭证「回单.png」已核销，参保成功" in titles
    with pytest.raises(DomainError, match="当前状态为「已核销」"):
        voucher_ops.reject(voucher, city.account("centre"), "金额不符")


def test_a_rejected_voucher_sends_the_batches_back_for_a_new_one(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    voucher = uploaded_voucher(code, [batch])
    with pytest.raises(DomainError, match="须填写原因"):
        voucher_ops.reject(voucher, city.account("centre"), " ")
    voucher = voucher_ops.reject(voucher, city.account("centre"), "凭证模糊")
    assert (voucher.status, voucher.reason) == (V_REJECTED, "凭证模糊")
    batch = AidBatch.get_by_id(batch.id)
    assert (batch.status, batch.reason) == (AWAIT_VOUCHER, "凭证模糊")
    assert AidReceiptSet.get(AidReceiptSet.voucher == voucher.id).status == R_VOID
    message = for_account(code.account).first()
    assert message.title == "缴费凭证「回单.png」被驳回" and "凭证模糊" in message.body
    again = uploaded_voucher(code, [batch])
    assert again.status == V_REVIEW and AidBatch.get_by_id(batch.id).status == VOUCHER_REVIEW
    voucher_ops.reject(again, city.account("centre"), "金额不符")
    # No live voucher pays it now: 批次撤回 is open again while the window is.
    withdrawn = batch_ops.withdraw(AidBatch.get_by_id(batch.id), "withdraw_items", code.account, "漏选项目",
                                   at=datetime(2026, 6, 20, 9, 0))
    assert withdrawn.status == "保障项目待选择"


def test_a_batch_without_its_premium_cannot_be_paid(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 0)
    with pytest.raises(DomainError, match="尚未生成保费信息"):
        voucher_ops.upload(code.account, [batch.id], payer("100", **REFUND_DETAILS), "回单.png", png())


def test_the_payment_deadline_is_the_later_of_the_two_counts(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 1, submitted=datetime(2026, 6, 1, 9), confirmed=datetime(2026, 6, 10, 9))
    assert voucher_ops.deadline(batch) == date(2026, 6, 25)
    batch = payable_batch(code, 1, kind="即时参保", submitted=datetime(2026, 8, 20, 9),
                          confirmed=datetime(2026, 8, 3, 9))
    assert voucher_ops.deadline(batch) == date(2026, 9, 4)


def test_a_batch_is_in_one_live_voucher_a_database_constraint(city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    voucher = uploaded_voucher(code, [batch])
    with pytest.raises(pw.IntegrityError), db.atomic():
        AidVoucherBatch.create(voucher=voucher.id, batch=batch.id, amount=1, active=True)
    AidVoucherBatch.create(voucher=voucher.id, batch=batch.id, amount=1, active=False)  # a rejected one's row


def test_two_vouchers_for_one_batch_at_once_leave_one(committed):
    city = factories.make_city()
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    files = stored_files()
    outcomes = race(*[lambda: uploaded_voucher(code, [batch])] * 2)
    assert outcomes.count("ok") == 1, outcomes
    loser = [o for o in outcomes if o != "ok"][0]
    assert "已上传缴费凭证" in loser or "状态已被他人修改" in loser
    assert AidVoucher.select().count() == 1 and AidVoucherBatch.select().count() == 1
    assert AidBatch.get_by_id(batch.id).status == VOUCHER_REVIEW
    assert stored_files() == files + 1  # the loser's file is deleted


# --- 专用收据 ---------------------------------------------------------------------------------------
def test_receipts_must_sum_to_the_premium_total(city):
    code = approved_code(city, 1)
    voucher = uploaded_voucher(code, [payable_batch(code, 5580_00)], paid="6000", **REFUND_DETAILS)
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    with pytest.raises(DomainError, match="请先新增专用收据"):
        receipt_ops.submit(receipts, code.account)
    receipt_ops.add(receipts, code.account, "上海互助测试1有限公司", "3000")
    receipt_ops.add(receipts, code.account, "上海互助测试1有限公司工会", "2579.99")
    with pytest.raises(DomainError) as refused:
        receipt_ops.submit(receipts, code.account)
    assert refused.value.message == "专用收据金额合计5579.99元，应等于应缴纳保费5580元，少0.01元"
    last = receipt_ops.receipts_of(receipts)[-1]
    receipt_ops.remove(receipts, code.account, last.id)
    receipt_ops.add(receipts, code.account, "集团子公司", "2580.01")
    with pytest.raises(DomainError, match="多0.01元"):
        receipt_ops.submit(receipts, code.account)
    receipt_ops.remove(receipts, code.account, receipt_ops.receipts_of(receipts)[-1].id)
    receipt_ops.add(receipts, code.account, "集团子公司", "2580")
    receipts = receipt_ops.submit(receipts, code.account)
    assert receipts.status == R_REVIEW and receipt_ops.total_of(receipts) == 558000
    with pytest.raises(DomainError, match="专用收据收据审核中，不能修改"):
        receipt_ops.add(receipts, code.account, "再来一张", "1")


def test_receipt_fields_and_ownership(city):
    code, other = approved_code(city, 1), approved_code(city, 2)
    voucher = uploaded_voucher(code, [payable_batch(code, 100_00)])
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    with pytest.raises(FieldErrors) as refused:
        receipt_ops.add(receipts, code.account, "", "-1")
    assert refused.value.errors == {"title": "请填写收据抬头",
                                    "amount": "收据金额：金额“-1”格式不正确，请填写元，最多两位小数"}
    with pytest.raises(DomainError, match="只能填报本单位的专用收据"):
        receipt_ops.add(receipts, other.account, "别人", "100")


def test_the_centre_passes_receipts_only_after_the_write_off_or_fails_them_with_a_reason(city):
    code = approved_code(city, 1)
    voucher = uploaded_voucher(code, [payable_batch(code, 100_00)])
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    receipt_ops.add(receipts, code.account, "上海互助测试1有限公司", "100")
    receipts = receipt_ops.submit(receipts, code.account)
    centre = city.account("centre")
    with pytest.raises(DomainError, match="请先核销缴费凭证"):
        receipt_ops.decide(receipts, True, centre)
    receipts = receipt_ops.decide(receipts, False, centre, "抬头有误")
    assert (receipts.status, receipts.reason) == (R_FAILED, "抬头有误")
    assert "抬头有误" in for_account(code.account).first().body
    receipt_ops.add(receipts, code.account, "更正", "0.01")
    receipt_ops.remove(receipts, code.account, receipt_ops.receipts_of(receipts)[-1].id)
    receipts = receipt_ops.submit(receipts, code.account)
    voucher_ops.write_off(voucher, centre)
    receipts = receipt_ops.decide(receipts, True, centre)
    assert receipts.status == R_PASSED
    with pytest.raises(DomainError, match="专用收据审核通过，不能修改"):
        receipt_ops.add(receipts, code.account, "再来一张", "1")


# --- every (state, action) pair --------------------------------------------------------------------
def _voucher_maker(city):
    code = approved_code(city, 1)

    def make(state):
        voucher = uploaded_voucher(code, [payable_batch(code, 100_00, kind="即时参保")])
        AidVoucher.update(status=state).where(AidVoucher.id == voucher.id).execute()
        return AidVoucher.get_by_id(voucher.id)
    return make


def test_the_voucher_workflow_every_pair(city):
    allowed, forbidden = check_every_pair(AidVoucher, _voucher_maker(city), account=city.account("centre"))
    assert (allowed, forbidden) == (2, 3 * 2 - 2)


def test_the_receipt_workflow_every_pair(city):
    make_voucher = _voucher_maker(city)

    def make(state):
        receipts = AidReceiptSet.get(AidReceiptSet.voucher == make_voucher(V_REVIEW).id)
        AidReceiptSet.update(status=state).where(AidReceiptSet.id == receipts.id).execute()
        return AidReceiptSet.get_by_id(receipts.id)
    allowed, forbidden = check_every_pair(AidReceiptSet, make, account=city.account("centre"), reason="抬头有误")
    assert (allowed, forbidden) == (7, 5 * 4 - 7)


def test_the_voucher_operations_over_every_voucher_state(city):
    """核销 / 驳回 through the operations: only a voucher 凭证审核中 moves, its batches with it."""
    make = _voucher_maker(city)
    centre = city.account("centre")
    for state in (V_REVIEW, V_DONE, V_REJECTED):
        for decide, target, batch_state in ((lambda v: voucher_ops.write_off(v, centre), V_DONE, INSURED),
                                            (lambda v: voucher_ops.reject(v, centre, "凭证模糊"), V_REJECTED,
                                             AWAIT_VOUCHER)):
            voucher = make(state)
            batch = voucher_ops.batches_of(voucher)[0]
            if state != V_REVIEW:
                with pytest.raises(DomainError, match=f"当前状态为「{state}」"):
                    decide(voucher)
                assert AidBatch.get_by_id(batch.id).status == VOUCHER_REVIEW
                continue
            assert decide(voucher).status == target
            assert AidBatch.get_by_id(batch.id).status == batch_state
