"""保障信息查询: every coverage period of a person by ID number — per year, union and channel —
city-wide for the centre and the city, only the subtree's for a district or street union, only
its own for a grassroots union; masked name and number; field errors in Chinese."""

from datetime import date

import pytest
from bs4 import BeautifulSoup

from models import db
from models.enroll import coverage
from models.enroll.enrollment import RETURNED, SOCIAL_CHANNEL
from models.rules.text import mask, mask_name
from tests import factories
from tests.factories.coverage import enroll, enroll_individual
from tests.helpers import queries, soup

HX = {"HX-Request": "true"}
COLUMNS = ["保障年度", "单位名称", "参保通道", "参保类型", "保障类型", "起保日期", "终保日期", "半年/全年", "状态",
           "批次编号"]


@pytest.fixture
def person(city):
    """Covered in 2024 by 测试区1街道甲公司工会委员会 (district 1, under its street union), in 2025
    first by 测试区2乙公司工会委员会 (district 2; returned, so released) and then by 申工社."""
    member = factories.make_member(city.orgs["grassroots1"], name="张三丰")
    p = member.person
    enroll(p, city.orgs["grassroots1"], 2024, batch="CB202312260007")
    enroll(p, city.orgs["direct2"], 2025, channel=SOCIAL_CHANNEL, mode="即时参保", status=RETURNED, batch=None,
           start=date(2025, 3, 2), period="全年")
    enroll_individual(p, 2025, start=date(2025, 7, 1))
    return p


def table(response) -> list[dict]:
    page = soup(response)
    rows = page.select("table.coverage-periods tbody tr")
    header = [th.get_text(strip=True) for th in page.select("table.coverage-periods thead th")]
    assert not rows or header == COLUMNS
    return [dict(zip(header, [td.get_text(strip=True) for td in tr.select("td")], strict=True)) for tr in rows]


def notice(response) -> str:
    page = soup(response)
    alert = page.select_one("#result .alert")
    return alert.get_text(strip=True) if alert else ""


def test_the_centre_sees_every_period_of_every_year_union_and_channel(as_role, person):
    response = as_role("centre").get("/coverage/", query_string={"id_number": person.id_number})
    assert response.status_code == 200
    rows = table(response)
    assert [(r["保障年度"], r["单位名称"], r["参保通道"], r["参保类型"], r["状态"]) for r in rows] == [
        ("2025", "申工社", "会员卡参保", "即时参保", "有效"),
        ("2025", "测试区2乙公司工会委员会", "社保卡参保", "即时参保", "已失效（退回）"),
        ("2024", "测试区1街道甲公司工会委员会", "会员卡参保", "集中参保", "有效（已完成）"),
    ]
    assert (rows[0]["起保日期"], rows[0]["终保日期"], rows[0]["半年/全年"]) == ("2025-07-01", "2025-12-31", "半年")
    assert (rows[1]["起保日期"], rows[1]["批次编号"]) == ("2025-03-02", "-")
    assert rows[2]["批次编号"] == "CB202312260007"
    assert rows[2]["保障类型"] == "A类会员专享基本保障"


def test_the_city_account_reads_city_wide_too(as_role, person):
    assert len(table(as_role("city").get("/coverage/", query_string={"id_number": person.id_number}))) == 3


def test_name_and_id_number_are_masked(as_role, person):
    response = as_role("centre").get("/coverage/", query_string={"id_number": person.id_number})
    html = response.get_data(as_text=True)
    page = BeautifulSoup(html, "html.parser")
    shown = page.select_one("#result .person").get_text(" ", strip=True)
    assert mask(person.id_number) in shown and "张*丰" in shown
    result = page.select_one("#result").get_text()
    assert person.id_number not in result and "张三丰" not in result
    # the typed number stays in the search box only
    assert page.select_one("#coverage-id")["value"] == person.id_number


@pytest.mark.parametrize("role,which,expected", [
    ("district", 0, ["测试区1街道甲公司工会委员会"]),
    ("district", 1, ["测试区2乙公司工会委员会"]),
    ("secondary", 0, ["测试区1街道甲公司工会委员会"]),
    ("grassroots", 0, ["测试区1街道甲公司工会委员会"]),
])
def test_lower_levels_see_only_the_periods_in_their_subtree(as_role, person, role, which, expected):
    rows = table(as_role(role, which).get("/coverage/", query_string={"id_number": person.id_number}))
    assert [r["单位名称"] for r in rows] == expected


@pytest.mark.parametrize("role,which", [("secondary", 1), ("grassroots", 2), ("grassroots", 1)])
def test_a_person_outside_the_scope_is_not_found_and_nothing_leaks(as_role, person, role, which):
    response = as_role(role, which).get("/coverage/", query_string={"id_number": person.id_number})
    assert response.status_code == 200
    assert table(response) == []
    assert notice(response) == "未查询到该证件号码在本单位范围内的参保信息"
    html = response.get_data(as_text=True)
    assert "测试区1街道甲公司" not in html and "测试区2乙公司" not in html and "申工社" not in html.split("</nav>")[-1]


def test_an_unknown_person_for_the_centre(as_role):
    from tests.factories.memberfiles import id_number
    response = as_role("centre").get("/coverage/", query_string={"id_number": id_number(4242)})
    assert notice(response) == "未查询到该证件号码的参保信息"


@pytest.mark.parametrize("typed,message", [
    ("", "请输入证件号码"),
    ("12345", "证件号码：身份证号码应为18位（15位老号码会自动转换为18位）"),
    ("310101199001011235", "证件号码：身份证号码校验位不正确，请核对"),
    ("AB", "证件号码：证件号码只能包含字母、数字、括号和“-”，长度5到32位"),
])
def test_bad_input_is_refused_naming_the_field(as_role, typed, message):
    response = as_role("centre").get("/coverage/", query_string={"id_number": typed})
    assert response.status_code == 422
    assert notice(response) == message
    assert table(response) == []


def test_the_number_is_normalised_before_the_search(as_role, person):
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in person.id_number)
    typed = f" {wide[:6]} {wide[6:].lower()} "
    rows = table(as_role("centre").get("/coverage/", query_string={"id_number": typed}))
    assert len(rows) == 3


def test_an_id_ending_in_x_is_found_typed_in_lower_case(as_role, city):
    from tests.factories.memberfiles import id_number
    number = next(id_number(i) for i in range(5000, 6000) if id_number(i).endswith("X"))
    member = factories.make_member(city.orgs["direct1"], id_number=number)
    enroll(member.person, city.orgs["direct1"], 2024)
    rows = table(as_role("district").get("/coverage/", query_string={"id_number": number.lower()}))
    assert [r["单位名称"] for r in rows] == ["测试区1乙公司工会委员会"]


def test_htmx_gets_the_result_fragment_and_plain_requests_the_page(as_role, person):
    client = as_role("centre")
    plain = client.get("/coverage/", query_string={"id_number": person.id_number})
    fragment = client.get("/coverage/", query_string={"id_number": person.id_number}, headers=HX)
    assert "HX-Request" in plain.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    page = soup(plain)
    assert page.select_one("form.filters")["method"] == "get" and page.select_one("nav") is not None
    part = soup(fragment)
    assert part.select_one("html") is None and part.select_one("form") is None
    assert part.find(id="result") is not None and len(table(fragment)) == 3


def test_the_menu_lists_both_queries_for_every_level(as_role):
    for role in ("centre", "city", "district", "secondary", "grassroots"):
        page = soup(as_role(role).get("/coverage/"))
        labels = [a.get_text(strip=True) for a in page.select("nav a")]
        assert "保障信息查询" in labels and "给付信息查询" in labels, role


def test_the_query_is_one_statement(person, city):
    with queries() as seen:
        rows = coverage.periods(person.id_number, city.account("district").org.subtree_ids())
        names = [coverage.union_name(e) for e in rows] + [coverage.state(e) for e in rows]
        names += [e.type.name for e in rows] + [str(e.year.year) for e in rows]
    assert len(seen) == 1 and len(rows) == 1 and "测试区1街道甲公司工会委员会" in names


def test_the_enrollment_person_index_exists():
    indexes = {tuple(i.columns) for i in db.get_indexes("enrollment")}
    assert ("person_id",) in indexes


def test_mask_name():
    assert [mask_name(n) for n in ("张", "张三", "张三丰", "欧阳锋锋", "")] == ["张", "张*", "张*丰", "欧**锋", ""]
