"""The frame every page shares (issue 20): 跳到正文 is its first element and leads to the main
content, which can take the focus; the menu sits behind its 菜单 fold button (opened by the
browser itself on a narrow window, see app.css)."""

import pytest

from tests.helpers import soup


@pytest.mark.parametrize("role, path", [
    (None, "/login"),
    (None, "/notices/"),
    ("grassroots", "/members/"),
    ("district", "/batches/"),
    ("centre", "/mutual-aid/centre/batches"),
])
def test_skip_link_first_and_the_main_content_focusable(client, as_role, role, path):
    response = (as_role(role) if role else client).get(path)
    assert response.status_code == 200
    page = soup(response)
    first = page.body.find(True)
    assert (first.name, first["href"], first.get_text(strip=True)) == ("a", "#main", "跳到正文")
    assert page.select_one("main#main")["tabindex"] == "-1"
    if role:
        fold = page.select_one("nav.sidemenu > details.menu-fold")
        assert [child.name for child in fold.find_all(True)] == ["summary"]
        assert fold.summary.get_text(strip=True) == "菜单"
        menu = fold.find_next_sibling()
        assert "menu-body" in menu["class"] and len(menu.select(".menu-section a")) > 5
        assert not page.select("nav.sidemenu a:not(.menu-body a)")  # every entry folds with it
