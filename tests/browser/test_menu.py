"""The left menu per role, no dead links, and hx-boost navigation — JavaScript on and off."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_usable, log_in, menu

# Entries every role sees (later areas add more; the dead-link check below covers them all).
EVERYONE = {
    "首页": ["首页"],
    "组织管理": ["组织信息"],
    "业务工作台": ["业务工作台"],
    "系统管理": ["后台任务", "修改密码"],
}
ADMIN_ONLY = {"系统管理": ["操作日志"]}
NOT_FOR_CITY = {"组织管理": ["修改信息"]}  # the read-only 市总工会 changes nothing


@pytest.mark.parametrize("role", ["grassroots", "secondary", "district", "centre", "city", "admin"])
def test_menu_entries_follow_the_role_and_every_link_opens(page, city, role):
    account = city.account(role)
    log_in(page, account)
    shown = menu(page)
    for section, labels in EVERYONE.items():
        assert set(labels) <= set(shown.get(section, [])), (section, shown)
    for section, labels in ADMIN_ONLY.items():
        visible = set(labels) & set(shown.get(section, []))
        assert visible == (set(labels) if role == "admin" else set()), (role, shown)
    for section, labels in NOT_FOR_CITY.items():
        visible = set(labels) & set(shown.get(section, []))
        assert visible == (set() if role == "city" else set(labels)), (role, shown)
    expect(page.locator("nav.sidemenu a[aria-current=page]")).to_have_text("首页")

    links = dict(page.locator("nav.sidemenu a, header.topbar a").evaluate_all(
        "links => links.map(a => [a.getAttribute('href'), a.textContent.trim()])"))
    assert ("/audit/" in links) == (role == "admin")
    for href, label in links.items():
        response = page.goto(href)
        assert_usable(page, response)
        expect(page.get_by_role("heading", level=1), label).to_be_visible()

    if role != "admin":
        # The admin search page is not reachable by typing its address either.
        response = page.goto("/audit/")
        assert response.status == 403
        expect(page.get_by_role("alert")).to_contain_text("您的账号无权使用此功能")


def test_menu_navigation_keeps_the_page_with_javascript(page, city, js):
    log_in(page, city.account("district"))
    if js:
        page.evaluate("window.__marker = 'kept'")
    with page.expect_request(re.compile(r"/orgs/$")) as request:
        page.locator("nav.sidemenu").get_by_role("link", name="组织信息").click()
    expect(page).to_have_url(re.compile(r"/orgs/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("组织信息")
    expect(page).to_have_title(re.compile("^组织信息"))
    expect(page.locator("nav.sidemenu a[aria-current=page]")).to_have_text("组织信息")
    expect(page.get_by_role("cell", name="测试区1街道总工会")).to_be_visible()
    headers = request.value.headers
    if js:
        # hx-boost: fetched by htmx and swapped in, the page itself was not reloaded.
        assert headers.get("hx-boosted") == "true"
        assert page.evaluate("window.__marker") == "kept"
    else:
        assert "hx-request" not in headers

    # The filter form and the back button work either way.
    page.get_by_label("单位名称搜索").fill("街道")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"/orgs/\?q=%E8%A1%97%E9%81%93$"))
    expect(page.locator(".pager-summary")).to_have_text("显示第 1 到第 1 条记录，总共 1 条记录")
    if js:
        assert page.evaluate("window.__marker") == "kept"
    page.go_back()
    expect(page).to_have_url(re.compile(r"/orgs/$"))
    expect(page.locator(".pager-summary")).to_have_text("显示第 1 到第 3 条记录，总共 3 条记录")
    page.wait_for_load_state()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("测试区1总工会")
