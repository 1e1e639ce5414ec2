"""企业注册 in a real browser, JavaScript on and off: a unit without a union opens 企业注册 from the
login page, gets its SMS code (read from the outbox), registers, logs in, sees only the mutual-aid
menu, applies for its 参保编码 with another SMS code; the centre approves; the unit fills 经办人填报
with a third code."""

import re

from playwright.sync_api import expect

from models.mutual_aid.codes import CodeHandler, InsuranceCode
from models.orgs.accounts import Account
from tests.browser.helpers import finish_registration, menu, start_registration, switch_account
from tests.factories.mutual_aid import outbox_code, png, registration

PASSWORD = "Qiye#2026x"


def log_in_enterprise(page, username):
    page.goto("/login")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    with page.expect_navigation(url=re.compile(r"/mutual-aid/codes/$")):
        page.get_by_role("button", name="登录").click()


def test_register_log_in_apply_with_sms_and_fill_the_handler(app, page, city, tmp_path):
    values = registration(31)
    start_registration(page, values)
    expect(page.locator("#register-notice")).to_have_text("验证码已发送至137****0031，5分钟内有效")
    expect(page.get_by_label("单位名称")).to_have_value(values["unit_name"])
    finish_registration(page, values, outbox_code(app, values["phone"]), PASSWORD)
    expect(page).to_have_url(re.compile(r"/login$"))

    log_in_enterprise(page, values["username"])
    sections = menu(page)
    assert list(sections) == ["首页", "在职职工互助保障", "系统管理"]
    assert sections["在职职工互助保障"][:2] == ["参保编码申请", "经办人填报"]
    assert sections["首页"] == ["消息提醒"]
    expect(page.locator(".topbar")).not_to_contain_text("业务工作台")

    licence = tmp_path / "营业执照.png"
    licence.write_bytes(png())
    page.get_by_role("link", name="申请参保编码").click()
    page.get_by_label("单位名称").fill(values["unit_name"])
    page.get_by_label("统一社会信用代码").fill(values["uscc"])
    page.get_by_label("单位地址").fill("上海市闵行区注册路1号")
    page.get_by_label("联系人").fill(values["handler"])
    page.get_by_label("联系电话").fill("13811113131")
    page.get_by_label("选择上传").set_input_files([str(licence)])
    page.get_by_role("button", name="上传文件").click()
    expect(page.locator("#kept-files li")).to_have_count(1)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-notice")).to_have_text("验证码已发送至138****3131，5分钟内有效")
    page.get_by_label("短信验证码").fill(outbox_code(app, "13811113131"))
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#code-status")).to_have_text("申请中")
    account = Account.get(Account.username == values["username"])
    code = InsuranceCode.get(InsuranceCode.account == account.id)

    switch_account(page, city.account("centre"))
    page.goto(f"/mutual-aid/codes/{code.id}")
    page.get_by_label("参保编码").fill("HZ31000001")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#code-status")).to_have_text("审核通过")

    page.context.clear_cookies()
    log_in_enterprise(page, values["username"])
    expect(page.locator("#code-number")).to_have_text("HZ31000001")
    page.locator("nav.sidemenu").get_by_role("link", name="经办人填报").click()
    page.get_by_label("经办人姓名").fill("王经办")
    page.get_by_label("经办人手机").fill("13911113131")
    page.get_by_label("经办人邮箱").fill("wang@example.com")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-notice")).to_have_text("验证码已发送至139****3131，5分钟内有效")
    expect(page.get_by_label("经办人姓名")).to_have_value("王经办")
    page.get_by_label("短信验证码").fill(outbox_code(app, "13911113131"))
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#handler-mobile")).to_have_text("13911113131")
    assert CodeHandler.get(CodeHandler.code == code.id).name == "王经办"

    response = page.goto("/members/")
    assert response.status == 403
    expect(page.locator("body")).to_contain_text("您的账号无权使用此功能")
