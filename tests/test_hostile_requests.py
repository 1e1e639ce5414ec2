"""Every GET route, as every role, as a plain and as an htmx request, with hostile query values:
never a 5xx. The query parameters are those the app reads — the keys the views name in their
source, plus every key a view asks the request for while this test runs (request.args is
wrapped) — so a parameter added later is covered without touching this file."""

import re
from pathlib import Path

import pytest
from werkzeug.datastructures import ImmutableMultiDict

from models import db
from tests import factories
from tests.routes import build, make_objects, rule_access, rules

VIEWS = Path(__file__).resolve().parent.parent / "views"
HUGE = "99999999999999999999999"
HOSTILE = [
    "zzz",  # an unknown enum value: pane=zzz, tab=zzz, state=zzz …
    HUGE,  # beyond any integer column
    str(2 ** 63),  # one past the largest 64-bit integer
    "-1",
    "0",
    "",
    "长中文" * 400,  # a very long string, Chinese
    "a\x00b",  # a NUL byte
    "\n",  # %0a
    "2026-02-30",
    "9999-12-31",  # the last date there is: no next midnight
    "²",  # a digit to str.isdigit(), not to int()
]
ALONE = [HUGE, "²", "9999-12-31"]  # also sent in one parameter at a time (another one set may hide a path)
# Query names that url_for takes as its own options: a page link built from the query must not.
URL_FOR_OPTIONS = ("_method", "_external", "_anchor", "_scheme")
ROLES = ("admin", "city", "centre", "district", "secondary", "grassroots")
HX = {"HX-Request": "true"}


class RecordingArgs(ImmutableMultiDict):
    """request.args / request.form that remember every key a view asks for."""
    asked: set = set()

    def get(self, key, default=None, type=None):  # noqa: A002 — MultiDict's signature
        RecordingArgs.asked.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        RecordingArgs.asked.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        RecordingArgs.asked.add(key)
        return super().__contains__(key)


def keys_in_views() -> set:
    """Literal keys the views read: .get("x"), .getlist("x"), ["x"] on args, form or values."""
    keys = set()
    pattern = re.compile(r"""(?:\.get(?:list)?\(\s*|(?:args|values|source|form)\[\s*)["']([a-z_]+)["']""")
    for path in VIEWS.glob("*.py"):
        keys.update(pattern.findall(path.read_text(encoding="utf-8")))
    return keys


def get_routes(app):
    return [r for r in rules(app) if "GET" in r.methods and not rule_access(app, r).public]


@pytest.fixture
def recording(app, monkeypatch):
    monkeypatch.setattr(app.request_class, "parameter_storage_class", RecordingArgs)
    RecordingArgs.asked = set()
    return RecordingArgs


def fetch(client, url, headers=None, query=None):
    """One request inside a transaction (a savepoint inside a test's transaction) that is rolled back
    (a failed statement on PostgreSQL must not poison the rest of the matrix); an exception the app
    let through counts as a 500."""
    with db.atomic() as savepoint:
        try:
            status = client.get(url, headers=headers or {}, query_string=query).status_code
        except Exception as exc:  # noqa: BLE001 — reported as the failure it is
            status = f"500 {type(exc).__name__}: {str(exc)[:120]}"
        savepoint.rollback()
    return status


def test_every_get_route_every_role_hostile_queries_never_5xx(app, committed, city, recording):
    """`committed`: each request runs in its own transaction, rolled back — tens of thousands of
    requests inside one test transaction would keep a PostgreSQL lock for each of their
    subtransactions until the end and fill the server's lock table (max_locks_per_transaction)."""
    from tests.factories.review import make_batch
    factories._plan_year()
    for org in ("grassroots1", "direct1", "secondary1"):
        factories.make_member(city.orgs[org])
    make_batch(city.orgs["grassroots1"])
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        factories.login(clients[role], city.account(role))
    routes = get_routes(app)
    urls = {}  # rule text → {role: url}
    made = {}  # (model, organisation) → the object, made once for all the routes
    for rule in routes:
        access = rule_access(app, rule)
        shared = make_objects(access, city.orgs["grassroots1"], made)
        own_only = any(getattr(m, "own_org_only", False) for m in access.objects.values())
        urls[rule.rule] = {role: build(rule, make_objects(access, city.account(role).org, made) if own_only else shared)
                           for role in ROLES}
    failures = {}
    reads = {}  # rule text → the keys its view asked for

    def check(rule, role, headers=None, query=None):
        recording.asked = set()
        url = urls[rule.rule][role]
        status = fetch(clients[role], url, headers, query)
        reads.setdefault(rule.rule, set()).update(recording.asked)
        if not isinstance(status, int) or status >= 500:
            value = repr(next(iter(query.values()), ""))[:24] if query else None
            failures.setdefault((rule.rule, str(status)[:150]), []).append((role, "htmx" if headers else "page", value))
        return status

    allowed = []
    for rule in routes:  # every route, every role, as a page and as a fragment
        for role in ROLES:
            if {check(rule, role), check(rule, role, HX)} - {401, 403}:
                allowed.append((rule, role))
    keys = keys_in_views() | set().union(*reads.values())
    assert {"year", "pane", "key", "object_id", "q", "page", "tab", "state"} <= keys, keys
    for rule, role in allowed:  # every parameter the app reads at once: what does this route read then?
        check(rule, role, HX, dict.fromkeys(keys, HUGE))
    for rule, role in allowed:  # hostile values in each parameter the route reads
        for value in HOSTILE if reads[rule.rule] else ():
            query = dict.fromkeys(reads[rule.rule], value)
            check(rule, role, query=query)
            check(rule, role, HX, query)
        for i, key in enumerate(sorted(reads[rule.rule])):
            for value in ALONE:
                check(rule, role, HX if i % 2 else None, {key: value})
        # the names of url_for's options and of the route's own path parts, in the query
        names = dict.fromkeys((*URL_FOR_OPTIONS, *rule.arguments), "x")
        check(rule, role, query=names)
        check(rule, role, HX, names)
    assert not failures, "\n".join(f"{k}: {v[:6]}" for k, v in failures.items())


def test_grassroots_tree_search_as_htmx_is_not_an_error(as_role):
    """A grassroots union has no 下级组织 list: the fragment is empty, not a 500."""
    client = as_role("grassroots")
    response = client.get("/orgs/?q=公司", headers=HX)
    assert response.status_code == 200
    assert "children" not in response.get_data(as_text=True)
    assert client.get("/orgs/?q=公司").status_code == 200


def test_unknown_review_pane_is_the_whole_screen(as_role):
    factories._plan_year()
    client = as_role("district")
    for kind in ("central", "instant"):
        response = client.get(f"/review/{kind}?pane=zzz", headers=HX)
        assert response.status_code in (200, 409), kind  # 409: no year for the instant queue yet
        known = client.get(f"/review/{kind}?pane=pending_pane", headers=HX)
        assert known.status_code == response.status_code


def test_nul_byte_is_refused_in_chinese(as_role):
    client = as_role("centre")
    for response in (client.get("/members/?name=a%00b"), client.post("/plans/special", data={"org": "a\x00"})):
        assert response.status_code == 400
        assert "无效字符" in response.get_data(as_text=True)


def test_page_links_ignore_query_names_url_for_would_take(as_role, city):
    """The attack replay: ?_method=POST or a query name equal to a path part (which=, kind=) was a
    500 on every paged list, and ?_external=1 / ?_anchor= changed the page links."""
    import re
    factories._plan_year()
    for _ in range(16):  # a second page, so the pager links
        factories.make_member(city.orgs["grassroots1"])
    admin = as_role("admin")
    for query in ("_method=POST", "_external=1", "_anchor=x", "_scheme=ftp"):
        response = admin.get(f"/members/?{query}")
        assert response.status_code == 200, query
        links = re.findall(r'href="([^"]*page=2[^"]*)"', response.get_data(as_text=True))
        # no injected anchor or host: only the pager's own "#rows" (the list, for the next Tab)
        assert links and all(link.startswith("/members/?") and link.split("#")[1:] in ([], ["rows"])
                             for link in links), (query, links)
    grassroots = as_role("grassroots")
    for url in ("/enroll/card/central/people/cards?which=x", "/enroll/card/central/people/no_card?which=x",
                "/enroll/social/central/people/verify?kind=x&which=x"):
        assert grassroots.get(url).status_code < 500, url


def test_a_filter_up_to_the_last_date_there_is(as_role, city):
    """9999-12-31 as an end date (no next midnight) was a 500 on every list with a date range."""
    member = factories.make_member(city.orgs["grassroots1"])
    grassroots = as_role("grassroots")
    page = grassroots.get("/members/?approved_from=2000-01-01&approved_to=9999-12-31")
    assert page.status_code == 200
    assert (member.person.name in page.get_data(as_text=True)) == (member.approved_at is not None)
    for url in ("/enroll/card?end=9999-12-31", "/cards/batches?end=9999-12-31"):
        assert grassroots.get(url).status_code == 200, url
    assert as_role("admin").get("/audit/?end=9999-12-31").status_code == 200
