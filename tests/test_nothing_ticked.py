"""A ticked-row action with nothing ticked answers on the list itself (issue 16 item 17): the list
again with the reason — plain (a redirect to the list, its filters kept) and with htmx (an
HX-Redirect to the same) — never the separate 操作未完成 page."""

from datetime import datetime

import pytest
import time_machine

from models.cards import cards
from models.enroll import plans
from tests.factories.cards import make_batch
from tests.factories.members import new_member

ADD, REMOVE = "请先在待审批参保列表中勾选要添加至待提交的参保信息", "请先在待提交参保列表中勾选要移除的参保信息"
RETURN = "请先在待审批参保列表中勾选要退回的参保信息"
# (role, the action's URL, extra form fields, the list it answers on, the reason)
ACTIONS = [
    ("district", "/review/central/add", {}, "/review/central", ADD),
    ("district", "/review/central/remove", {}, "/review/central", REMOVE),
    ("district", "/review/central/return", {"step": "ask"}, "/review/central", RETURN),
    ("secondary", "/review/instant/add", {}, "/review/instant", ADD),
    ("secondary", "/review/instant/remove", {}, "/review/instant", REMOVE),
    ("secondary", "/review/instant/return", {"step": "ask"}, "/review/instant", RETURN),
    ("grassroots", "/cards/pending/add", {}, "/cards/", "请先勾选要加入待办会员列表的会员"),
    ("grassroots", "/cards/pending/add", {"from": "roster"}, "/members/", "请先勾选要加入待办会员列表的会员"),
    ("grassroots", "/members/delete", {}, "/members/", "请先勾选要删除的会员"),
    ("grassroots", "/members/transfer", {}, "/members/", "请先勾选要转出的会员"),
    ("district", "/members/approvals/batch", {}, "/members/approvals", "请先勾选要审核通过的记录"),
    ("district", "/members/transfers/batch", {}, "/members/transfers", "请先勾选要审核通过的转移申请"),
    ("grassroots", "/enroll/card/pending", {}, "/enroll/card/pending", "请先勾选要确认的人员"),
    ("grassroots", "/enroll/social/central/pending", {}, "/enroll/social/central/pending", "请先勾选要确认的人员"),
    ("district", "/cards/batches/{batch}/unreturned", {"reason": "银行未开卡"}, "/cards/batches/{batch}",
     "请勾选开卡失败的人员"),
]


@pytest.fixture
def season(city):
    """The centralized season (November 2026: enrolling 2027) with both years set up."""
    with time_machine.travel(datetime(2026, 11, 15, 10, 0), tick=False):
        plans.create_year(2026)
        plans.create_year(2027)
        yield city


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("role, url, extra, listing, reason", ACTIONS,
                         ids=[f"{a[1]}{'-' + a[2].get('from', '') if a[2].get('from') else ''}" for a in ACTIONS])
def test_nothing_ticked_answers_on_the_list(season, as_role, htmx, role, url, extra, listing, reason):
    batch = make_batch(season.orgs["grassroots1"], status=cards.SENT)
    url, listing = url.format(batch=batch.id), listing.format(batch=batch.id)
    client = as_role(role)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(url, data=extra, headers=headers)
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == listing
    else:
        assert response.status_code == 302 and response.headers["Location"] == listing
    page = client.get(listing)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert reason in text and '<div class="alert alert-error" role="alert">' in text
    assert "操作未完成" not in text


def test_the_list_keeps_its_filters(season, as_role):
    client = as_role("district")
    response = client.post("/review/central/add",
                           headers={"Referer": "http://localhost/review/central?p_name=%E7%94%B2&p_page=2"})
    assert response.headers["Location"] == "/review/central?p_name=%E7%94%B2&p_page=2"
    # A Referer of another page (or site) is never followed.
    response = client.post("/review/central/add", headers={"Referer": "http://evil.example/review/central?x=1"})
    assert response.headers["Location"] == "/review/central"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_submitting_an_empty_card_list_says_so_on_the_list(city, as_role, htmx):
    client = as_role("grassroots")
    response = client.post("/cards/pending/submit", headers={"HX-Request": "true"} if htmx else {})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "待办会员列表中没有会员" in text and 'id="submit-error"' in text and "操作未完成" not in text
    assert ('<div id="rows">' in text) and (("<html" in text) != htmx)


def test_a_stale_review_row_is_refused_on_the_list(season, as_role):
    client = as_role("district")
    response = client.post("/review/central/add", data={"key": "999-0-0-1-1"})
    assert response.status_code == 302 and response.headers["Location"] == "/review/central"
    text = client.get("/review/central").get_data(as_text=True)
    assert "所选记录" in text and "操作未完成" not in text


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("url, field, listing, reason", [
    ("/members/approvals/batch", "member", "/members/approvals", "勾选的记录不存在或已被处理"),
    ("/members/transfers/batch", "transfer", "/members/transfers", "勾选的转移申请不存在或已被处理"),
])
def test_a_stale_or_forged_batch_selection_is_said_on_the_list(city, as_role, htmx, url, field, listing, reason):
    """Ticked rows handled meanwhile (a rejected new member is gone) or forged ids: the list again
    with the reason, nothing changed — not a separate 404 page."""
    from models.members import members
    from models.members.people import Membership
    from models.orgs.organizations import Organization
    Organization.update(member_review=True).execute()
    waiting = new_member(city, "仍待审")
    client = as_role("district")
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(url, data={field: [waiting.id, 99999999]} if field == "member" else {field: [99999999]},
                           headers=headers)
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == listing
    else:
        assert response.status_code == 302 and response.headers["Location"] == listing
    text = client.get(listing).get_data(as_text=True)
    assert reason in text and "操作未完成" not in text
    assert Membership.get_by_id(waiting.id).status == members.PENDING
