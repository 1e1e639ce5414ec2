"""Accessibility (issue 20 item 9, spec/80-quality WCAG 2.1 AA).

- axe-core (vendored: tests/browser/vendor/axe-4.14.1.min.js, its licence beside it) on every menu
  page of the grassroots, district and centre accounts (the side menu, built by views/menu.py),
  JavaScript on: no serious or critical violation. Every label marked * names a control that says
  it is required in code (aria-required or required).
- The keyboard: Enter on 下一页 lands in the list (JS: focus on the region's heading or table and
  the live region says 第 2 / N 页; no JS: the link's #rows anchor, so the next Tab is in the list);
  a refused form (会员信息's WTForms form, 登记给付's hand-written one) puts focus on the first
  invalid field (JS) and its alert lists the refused fields as links to them (both).
- The live monitor pauses (暂停自动刷新) and keeps focus through a refresh.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import assert_usable, log_in
from tests.factories.enroll import enrolling_year

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
ROLES = ["grassroots", "district", "centre"]

# Every rule holds: no serious or critical violation is excused.
NOT_MINE: dict = {}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""

# Every label with the * of a required field: its control must say so in code.
UNMARKED_REQUIRED = """() => {
  const bad = [];
  for (const star of document.querySelectorAll('#main label .req')) {
    const label = star.closest('label');
    const control = label.control || (label.htmlFor && document.getElementById(label.htmlFor));
    if (!control || control.readOnly || control.disabled) continue;
    if (!control.required && control.getAttribute('aria-required') !== 'true') bad.push(label.textContent.trim());
  }
  return bad;
}"""


@pytest.fixture
def axe_page(browser, live_server, committed):
    """JavaScript on (axe is a script), the page's CSP bypassed so that axe can be injected."""
    context = browser.new_context(base_url=live_server, java_script_enabled=True, locale="zh-CN",
                                  viewport={"width": 1280, "height": 800}, bypass_csp=True)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def some_content(city):
    """Lists that are not empty: members (two pages in the grassroots union), a card, a job."""
    union = city.orgs["grassroots1"]
    for i in range(16):
        factories.make_member(union, name=f"会员{i:02d}")
    factories.make_job(union, city.account("grassroots"))
    factories.make_message(union, city.account("grassroots"))


def axe_problems(page) -> list:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    return [v for v in found if v["id"] not in NOT_MINE]


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_has_no_serious_axe_violation(axe_page, city, role):
    assert Path(CHROMIUM).exists()
    some_content(city)
    page = axe_page
    log_in(page, city.account(role))
    hrefs = page.locator("nav.sidemenu a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(hrefs) > 8, hrefs
    bad, unmarked = [], []
    for href in dict.fromkeys(hrefs):
        response = page.goto(href)
        assert_usable(page, response)
        bad += [f"{href}: {v['id']} ({v['impact']}) {v['help']} — {v['nodes']}" for v in axe_problems(page)]
        unmarked += [f"{href}: {label}" for label in page.evaluate(UNMARKED_REQUIRED)]
    assert not bad, "\n".join(bad)
    assert not unmarked, "\n".join(unmarked)


def test_the_login_page_has_no_serious_axe_violation(axe_page, city):
    response = axe_page.goto("/login")
    assert_usable(axe_page, response)
    assert not axe_problems(axe_page)


def active(page) -> dict:
    return page.evaluate("""() => {
      const a = document.activeElement;
      return {tag: a.tagName, id: a.id, text: a.textContent.trim().slice(0, 40),
              inRows: !!a.closest('#rows')};
    }""")


def test_the_pager_by_keyboard_lands_in_the_list(page, city, js):
    some_content(city)
    log_in(page, city.account("grassroots"))
    page.goto("/members/")
    expect(page.locator(".pager-page")).to_have_text("第 1 / 2 页")
    page.get_by_role("link", name="下一页").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".pager-page")).to_have_text("第 2 / 2 页")
    expect(page.locator(".pager-summary")).to_have_text("显示第 16 到第 16 条记录，总共 16 条记录")
    if js:
        # Focus on the region's heading or table, and the polite live region says where we are.
        expect(page.locator("#announce")).to_have_text("第 2 / 2 页")
        now = active(page)
        assert now["inRows"] and now["tag"] in ("TABLE", "H2", "H3", "H4"), now
    else:
        assert page.url.endswith("#rows")
    # Either way the next Tab goes into the list, not back to the top bar.
    page.keyboard.press("Tab")
    now = active(page)
    assert now["inRows"], now
    # A filter by keyboard: the result is announced and focus is on the list.
    page.get_by_label("姓名搜索").fill("会员01")
    page.get_by_label("姓名搜索").press("Enter")
    expect(page.locator(".pager-summary")).to_have_text("显示第 1 到第 1 条记录，总共 1 条记录")
    if js:
        expect(page.locator("#announce")).to_have_text("显示第 1 到第 1 条记录，总共 1 条记录")
        assert active(page)["inRows"]


def test_a_menu_link_by_keyboard_lands_on_the_new_page(page, city, js):
    log_in(page, city.account("grassroots"))
    page.locator("nav.sidemenu").get_by_role("link", name="会员信息").focus()
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("会员信息")
    if js:  # a boosted swap: focus on the new page's heading, its title announced
        expect(heading).to_be_focused()
        expect(page.locator("#announce")).to_have_text("会员信息")


def test_a_tab_by_keyboard_is_announced(page, city, js):
    some_content(city)
    log_in(page, city.account("grassroots"))
    page.goto("/messages/")
    page.get_by_role("navigation", name="消息").get_by_role("link", name="未读消息").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="未读消息")).to_have_attribute("aria-current", "page")
    if js:  # focus on the page's heading (the tabs swap the whole page), the tab announced
        expect(page.get_by_role("heading", level=1)).to_be_focused()
        expect(page.locator("#announce")).to_have_text("未读消息")


def refuse_by_keyboard(page, button, message):
    """Enter on the form's `button`: the alert with `message` and its links (the refused fields)."""
    page.get_by_role("button", name=button).focus()
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(message)
    links = alert.get_by_role("link")
    expect(links.first).to_be_visible()
    return links


def reaches(page, links, field, js):
    """The first refused `field` has focus (JS), or is one Enter on the alert's first link away."""
    if not js:
        links.first.focus()
        page.keyboard.press("Enter")
    expect(field).to_be_focused()


def test_a_refused_form_leads_to_its_first_invalid_field(page, city, js):
    log_in(page, city.account("grassroots"))
    page.goto("/members/new")
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("证件号码").fill("123")
    links = refuse_by_keyboard(page, "提交", "请修改标红的项目后再提交")
    first_invalid = page.locator("[aria-invalid=true]").first
    field_id = first_invalid.get_attribute("id")
    assert links.first.get_attribute("href") == f"#{field_id}"
    # The field's error is tied to it.
    described = first_invalid.get_attribute("aria-describedby").split()
    assert any(page.locator(f"#{d}").get_attribute("class") == "field-error" for d in described)
    reaches(page, links, first_invalid, js)


def test_a_hand_written_form_refused_by_keyboard_leads_to_its_field(page, city, js):
    """登记给付 (a form written field by field, swapped in place by htmx): Enter on 保存 with the
    fields empty; the alert links each refused field, the first takes focus (JS) or is one Enter on
    its link away (no JS), and it names its message and the form's hint."""
    log_in(page, city.account("centre"))
    page.goto("/coverage/claims/new")
    page.get_by_label("给付金额（元）").fill("abc")
    links = refuse_by_keyboard(page, "保存", "请按提示修改后重新提交")
    expect(links.first).to_have_attribute("href", "#c-id_number")
    assert "#c-amount" in [links.nth(i).get_attribute("href") for i in range(links.count())]
    field = page.locator("#c-id_number")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "c-hint c-id_number-error")
    expect(page.locator("#c-id_number-error")).not_to_be_empty()
    reaches(page, links, field, js)
    # The user types straight into the refused field.
    page.keyboard.type("110105194912310029")
    expect(field).to_have_value("110105194912310029")


def test_the_monitor_pauses_and_keeps_focus(page, city, js):
    """暂停自动刷新 works with and without JavaScript; with it, a refresh keeps focus on the same
    link and the live region says which total changed."""
    enrolling_year(city)
    log_in(page, city.account("district"))
    page.goto("/enroll-stats/monitor")
    expect(page.locator("#monitor-time")).to_contain_text("每30秒自动刷新")
    if js:
        link = page.locator("#monitor-totals a").first
        link.focus()
        unions = int(page.locator("#monitor-totals [data-count=unions]").inner_text())
        waiting = int(page.locator("#monitor-totals [data-count=not_submitted]").inner_text())
        factories.make_org(city.orgs["secondary1"], level="grassroots")  # one more union to count
        # A refresh as the poll makes it: a request no user event started, swapping #monitor.
        page.evaluate("htmx.ajax('GET', document.querySelector('#monitor').getAttribute('hx-get'), "
                      "{target: '#monitor', swap: 'outerHTML'})")
        expect(page.locator("#monitor-time")).to_contain_text("更新时间")
        page.wait_for_timeout(300)
        expect(page.locator("#monitor-totals a").first).to_be_focused()
        expect(page.locator("#announce")).to_have_text(
            f"监控数据已更新：基层工会数 {unions} → {unions + 1}，未提交 {waiting} → {waiting + 1}")
    page.get_by_role("link", name="暂停自动刷新").click()
    expect(page.locator("#monitor-time")).to_contain_text("自动刷新已暂停")
    assert "pause=1" in page.url
    page.get_by_role("link", name="恢复自动刷新").click()
    expect(page.locator("#monitor-time")).to_contain_text("每30秒自动刷新")


@pytest.mark.parametrize("role", ["centre", "city"])
def test_the_city_monitor_has_no_serious_axe_violation(axe_page, city, role):
    """The city's 集中参保实时监控画面 with numbers (the menu walk above meets it without a year) and
    the unions behind a district's number."""
    from tests.browser.test_queries_flow import city_season
    city_season(city)
    log_in(axe_page, city.account(role))
    for href in ("/enroll-stats/monitor", f"/enroll-stats/monitor/unions?group={city.orgs['district1'].id}"):
        response = axe_page.goto(href)
        assert_usable(axe_page, response)
        assert axe_page.locator("#monitor-groups, #rows").count() == 1
        assert not axe_problems(axe_page), href
