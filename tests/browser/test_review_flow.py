"""The review chain in a real browser, JavaScript on and off (issue 8; issue 16 items 17 and 17a): a
grassroots union submits, its street union (secondary) returns it (退回 with nothing ticked first:
said on the list), the union submits again from the returned submission's page, the secondary adds
it to 待提交, the district submits it to the centre (提交参保批次确认), the centre accepts (asked
first), the district uploads a voucher (计算已选中批次金额 keeps the chosen file), the centre writes
it off (asked first) → 已完成; the 操作日志 names the objects in Chinese."""

from datetime import timedelta

from playwright.sync_api import expect

from models.base import now
from models.enroll.enrollment import Submission
from models.enroll.plans import Window
from models.review.batches import DistrictBatch
from models.review.vouchers import PaymentVoucher
from tests.browser.helpers import log_in, switch_account
from tests.factories.enroll import enrolling_year, holder
from tests.factories.review import PNG


def switch(page, account):
    switch_account(page, account)


def submit_central(page):
    page.goto("/enroll/card/central")
    page.get_by_role("button", name="提交至区局审核").click()
    page.get_by_role("button", name="确定").click()
    expect(page.locator("#sub-status")).to_have_text("区局确认中")


def test_grassroots_to_write_off(page, city, tmp_path, js):
    union = city.orgs["grassroots1"]  # under the street union secondary1
    year = enrolling_year(city)
    Window.update(starts=now() - timedelta(days=1), ends=now() + timedelta(days=5)).where(
        (Window.year == year.id) & (Window.kind == "district_submit")).execute()
    for _ in range(3):
        holder(union)

    # grassroots: 提交至区局审核
    log_in(page, city.account("grassroots"))
    submit_central(page)

    # secondary: 退回 with nothing ticked — said on the list, not on a separate page
    switch(page, city.account("secondary"))
    page.locator("nav.sidemenu").get_by_role("link", name="集中参保审核").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("集中参保审核")
    pending = page.locator("#pending-pane")
    expect(pending).to_contain_text(union.name)
    page.get_by_role("button", name="退回", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("集中参保审核")
    expect(page.get_by_role("alert")).to_contain_text("请先在待审批参保列表中勾选要退回的参保信息")
    expect(page.locator("body")).not_to_contain_text("操作未完成")
    assert "csrf_token" not in page.url
    # … then ticked: 退回 with a reason
    pending.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="退回", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("退回")
    assert "csrf_token" not in page.url
    page.get_by_label("原因").fill("人员名单有误，请核对后重新提交")
    page.get_by_role("button", name="确定退回").click()
    expect(page.get_by_role("status").first).to_contain_text("已退回3人的参保信息至基层单位")
    expect(page.locator("#pending-pane")).to_contain_text("没有找到匹配的记录")

    # grassroots: the returned submission's page leads back to 集中参保办理
    switch(page, city.account("grassroots"))
    page.goto("/enroll/card")
    page.get_by_role("link", name="批次详情").first.click()
    expect(page.locator("#sub-status")).to_contain_text("退回")
    expect(page.locator("#resubmit")).to_contain_text("人员名单有误")
    page.get_by_role("link", name="重新提交集中参保").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保确认画面-集中参保办理")
    if not js:  # the amount update button posts: no token in the URL, nothing submitted
        page.get_by_role("button", name="按所选保障类型和排除条件更新金额").click()
        expect(page.locator("#central-header")).to_contain_text("可参保人数：3人")
        assert "csrf_token" not in page.url and Submission.select().count() == 1
    page.get_by_role("button", name="提交至区局审核").click()
    with page.expect_download():  # the result page downloads the 告知书 at once (issue 16 item 14)
        page.get_by_role("button", name="确定").click()
        expect(page.locator("#sub-status")).to_have_text("区局确认中")

    # secondary: → 添加至待提交
    switch(page, city.account("secondary"))
    page.goto("/review/central")
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
    assert Submission.get(Submission.status == "已完成").district_batch == batch.number

    # centre: 确认 — asked first, money at stake
    switch(page, city.account("centre"))
    page.goto("/batches/")
    page.get_by_role("link", name="批次详情").first.click()
    page.get_by_role("button", name="确认", exact=True).click()
    expect(page.locator("#confirm-text")).to_contain_text(f"确认参保批次 {batch.number}")
    assert DistrictBatch.get_by_id(batch.id).status == "参保审核中"
    page.get_by_role("button", name="确定确认").click()
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
    if not js:  # 计算已选中批次金额 is a round trip: the chosen file is kept for 保存
        page.get_by_role("button", name="计算已选中批次金额").click()
        expect(page.locator("#voucher-kept")).to_contain_text("已选择文件：slip.png")
    expect(page.locator("#amount-due")).to_contain_text("应缴合计：39元")
    page.get_by_label("文件名称").fill("集中参保缴费凭证")
    page.get_by_role("button", name="⑥ 保存提交至职保中心").click()
    expect(page.locator("#voucher-status")).to_contain_text("凭证审核中")

    # centre: 确认核销 — asked first
    switch(page, city.account("centre"))
    page.goto(f"/batches/vouchers/{PaymentVoucher.get().id}")
    expect(page.locator("body")).to_contain_text(f"批次：{batch.number}")  # the log's list reads as a list
    expect(page.locator("body")).not_to_contain_text("['")
    page.get_by_role("button", name="确认核销").click()
    expect(page.locator("#confirm-text")).to_contain_text(batch.number)
    page.get_by_role("button", name="确定核销").click()
    expect(page.locator("#voucher-status")).to_contain_text("已核销")
    page.goto(f"/batches/{batch.id}")
    expect(page.locator("#batch-status")).to_have_text("已完成")
    assert DistrictBatch.get_by_id(batch.id).writeoff_at is not None

    # admin: 操作日志 names the objects in Chinese and links them
    switch(page, city.account("admin"))
    page.goto("/audit/")
    page.get_by_role("link", name=f"参保批次 {batch.number}").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"批次详情 {batch.number}")
