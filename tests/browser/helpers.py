"""What the browser tests do over and over: log in, and check a page is usable."""

import re

from playwright.sync_api import Page, Response, expect

from tests import factories

ERROR_TEXTS = ("系统出错了", "Internal Server Error", "页面不存在", "操作未完成", "Traceback")


def log_in(page: Page, account, password: str = factories.PASSWORD) -> Page:
    """Through the 登录 form, as a user would; waits for 首页."""
    page.goto("/login")
    page.get_by_label("账号").fill(account.username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation(url=re.compile(r"/home$")):
        page.get_by_role("button", name="登录").click()
    return page


def switch_account(page: Page, account) -> Page:
    """Another account in the same browser: the page's own requests (an image, the favicon) are
    finished first, so none of their answers puts the old session cookie back after it is cleared."""
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    return log_in(page, account)


def assert_usable(page: Page, response: Response | None) -> None:
    """Status below 400 and none of the error pages' text."""
    assert response is not None, page.url
    assert response.status < 400, (page.url, response.status)
    text = page.locator("body").inner_text()
    for marker in ERROR_TEXTS:
        assert marker not in text, (page.url, marker)


def menu(page: Page) -> dict:
    """The left menu as {section: [labels]}."""
    sections = {}
    for section in page.locator("nav.sidemenu .menu-section").all():
        title = section.locator(".menu-title").inner_text().strip()
        sections[title] = [a.inner_text().strip() for a in section.locator("a").all()]
    return sections


def start_registration(page, values: dict) -> None:
    """企业注册 from the login page up to 获取验证码: the form's unit and handler filled, the code asked for."""
    page.goto("/login")
    page.get_by_role("link", name="企业注册").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("企业注册")
    page.get_by_label("单位名称").fill(values["unit_name"])
    page.get_by_label("统一社会信用代码").fill(values["uscc"])
    page.get_by_label("经办人姓名").fill(values["handler"])
    page.get_by_label("手机号码").fill(values["phone"])
    page.get_by_role("button", name="获取验证码").click()


def finish_registration(page, values: dict, code: str, password: str) -> None:
    """The rest of 企业注册: the SMS code, 账号 and 密码 twice, 注册 → 注册成功."""
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("账号").fill(values["username"])
    page.locator("#r-password").fill(password)
    page.get_by_label("确认密码").fill(password)
    page.get_by_role("button", name="注册").click()
    expect(page.locator(".alert-success")).to_contain_text("注册成功")
