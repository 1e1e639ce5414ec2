"""Every `next` (a form field or the login's query argument) and the Referer a ticked-row action
returns to pass one validator (views.access.local_target): a control character, a backslash, another
scheme or host, `//` or an over-long value sends the user to the default page — never off-site,
never a 500 (a newline in a Location header made werkzeug raise)."""

from urllib.parse import quote

import pytest

from models.members.people import MemberChange
from tests import factories
from tests.factories.members import approved_member, change_identity, new_member, review_on, transfer_in

HOSTILE = [
    "/members/approvals?x=\nfoo", "/members/approvals?x=\r\nSet-Cookie: a=1", "/members/approvals?x=\tfoo",
    "/members/approvals?x=\x7ffoo", "/members/approvals?x=\\foo", "/members/approvals\\",
    "/members/transfers?x=\nfoo", "/members/transfers?x=\tfoo", "/members/transfers?x=\\foo",
    "https://evil.example/members/approvals", "https://evil.example/members/transfers",
    "//evil.example/members/approvals", "///members/approvals", "/members/approvals?" + "a" * 5000,
]
IDS = ["nl", "crlf", "tab", "del", "bs-query", "bs-path", "t-nl", "t-tab", "t-bs", "abs", "t-abs", "slashes",
       "triple", "long"]


def _member(city):
    review_on(city)
    return f"/members/approvals/{new_member(city).id}/approve", "/members/approvals"


def _change(city):
    review_on(city)
    m = approved_member(city, "改名")
    change_identity(city, m, name="改名乙")
    change = MemberChange.get(MemberChange.membership == m.id)
    return f"/members/approvals/changes/{change.id}/approve", "/members/approvals"


def _batch(city):
    review_on(city)
    return "/members/approvals/batch", "/members/approvals", {"member": [new_member(city).id]}


def _batch_none(city):
    return "/members/approvals/batch", "/members/approvals", {}


def _transfer(city):
    t = transfer_in(city)
    return f"/members/transfers/{t.id}/approve", f"/members/transfers/{t.id}"


def _transfers(city):
    t = transfer_in(city)
    return "/members/transfers/batch", "/members/transfers", {"transfer": [t.id]}


def _transfers_none(city):
    return "/members/transfers/batch", "/members/transfers", {}


# (role, which account, the form's set-up, whether htmx gets an empty 200 (the row disappears))
ROUTES = {
    "approve-member": ("district", 0, _member, True),
    "approve-change": ("district", 0, _change, True),
    "approve-batch": ("district", 0, _batch, False),
    "approve-batch-none": ("district", 0, _batch_none, False),
    "approve-transfer": ("grassroots", 0, _transfer, False),
    "approve-transfers": ("grassroots", 0, _transfers, False),
    "approve-transfers-none": ("grassroots", 0, _transfers_none, False),
}


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("target", HOSTILE, ids=IDS)
@pytest.mark.parametrize("route", list(ROUTES))
def test_a_hostile_next_returns_to_the_default_page(city, as_role, route, target, htmx):
    role, which, setup, row_swap = ROUTES[route]
    url, default, *form = setup(city)
    data = dict(form[0]) if form else {}
    data["next"] = target
    response = as_role(role, which).post(url, data=data, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code < 500, response.status_code
    if htmx and row_swap:
        assert (response.status_code, response.get_data()) == (200, b"")
    elif htmx:
        assert (response.status_code, response.headers["HX-Redirect"]) == (204, default)
    else:
        assert (response.status_code, response.headers["Location"]) == (302, default)


@pytest.mark.parametrize("route", ["approve-batch", "approve-transfers"])
def test_a_local_next_of_the_list_is_kept(city, as_role, route):
    role, which, setup, _ = ROUTES[route]
    url, default, form = setup(city)
    back = f"{default}?page=2"
    response = as_role(role, which).post(url, data={**form, "next": back})
    assert response.headers["Location"] == back
    response = as_role(role, which).post(url, data={"next": "/home"})  # another page of the app: the list
    assert response.headers["Location"] == default


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("target", ["/home?x=\nfoo", "/home?x=\tfoo", "/home?x=\\foo", "https://evil.example/home",
                                    "/\\evil.example", "//evil.example/home"])
def test_login_next_refused_plain_and_htmx(app, city, target, htmx):
    account = city.account("district")
    response = app.test_client().post(f"/login?next={quote(target, safe='')}",
                                      data={"username": account.username, "password": factories.PASSWORD},
                                      headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code < 500
    assert (response.headers.get("HX-Redirect") or response.headers["Location"]) == "/home"


@pytest.mark.parametrize("referer", [
    "http://localhost/review/central?x=\tfoo", "http://localhost/review/central?x=\\foo",
    "http://localhost/review/central?x=\x7ffoo", "http://localhost//review/central",
    "http://localhost/review/central\\", "http://evil.example/review/central?x=1",
    "http://localhost/review/central?" + "a" * 5000])
def test_a_hostile_referer_returns_to_the_bare_list(city, as_role, referer):
    from datetime import datetime

    import time_machine

    from models.enroll import plans
    with time_machine.travel(datetime(2026, 11, 15, 10, 0), tick=False):
        plans.create_year(2026)
        plans.create_year(2027)
        response = as_role("district").post("/review/central/add", headers={"Referer": referer})
    assert (response.status_code, response.headers["Location"]) == (302, "/review/central")
