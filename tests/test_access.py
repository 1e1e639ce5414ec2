"""The scope and permission matrix: every route declares its rule; every object-taking route
answers 404 for another organisation's object, for every role; unauthenticated → login."""

import pytest
from werkzeug.routing import AnyConverter

from models.audit import AuditLog
from models.orgs.organizations import Organization
from tests import factories
from tests.helpers import soup
from tests.routes import build, make_objects, rules


def test_every_route_declares_an_access_rule(app):
    undeclared = [r.rule for r in rules(app) if not hasattr(app.view_functions[r.endpoint], "_access")]
    assert undeclared == []


def test_every_url_id_is_a_declared_object(app):
    """Every id in a URL is loaded through the scope helper (public pages check their own
    published state instead; <any(...)> action names are not ids)."""
    problems = []
    for rule in rules(app):
        access = app.view_functions[rule.endpoint]._access
        if access.public:
            continue
        for arg in rule.arguments:
            if arg not in access.objects and not isinstance(rule._converters[arg], AnyConverter):
                problems.append(f"{rule.rule}: {arg}")
    assert problems == []


def object_routes(app):
    out = []
    for rule in rules(app):
        access = app.view_functions[rule.endpoint]._access
        if access.objects:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule, method, access))
    return out


# (role, which account, organisation key of an object outside that account's scope,
#  organisation key of an object inside it)
CASES = [
    ("district", 0, "grassroots2", "grassroots1"),
    ("district", 0, "district2", "direct1"),
    ("secondary", 0, "direct1", "grassroots1"),  # same district, outside the street union
    ("secondary", 0, "grassroots2", "secondary1"),
    ("grassroots", 0, "direct1", "grassroots1"),  # a sibling grassroots union
    ("grassroots", 0, "secondary1", "grassroots1"),  # its own superior
]


@pytest.mark.parametrize("role,which,outside,inside", CASES)
def test_other_organisations_objects_are_404(app, city, role, which, outside, inside):
    account = city.account(role, which)
    client = app.test_client()
    factories.login(client, account)
    routes = object_routes(app)
    assert routes, "no object-taking routes found"
    for rule, method, access in routes:
        allowed = role in access.roles
        foreign = make_objects(access, city.orgs[outside])
        before = AuditLog.select().count()
        response = client.open(build(rule, foreign), method=method)
        expected = 404 if allowed else 403
        assert response.status_code == expected, (rule.rule, method, role, response.status_code)
        assert AuditLog.select().count() == before, (rule.rule, method, "changed something")
        if allowed and method == "GET":
            own_org = account.org if any(getattr(m, "own_org_only", False)
                                         for m in access.objects.values()) else city.orgs[inside]
            own = make_objects(access, own_org)
            assert client.get(build(rule, own)).status_code in (200, 286, 302), rule.rule


def test_reviewing_levels_see_their_subtree_not_more(city):
    from views.access import scoped
    district = city.account("district", 0)
    ids = {o.id for o in scoped(Organization, district)}
    assert city.orgs["grassroots1"].id in ids and city.orgs["direct1"].id in ids
    assert city.orgs["grassroots2"].id not in ids and city.orgs["city"].id not in ids
    secondary = city.account("secondary", 0)
    ids = {o.id for o in scoped(Organization, secondary)}
    assert ids == {city.orgs["secondary1"].id, city.orgs["grassroots1"].id}
    grassroots = city.account("grassroots", 0)
    assert [o.id for o in scoped(Organization, grassroots)] == [city.orgs["grassroots1"].id]
    centre = city.account("centre")
    assert scoped(Organization, centre).count() == Organization.select().count()


def test_unauthenticated_pages_redirect_to_login(app, city):
    client = app.test_client()
    for rule in rules(app):
        access = app.view_functions[rule.endpoint]._access
        if access.public or "GET" not in rule.methods:
            continue
        objects = make_objects(access, city.orgs["grassroots1"])
        url = build(rule, objects)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url
        fragment = client.get(url, headers={"HX-Request": "true"})
        assert fragment.status_code == 401, url
        assert fragment.headers["HX-Redirect"] == "/login"
        assert fragment.get_data() == b""  # never a login form inside a fragment


def test_role_refusal_is_explained_in_chinese(as_role):
    response = as_role("grassroots").get("/audit/")
    assert response.status_code == 403
    text = soup(response).select_one(".refusal").get_text()
    assert text == "您的账号无权使用此功能"


def test_tampered_ids_are_404(as_role):
    client = as_role("district")
    for url in ("/orgs/abc", "/orgs/999999999", "/orgs/-1", "/jobs/0", "/orgs/1.5"):
        assert client.get(url).status_code == 404, url
