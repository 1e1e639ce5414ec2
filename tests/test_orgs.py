"""The organisation tree (closure table), levels/types, 临时工会, and 组织管理 → 修改信息."""

import pytest

from models import db, is_postgres
from models.audit import AuditLog
from models.base import DomainError
from models.orgs.organizations import ENTERPRISE_LEVEL, Organization, OrgTree
from tests import factories
from tests.helpers import soup


def test_closure_rows_and_subtree(city):
    d1 = city.orgs["district1"]
    subtree = {o.name for o in d1.subtree()}
    assert subtree == {"测试区1总工会", "测试区1街道总工会", "测试区1街道甲公司工会委员会", "测试区1乙公司工会委员会",
                       "测试区1总工会临时工会"}
    g = city.orgs["grassroots1"]
    assert [a.name for a in g.ancestors()] == ["测试市总工会", "测试区1总工会", "测试区1街道总工会"]
    assert OrgTree.select().where(OrgTree.descendant == g).count() == 4  # itself + 3 ancestors
    assert d1.contains(g.id) and not city.orgs["district2"].contains(g.id)
    assert g.district_id == d1.id and d1.district_id == d1.id
    assert city.orgs["city"].district_id is None


def closure_of_parents() -> set:
    """(ancestor, descendant, depth) of every organisation of the union tree, from parent_id alone."""
    parent = dict(Organization.select(Organization.id, Organization.parent)
                  .where(Organization.level != ENTERPRISE_LEVEL).tuples())
    rows = set()
    for org in parent:
        node, depth = org, 0
        while node is not None:
            rows.add((node, org, depth))
            node, depth = parent.get(node), depth + 1
    return rows


def closure_rows() -> set:
    return set(OrgTree.select(OrgTree.ancestor, OrgTree.descendant, OrgTree.depth).tuples())


def test_deleting_organisations_takes_their_closure_rows(city):
    """org_tree has no foreign keys (migration 040): the trigger "org_tree_forget" on organization
    removes a deleted organisation's closure rows, as ON DELETE CASCADE did — one or several at once."""
    g = city.orgs["grassroots1"]
    group = factories.make_org(g, "分工会/工会小组", name="待删除小组")
    assert closure_rows() == closure_of_parents()
    Organization.delete().where(Organization.id == group.id).execute()
    assert not OrgTree.select().where((OrgTree.ancestor == group.id) | (OrgTree.descendant == group.id)).exists()
    assert closure_rows() == closure_of_parents()
    street = factories.make_org(city.orgs["district2"], "街道总工会", name="待删除街道")
    below = [factories.make_org(street, name=f"待删除工会{i}") for i in range(3)]
    ids = [street.id] + [o.id for o in below]
    Organization.update(parent=None).where(Organization.id.in_(ids)).execute()  # parent_id is RESTRICT
    Organization.delete().where(Organization.id.in_(ids)).execute()
    assert not OrgTree.select().where(OrgTree.ancestor.in_(ids) | OrgTree.descendant.in_(ids)).exists()
    assert closure_rows() == closure_of_parents()


def test_the_closure_table_has_no_foreign_keys_and_organisations_no_plain_parent_index():
    """Migration 040: no foreign-key check per closure row written (组织导入: 20,000 rows, 40,000 checks);
    the parent's own index gone, (parent_id, level, id) serving every lookup by parent."""
    assert db.get_foreign_keys("org_tree") == []
    indexes = {i.name: i.columns for i in db.get_indexes("organization")}
    assert "organization_parent_id" not in indexes
    assert indexes["organization_parent_level_id"][0] == "parent_id"


def test_subtree_query_uses_an_index(city):
    d1 = city.orgs["district1"]
    sql, params = d1.subtree().sql()
    if not is_postgres():
        plan = " ".join(str(r) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "USING" in plan and "SCAN org_tree" not in plan.replace("USING COVERING INDEX", "")
    else:
        db.execute_sql("SET enable_seqscan = off")
        plan = " ".join(r[0] for r in db.execute_sql("EXPLAIN " + sql, params).fetchall())
        db.execute_sql("SET enable_seqscan = on")
        assert "Index" in plan


def test_levels_follow_types():
    city = factories.make_org(None, "市总工会")
    street = factories.make_org(city, "街道总工会")
    assert city.level == "city" and street.level == "secondary"
    assert factories.make_org(street, "工会委员会").level == "grassroots"
    with pytest.raises(DomainError) as exc:
        Organization.add(street, name="某联合工会", type="联合工会")
    assert exc.value.message == "请为该工会类型选择层级"
    joint = Organization.add(street, name="某联合工会", type="联合工会", level="grassroots")
    assert joint.level == "grassroots"


def test_unsupported_types_have_no_workbench(app, city):
    federation = factories.make_org(city.orgs["district1"], "工会联合会")
    assert federation.has_workbench is False
    account = factories.make_account(federation)
    client = app.test_client()
    factories.login(client, account)
    page = soup(client.get("/workbench"))
    assert "暂不支持" in page.select_one(".alert-warning").get_text()
    home = soup(client.get("/home"))
    assert "暂不支持" in home.select_one(".alert-warning").get_text()
    assert factories.make_org(city.orgs["district1"], "工会委员会").has_workbench


def test_temporary_union_of_the_district(city):
    assert city.orgs["grassroots1"].temporary_union() == city.orgs["temporary1"]
    assert city.orgs["direct2"].temporary_union() == city.orgs["temporary2"]


FORM = {"name": "测试区1街道甲公司工会委员会", "uscc": "", "union_no": "T1", "address": "上海市黄浦区某路1号",
        "contact": "新联系人", "phone": "021-63301234"}


def test_edit_own_organisation_is_audited(as_role, city):
    client = as_role("district")
    org = city.orgs["district1"]
    uscc = factories.uscc(factories._rng)
    response = client.post("/orgs/mine/edit", data=dict(FORM, name=org.name, uscc=uscc.lower()))
    assert response.status_code == 302
    saved = Organization.get_by_id(org.id)
    assert (saved.contact, saved.uscc, saved.union_no, saved.phone) == ("新联系人", uscc, "T1", "021-63301234")
    log = AuditLog.for_object(org).first()
    assert log.action == "修改组织信息" and log.account_name == city.account("district").username
    assert log.detail_data["联系人"] == ["联系人", "新联系人"]
    assert log.org_name == org.name and log.ip == "127.0.0.1"
    page = soup(client.get(f"/orgs/{org.id}"))
    assert "修改组织信息" in page.select_one("#audit-log").get_text()


def test_grassroots_identity_changes_wait_for_the_superior(as_role, city):
    """修改信息 by a grassroots union: contact and phone change at once; 统一社会信用代码 and
    工会编号 go to 组织审核 and change only when the superior approves."""
    from models.orgs.org_requests import OrgRequest
    client = as_role("grassroots")
    org = city.orgs["grassroots1"]
    before = Organization.get_by_id(org.id)
    uscc = factories.uscc(factories._rng)
    response = client.post("/orgs/mine/edit", data=dict(FORM, uscc=uscc))
    assert response.status_code == 302
    saved = Organization.get_by_id(org.id)
    assert (saved.contact, saved.phone) == ("新联系人", "021-63301234")
    assert (saved.uscc, saved.union_no) == (before.uscc, before.union_no)
    req = OrgRequest.get(OrgRequest.target == org.id)
    assert (req.status, req.data) == ("待审核", {"uscc": uscc, "union_no": "T1"})
    flash = soup(client.get("/orgs/mine/edit"))
    assert "已提交上级工会审核" in flash.get_text()
    assert "正在等待上级工会审核" in flash.get_text()
    again = client.post("/orgs/mine/edit", data=dict(FORM, union_no="T2"))
    assert again.status_code == 422
    assert "已有待审核的修改申请" in again.get_data(as_text=True)


@pytest.mark.parametrize("field,value,message", [
    ("uscc", "123", "统一社会信用代码应为18位"),
    ("uscc", "913100007XXXXXXXX1", None),
    ("phone", "12345", "联系电话格式不正确（手机11位，或固定电话如021-12345678）"),
    ("contact", "", "请填写联系人"),
    ("name", "", "请填写组织名称"),
    ("union_no", "A B#", "工会编号只能包含数字、字母和“-”"),
])
def test_edit_refusals_name_the_field_and_change_nothing(as_role, city, field, value, message):
    client = as_role("grassroots")
    org = city.orgs["grassroots1"]
    before = Organization.get_by_id(org.id)
    response = client.post("/orgs/mine/edit", data=dict(FORM, **{field: value}))
    assert response.status_code == 422
    page = soup(response)
    errors = [p.get_text() for p in page.select(".field-error")]
    assert len(errors) == 1
    if message:
        assert errors[0] == message
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    after = Organization.get_by_id(org.id)
    assert after.__data__ == before.__data__
    assert AuditLog.for_object(org).count() == 0


def test_duplicate_name_or_code_refused(as_role, city):
    client = as_role("grassroots")
    other = city.orgs["direct1"]
    response = client.post("/orgs/mine/edit", data=dict(FORM, name=other.name))
    assert response.status_code == 422
    assert "该组织名称已被其他组织使用" in response.get_data(as_text=True)


def test_edit_form_as_htmx_fragment(as_role):
    client = as_role("grassroots")
    response = client.post("/orgs/mine/edit", data=dict(FORM, phone="x"), headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = soup(response)
    assert page.find("html") is None and page.select_one("form#org-form") is not None
    assert "HX-Request" in [v.strip() for v in response.headers["Vary"].split(",")]


def test_tree_page_lists_children_with_paging(as_role, city):
    for i in range(20):
        factories.make_org(city.orgs["district1"], "工会委员会", name=f"分页测试{i:02d}工会委员会")
    client = as_role("district")
    page = soup(client.get("/orgs/"))
    assert page.select_one(".pager-summary").get_text() == "显示第 1 到第 15 条记录，总共 23 条记录"
    page2 = soup(client.get("/orgs/?page=2"))
    assert page2.select_one(".pager-summary").get_text() == "显示第 16 到第 23 条记录，总共 23 条记录"
    found = soup(client.get("/orgs/?q=分页测试07"))
    assert found.select_one(".pager-summary").get_text() == "显示第 1 到第 1 条记录，总共 1 条记录"
    fragment = client.get("/orgs/?page=2", headers={"HX-Request": "true"})
    assert soup(fragment).find("html") is None


@pytest.mark.parametrize("role", ["grassroots", "secondary", "district"])
def test_the_org_info_page_shows_the_union_s_own_number(as_role, city, role):
    """Issue 16 item 13: 组织信息 names the union's own 工会编号 (the member import asks for it)."""
    account = city.account(role)
    page = soup(as_role(role).get("/orgs/"))
    assert "".join(page.find(id="own-org").get_text().split()).count(f"工会编号：{account.org.union_no}") == 1
