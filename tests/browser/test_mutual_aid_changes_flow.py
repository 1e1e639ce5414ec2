"""信息变更申请 → 信息变更审核, 账号找回申请 → 重置密码, 延长互助保障时间窗口 and 添加单位 (集团) in a
real browser, JavaScript on and off (issue 18 items 1–3, 10)."""

import re

from playwright.sync_api import expect

from models.mutual_aid.codes import CodeUnit, InsuranceCode
from models.mutual_aid.recovery import AccountRecovery
from tests.browser.helpers import log_in, switch_account
from tests.factories.mutual_aid import aid_year, approved_code, png, uscc


def test_the_unit_changes_its_handler_and_name_and_the_centre_decides(page, city, tmp_path):
    proof = tmp_path / "名称变更核准通知书.png"
    proof.write_bytes(png())
    code = approved_code(city, 1)
    log_in(page, code.account)
    page.goto("/mutual-aid/codes/")
    page.get_by_role("link", name="信息变更申请").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("信息变更申请")
    page.get_by_label("经办人姓名").fill("孙经办")
    page.get_by_label("单位地址").fill("上海市长宁区新址8号")
    page.get_by_role("button", name="提交变更").click()
    expect(page.locator("#current-handler")).to_contain_text("孙经办")
    expect(page.locator("#current-address")).to_have_text("上海市长宁区新址8号")
    page.get_by_label("新单位名称").fill("浏览器更名有限公司")
    page.get_by_label("证明材料（加盖公章）").set_input_files(str(proof))
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#waiting-change")).to_contain_text("待审核")

    switch_account(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="信息变更审核").click()
    page.get_by_label("状态").select_option("待审核")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("row", name=re.compile("单位名称变更")).get_by_role("link", name="审核").click()
    expect(page.locator("#change-file-list a").first).to_have_text("名称变更核准通知书.png")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#change-status")).to_have_text("已通过")

    switch_account(page, code.account)
    page.goto("/mutual-aid/changes/")
    expect(page.locator("#current-name")).to_have_text("浏览器更名有限公司")
    assert InsuranceCode.get_by_id(code.id).unit_name == "浏览器更名有限公司"


def test_account_recovery_from_the_login_page_then_the_centre_resets(page, city, tmp_path):
    form = tmp_path / "申请表.png"
    form.write_bytes(png())
    code = approved_code(city, 1)
    page.goto("/login")
    page.get_by_role("link", name="账号找回申请").click()
    page.get_by_label("单位名称").fill("上海互助测试1有限公司")
    page.get_by_label("统一社会信用代码").fill(uscc(1))
    page.get_by_label("联系人").fill("周联系")
    page.get_by_label("手机号码").fill("13912345678")
    page.get_by_label("申请原因").fill("经办人离职")
    page.get_by_label("申请表（加盖公章）").set_input_files(str(form))
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#recovery-sent")).to_contain_text("申请已提交")
    assert AccountRecovery.select().count() == 1

    log_in(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="账号找回申请").click()
    page.get_by_role("row", name=re.compile("上海互助测试1有限公司")).get_by_role("link", name="处理").click()
    expect(page.locator("#candidates tbody tr")).to_have_count(1)
    page.get_by_role("button", name="重置密码").click()
    secret = page.locator("#one-time-password").inner_text().strip()
    assert len(secret) == 10

    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("账号").fill(code.account.username)
    page.get_by_label("密码").fill(secret)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/password$"))


def test_the_admin_extends_a_window_and_the_centre_adds_a_group_unit(page, city):
    code = approved_code(city, 1)
    aid_year()
    log_in(page, city.account("admin"))
    page.goto("/admin/")
    page.get_by_role("link", name="延长互助保障时间窗口").click()
    page.get_by_label("时间窗口").select_option(label="2026年度 集中参保（2026-06-01 00:00 至 2026-06-30 23:59）")
    page.get_by_label("参保编码或单位名称（全称）").fill(code.code)
    page.get_by_label("延长至").fill("2026-07-05 23:59")
    page.get_by_label("原因").fill("系统故障补办")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#aid-extensions tbody tr")).to_have_count(1)
    expect(page.locator("#aid-extensions")).to_contain_text("系统故障补办")

    switch_account(page, city.account("centre"))
    page.goto(f"/mutual-aid/codes/{code.id}")
    page.locator("#unit-form").get_by_label("单位名称").fill("上海互助测试1有限公司分公司")
    page.get_by_role("button", name="添加单位").click()
    expect(page.locator("#unit-list tbody tr")).to_have_count(2)
    page.locator("#unit-form").get_by_label("单位名称").fill("上海互助测试1有限公司分公司")
    page.get_by_role("button", name="添加单位").click()
    expect(page.locator("#unit-error")).to_contain_text("已有参保编码")
    assert CodeUnit.select().where(CodeUnit.code == code.id).count() == 2
