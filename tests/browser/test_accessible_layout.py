"""WCAG 2.1 AA in the browser (issue 20 items 1, 2, 6, 7), JavaScript on and off:

- 跳到正文 is the first Tab stop of every page, shown when focused, and moves the focus to the main
  content;
- at 400 % zoom (a 320 px window) no menu page of the three roles scrolls sideways, the top bar
  shows all its text, a wide table scrolls inside its own box, the menu is folded behind its 菜单
  button, which opens and closes with the keyboard; every text on those pages (and the login
  page) is at least 4.5:1 against the background it is drawn on (3:1 when large);
- a blind operator logs in with the 文字验证题 in place of the captcha picture."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.helpers import assert_usable, log_in
from tests.browser.test_layout import LAYOUT_PROBLEMS, long_content

NARROW = {"width": 320, "height": 640}
WIDE = {"width": 1024, "height": 768}

# What a 320 px window cuts: the page wider than the window, a top-bar text outside it.
NARROW_PROBLEMS = """() => {
  const problems = [];
  const width = window.innerWidth;
  const page = document.scrollingElement.scrollWidth;
  if (page > width) problems.push(`页面宽 ${page}px，窗口宽 ${width}px`);
  for (const el of document.querySelectorAll('header.topbar *')) {
    if (!el.textContent.trim() || !el.getClientRects().length) continue;
    const r = el.getBoundingClientRect();
    if (r.left < 0 || r.right > width + 1 || el.scrollWidth > el.clientWidth + 1 && el.clientWidth)
      problems.push(`顶栏文字被截断：${el.textContent.trim().slice(0, 20)}`);
  }
  return problems;
}"""

# Every shown text against the background under it (the element's own, else its ancestors',
# semi-transparent layers blended; white under all), WCAG's formula. Disabled controls are exempt.
CONTRAST_PROBLEMS = """() => {
  const parse = s => {
    const m = /rgba?\\(([^)]+)\\)/.exec(s);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const backdrop = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a === 1) break; }
    }
    return layers.reverse().reduce((under, layer) => over(layer, under), {r: 255, g: 255, b: 255, a: 1});
  };
  const problems = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (!el.getClientRects().length || el.closest('svg, option, [disabled], [aria-disabled="true"]')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    const bg = backdrop(el);
    const fg = over(parse(style.color), bg);
    const [light, dark] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight, 10) >= 700 && size >= 18.66);
    const under = `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})`;
    if (ratio < (large ? 3 : 4.5) - 0.005)
      problems.push(`${el.textContent.trim().slice(0, 16)}：${style.color} / ${under} = ${ratio.toFixed(2)}:1`);
  }
  return problems;
}"""


def focused(page) -> str:
    return page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()")


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page, city):
    for account in (None, city.account("district")):
        if account:
            log_in(page, account)
            page.goto("/members/")
        else:
            page.goto("/login")
        skip = page.get_by_role("link", name="跳到正文")
        expect(skip).not_to_be_in_viewport()  # out of sight until it has the focus
        page.keyboard.press("Tab")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("main#main")).to_be_focused()
        page.keyboard.press("Tab")  # the next stop is inside the content, not the top bar or the menu
        assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)"), focused(page)


@pytest.mark.parametrize("role", ["grassroots", "district", "centre"])
def test_no_menu_page_scrolls_sideways_at_320_px_and_every_text_contrasts(page, city, role):
    long_content(city)
    page.set_viewport_size(NARROW)
    page.goto("/login")
    found = {"/login": page.evaluate(CONTRAST_PROBLEMS) + page.evaluate(NARROW_PROBLEMS)}
    log_in(page, city.account(role))
    hrefs = page.locator("nav.sidemenu a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(hrefs) > 8, hrefs
    for href in hrefs:
        response = page.goto(href)
        assert_usable(page, response)
        expect(page.locator("nav.sidemenu summary")).to_be_visible()
        expect(page.locator("nav.sidemenu .menu-body")).to_be_hidden()  # folded
        # A data table may need scrolling to reach its 操作 column at 320 px (WCAG 1.4.10 lets a
        # table scroll both ways), but it scrolls inside its own box, never the page.
        tables = [problem for problem in page.evaluate(LAYOUT_PROBLEMS) if "操作列" not in problem]
        found[href] = page.evaluate(NARROW_PROBLEMS) + tables + page.evaluate(CONTRAST_PROBLEMS)
    bad = [f"{href}: {problem}" for href, problems in found.items() for problem in problems]
    assert not bad, "\n".join(bad)


def test_the_menu_folds_at_320_px_and_opens_with_the_keyboard(page, city):
    log_in(page, city.account("district"))
    page.set_viewport_size(NARROW)
    button = page.locator("nav.sidemenu summary")
    entry = page.locator("nav.sidemenu").get_by_role("link", name="会员信息")
    expect(button).to_have_text("菜单")
    expect(entry).to_be_hidden()
    for _ in range(12):  # skip link, the top bar's links and 退出, then the menu button
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.tagName") == "SUMMARY":
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(entry).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator("nav.sidemenu").get_by_role("link", name="首页")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    expect(entry).to_be_hidden()
    page.keyboard.press("Enter")
    entry.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/members/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("会员信息")
    expect(entry).to_be_hidden()  # the next page starts folded
    page.set_viewport_size(WIDE)  # a wide window: no button, the menu always open
    expect(button).to_be_hidden()
    expect(entry).to_be_visible()


def test_links_in_running_text_are_underlined(page, city, live_app):
    """Told apart from the words around them by more than colour (the login page's notices and
    hints); the menu and the buttons are not running text."""
    factories.make_notice(title="关于年度参保的通知")
    live_app.config["LOGIN_CAPTCHA"] = True
    try:
        page.goto("/login")
        underlined = "links => links.map(a => getComputedStyle(a).textDecorationLine.includes('underline'))"
        assert page.locator(".login-notices a, .hint a").evaluate_all(underlined) == [True, True]
    finally:
        live_app.config["LOGIN_CAPTCHA"] = False
    log_in(page, city.account("district"))
    page.goto("/batches/")  # 缴费凭证管理 and the other toolbar buttons are links in a paragraph
    shown = page.locator("nav.sidemenu a, p a.button").evaluate_all(underlined)
    assert len(shown) > 10 and not any(shown)


def answer(question: str) -> str:
    """The sum the 文字验证题 asks, worked out as an operator would."""
    import views.auth
    words = {views.auth.chinese_number(n): n for n in range(100)}
    match = re.search(r"验证题：(.+?)([加减])(.+)等于几？", question)
    first, second = words[match[1]], words[match[3]]
    return str(first + second if match[2] == "加" else first - second)


def test_a_blind_operator_logs_in_with_the_text_question(page, city, live_app):
    account = city.account("district")
    live_app.config["LOGIN_CAPTCHA"] = True
    try:
        page.goto("/login?next=/members/")
        expect(page.locator("img.captcha")).to_be_visible()
        page.get_by_role("link", name="改用文字验证题").click()
        expect(page.locator("img.captcha")).to_have_count(0)
        question = page.get_by_label(re.compile("^验证题："))
        page.get_by_label("账号").fill(account.username)
        page.get_by_label("密码").fill(factories.PASSWORD)
        question.fill("99")  # no question's answer (at most 29)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("alert")).to_have_text("验证题答案错误，请回答新的验证题")
        expect(page.get_by_label("账号")).to_have_value(account.username)
        page.get_by_label("密码").fill(factories.PASSWORD)
        label = page.locator("label[for=captcha]").inner_text()
        question.fill(answer(label))
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(re.compile(r"/members/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("会员信息")
    finally:
        live_app.config["LOGIN_CAPTCHA"] = False
