"""CSRF on every state-changing request, security headers, upload size limit, error pages,
the render helper (page or fragment, Vary, history restore)."""

import pytest

from app import create_app
from models.audit import AuditLog
from models.orgs.organizations import Organization
from tests import factories
from tests.conftest import TEST_CONFIG
from tests.helpers import soup
from tests.routes import build, make_objects, rule_access


@pytest.fixture
def csrf_app():
    return create_app(dict(TEST_CONFIG, WTF_CSRF_ENABLED=True, CONNECT_DB=False))


def state_changing_routes(app):
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"GET", "HEAD", "OPTIONS"}
        if rule.endpoint != "static" and methods:
            yield rule, sorted(methods)


def test_every_state_changing_route_refuses_a_missing_or_stale_token(csrf_app, city):
    client = csrf_app.test_client()
    account = city.account("admin")
    # log in through the real form with its token
    login_page = soup(client.get("/login"))
    token = login_page.select_one("input[name=csrf_token]")["value"]
    assert client.post("/login", data={"username": account.username, "password": factories.PASSWORD,
                                       "csrf_token": token}).status_code == 302
    routes = list(state_changing_routes(csrf_app))
    assert any(r.endpoint == "orgs.edit_own" for r, _ in routes)
    objects = [make_objects(rule_access(csrf_app, rule), city.orgs["grassroots1"]) for rule, _ in routes]
    before = (AuditLog.select().count(), Organization.get_by_id(city.orgs["city"].id).__data__)
    for (rule, methods), own in zip(routes, objects, strict=True):
        url = build(rule, own)
        for method in methods:
            for headers, data in (({}, {}), ({"HX-Request": "true"}, {}),
                                  ({"X-CSRFToken": "stale-or-forged"}, {"csrf_token": "forged"})):
                response = client.open(url, method=method, headers=headers, data=dict(data, name="x"))
                assert response.status_code == 400, (url, method, headers)
                text = soup(response).select_one(".refusal").get_text()
                assert "页面已过期或缺少安全校验码" in text
    assert (AuditLog.select().count(), Organization.get_by_id(city.orgs["city"].id).__data__) == before


def test_htmx_requests_carry_the_token_from_the_page(csrf_app, city):
    client = csrf_app.test_client()
    login_page = soup(client.get("/login"))
    token = login_page.select_one("input[name=csrf_token]")["value"]
    client.post("/login", data={"username": city.account("grassroots").username,
                                "password": factories.PASSWORD, "csrf_token": token})
    page = soup(client.get("/orgs/mine/edit"))
    import json
    header_token = json.loads(page.body["hx-headers"])["X-CSRFToken"]
    org = city.orgs["grassroots1"]
    response = client.post("/orgs/mine/edit", headers={"HX-Request": "true", "X-CSRFToken": header_token},
                           data={"name": org.name, "contact": "经办人", "phone": "13900000000"})
    assert response.status_code == 302
    assert Organization.get_by_id(org.id).contact == "经办人"


def test_security_headers(client, as_role):
    for response in (client.get("/login"), as_role("district").get("/home")):
        h = response.headers
        assert "default-src 'self'" in h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert h["X-Frame-Options"] == "DENY"
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"


def test_pages_use_no_inline_script_or_style(as_role):
    """CSP forbids inline script/style; the pages must not need them."""
    client = as_role("admin")
    for url in ("/home", "/orgs/", "/orgs/mine/edit", "/audit/", "/jobs/", "/workbench", "/password"):
        shown = soup(client.get(url))
        assert all(s.get("src") for s in shown.find_all("script")), url
        assert shown.find(attrs={"style": True}) is None, url
        assert shown.find("style") is None, url
        assert all(not a.startswith("on") for tag in shown.find_all(True) for a in tag.attrs), url


def test_static_assets_are_vendored(client):
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page  # no CDN


def test_oversized_request_refused_in_chinese(app, as_role):
    client = as_role("grassroots")
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = client.post("/orgs/mine/edit", data={"name": "x" * 5000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert "过大" in soup(response).select_one(".refusal").get_text()


def test_chinese_404_page(client, as_role):
    for c in (client, as_role("district")):
        response = c.get("/no-such-page")
        assert response.status_code == 404
        assert soup(response).h1.get_text() == "页面不存在"


def test_chinese_500_page_without_stack_trace(app, as_role):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.testing = False
    try:
        import views.home
        original = views.home.render_page
        views.home.render_page = lambda *a, **k: 1 / 0
        response = as_role("district").get("/home")
    finally:
        views.home.render_page = original
        app.testing = True
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "系统出错了" in text and "Traceback" not in text and "ZeroDivisionError" not in text


def test_render_helper_page_fragment_boost_and_history(as_role):
    client = as_role("district")
    full = client.get("/orgs/")
    fragment = client.get("/orgs/", headers={"HX-Request": "true"})
    boosted = client.get("/orgs/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    restore = client.get("/orgs/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    for response in (full, fragment, boosted, restore):
        assert "HX-Request" in response.headers["Vary"]
    assert soup(full).find("html") is not None
    frag = soup(fragment)
    assert frag.find("html") is None and frag.select_one("#children") is not None
    assert soup(boosted).find("html") is not None
    assert soup(restore).find("html") is not None


def test_errors_inside_fragments_are_fragments(as_role):
    client = as_role("grassroots")
    for url, status in (("/orgs/999999", 404), ("/audit/", 403)):
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == status
        shown = soup(response)
        assert shown.find("html") is None and shown.select_one(".error-page") is not None


def test_the_favicon_is_served_from_the_app(client, as_role):
    """/favicon.ico (asked for by every browser, also before login) is a small vendored icon, and
    every page names it with <link rel=icon>."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00" and len(response.data) < 10_000  # an ICO file
    for page in (client.get("/login"), as_role("grassroots").get("/home")):
        link = soup(page).find("link", rel="icon")
        assert link is not None
        assert client.get(link["href"]).data == response.data


def test_no_template_carries_inline_style():
    """The Content-Security-Policy (style-src 'self') blocks style="" attributes and <style>
    blocks: each one would log a console warning and be ignored. Every template under partials/
    (the PDF notices, which xhtml2pdf styles inline, are built in models/enroll/notice_pdf.py, not here)."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "partials"
    inline = re.compile(r"<style\b|\sstyle\s*=", re.I)
    found = [f"{path.relative_to(root)}:{n}" for path in sorted(root.rglob("*.html"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if inline.search(line)]
    assert not found, found


def test_files_do_not_renew_the_session(as_role):
    """The icon and the stylesheet (fetched after the page, also while the user logs out) neither
    renew the idle timer nor send the session cookie back; a page does."""
    client = as_role("grassroots")
    for url in ("/favicon.ico", "/static/app.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Set-Cookie" not in response.headers, url
    assert "Set-Cookie" in client.get("/home").headers
