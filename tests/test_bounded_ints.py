"""Integers from outside — URL ids, query and form numbers — beyond what a database column holds
(2^63 and more) are a 404 or treated as absent, never a 500 (issue 16 item 7)."""

import pytest
from werkzeug.routing import IntegerConverter

from models.audit import AuditLog
from models.rules.text import INT_MAX, bounded_int
from tests import factories
from tests.helpers import soup
from tests.routes import PLACEHOLDER, rules

HUGE = "99999999999999999999999"
TOO_BIG = [HUGE, str(INT_MAX + 1)]


@pytest.mark.parametrize("value,expected", [
    ("12", 12), (" 7 ", 7), (12, 12), (str(INT_MAX), INT_MAX), (str(INT_MAX + 1), None), (HUGE, None),
    ("-1", None), ("", None), (None, None), ("1.5", None), ("²", None), ("１２", None), ("1e3", None),
    ("12abc", None), (True, None), ("0x10", None), ("1_000", None),
])
def test_bounded_int_takes_plain_digits_within_the_database_range(value, expected):
    assert bounded_int(value) == expected


def test_bounded_int_honours_its_range():
    assert bounded_int("-3", low=-5) == -3
    assert bounded_int("2100", high=9999) == 2100
    assert bounded_int("10000", high=9999) is None
    assert bounded_int("0", low=1) is None


def int_routes(app):
    return [r for r in rules(app) if any(isinstance(c, IntegerConverter) for c in r._converters.values())]


def test_every_int_route_is_bounded(app):
    """The app's `int` converter is the bounded one: a new <int:…> route is covered too."""
    routes = int_routes(app)
    assert len(routes) > 40
    for rule in routes:
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert converter.max == INT_MAX, (rule.rule, name)


def test_ids_beyond_64_bits_are_404_on_every_route_and_method(app, city, as_role):
    client = as_role("admin")
    before = AuditLog.select().count()
    for rule in int_routes(app):
        for value in TOO_BIG:
            def fill(m, value=value, rule=rule):
                converter = rule._converters[m.group(2)]
                if hasattr(converter, "items"):
                    return sorted(converter.items)[0]
                return value
            url = PLACEHOLDER.sub(fill, rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method)
                assert response.status_code == 404, (method, url, response.status_code)
    assert AuditLog.select().count() == before


def test_the_reported_urls(app, city, as_role):
    factories._plan_year()
    admin = as_role("admin")
    page = admin.get(f"/members/{HUGE}")
    assert page.status_code == 404
    assert "页面不存在" in page.get_data(as_text=True)
    for url in (f"/plans/types?year={HUGE}", f"/plans/split?year={HUGE}", f"/enroll-stats/?year={HUGE}",
                f"/enroll-stats/people?year={HUGE}&district={HUGE}", f"/members/settings?district={HUGE}",
                f"/members/?page={HUGE}", f"/enroll/social/central/progress?job={HUGE}"):
        assert admin.get(url).status_code < 500, url
    found = admin.get(f"/audit/?object_id={HUGE}")
    assert found.status_code == 200
    text = soup(found).get_text()
    assert "对象编号" in text
    district = as_role("district")
    assert district.get(f"/review/central?p_page={HUGE}&q_page={HUGE}").status_code == 200
    refused = district.get(f"/review/central/return?key={HUGE}-0-0-1-1")  # said on the list (item 17)
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/review/central")
    assert "所选记录" in district.get(refused.headers["Location"]).get_data(as_text=True)


def test_ticked_ids_beyond_64_bits_are_ignored(app, city, as_role):
    from views.access import form_ids
    with app.test_request_context("/", method="POST", data={"ids": ["3", HUGE, "²", "-1", "3", "0", "12"]}):
        assert form_ids("ids") == [3, 12]
    with app.test_request_context(f"/?batch=5&batch={HUGE}"):
        from flask import request
        assert form_ids("batch", request.args) == [5]


def test_only_ascii_digits_are_ids_in_a_url(app, city, as_role):
    """/members/９ (a full-width 9) or an Arabic-Indic digit is no id: 404, like any other text."""
    member = factories.make_member(city.orgs["grassroots1"])
    client = as_role("grassroots")
    assert client.get(f"/members/{member.id}").status_code == 200
    wide = "".join(chr(ord(d) + 0xFEE0) for d in str(member.id))
    arabic = "".join(chr(ord(d) - ord("0") + 0x0660) for d in str(member.id))
    assert client.get(f"/members/{wide}").status_code == 404
    assert client.get(f"/members/{arabic}").status_code == 404


def test_ten_thousand_ticked_rows_in_a_multipart_form_are_read(as_role):
    """A list posted as multipart with 10,001 fields is read like the same form url-encoded (it was
    a 413 blaming the file size: werkzeug stops at 1,000 parts by default)."""
    import io
    client = as_role("grassroots")
    data = {"ids": [str(n) for n in range(10_000)], "reason": "退休", "file": (io.BytesIO(b""), "")}
    response = client.post("/members/delete", data=data, content_type="multipart/form-data")
    assert response.status_code != 413
    assert response.status_code < 500
