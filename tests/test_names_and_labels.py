"""Names and labels a screen reader needs (issue 20 item 8): on every menu page of the grassroots,
district and centre accounts (with `make run`'s demo data, so the lists have rows), every field of a
filter form has a label that stays when the clerk types (not a placeholder alone), every data table
has a caption naming what it lists, and no two links or buttons of one table have the same name
(five rows of "查看详情" read as "查看详情：张三", "查看详情：李四" …)."""

import re
from pathlib import Path

from models.demo import load_demo
from models.orgs.accounts import Account
from tests import factories
from tests.helpers import soup

ROLES = ("grassroots", "district", "centre")
NOT_FIELDS = {"hidden", "submit", "button", "reset", "image"}
PARTIALS = Path(__file__).resolve().parent.parent / "partials"


def _text(element) -> str:
    """The element's text as a screen reader reads it (parts marked aria-hidden left out)."""
    for hidden in element.select('[aria-hidden="true"]'):
        hidden.extract()
    return re.sub(r"\s+", " ", element.get_text(" ")).strip()


def _by_ids(page, ids: str) -> str:
    return " ".join(_text(page.find(id=i).__copy__()) for i in ids.split() if page.find(id=i))


def accessible_name(page, element) -> str:
    """aria-labelledby, then aria-label, then the content (a submit input: its value)."""
    if element.get("aria-labelledby"):
        return _by_ids(page, element["aria-labelledby"])
    if element.get("aria-label", "").strip():
        return element["aria-label"].strip()
    if element.name == "input":
        return element.get("value", "").strip()
    return _text(element.__copy__()) or element.get("title", "").strip()


def target(element) -> str:
    """Where a link or button leads: links of one name to one place (a union's name in each of its
    enterprises' rows) are one purpose, not a repeat."""
    if element.name == "a":
        return element["href"]
    form = element.find_parent("form")
    return f"{form.get('action') if form else ''} {element.get('name', '')}={element.get('value', '')}"


def labelled(page, field) -> bool:
    """A label the field keeps while typed into: <label for=id>, aria-labelledby, or a wrapping
    <label> — with text. A placeholder or aria-label alone does not count."""
    if field.get("aria-labelledby") and _by_ids(page, field["aria-labelledby"]):
        return True
    if field.get("id"):
        for label in page.find_all("label", attrs={"for": field["id"]}):
            if _text(label.__copy__()):
                return True
    wrapping = field.find_parent("label")
    return wrapping is not None and bool(_text(wrapping.__copy__()))


def problems(url: str, page) -> list[str]:
    found = []
    for form in page.select("form.filters"):
        for field in form.select("input, select, textarea"):
            if field.name == "input" and field.get("type", "text") in NOT_FIELDS:
                continue
            if not labelled(page, field):
                found.append(f"{url}: field {field.get('name')!r} has no label")
    for index, table in enumerate(page.select("table.grid")):
        caption = table.find("caption")
        if caption is None or not _text(caption.__copy__()):
            found.append(f"{url}: table {index + 1} has no caption")
        targets: dict[str, set] = {}
        for e in table.select("a[href], button, input[type=submit], input[type=button]"):
            targets.setdefault(accessible_name(page, e), set()).add(target(e))
        repeated = sorted(n for n, where in targets.items() if len(where) > 1)
        if repeated:
            found.append(f"{url}: table {index + 1} repeats {repeated}")
    ids = [e["id"] for e in page.select("[id]")]
    found += [f"{url}: id {i!r} twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return found


def test_every_menu_page_names_its_fields_tables_and_row_actions(app):
    load_demo(password="Demo-pass-1", members=120)
    found, walked = [], 0
    for username in ROLES:
        browser = app.test_client()
        factories.login(browser, Account.get(Account.username == username), "Demo-pass-1")
        home = soup(browser.get("/home"))
        urls = [a["href"] for a in home.select("nav.sidemenu a[href]")]
        assert len(urls) > 10, username
        for url in urls:
            response = browser.get(url)
            assert response.status_code == 200, (username, url, response.status_code)
            found += [f"{username} {p}" for p in problems(url, soup(response))]
            walked += 1
    assert walked > 60
    assert not found, "\n".join(found)


def test_the_checks_see_what_they_look_for():
    """A placeholder-only field, a table without a caption and two 查看详情 are found; a field with a
    hidden label, a captioned table and "查看详情：张三" / "查看详情：李四" pass."""
    from bs4 import BeautifulSoup
    bad = BeautifulSoup(
        '<form class="filters"><input name="q" placeholder="姓名" aria-label="姓名">'
        '<label>类型 <select name="kind"></select></label></form>'
        '<table class="grid"><tr><td><a href="/1">查看详情</a></td></tr>'
        '<tr><td><a href="/2">查看详情</a></td></tr></table>',
        "html.parser")
    assert problems("/bad", bad) == ["/bad: field 'q' has no label", "/bad: table 1 has no caption",
                                     "/bad: table 1 repeats ['查看详情']"]
    good = BeautifulSoup(
        '<form class="filters"><label for="f-q" class="sr-only">姓名</label><input id="f-q" name="q"></form>'
        '<table class="grid"><caption>会员信息列表</caption>'
        '<tr><td><a href="/1" aria-label="查看详情：张三">查看详情</a></td></tr>'
        '<tr><td><a href="/2">查看详情<span class="sr-only">：李四</span></a></td></tr>'
        '<tr><td><a href="/org/7">南京东路街道</a></td></tr>'
        '<tr><td><a href="/org/7">南京东路街道</a></td></tr></table>',
        "html.parser")
    assert problems("/good", good) == []


def test_every_data_table_in_the_templates_has_a_caption():
    """Pages off the menu too (a batch's detail, an import's result): each <table class="grid"> in
    partials/ opens with its <caption>."""
    missing = []
    for template in sorted(PARTIALS.rglob("*.html")):
        source = template.read_text(encoding="utf-8")
        for match in re.finditer(r'<table class="grid[^"]*"[^>]*>\s*', source):
            if not source.startswith("<caption", match.end()):
                missing.append(f"{template.relative_to(PARTIALS)}:{source.count(chr(10), 0, match.start()) + 1}")
    assert not missing, "\n".join(missing)


LITERAL = re.compile(r"[^{}<>]+|\{\{ '[^']*' if [^}]* else '[^']*' \}\}")


def test_every_repeated_row_action_in_the_templates_names_its_row():
    """A link or button with fixed words (查看, 批次详情, 退回, 移除 …) in a table's rows repeats on
    every row: each carries an aria-label naming its row (pages the walk above sees with one row or
    none — a batch's list, an import history — too)."""
    unnamed = []
    for template in sorted(PARTIALS.rglob("*.html")):
        source = template.read_text(encoding="utf-8")
        for body in re.finditer(r"<tbody>(.*?)</tbody>", source, re.S):
            if "{% for" not in body.group(1):
                continue
            for m in re.finditer(r"<(a|button)\b([^>]*)>(.*?)</\1>", body.group(1), re.S):
                tag, attrs, text = m.groups()
                if "aria-label" in attrs or (tag == "a" and "href" not in attrs) or "sr-only" in text:
                    continue
                if LITERAL.fullmatch(text.strip()):
                    line = source.count("\n", 0, body.start(1) + m.start()) + 1
                    unnamed.append(f"{template.relative_to(PARTIALS)}:{line} {text.strip()}")
    assert not unnamed, "\n".join(unnamed)
