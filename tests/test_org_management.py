"""组织管理 for superiors: 新增下级组织, 修改, 移动, 撤销, and 组织审核 (requests from lower levels)."""

import pytest

from models.audit import AuditLog
from models.base import DomainError
from models.orgs.accounts import Account
from models.orgs.org_requests import APPROVED, PENDING, REJECTED, WITHDRAWN, OrgRequest
from models.orgs.organizations import CLOSED, Organization, OrgTree
from tests import factories
from tests.helpers import soup
from tests.workflow_helpers import check_every_pair

NEW = {"name": "新建测试工会委员会", "type": "工会委员会", "level": "", "uscc": "", "union_no": "",
       "address": "上海市某区某路2号", "contact": "王五", "phone": "13800000001"}


def test_district_creates_an_organisation_at_once(as_role, city):
    parent = city.orgs["secondary1"]
    response = as_role("district").post(f"/orgs/{parent.id}/new", data=NEW)
    assert response.status_code == 302
    org = Organization.get(Organization.name == NEW["name"])
    assert (org.parent_id, org.level, org.district_id) == (parent.id, "grassroots", city.orgs["district1"].id)
    assert city.orgs["district1"].contains(org.id)
    assert AuditLog.for_object(org).first().action == "新建组织"


def test_joint_union_needs_its_level(as_role, city):
    client = as_role("district")
    response = client.post(f"/orgs/{city.orgs['district1'].id}/new", data=dict(NEW, type="联合工会"))
    assert response.status_code == 422
    assert "联合工会须选择层级" in soup(response).select_one(".field-error").get_text()
    ok = client.post(f"/orgs/{city.orgs['district1'].id}/new", data=dict(NEW, type="联合工会", level="secondary"))
    assert ok.status_code == 302
    assert Organization.get(Organization.name == NEW["name"]).level == "secondary"


def test_secondary_creation_waits_for_the_district(as_role, city):
    street = city.orgs["secondary1"]
    response = as_role("secondary").post(f"/orgs/{street.id}/new", data=NEW)
    assert response.status_code == 302
    assert not Organization.select().where(Organization.name == NEW["name"]).exists()
    req = OrgRequest.get(OrgRequest.submitter_org == street.id)
    assert (req.kind, req.status, req.parent_id) == ("新建组织", PENDING, street.id)

    # the street union cannot approve its own request; the district can
    own = as_role("secondary").post(f"/orgs/requests/{req.id}/approve")
    assert own.status_code == 403
    assert "只有上级工会才能审核该申请" in own.get_data(as_text=True)
    district = as_role("district")
    queue = soup(district.get("/orgs/requests"))
    assert NEW["name"] in queue.get_text()
    assert district.post(f"/orgs/requests/{req.id}/approve").status_code == 302
    org = Organization.get(Organization.name == NEW["name"])
    assert org.parent_id == street.id
    assert OrgRequest.get_by_id(req.id).status == APPROVED
    # the submitter is told
    from models import messages
    assert any("已通过" in m.title for m in messages.for_account(city.account("secondary")))


def test_reject_needs_a_reason_and_releases_nothing(as_role, city):
    street = city.orgs["secondary1"]
    as_role("secondary").post(f"/orgs/{street.id}/new", data=NEW)
    req = OrgRequest.get(OrgRequest.submitter_org == street.id)
    district = as_role("district")
    refused = district.post(f"/orgs/requests/{req.id}/reject", data={"reason": "  "})
    assert refused.status_code == 422
    assert "须填写原因" in refused.get_data(as_text=True)
    assert OrgRequest.get_by_id(req.id).status == PENDING
    district.post(f"/orgs/requests/{req.id}/reject", data={"reason": "名称与营业执照不符"})
    req = OrgRequest.get_by_id(req.id)
    assert (req.status, req.reason) == (REJECTED, "名称与营业执照不符")
    assert not Organization.select().where(Organization.name == NEW["name"]).exists()
    page = soup(as_role("secondary").get(f"/orgs/requests/{req.id}"))
    assert "驳回原因：名称与营业执照不符" in page.get_text()


def test_org_request_workflow_every_pair(city):
    account = city.account("district")

    def make(state):
        req = factories.make_org_request(city.orgs["grassroots1"])
        OrgRequest.update(status=state).where(OrgRequest.id == req.id).execute()
        return OrgRequest.get_by_id(req.id)

    allowed, forbidden = check_every_pair(OrgRequest, make, account=account)
    assert (allowed, forbidden) == (3, 9)


def test_withdraw_by_the_submitter_only(as_role, city):
    req = factories.make_org_request(city.orgs["grassroots1"])
    other = as_role("district").post(f"/orgs/requests/{req.id}/withdraw")
    assert other.status_code == 403
    assert as_role("grassroots").post(f"/orgs/requests/{req.id}/withdraw").status_code == 302
    assert OrgRequest.get_by_id(req.id).status == WITHDRAWN


def test_approving_a_change_applies_it(as_role, city):
    org = city.orgs["grassroots1"]
    req = factories.make_org_request(org)
    as_role("district").post(f"/orgs/requests/{req.id}/approve")
    assert Organization.get_by_id(org.id).address == "申请修改的地址"
    assert AuditLog.for_object(org).first().action == "修改组织信息"


def test_approval_fails_cleanly_when_the_name_was_taken_meanwhile(as_role, city):
    street = city.orgs["secondary1"]
    as_role("secondary").post(f"/orgs/{street.id}/new", data=NEW)
    req = OrgRequest.get(OrgRequest.submitter_org == street.id)
    factories.make_org(city.orgs["district2"], name=NEW["name"])
    response = as_role("district").post(f"/orgs/requests/{req.id}/approve")
    assert response.status_code == 409
    assert "已被其他组织使用" in response.get_data(as_text=True)
    assert OrgRequest.get_by_id(req.id).status == PENDING


def test_duplicate_name_refused_on_create(as_role, city):
    response = as_role("district").post(f"/orgs/{city.orgs['district1'].id}/new",
                                        data=dict(NEW, name=city.orgs["direct2"].name))
    assert response.status_code == 422
    assert "该组织名称已被其他组织使用" in response.get_data(as_text=True)


# --- move -----------------------------------------------------------------------------------
def subtree_names(org):
    return {o.name for o in Organization.get_by_id(org.id).subtree()}


def test_move_keeps_subtree_queries_right(as_role, city):
    g = city.orgs["grassroots1"]
    child = factories.make_org(g, "分工会/工会小组", name="甲公司一车间分工会")
    target = city.orgs["direct1"]  # a grassroots union: only 分工会 may go under it — refused
    client = as_role("district")
    refused = client.post(f"/orgs/{g.id}/move", data={"target": target.name})
    assert refused.status_code == 422
    street2 = factories.make_org(city.orgs["district1"], "街道总工会", name="测试区1第二街道总工会")
    response = client.post(f"/orgs/{g.id}/move", data={"target": street2.uscc or street2.name})
    assert response.status_code == 302
    assert subtree_names(city.orgs["secondary1"]) == {"测试区1街道总工会"}
    assert subtree_names(street2) == {street2.name, g.name, child.name}
    moved_child = Organization.get_by_id(child.id)
    assert moved_child.depth == 4 and moved_child.district_id == city.orgs["district1"].id
    assert [a.name for a in moved_child.ancestors()] == ["测试市总工会", "测试区1总工会", street2.name, g.name]
    # closure rows: exactly one per (ancestor, descendant) pair, depth consistent
    for node in (g, child):
        depths = {t.ancestor_id: t.depth for t in OrgTree.select().where(OrgTree.descendant == node.id)}
        assert len(depths) == Organization.get_by_id(node.id).depth + 1
    assert AuditLog.for_object(g).first().action == "移动组织"


def test_move_across_districts_by_admin_updates_the_district(city):
    g = city.orgs["grassroots1"]
    g.move(city.orgs["secondary2"])
    assert Organization.get_by_id(g.id).district_id == city.orgs["district2"].id
    assert city.orgs["district2"].contains(g.id) and not city.orgs["district1"].contains(g.id)


@pytest.mark.parametrize("target,message", [
    ("grassroots1", "不能把"),  # itself
    ("unknown", "未找到"),
    ("district2", "未找到"),  # outside the district's scope
])
def test_move_refusals(as_role, city, target, message):
    street = city.orgs["secondary1"]
    name = city.orgs[target].name if target in city.orgs else "不存在的工会"
    if target == "grassroots1":  # moving the street union under its own child
        factories.make_org(city.orgs["grassroots1"], "分工会/工会小组", name="分工会甲")
        name = city.orgs["grassroots1"].name
    before = list(OrgTree.select().tuples())
    response = as_role("district").post(f"/orgs/{street.id}/move", data={"target": name})
    assert response.status_code == 422
    assert message in soup(response).select_one(".field-error").get_text()
    assert sorted(OrgTree.select().tuples()) == sorted(before)


def test_model_refuses_cycles(city):
    with pytest.raises(DomainError) as refused:
        city.orgs["secondary1"].move(city.orgs["grassroots1"])
    assert "下级组织" in refused.value.message


# --- close ----------------------------------------------------------------------------------
def test_close_refused_with_members_or_children(as_role, city):
    g = city.orgs["grassroots1"]
    factories.make_member(g)
    client = as_role("district")
    page = soup(client.get(f"/orgs/{g.id}/close"))
    assert "该组织还有1名会员" in page.select_one(".alert-error").get_text()
    response = client.post(f"/orgs/{g.id}/close", data={"reason": "企业注销"})
    assert response.status_code == 409
    assert Organization.get_by_id(g.id).status == "正常"
    street = client.post(f"/orgs/{city.orgs['secondary1'].id}/close", data={"reason": "撤并"})
    assert street.status_code == 409
    assert "未撤销的下级组织" in street.get_data(as_text=True)


def test_close_an_empty_organisation_disables_its_accounts(as_role, city):
    g = city.orgs["direct1"]
    account = city.account("grassroots", 2)
    assert account.org_id == g.id
    response = as_role("district").post(f"/orgs/{g.id}/close", data={"reason": "企业注销"})
    assert response.status_code == 302
    closed = Organization.get_by_id(g.id)
    assert closed.status == CLOSED and closed.closed_at is not None
    assert not Account.get_by_id(account.id).is_active
    row = AuditLog.for_object(g).first()
    assert (row.action, row.from_state, row.to_state, row.reason) == ("撤销组织", "正常", "已撤销", "企业注销")
    listing = soup(as_role("district").get("/orgs/list"))
    assert g.name not in listing.get_text()


def test_temporary_union_cannot_be_closed(as_role, city):
    t = city.orgs["temporary1"]
    response = as_role("district").post(f"/orgs/{t.id}/close", data={"reason": "x"})
    assert response.status_code == 409
    assert Organization.get_by_id(t.id).status == "正常"


def test_grassroots_cannot_manage_organisations(as_role, city):
    client = as_role("grassroots")
    g = city.orgs["grassroots1"]
    for url in (f"/orgs/{g.id}/new", f"/orgs/{g.id}/move", f"/orgs/{g.id}/close"):
        assert client.post(url, data=NEW).status_code == 403, url
    assert Organization.select().where(Organization.name == NEW["name"]).count() == 0


def test_htmx_form_success_loads_the_next_page_whole(as_role, city):
    """The form swaps itself on errors; on success htmx is told to load the new page."""
    client = as_role("district")
    response = client.post(f"/orgs/{city.orgs['district1'].id}/new", data=NEW, headers={"HX-Request": "true"})
    org = Organization.get(Organization.name == NEW["name"])
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/orgs/{org.id}"
    page = soup(client.get(response.headers["HX-Redirect"]))
    assert f"已新增组织「{NEW['name']}」" in page.get_text()


def test_org_list_pages_read_every_organisation_once_in_order(as_role, city):
    """组织列表 全部状态: the deep pages (read by a deferred join on the index) and page 1 together list
    the district's organisations exactly once, in (层级深度, 名称) order, closed ones included."""
    district = city.orgs["district1"]
    parent = city.orgs["secondary1"]
    for i in range(40):  # names not in creation order
        org = Organization.add(parent, name=f"分页测试工会{(i * 17) % 40:02d}", type="工会委员会")
        if i % 5 == 0:
            Organization.update(status=CLOSED).where(Organization.id == org.id).execute()
    expected = [o.name for o in Organization.select().where(Organization.district == district.id)
                .order_by(Organization.depth, Organization.name, Organization.id)]
    client = as_role("district")
    first = soup(client.get("/orgs/list?status="))
    assert first.select_one("#filter-status option[selected]").get_text() == "全部状态"  # what is listed
    total = int(first.select_one(".pager, .summary, body").get_text().split("总共")[1].split("条")[0])
    assert total == len(expected)
    seen = []
    for page in range(1, -(-total // 15) + 1):
        rows = soup(client.get(f"/orgs/list?status=&page={page}")).select("table tbody tr")
        seen += [row.select_one("td a").get_text() for row in rows]
    assert seen == expected
