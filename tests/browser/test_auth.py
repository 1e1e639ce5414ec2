"""登录 / 退出 and the CSRF refusal, in a real browser with JavaScript on and off."""

import re

from playwright.sync_api import expect

from models.orgs.organizations import Organization
from tests import factories
from tests.browser.helpers import log_in


def test_login_lands_on_home_with_organisation_and_account(page):
    org = factories.make_org(None, "市总工会", name="浏览器测试市总工会")
    account = factories.make_account(org, username="zhangsan")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="上海工会网上工作平台")).to_be_visible()
    log_in(page, account)
    topbar = page.locator("header.topbar")
    expect(topbar).to_contain_text("浏览器测试市总工会")
    expect(topbar).to_contain_text("欢迎您，测试")
    expect(topbar.get_by_role("button", name="退出")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("浏览器测试市总工会")
    expect(page).to_have_title(re.compile("^首页"))


def test_wrong_password_shows_the_reason_and_stays_on_login(page):
    org = factories.make_org(None, "市总工会")
    account = factories.make_account(org, username="lisi")
    page.goto("/login")
    page.get_by_label("账号").fill("lisi")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("账号或密码错误")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_label("账号")).to_have_value("lisi")
    expect(page.get_by_label("密码")).to_have_value("")
    expect(page.locator("header.topbar")).to_have_count(0)
    # The right password still works afterwards.
    log_in(page, account)


def test_logout_returns_to_login_and_protects_pages(page, city):
    log_in(page, city.account("grassroots"))
    page.locator("header.topbar").get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_have_text("您已安全退出")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    page.goto("/orgs/mine/edit")
    expect(page).to_have_url(re.compile(r"/login\?next=/orgs/mine/edit$"))
    expect(page.get_by_label("账号")).to_be_visible()
    expect(page.locator("header.topbar")).to_have_count(0)


def test_missing_or_stale_csrf_token_gives_a_chinese_message(page, city, js):
    log_in(page, city.account("grassroots"))
    org = city.orgs["grassroots1"]
    form = {"name": org.name, "contact": "联系人", "phone": "021-87654321"}
    for token in (None, "stale-or-forged"):
        data = dict(form, csrf_token=token) if token else form
        response = page.request.post("/orgs/mine/edit", form=data)
        assert response.status == 400
        body = response.text()
        assert "页面已过期或缺少安全校验码（CSRF），请刷新页面后重新提交。" in body
        assert "Traceback" not in body and "Bad Request" not in body
    assert Organization.get_by_id(org.id).phone == "021-12345678"
    # In the page: a save whose token went stale (htmx header and form field) says so in place.
    page.goto("/orgs/mine/edit")
    page.locator("body").evaluate("b => b.setAttribute('hx-headers', '{\"X-CSRFToken\": \"stale\"}')")
    page.locator("input[name=csrf_token]").evaluate_all("inputs => inputs.forEach(i => i.value = 'stale')")
    page.get_by_label("联系电话").fill("021-87654321")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("页面已过期或缺少安全校验码（CSRF），请刷新页面后重新提交。")
    expect(page.get_by_role("link", name="返回")).to_be_visible()
    if js:
        expect(page).to_have_url(re.compile(r"/orgs/mine/edit$"))
        expect(page.locator("nav.sidemenu")).to_be_visible()
    assert Organization.get_by_id(org.id).phone == "021-12345678"
