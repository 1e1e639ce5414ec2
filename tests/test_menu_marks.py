"""The left menu marks the page shown (aria-current="page"), and on a page below an entry — a
member's detail, a card batch, 批量导入会员 — the entry it belongs to, so the clerk sees where
they are (the walk-through found no entry marked on sub-pages)."""

import pytest

from tests import factories
from tests.helpers import soup


def marked(response) -> list[str]:
    menu = soup(response).find("nav", class_="sidemenu")
    return [a.get_text(strip=True) for a in menu.find_all("a", attrs={"aria-current": "page"})]


def test_an_entry_s_own_page_is_marked_and_only_it(as_role):
    grassroots = as_role("grassroots")
    assert marked(grassroots.get("/members/")) == ["会员信息"]
    assert marked(grassroots.get("/cards/batches")) == ["办卡批次管理"]  # not 卡片信息管理 (/cards/) too
    assert marked(grassroots.get("/password")) == ["修改密码"]


@pytest.mark.parametrize("path, entry", [
    ("/members/{member}", "会员信息"),
    ("/members/{member}/edit", "会员信息"),
    ("/orgs/{org}", "组织信息"),
    ("/members/import", "会员信息"),
    ("/cards/batches/{batch}", "办卡批次管理"),
])
def test_a_page_below_an_entry_marks_that_entry(as_role, city, path, entry):
    from tests.factories.cards import make_batch
    union = city.orgs["grassroots1"]
    objects = {"member": factories.make_member(union).id, "org": union.id,
               "batch": make_batch(union, people=1).id}
    response = as_role("grassroots").get(path.format(**objects))
    assert response.status_code == 200, path
    assert marked(response) == [entry]
