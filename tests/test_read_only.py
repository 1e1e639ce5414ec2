"""The 市总工会 account (role `city`) is read-only everywhere (spec 05): every POST route of the
route table refuses it in Chinese and changes nothing, and no page it can open shows it a write
control. Both walks are derived from app.url_map, so a route added later is covered."""

from urllib.parse import urlsplit

from flask import url_for

from models.jobs import Job
from models.schema import ALL_MODELS
from tests.factories import make_job, make_org_request
from tests.helpers import soup
from tests.routes import build, make_objects, rule_access, rules
from views.access import CITY_MAY_POST

READ_ONLY_REFUSAL = "市总工会账号只能查看，不能修改数据"


def snapshot():
    """Every row of every table: what 'nothing changed' compares."""
    return {m._meta.table_name: sorted(map(repr, m.select().tuples())) for m in ALL_MODELS}


def objects_for(app, rule, account, org):
    access = rule_access(app, rule)
    own = any(getattr(m, "own_org_only", False) for m in access.objects.values())
    return make_objects(access, account.org if own else org)


def city_routes(app, method):
    """The routes (of any role rule: the admin-only ones must refuse too) that take `method`."""
    return [r for r in rules(app) if method in r.methods and not rule_access(app, r).public]


def test_every_post_route_refuses_the_city_account_and_changes_nothing(app, city, as_role):
    client = as_role("city")
    routes = [r for r in city_routes(app, "POST") if r.endpoint not in CITY_MAY_POST]
    assert any(r.endpoint == "org_requests.decide" for r in routes)
    assert any(r.endpoint == "orgs.edit_own" for r in routes)
    urls = [build(r, objects_for(app, r, city.account("city"), city.orgs["grassroots1"])) for r in routes]
    # a request an approver could decide (the URLs above hold one the city is not above)
    request_ = make_org_request(city.orgs["district1"])
    urls += [f"/orgs/requests/{request_.id}/approve", f"/orgs/requests/{request_.id}/reject"]
    # routes of other roles refuse it as they refuse anyone else; its own routes as read-only
    expected = [READ_ONLY_REFUSAL if "city" in rule_access(app, r).roles or rule_access(app, r).writes
                else "您的账号无权使用此功能" for r in routes] + [READ_ONLY_REFUSAL] * 2
    before = snapshot()
    for url, reason in zip(urls, expected, strict=True):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.post(url, headers=headers, data={
                "name": "改名的市总工会", "reason": "x", "confirmed": "1", "ids": "1"})
            assert response.status_code == 403, (url, headers, response.status_code)
            text = soup(response).select_one(".refusal").get_text()
            assert text == reason, url
    assert snapshot() == before


def test_the_city_account_may_still_change_its_password_read_messages_and_log_out(city, as_role):
    assert CITY_MAY_POST == {"auth.logout", "auth.change_password", "messages.mark_all"}
    client = as_role("city")
    assert client.post("/messages/read").status_code == 302
    response = client.post("/password", data={"old_password": "test-pass-1", "new_password": "Zq-9xv-Tw4",
                                              "confirm": "Zq-9xv-Tw4"})
    assert response.status_code == 302
    assert client.post("/logout").status_code == 302


WRITE_ATTRS = ("hx-post", "hx-put", "hx-patch", "hx-delete")
SUBMITS = "button:not([type]), button[type=submit], input[type=submit], input[type=image]"


def write_controls(soup, allowed_actions):
    """POST forms with something to press (their own buttons, or buttons elsewhere naming them
    with form=), buttons that turn a form into a POST, and htmx write requests."""
    found = []
    for form in soup.find_all("form"):
        if (form.get("method") or "get").lower() != "post" or form.get("action") in allowed_actions:
            continue
        presses = form.select(SUBMITS)
        if form.get("id"):
            presses += soup.select(f'[form="{form["id"]}"]:is({SUBMITS})')
        found += [f"{form.get('action')}: {b.get_text(strip=True) or b}" for b in presses]
    for tag in soup.find_all(True):
        if any(tag.has_attr(a) for a in WRITE_ATTRS) and tag.get("hx-post") not in allowed_actions:
            found.append(str(tag)[:160])
        if (tag.get("formmethod") or "").lower() == "post":
            found.append(str(tag)[:160])
    return found


def test_no_page_shows_the_city_account_a_write_control(app, city, as_role):
    """Every GET route the city may open renders nothing that posts (but 退出 / 修改密码 /
    全部标为已读) and no link to a page that would refuse it (修改信息, 新增会员, 编辑, …)."""
    account = city.account("city")
    make_org_request(city.orgs["district1"])  # a pending 组织审核 request: no 通过 / 驳回 for the city
    urls = [build(rule, objects_for(app, rule, account, city.orgs["grassroots1"]))
            for rule in city_routes(app, "GET") if account.role in rule_access(app, rule).roles]
    # states the factories do not make: a failed job (重试), a member import's result page
    failed = make_job(city.orgs["grassroots1"], status="失败")
    imported = make_job(city.orgs["grassroots1"])
    Job.update(kind="member_import").where(Job.id == imported.id).execute()
    urls += [f"/jobs/{failed.id}", f"/members/import/{imported.id}"]
    with app.test_request_context():
        allowed = {url_for(e) for e in CITY_MAY_POST}
    client = as_role("city")  # objects made first, so the lists have rows (and their buttons)
    problems, links = [], {}
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        shown = soup(response)
        problems += [f"{url}: {c}" for c in write_controls(shown, allowed)]
        for a in shown.find_all("a", href=True):
            parts = urlsplit(a["href"])
            if not parts.scheme and not parts.netloc and parts.path.startswith("/") \
                    and not parts.path.startswith("/static/"):
                links.setdefault(a["href"], url)
    for href, page in sorted(links.items()):
        if client.get(href).status_code == 403:
            problems.append(f"{page} links to {href}, which refuses the city account")
    assert problems == [], "\n".join(problems)


def test_org_review_and_own_org_pages_show_no_decision_or_edit_to_the_city(city, as_role):
    request_ = make_org_request(city.orgs["district1"])
    client = as_role("city")
    detail = soup(client.get(f"/orgs/requests/{request_.id}"))
    buttons = [b.get_text(strip=True) for b in detail.find_all("button")]
    assert "通过" not in buttons and "驳回" not in buttons and buttons == ["退出"]
    root = soup(client.get(f"/orgs/{city.orgs['city'].id}"))
    assert "修改信息" not in root.get_text()  # neither in the menu nor on the page
    assert client.get("/orgs/mine/edit").status_code == 403
