"""Units and words on the screens (issue 16 item 19): every money figure says 元, the
业务工作台 tiles use the menu's names."""

import re
from pathlib import Path

import pytest

from tests.helpers import soup
from views.menu import MENU

PARTIALS = Path(__file__).resolve().parent.parent / "partials"
# A money expression: yuan(x) or x|yuan, up to the end of its {{ … }}.
MONEY = re.compile(r"\{\{[^}]*?(?:\byuan\(|\|\s*yuan\b)[^}]*\}\}")


def test_every_money_figure_in_the_templates_is_followed_by_yuan():
    bare = []
    for template in sorted(PARTIALS.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for match in MONEY.finditer(text):
            if not text.startswith("元", match.end()):
                line = text.count("\n", 0, match.start()) + 1
                bare.append(f"{template.relative_to(PARTIALS)}:{line}: {match.group()}")
    assert bare == []


def test_the_money_pattern_finds_both_spellings():
    found = MONEY.findall("<td>{{ yuan(b.fee) }}</td><td>{{ c.amount|yuan }}元</td><td>{{ b.count }}</td>")
    assert found == ["{{ yuan(b.fee) }}", "{{ c.amount|yuan }}"]


@pytest.mark.parametrize("role", ["grassroots", "secondary", "district", "centre", "city"])
def test_workbench_tiles_use_the_menu_names(as_role, role):
    menu = {endpoint_label[1]: endpoint_label[0] for _section, entries in MENU for endpoint_label in entries}
    client = as_role(role)
    page = soup(client.get("/workbench"))
    # the tiles (a queue's waiting count beside its tile is a link of its own: not a name)
    tiles = {a["href"].split("?")[0]: a.get_text(strip=True) for a in page.select("ul.tiles a:not(.tile-count)")}
    assert tiles
    from flask import url_for
    with client.application.test_request_context():
        by_url = {url_for(endpoint): label for endpoint, label in menu.items()
                  if endpoint in client.application.view_functions}
    for url, label in tiles.items():
        if url in by_url:
            assert label == by_url[url], url
    if role != "centre":
        assert "保障信息查询" in tiles.values() and "参保信息查询" not in tiles.values()
