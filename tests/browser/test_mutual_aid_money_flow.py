"""互助保障缴费凭证 → 核销 → 专用收据 → 参保成功 in a real browser, JavaScript on and off (seed 004 (五)
缴费凭证、退款填报, (六) 专用收据填报): the unit pays one fen more than its batch's premium, the refund
is computed (htmx on change, or 计算退款金额 without JavaScript) and the refund details are filled;
the centre 核销; the unit enters two receipts summing to the premium and submits them; the centre
passes them; the batch is 参保成功."""

import re

from playwright.sync_api import expect

from models.mutual_aid.batches import INSURED, AidBatch
from models.mutual_aid.vouchers import R_PASSED, V_DONE, AidReceiptSet, AidVoucher
from tests.browser.helpers import log_in, switch_account
from tests.factories.aid_money import payable_batch
from tests.factories.mutual_aid import approved_code, png


def test_voucher_with_a_refund_then_write_off_then_receipts(page, city, js, tmp_path):
    voucher_file = tmp_path / "转账回单.png"
    voucher_file.write_bytes(png())
    code = approved_code(city, 1)
    batch = payable_batch(code, 5580_00)
    log_in(page, code.account)
    page.locator("nav.sidemenu").get_by_role("link", name="互助保障缴费凭证").click()
    expect(page.locator("#account-no")).to_have_text("31602300008022150")
    page.get_by_role("link", name="新增缴费信息").click()
    page.get_by_role("checkbox", name="选择 2026年度集中参保").check()
    page.get_by_label("缴费金额（元）").fill("5580.01")
    if js:
        page.get_by_label("缴费金额（元）").dispatch_event("change")
    else:
        page.locator("#voucher-file").set_input_files(str(voucher_file))
        page.get_by_role("button", name="计算退款金额").click()
        expect(page.locator("#voucher-kept")).to_contain_text("转账回单.png")
    expect(page.locator("#amount-refund")).to_have_text("退款金额：0.01元（请填写退款信息）")
    page.get_by_label("付款单位").fill("上海互助测试1有限公司")
    page.get_by_label("付款账号").fill("6222000011112222")
    page.locator("#f-payer_bank").fill("工商银行黄浦支行")
    page.get_by_label("缴费日期").fill("2026-06-20")
    if js:
        page.locator("#voucher-file").set_input_files(str(voucher_file))
    page.get_by_role("button", name="保存提交").click()
    expect(page.locator("#f-refund_name-error")).to_have_text("缴费金额超出应缴保费合计，退款0.01元，请填写退款户名")
    page.get_by_label("退款户名").fill("上海互助测试1有限公司")
    page.get_by_label("退款账号").fill("6222000011113333")
    page.get_by_label("退款开户行").fill("工商银行黄浦支行")
    page.get_by_role("button", name="保存提交").click()
    expect(page.locator("#voucher-status")).to_have_text("凭证审核中")
    expect(page.locator("#voucher-refund")).to_have_text("0.01元")
    voucher = AidVoucher.get()
    assert (voucher.paid, voucher.refund, voucher.file_name) == (558001, 1, "转账回单.png")

    switch_account(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="互助保障缴费凭证审核").click()
    page.get_by_role("row", name=re.compile("上海互助测试1有限公司")).get_by_role("link", name="审核").click()
    expect(page.locator("#refund-account")).to_have_text("6222000011113333")
    page.get_by_role("button", name="核销").click()
    expect(page.locator("#voucher-status")).to_have_text("已核销")
    assert AidVoucher.get().status == V_DONE and AidBatch.get_by_id(batch.id).status == INSURED

    switch_account(page, code.account)
    page.locator("nav.sidemenu").get_by_role("link", name="专用收据").click()
    page.get_by_role("link", name=re.compile("^填报：")).click()  # the receipt set's 填报 (not 经办人填报)
    for n, (title, amount) in enumerate((("上海互助测试1有限公司", "3000"), ("集团子公司", "2579.99")), 1):
        page.get_by_label("收据抬头").fill(title)
        page.get_by_label("金额（元）").fill(amount)
        page.get_by_role("button", name="确认提交").click()
        expect(page.locator("#receipts tbody tr td.name")).to_have_count(n)
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#receipt-error")).to_have_text("专用收据金额合计5579.99元，应等于应缴纳保费5580元，少0.01元")
    page.get_by_role("button", name="删除 集团子公司").click()
    expect(page.locator("#receipts tbody tr td.name")).to_have_count(1)
    page.get_by_label("收据抬头").fill("集团子公司")
    page.get_by_label("金额（元）").fill("2580")
    page.get_by_role("button", name="确认提交").click()
    expect(page.locator("#receipt-total")).to_have_text("5580元")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#receipt-status")).to_have_text("收据审核中")

    switch_account(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="专用收据审核").click()
    page.get_by_role("row", name=re.compile("上海互助测试1有限公司")).get_by_role("link", name="审核").click()
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#receipt-status")).to_have_text("审核通过")
    assert AidReceiptSet.get().status == R_PASSED

    switch_account(page, code.account)
    page.locator("nav.sidemenu").get_by_role("link", name="互助保障缴费凭证").click()
    page.get_by_role("row", name=re.compile("已核销")).get_by_role("link", name="查看").click()
    expect(page.locator("#voucher-batches tbody td").last).to_have_text(INSURED)
