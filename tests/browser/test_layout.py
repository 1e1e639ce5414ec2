"""Every menu page of every role fits a 1024 × 768 window (issue 16 item 15), JavaScript on and off:
the page is never wider than the window, a table wider than its column scrolls inside its own box,
and a table's action column (操作) is on screen without scrolling. The lists hold long names,
addresses and unbroken strings so that wrapping is really exercised.

Also the page chrome (item 19): search buttons read 搜索, the favicon is served, and a form error
logs no Content-Security-Policy violation."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from models.enroll import plans
from models.enroll.enrollment import Enrollment
from models.members import members
from models.members.people import TransferRequest
from tests import factories
from tests.browser.helpers import assert_usable, log_in
from tests.factories import cards, review
from tests.factories.enroll import enrolling_year

ROLES = ["grassroots", "secondary", "district", "centre", "city", "admin"]
VIEWPORT = {"width": 1024, "height": 768}

LONG_UNION = "上海市黄浦区南京东路街道商务楼宇联合工会第二分会暨上海新世界百货有限公司职工之家工会委员会"
LONG_NAME = "阿卜杜热合曼·买买提艾力·阿不都热依木·吐尔逊托合提"
LONG_ADDRESS = ("上海市黄浦区南京东路街道九江路一千二百三十四弄五十六号七楼七百八十九室（近西藏中路）"
                "Room-1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ-Building-B")
LONG_REASON = "因工作调动至其他单位，本人申请转出，原单位工会已确认其会员身份及会费缴纳情况无误，特此说明"

# Where the long content must show up (so the check below is not run on empty lists).
SHOWN = {
    ("grassroots", "/members/"): LONG_NAME,
    ("grassroots", "/members/transfers"): LONG_REASON,
    ("district", "/members/"): LONG_UNION,
    ("secondary", "/members/"): LONG_UNION,
    ("centre", "/batches/"): "CB2026",
    ("centre", "/enroll-stats/people"): LONG_UNION,
    ("city", "/batches/vouchers"): "缴费凭证",
}

# Problems of the page as the user sees it: wider than the window, a table cut off by a box
# that does not scroll, an action column (操作) that is not on screen without scrolling.
LAYOUT_PROBLEMS = """() => {
  const WIDE_CELL = 300;
  const problems = [];
  const width = window.innerWidth;
  const page = document.documentElement.scrollWidth;
  if (page > width) problems.push(`页面宽 ${page}px，窗口宽 ${width}px`);
  const clippers = el => {
    const boxes = [];
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o !== 'visible') boxes.push([a, o]);
    }
    return boxes;
  };
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const table of document.querySelectorAll('table')) {
    if (!shown(table)) continue;
    const name = (table.id || table.className || 'table') + ' ' + (table.querySelector('th') || {}).textContent;
    const rect = table.getBoundingClientRect();
    const boxes = clippers(table);
    const scrolls = boxes.some(([, o]) => o === 'auto' || o === 'scroll');
    if (!scrolls) {
      if (rect.right > width + 1) problems.push(`${name}：表格超出窗口（右边 ${Math.round(rect.right)}px）`);
      for (const [box] of boxes) {
        const r = box.getBoundingClientRect();
        if (rect.right > r.right + 1) problems.push(`${name}：表格被裁掉（${box.className}）`);
      }
    }
    const box = boxes.length ? boxes[0][0] : null;
    if (box && box.scrollWidth > box.clientWidth + 1) {
      // The table needs scrolling: then no cell may stay wide because its text did not wrap.
      for (const cell of table.querySelectorAll('td')) {
        const w = cell.getBoundingClientRect().width;
        if (cell.colSpan === 1 && w > WIDE_CELL) {
          problems.push(`${name}：单元格宽 ${Math.round(w)}px 未换行（${cell.textContent.trim().slice(0, 20)}）`);
          break;
        }
      }
    }
    const heads = table.querySelectorAll('thead th');
    if (!heads.length || heads[heads.length - 1].textContent.trim() !== '操作') continue;
    let left = 0, right = width;
    for (const [box] of boxes) {
      const r = box.getBoundingClientRect();
      left = Math.max(left, r.left); right = Math.min(right, r.right);
    }
    const cells = [heads[heads.length - 1]];
    for (const row of table.tBodies.length ? table.tBodies[0].rows : []) {
      const last = row.cells[row.cells.length - 1];
      if (last && !last.classList.contains('empty')) cells.push(last);
    }
    for (const cell of cells) {
      const r = cell.getBoundingClientRect();
      if (r.left < left - 1 || r.right > right + 1) {
        const at = `${Math.round(r.left)}–${Math.round(r.right)}px`;
        const seen = `${Math.round(left)}–${Math.round(right)}px`;
        problems.push(`${name}：操作列不在可见范围（${at}，可见 ${seen}）`);
        break;
      }
    }
  }
  return problems;
}"""


def long_content(city):
    """Lists with long content for each role: members, a transfer, card batches and pending rows,
    district batches and a voucher, enrolled people — in unions with long names."""
    o = city.orgs
    union = o["grassroots1"]
    wide = factories.make_org(o["secondary1"], name=LONG_UNION)
    for org in (union, wide, union):
        cards.card_member(org, name=LONG_NAME, address=LONG_ADDRESS,
                                   work_unit="上海市黄浦区南京东路商务大楼第二十三层人力资源部")
    cards.make_pending(union, name=LONG_NAME, address=LONG_ADDRESS)
    cards.make_batch(union)
    cards.make_batch(union, status="已报送银行")
    leaving = factories.make_member(union, name=LONG_NAME)
    target = members.join(leaving.person, wide, status=members.TRANSFER_IN)
    TransferRequest.create(person=leaving.person, source=leaving, target=target, from_org=union, to_org=wide,
                           filed_by_org=wide, reason=LONG_REASON, status="待审核")
    year = enrolling_year(city)
    for kind, status in (("集中参保", "参保审核中"), ("即时参保", "缴费凭证待上传"), ("集中参保", "凭证审核中")):
        batch = review.make_batch(union, status=status, kind=kind)
    review.make_voucher(union, batch)
    type_a = plans.types_of(year)[0]
    for org in (wide, union):
        for _ in range(2):
            person = factories.make_member(org, name=LONG_NAME).person
            Enrollment.create(person=person, year=year, org=org, channel="会员卡参保", mode="集中参保", type=type_a,
                              start=date(year.year, 1, 1), end=date(year.year, 12, 31), period="全年",
                              fee=2600, city=1300, district=1300)


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_fits_a_1024_window(page, city, role):
    long_content(city)
    page.set_viewport_size(VIEWPORT)
    log_in(page, city.account(role))
    hrefs = page.locator("nav.sidemenu a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(hrefs) > 8, hrefs
    found = {}
    for href in hrefs:
        response = page.goto(href)
        assert_usable(page, response)
        if (role, href) in SHOWN:
            expect(page.locator("#main")).to_contain_text(SHOWN[role, href])
        found[href] = page.evaluate(LAYOUT_PROBLEMS)
    bad = [f"{href}: {problem}" for href, problems in found.items() for problem in problems]
    assert not bad, "\n".join(bad)


def test_the_member_name_opens_the_member_and_the_transfer(page, city):
    long_content(city)
    page.set_viewport_size(VIEWPORT)
    log_in(page, city.account("grassroots"))
    page.goto("/members/")
    page.locator("table.member-list").get_by_role("link", name=LONG_NAME).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(LONG_NAME)
    expect(page).to_have_url(re.compile(r"/members/\d+$"))
    page.goto("/members/transfers")
    page.locator("table.transfers").get_by_role("link", name=LONG_NAME, exact=True).click()  # not 审核：…
    expect(page.get_by_role("heading", level=1)).to_have_text(f"会员转移申请：{LONG_NAME}")


def test_the_batch_number_opens_the_batch(page, city):
    long_content(city)
    page.set_viewport_size(VIEWPORT)
    log_in(page, city.account("centre"))
    page.goto("/batches/")
    number = page.locator("table.batches tbody tr").first.locator("td").first
    batch = number.inner_text().strip()
    number.get_by_role("link", name=batch).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"批次详情 {batch}")


@pytest.mark.parametrize("role", ["district", "centre"])
def test_search_buttons_read_sou_suo(page, city, role):
    """No icon letter in a button's name ("Q 搜索"): the search buttons of the lists read 搜索."""
    long_content(city)
    log_in(page, city.account(role))
    for href in ("/batches/", "/batches/vouchers") + (("/review/central",) if role == "district" else ()):
        page.goto(href)
        names = page.locator("#main button").evaluate_all("bs => bs.map(b => b.textContent.trim())")
        assert "搜索" in names, (href, names)
        assert not [n for n in names if re.match(r"^[A-Za-z]\s", n)], (href, names)


def test_a_form_error_logs_no_console_warning(page, city):
    """A refused form (422, the fields marked) shows without any Content-Security-Policy
    violation or missing file (favicon) in the console."""
    logged = []
    page.on("console", lambda message: logged.append(message.text))
    log_in(page, city.account("grassroots"))
    page.goto("/members/new")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".field-error").first).to_be_visible()
    page.goto("/password")
    page.locator("#old_password").fill("wrong-password-1")
    page.locator("#new_password").fill("Qz7#tulip-harbor")
    page.locator("#confirm").fill("Qz7#tulip-harbor")
    page.locator("#main button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.wait_for_timeout(300)  # late console messages (the icon is fetched after load)
    bad = [text for text in logged if "Content Security Policy" in text or "Refused to" in text or "404" in text]
    assert not bad, bad
