"""组织管理 → 覆盖企业 (issue 16 item 11): a union and its superiors add, edit and remove the
enterprises it covers (统一社会信用代码 checked, one union per enterprise, not removed while member
records or cards refer to it), audited; scope like organisations; the city reads only; 新增下级组织
offers the first enterprise."""

import random

import pytest

from models.audit import AuditLog
from models.demo import uscc
from models.members import member_import
from models.members.people import Membership
from models.orgs.org_requests import OrgRequest
from models.orgs.organizations import Enterprise, Organization
from tests import factories
from tests.helpers import soup

_rng = random.Random(16)


def text(response):
    return " ".join(soup(response).get_text(" ").split())


def code() -> str:
    return uscc(_rng, "91")


def wrong_check_digit(valid: str) -> str:
    return valid[:-1] + ("0" if valid[-1] != "0" else "1")


def test_a_union_adds_edits_and_removes_its_enterprise(as_role, city):
    union = city.orgs["grassroots1"]
    client = as_role("grassroots")
    detail = soup(client.get(f"/orgs/{union.id}"))
    assert detail.find(id="enterprises").find("a", string="新增覆盖企业") is not None
    first = code()
    added = client.post(f"/orgs/{union.id}/enterprises/new", data={"name": " 甲 公司 ", "uscc": first.lower()})
    assert added.status_code == 302
    e = Enterprise.get(Enterprise.org == union.id)
    assert (e.name, e.uscc) == ("甲 公司", first)
    assert [x.uscc for x in member_import.enterprises_of(union)] == [first]  # 关联企业类 can use it now
    listing = text(client.get("/orgs/enterprises"))
    assert "甲 公司" in listing and first in listing

    second = code()
    assert client.post(f"/orgs/enterprises/{e.id}/edit", data={"name": "甲公司", "uscc": second}).status_code == 302
    e = Enterprise.get_by_id(e.id)
    assert (e.name, e.uscc) == ("甲公司", second)

    ask = client.get(f"/orgs/enterprises/{e.id}/delete")
    assert "确定删除该覆盖企业吗" in text(ask)
    assert client.post(f"/orgs/enterprises/{e.id}/delete").status_code == 302
    assert not Enterprise.select().where(Enterprise.id == e.id).exists()
    actions = [(a.action, a.detail_data) for a in AuditLog.for_object(union)]
    assert [a for a, _ in actions][:3] == ["删除覆盖企业", "修改覆盖企业", "新增覆盖企业"]
    assert actions[1][1] == {"企业名称": ["甲 公司", "甲公司"], "统一社会信用代码": [first, second]}


@pytest.mark.parametrize("uscc_value,message", [
    ("WRONG", "统一社会信用代码应为18位"),
    ("", "请填写统一社会信用代码"),
    (None, "统一社会信用代码校验位不正确，请核对"),  # None: a real code with its last character changed
])
def test_a_wrong_code_is_refused_with_the_field_named(as_role, city, uscc_value, message):
    union = city.orgs["grassroots1"]
    value = wrong_check_digit(code()) if uscc_value is None else uscc_value
    response = as_role("grassroots").post(f"/orgs/{union.id}/enterprises/new", data={"name": "乙公司", "uscc": value})
    assert response.status_code == 422
    assert [p.get_text() for p in soup(response).select(".field-error")] == [message]
    assert Enterprise.select().count() == 0


def test_one_enterprise_is_covered_by_one_union_without_naming_the_other(as_role, city):
    other = factories.make_enterprise(city.orgs["grassroots2"])
    union = city.orgs["grassroots1"]
    response = as_role("grassroots").post(f"/orgs/{union.id}/enterprises/new",
                                          data={"name": "丙公司", "uscc": other.uscc})
    assert response.status_code == 422
    assert "该统一社会信用代码已是其他工会的覆盖企业（一个企业只能由一个工会覆盖）" in text(response)
    assert city.orgs["grassroots2"].name not in text(response)
    assert Enterprise.select().count() == 1


def test_removal_is_refused_while_members_refer_to_it(as_role, city):
    union = city.orgs["grassroots1"]
    e = factories.make_enterprise(union)
    m = factories.make_member(union)
    Membership.update(enterprise=e.id, category="关联企业类").where(Membership.id == m.id).execute()
    client = as_role("grassroots")
    ask = text(client.get(f"/orgs/enterprises/{e.id}/delete"))
    assert "有1条会员记录（关联企业类）关联该企业，请先修改这些会员的关联企业或会员类别" in ask
    refused = client.post(f"/orgs/enterprises/{e.id}/delete")
    assert refused.status_code == 409
    assert "不能删除该覆盖企业：有1条会员记录（关联企业类）关联该企业" in text(refused)
    assert Enterprise.select().where(Enterprise.id == e.id).exists()
    assert not AuditLog.select().where(AuditLog.action == "删除覆盖企业").exists()


def test_removal_is_refused_while_a_member_of_it_holds_a_card(as_role, city):
    from tests.factories.cards import make_card
    union = city.orgs["grassroots1"]
    e = factories.make_enterprise(union)
    card = make_card(union)
    Membership.update(enterprise=e.id).where(Membership.person == card.person_id).execute()
    refused = as_role("grassroots").post(f"/orgs/enterprises/{e.id}/delete")
    assert refused.status_code == 409 and "关联该企业的会员中有1人持有会员服务卡" in text(refused)


@pytest.mark.parametrize("role,which,expected", [
    ("grassroots", 1, 404),  # another union
    ("district", 1, 404),  # another district
    ("secondary", 1, 404),
    ("district", 0, 200),  # the district above: manages it
    ("secondary", 0, 200),  # the street union above
    ("city", 0, 403),  # read-only
    ("centre", 0, 403),
])
def test_scope_like_organisations(as_role, city, role, which, expected):
    union = city.orgs["grassroots1"]
    e = factories.make_enterprise(union)
    client = as_role(role, which)
    for url in (f"/orgs/enterprises/{e.id}/edit", f"/orgs/enterprises/{e.id}/delete",
                f"/orgs/{union.id}/enterprises/new"):
        assert client.get(url).status_code == expected, url
    posted = client.post(f"/orgs/enterprises/{e.id}/edit", data={"name": "改名", "uscc": e.uscc})
    assert posted.status_code == (302 if expected == 200 else expected)
    assert (Enterprise.get_by_id(e.id).name == "改名") == (expected == 200)


def test_the_city_sees_the_list_without_write_buttons(as_role, city):
    e = factories.make_enterprise(city.orgs["grassroots1"])
    for role in ("city", "centre"):
        page = soup(as_role(role).get("/orgs/enterprises"))
        row = page.find(id=f"enterprise-{e.id}")
        assert row is not None and row.find("a", string="修改") is None, role
        assert page.find("a", string="新增覆盖企业") is None
        detail = soup(as_role(role).get(f"/orgs/{city.orgs['grassroots1'].id}"))
        assert detail.find("a", string="新增覆盖企业") is None and detail.find("a", string="删除") is None


def test_only_a_grassroots_union_covers_enterprises(as_role, city):
    response = as_role("district").post(f"/orgs/{city.orgs['secondary1'].id}/enterprises/new",
                                        data={"name": "丁公司", "uscc": code()})
    assert response.status_code == 409 and "只有未撤销的基层工会可以添加覆盖企业" in text(response)


NEW = {"name": "新建覆盖企业测试工会委员会", "type": "工会委员会", "level": "", "uscc": "", "union_no": "",
       "address": "上海市某区某路2号", "contact": "王五", "phone": "13800000001"}


def test_the_new_union_form_adds_its_first_enterprise(as_role, city):
    parent = city.orgs["secondary1"]
    client = as_role("district")
    form = soup(client.get(f"/orgs/{parent.id}/new"))
    assert form.find(id="first-enterprise") is not None
    first = code()
    bad = client.post(f"/orgs/{parent.id}/new", data=dict(NEW, enterprise_name="戊公司",
                                                           enterprise_uscc=wrong_check_digit(first)))
    assert bad.status_code == 422 and "统一社会信用代码校验位不正确，请核对" in text(bad)
    assert not Organization.select().where(Organization.name == NEW["name"]).exists()
    ok = client.post(f"/orgs/{parent.id}/new", data=dict(NEW, enterprise_name="戊公司", enterprise_uscc=first))
    assert ok.status_code == 302
    org = Organization.get(Organization.name == NEW["name"])
    assert [(e.name, e.uscc) for e in Enterprise.select().where(Enterprise.org == org.id)] == [("戊公司", first)]
    # still optional
    plain = client.post(f"/orgs/{parent.id}/new", data=dict(NEW, name="不填企业的工会委员会"))
    assert plain.status_code == 302


def test_a_secondary_union_s_request_carries_the_first_enterprise(as_role, city):
    street = city.orgs["secondary1"]
    first = code()
    assert as_role("secondary").post(f"/orgs/{street.id}/new", data=dict(
        NEW, enterprise_name="己公司", enterprise_uscc=first)).status_code == 302
    assert not Enterprise.select().exists()
    req = OrgRequest.get(OrgRequest.submitter_org == street.id)
    district = as_role("district")
    assert "覆盖企业统一社会信用代码" in text(district.get(f"/orgs/requests/{req.id}"))
    assert district.post(f"/orgs/requests/{req.id}/approve").status_code == 302
    org = Organization.get(Organization.name == NEW["name"])
    assert [(e.name, e.uscc) for e in Enterprise.select().where(Enterprise.org == org.id)] == [("己公司", first)]


def test_a_secondary_level_new_org_has_no_enterprise(as_role, city):
    response = as_role("district").post(f"/orgs/{city.orgs['district1'].id}/new", data=dict(
        NEW, type="街道总工会", enterprise_name="庚公司", enterprise_uscc=code()))
    assert response.status_code == 422 and "只有基层工会覆盖企业" in text(response)
    assert not Organization.select().where(Organization.name == NEW["name"]).exists()


@pytest.mark.parametrize("role", ["district", "secondary"])
def test_a_superior_s_list_says_where_to_add_one(as_role, role):
    """A district or secondary union covers no enterprise itself: its 覆盖企业 list says how to add one
    for a union below it (组织信息 → the union → 新增覆盖企业) instead of offering nothing."""
    page = soup(as_role(role).get("/orgs/enterprises"))
    hint = page.find(id="enterprise-add-hint")
    assert hint is not None and "新增覆盖企业" in hint.get_text()
    assert hint.find("a")["href"] == "/orgs/"
