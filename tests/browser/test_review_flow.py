"""The review chain in a real browser, JavaScript on and off (issue 8): a grassroots union submits,
its street union (secondary) adds it to 待提交, the district submits it to the centre (提交参保批次确认),
the centre accepts, the district uploads a voucher, the centre writes it off."""

from datetime import timedelta

from playwright.sync_api import expect

from models import DistrictBatch, PaymentVoucher, Submission, Window
from models.base import now
from tests.browser.helpers import log_in
from tests.browser.test_enroll_flow import enrolling_year, holder
from tests.review_factories import PNG


def switch(page, account):
    page.context.clear_cookies()
    log_in(page, account)


def test_grassroots_to_write_off(page, city, tmp_path):
    union = city.orgs["grassroots1"]  # under the street union secondary1
    year = enrolling_year(city)
    Window.update(starts=now() - timedelta(days=1), ends=now() + timedelta(days=5)).where(
        (Window.year == year.id) & (Window.kind == "district_submit")).execute()
    for _ in range(3):
        holder(union)

    # grassroots: 提交至区局审核
    log_in(page, city.account("grassroots"))
    page.goto("/enroll/card/central")
    page.get_by_role("button", name="提交至区局审核").click()
    page.get_by_role("button", name="确定").click()
    expect(page.locator("#sub-status")).to_have_text("区局确认中")

    # secondary: → 添加至待提交
    switch(page, city.account("secondary"))
    page.locator("nav.sidemenu").get_by_role("link", name="集中参保审核").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("集中参保审核")
    pending = page.locator("#pending-pane")
    expect(pending).to_contain_text(union.name)
    pending.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="→ 添加至待提交").click()
    queued = page.locator("#queued-pane")
    expect(queued).to_contain_text("二级工会")
    expect(page.locator("#queue-header")).to_contain_text(
        "合计参保人数：3人(会员卡参保人数3人，社保卡参保人数0人)。保障费用：78元；市总统一划拨：39元；区局/各级工会缴费：39元；基层单位缴费：0元。")
    expect(queued.get_by_role("link", name="提交列表中的参保信息")).to_have_count(0)  # the district submits

    # district: 提交列表中的参保信息 → 提交参保批次确认
    switch(page, city.account("district"))
    page.goto("/review/central")
    expect(page.locator("#queued-pane")).to_contain_text("二级工会")
    page.get_by_role("link", name="提交列表中的参保信息").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("提交参保批次确认")
    page.get_by_label("姓名").fill("王经办")
    page.get_by_label("手机号").fill("1380000")
    page.get_by_label("电子邮箱").fill("wang@example.com")
    page.get_by_role("button", name="确认提交至职保中心").click()
    expect(page.locator(".field-error")).to_contain_text("手机号应为11位手机号码")
    page.get_by_label("手机号").fill("13800000000")
    page.get_by_role("button", name="确认提交至职保中心").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("批次详情 CB")
    batch = DistrictBatch.get()
    expect(page.locator("#batch-status")).to_have_text("参保审核中")
    expect(page.locator("#notice-download")).to_be_visible()
    assert Submission.get().district_batch == batch.number

    # centre: 确认
    switch(page, city.account("centre"))
    page.goto("/batches/")
    page.get_by_role("link", name="批次详情").first.click()
    page.get_by_role("button", name="确认").click()
    expect(page.locator("#batch-status")).to_contain_text("缴费凭证待上传")

    # district: 缴费凭证管理 → 上传缴费凭证
    switch(page, city.account("district"))
    page.goto("/batches/")
    page.locator("#main").get_by_role("link", name="缴费凭证管理").click()
    page.get_by_role("link", name="上传缴费凭证").click()
    page.get_by_role("checkbox", name=f"选择 {batch.number}").check()
    voucher = tmp_path / "slip.png"
    voucher.write_bytes(PNG)
    page.get_by_label("缴费凭证").set_input_files(str(voucher))
    page.get_by_label("文件名称").fill("集中参保缴费凭证")
    page.get_by_role("button", name="⑥ 保存提交至职保中心").click()
    expect(page.locator("#voucher-status")).to_contain_text("凭证审核中")

    # centre: 确认核销
    switch(page, city.account("centre"))
    page.goto(f"/batches/vouchers/{PaymentVoucher.get().id}")
    page.get_by_role("button", name="确认核销").click()
    expect(page.locator("#voucher-status")).to_contain_text("已核销")
    page.goto(f"/batches/{batch.id}")
    expect(page.locator("#batch-status")).to_have_text("已完成")
    assert DistrictBatch.get_by_id(batch.id).writeoff_at is not None
