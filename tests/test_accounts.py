"""账号管理 (superiors manage the accounts of the organisations below them) and the admin's
快速修复 page: one-time passwords shown once, forced change at first login, disable / enable /
reset / unlock, who may act on whom, and the audit trail of every action."""

import logging

import pytest

from models.audit import AuditLog
from models.orgs import account_ops
from models.orgs.accounts import ACTIVE, DISABLED, LOCK_AFTER, Account, LoginAttempt
from models.orgs.organizations import CLOSED, Organization
from tests import factories
from tests.helpers import soup
from tests.workflow_helpers import check_every_pair, check_stale_object_refused

ROLES = ("admin", "city", "centre", "district", "secondary", "grassroots")
LOCK_MESSAGE = "登录失败次数过多，账号已被锁定15分钟，请稍后再试或联系上级工会解锁"


def one_time_password(response) -> str:
    node = soup(response).select_one("#one-time-password")
    assert node is not None, response.get_data(as_text=True)[:500]
    return node.get_text(strip=True)


def refusal(response) -> str:
    node = soup(response).select_one(".refusal")
    return node.get_text(strip=True) if node else ""


def login_error(response) -> str:
    node = soup(response).select_one(".alert-error")
    return node.get_text(strip=True) if node else ""


def field_errors(response) -> list[str]:
    return [p.get_text(strip=True) for p in soup(response).select(".field-error")]


def flashes(response) -> list[str]:
    return [d.get_text(strip=True) for d in soup(response).select(".alert")]


def post_login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def audit_rows(account, action=None):
    query = AuditLog.select().where((AuditLog.object_type == "Account") & (AuditLog.object_id == account.id))
    if action:
        query = query.where(AuditLog.action == action)
    return list(query.order_by(AuditLog.id))


def fresh(account) -> Account:
    return Account.get_by_id(account.id)


def row_for(page, username):
    """The table row of one account on the 账号管理 page."""
    for tr in page.select("table.grid tbody tr"):
        cells = tr.find_all("td")
        if cells and cells[0].get_text(" ", strip=True).split(" ")[0] == username:
            return tr
    return None


def row_buttons(page, username) -> list[str]:
    tr = row_for(page, username)
    assert tr is not None, username
    return [b.get_text(strip=True) for b in tr.select("button")]


def assert_secret_nowhere_in_audit(secret):
    for row in AuditLog.select():
        for value in (row.detail, row.reason, row.from_state, row.to_state, row.account_name, row.org_name):
            assert secret not in (value or ""), row.action


# --- 新增账号 ---------------------------------------------------------------------------------
def test_district_creates_an_account_with_a_one_time_password_shown_once(app, city, as_role, caplog):
    district = as_role("district")
    org = city.orgs["grassroots1"]
    with caplog.at_level(logging.DEBUG):
        response = district.post(f"/accounts/org/{org.id}/new",
                                 data={"username": "zhang.san_01", "display_name": "张三"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = one_time_password(response)
    assert len(secret) >= 8
    page = soup(response)
    assert "该密码只显示这一次" in page.get_text()
    assert "zhang.san_01" in page.select_one("h1").get_text()

    account = Account.get(Account.username == "zhang.san_01")
    assert account.org_id == org.id
    assert account.display_name == "张三"
    assert account.must_change_password is True
    assert account.is_active is True
    assert secret not in account.password_hash  # stored hashed, never in clear

    # Shown once: the account list afterwards does not show it again.
    listing = district.get(f"/accounts/org/{org.id}")
    assert listing.status_code == 200
    assert secret not in listing.get_data(as_text=True)
    row = row_for(soup(listing), "zhang.san_01")
    assert row is not None and "待修改初始密码" in row.get_text()

    # Audited, without the password anywhere.
    rows = audit_rows(account)
    assert [(r.action, r.from_state, r.to_state) for r in rows] == [("新增账号", "", "正常")]
    assert rows[0].account_name == city.account("district").username
    assert rows[0].detail_data == {"组织": org.name}
    assert_secret_nowhere_in_audit(secret)
    assert secret not in caplog.text  # nor in the application log

    # The new account must change its password at first login, and can reach nothing else.
    newcomer = app.test_client()
    first = post_login(newcomer, "zhang.san_01", secret)
    assert first.status_code == 302 and first.headers["Location"] == "/password"
    assert newcomer.get("/home").headers["Location"] == "/password"
    assert newcomer.get("/messages/").headers["Location"] == "/password"
    changed = newcomer.post("/password", data={"old_password": secret, "new_password": "Brand-new-2026",
                                               "confirm": "Brand-new-2026"})
    assert changed.status_code == 302
    assert newcomer.get("/home").status_code == 200
    assert fresh(account).must_change_password is False


def test_secondary_creates_an_account_for_its_grassroots_union(city, as_role):
    org = city.orgs["grassroots1"]
    response = as_role("secondary").post(f"/accounts/org/{org.id}/new", data={"username": "street-made"})
    assert response.status_code == 200
    assert one_time_password(response)
    assert Account.get(Account.username == "street-made").org_id == org.id


def test_two_new_accounts_get_different_passwords(city, as_role):
    district = as_role("district")
    org = city.orgs["direct1"]
    first = one_time_password(district.post(f"/accounts/org/{org.id}/new", data={"username": "first-one"}))
    second = one_time_password(district.post(f"/accounts/org/{org.id}/new", data={"username": "second-one"}))
    assert first != second  # never a fixed default password


def test_no_account_for_the_users_own_organisation(city, as_role):
    own = city.orgs["district1"]
    before = Account.select().count()
    response = as_role("district").post(f"/accounts/org/{own.id}/new", data={"username": "own-org-user"})
    assert response.status_code == 403
    assert refusal(response) == "只能为下级组织新增账号"
    assert Account.select().count() == before
    assert not AuditLog.select().where(AuditLog.action == "新增账号").exists()


@pytest.mark.parametrize("role,outside", [
    ("district", "grassroots2"),  # another district's union
    ("district", "district2"),
    ("district", "city"),  # its own superior
    ("secondary", "direct1"),  # same district, not under the street union
    ("secondary", "district1"),
])
def test_no_account_for_an_organisation_outside_the_subtree(city, as_role, role, outside):
    org = city.orgs[outside]
    before = Account.select().count()
    response = as_role(role).post(f"/accounts/org/{org.id}/new", data={"username": "outsider-user"})
    assert response.status_code == 404
    assert Account.select().count() == before
    assert not Account.select().where(Account.username == "outsider-user").exists()


@pytest.mark.parametrize("role", ["grassroots", "city", "centre"])
def test_roles_that_do_not_manage_accounts_are_refused(city, as_role, role):
    org = city.orgs["grassroots1"]
    client = as_role(role)
    assert client.get(f"/accounts/org/{org.id}").status_code == 403
    response = client.post(f"/accounts/org/{org.id}/new", data={"username": "not-allowed"})
    assert response.status_code == 403
    assert refusal(response) == "您的账号无权使用此功能"
    assert not Account.select().where(Account.username == "not-allowed").exists()


@pytest.mark.parametrize("typed", ["taken.name", "  taken.name ", "ｔａｋｅｎ.ｎａｍｅ"])
def test_duplicate_username_is_a_field_error_and_nothing_is_created(city, as_role, typed):
    factories.make_account(city.orgs["grassroots2"], username="taken.name")  # anywhere in the city
    org = city.orgs["grassroots1"]
    before = Account.select().count()
    response = as_role("district").post(f"/accounts/org/{org.id}/new", data={"username": typed})
    assert response.status_code == 422
    assert field_errors(response) == ["该账号已存在，请换一个"]
    assert soup(response).select_one("#one-time-password") is None
    assert soup(response).select_one("#username")["aria-invalid"] == "true"
    assert Account.select().count() == before
    assert not AuditLog.select().where(AuditLog.action == "新增账号").exists()


@pytest.mark.parametrize("username,message", [
    ("", "请填写账号"),
    ("ab", "账号为3至50位"),
    ("张三账号", "账号只能包含字母、数字和 _ . @ -"),
    ("a" * 51, "账号为3至50位"),
])
def test_invalid_usernames_are_refused(city, as_role, username, message):
    org = city.orgs["grassroots1"]
    before = Account.select().count()
    response = as_role("district").post(f"/accounts/org/{org.id}/new", data={"username": username})
    assert response.status_code == 422
    assert message in field_errors(response)
    assert Account.select().count() == before


def test_no_new_account_for_a_closed_organisation(city, as_role):
    org = city.orgs["grassroots1"]
    Organization.update(status=CLOSED).where(Organization.id == org.id).execute()
    response = as_role("district").post(f"/accounts/org/{org.id}/new", data={"username": "late-comer"})
    assert response.status_code == 409
    assert refusal(response) == f"「{org.name}」已撤销，不能新增账号"
    assert not Account.select().where(Account.username == "late-comer").exists()


# --- the 账号管理 page ------------------------------------------------------------------------
def test_account_page_offers_actions_below_but_not_on_the_own_organisation(city, as_role):
    district = as_role("district")
    target = city.account("grassroots", 0)
    below = soup(district.get(f"/accounts/org/{target.org_id}"))
    assert row_buttons(below, target.username) == ["重置密码", "停用"]
    assert below.find("button", string="新增账号") is not None

    own = city.account("district", 0)
    own_page = soup(district.get(f"/accounts/org/{own.org_id}"))
    assert row_buttons(own_page, own.username) == []
    assert own_page.find("button", string="新增账号") is None


def test_organisation_page_links_to_account_management_for_organisations_below(city, as_role):
    district = as_role("district")
    below = city.orgs["grassroots1"]
    link = soup(district.get(f"/orgs/{below.id}")).find("a", string="账号管理")
    assert link is not None and link["href"] == f"/accounts/org/{below.id}"
    assert district.get(link["href"]).status_code == 200
    own = city.orgs["district1"]
    assert soup(district.get(f"/orgs/{own.id}")).find("a", string="账号管理") is None
    grassroots = as_role("grassroots")
    assert soup(grassroots.get(f"/orgs/{below.id}")).find("a", string="账号管理") is None


def test_account_page_of_another_district_is_404(city, as_role):
    assert as_role("district").get(f"/accounts/org/{city.orgs['grassroots2'].id}").status_code == 404
    assert as_role("secondary").get(f"/accounts/org/{city.orgs['district1'].id}").status_code == 404


# --- 停用 / 启用 ------------------------------------------------------------------------------
def test_disable_ends_the_session_and_refuses_login_then_enable_restores(app, city, as_role):
    district = as_role("district")
    target = city.account("grassroots", 0)
    victim = app.test_client()
    factories.login(victim, target)
    assert victim.get("/home").status_code == 200

    response = district.post(f"/accounts/{target.id}/disable", data={"reason": "人员调离"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/accounts/org/{target.org_id}"
    page = district.get(response.headers["Location"])
    assert f"已停用账号 {target.username}" in flashes(page)
    row = row_for(soup(page), target.username)
    assert "已停用" in row.get_text()
    assert row_buttons(soup(page), target.username) == ["重置密码", "启用"]
    assert fresh(target).is_active is False

    # Its existing session has ended, and it cannot log in again.
    ended = victim.get("/home")
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/login")
    refused = post_login(app.test_client(), target.username, factories.PASSWORD)
    assert refused.status_code == 422
    assert login_error(refused) == "该账号已停用，请联系上级工会"

    # Disabling twice is refused and not audited twice.
    again = district.post(f"/accounts/{target.id}/disable")
    assert again.status_code == 409
    assert refusal(again) == "该账号已是停用状态"

    response = district.post(f"/accounts/{target.id}/enable")
    assert response.status_code == 302
    assert f"已启用账号 {target.username}" in flashes(district.get(response.headers["Location"]))
    assert fresh(target).is_active is True
    assert post_login(app.test_client(), target.username, factories.PASSWORD).status_code == 302

    again = district.post(f"/accounts/{target.id}/enable")
    assert again.status_code == 409
    assert refusal(again) == "该账号已是正常状态"

    rows = audit_rows(target)
    assert [(r.action, r.from_state, r.to_state) for r in rows if r.action != "登录"] == [
        ("停用账号", "正常", "已停用"), ("启用账号", "已停用", "正常")]
    disabled = audit_rows(target, "停用账号")[0]
    assert disabled.reason == "人员调离"
    assert disabled.account_name == city.account("district").username


def test_account_workflow_every_pair(city):
    """正常 ⇄ 已停用 through the workflow engine, over the is_active column (no column of its own)."""
    org = city.orgs["grassroots1"]

    def make(state):
        account = factories.make_account(org)
        if state == DISABLED:
            Account.update(is_active_flag=False).where(Account.id == account.id).execute()
        return Account.get_by_id(account.id)
    allowed, forbidden = check_every_pair(Account, make, account=city.account("district"), reason="人员调离")
    assert (allowed, forbidden) == (2, 2)
    assert Account.select().where(Account.status == DISABLED).count() == Account.select().where(
        Account.is_active_flag == False).count() > 0  # noqa: E712


def test_disable_ends_every_session_and_a_stale_page_is_refused(city):
    target = city.account("grassroots", 0)
    version, stale = target.session_version, fresh(target)  # a page loaded before the 停用
    assert stale.status == ACTIVE
    account_ops.disable(target, by=city.account("district"), reason="人员调离")
    assert (fresh(target).status, fresh(target).is_active, fresh(target).session_version) == (
        DISABLED, False, version + 1)
    check_stale_object_refused(stale, "disable", moved_by_other_to=DISABLED)


def test_an_account_of_a_closed_organisation_cannot_be_enabled(city, as_role):
    district = as_role("district")
    target = city.account("grassroots", 0)
    assert district.post(f"/accounts/{target.id}/disable").status_code == 302
    org = city.orgs["grassroots1"]
    Organization.update(status=CLOSED).where(Organization.id == org.id).execute()
    response = district.post(f"/accounts/{target.id}/enable")
    assert response.status_code == 409
    assert refusal(response) == f"「{org.name}」已撤销，不能启用其账号"
    assert fresh(target).is_active is False
    assert audit_rows(target, "启用账号") == []


# --- 重置密码 ----------------------------------------------------------------------------------
def test_reset_gives_a_new_one_time_password_and_ends_the_old_one(app, city, as_role):
    district = as_role("district")
    target = city.account("grassroots", 2)  # direct1, directly under the district
    victim = app.test_client()
    factories.login(victim, target)

    response = district.post(f"/accounts/{target.id}/reset")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = one_time_password(response)
    assert secret != factories.PASSWORD

    # The old session ends, the old password no longer works, the new one forces a change.
    assert victim.get("/home").headers["Location"].startswith("/login")
    old = post_login(app.test_client(), target.username, factories.PASSWORD)
    assert old.status_code == 422 and login_error(old) == "账号或密码错误"
    client = app.test_client()
    new = post_login(client, target.username, secret)
    assert new.status_code == 302 and new.headers["Location"] == "/password"
    assert client.get("/home").headers["Location"] == "/password"
    assert fresh(target).must_change_password is True

    assert [r.action for r in audit_rows(target) if r.action != "登录"] == ["重置密码"]
    assert_secret_nowhere_in_audit(secret)


def test_each_reset_shows_a_different_password_only_the_last_works(app, city, as_role):
    district = as_role("district")
    target = city.account("grassroots", 0)
    first = one_time_password(district.post(f"/accounts/{target.id}/reset"))
    second = one_time_password(district.post(f"/accounts/{target.id}/reset"))
    assert first != second
    assert post_login(app.test_client(), target.username, first).status_code == 422
    assert post_login(app.test_client(), target.username, second).status_code == 302
    assert len(audit_rows(target, "重置密码")) == 2


# --- 解锁 ------------------------------------------------------------------------------------
def lock(app, account):
    client = app.test_client()
    texts = [login_error(post_login(client, account.username, "wrong-pass-1")) for _ in range(LOCK_AFTER)]
    assert texts[-1] == LOCK_MESSAGE
    right = post_login(client, account.username, factories.PASSWORD)
    assert right.status_code == 422 and login_error(right) == LOCK_MESSAGE


def test_locked_account_is_shown_and_unlock_lets_it_log_in(app, city, as_role):
    district = as_role("district")  # logged in before the failures
    target = city.account("grassroots", 0)
    lock(app, target)

    page = soup(district.get(f"/accounts/org/{target.org_id}"))
    assert "已锁定" in row_for(page, target.username).get_text()
    assert row_buttons(page, target.username) == ["重置密码", "停用", "解锁"]

    response = district.post(f"/accounts/{target.id}/unlock", data={"reason": "本人电话确认"})
    assert response.status_code == 302
    after = district.get(response.headers["Location"])
    assert f"已解锁账号 {target.username}" in flashes(after)
    assert "已锁定" not in row_for(soup(after), target.username).get_text()
    assert not LoginAttempt.select().where(LoginAttempt.username == target.username).exists()

    assert post_login(app.test_client(), target.username, factories.PASSWORD).status_code == 302
    rows = audit_rows(target, "解锁账号")
    assert len(rows) == 1 and rows[0].reason == "本人电话确认"


def test_nine_failures_do_not_lock(app, city):
    target = city.account("grassroots", 0)
    client = app.test_client()
    for _ in range(LOCK_AFTER - 1):
        post_login(client, target.username, "wrong-pass-1")
    assert post_login(client, target.username, factories.PASSWORD).status_code == 302


def test_reset_also_unlocks(app, city, as_role):
    district = as_role("district")
    target = city.account("grassroots", 0)
    lock(app, target)
    secret = one_time_password(district.post(f"/accounts/{target.id}/reset"))
    assert post_login(app.test_client(), target.username, secret).headers["Location"] == "/password"


# --- who may act on whom -------------------------------------------------------------------
@pytest.mark.parametrize("action", ["disable", "enable", "reset", "unlock"])
def test_a_user_cannot_act_on_its_own_account(city, as_role, action):
    own = city.account("district", 0)
    response = as_role("district").post(f"/accounts/{own.id}/{action}")
    assert response.status_code == 403
    assert refusal(response) == "不能对自己的账号执行此操作"
    assert fresh(own).is_active is True
    assert fresh(own).password_hash == own.password_hash
    assert audit_rows(own) == [r for r in audit_rows(own) if r.action == "登录"]


def test_a_colleague_in_the_same_organisation_cannot_be_managed(city, as_role):
    colleague = factories.make_account(city.orgs["district1"])
    response = as_role("district").post(f"/accounts/{colleague.id}/disable")
    assert response.status_code == 403
    assert refusal(response) == "只有上级工会才能管理该账号"
    assert fresh(colleague).is_active is True


@pytest.mark.parametrize("action", ["disable", "reset", "unlock"])
def test_secondary_cannot_manage_the_districts_accounts(city, as_role, action):
    district_account = city.account("district", 0)
    client = as_role("secondary")
    response = client.post(f"/accounts/{district_account.id}/{action}")
    assert response.status_code == 404
    assert fresh(district_account).is_active is True
    assert fresh(district_account).password_hash == district_account.password_hash
    assert [r for r in audit_rows(district_account) if r.action != "登录"] == []


def test_secondary_manages_its_own_grassroots_union(city, as_role):
    target = city.account("grassroots", 0)
    response = as_role("secondary").post(f"/accounts/{target.id}/disable")
    assert response.status_code == 302
    assert fresh(target).is_active is False


@pytest.mark.parametrize("role,target_role,which", [
    ("district", "grassroots", 1),  # district2's grassroots union
    ("district", "district", 1),
    ("district", "admin", 0),
    ("district", "city", 0),
    ("secondary", "grassroots", 2),  # direct1: same district, outside the street union
])
def test_accounts_outside_the_subtree_are_404(city, as_role, role, target_role, which):
    target = city.account(target_role, which)
    response = as_role(role).post(f"/accounts/{target.id}/disable")
    assert response.status_code == 404
    assert fresh(target).is_active is True


def test_only_the_admin_manages_an_admin_account(app, city, as_role):
    hidden_admin = factories.make_account(city.orgs["grassroots1"], admin=True)
    response = as_role("district").post(f"/accounts/{hidden_admin.id}/disable")
    assert response.status_code == 403
    assert refusal(response) == "只有上级工会才能管理该账号"
    assert fresh(hidden_admin).is_active is True


def test_grassroots_cannot_manage_accounts(city, as_role):
    target = factories.make_account(city.orgs["grassroots1"])
    response = as_role("grassroots").post(f"/accounts/{target.id}/disable")
    assert response.status_code == 403
    assert fresh(target).is_active is True


# --- 快速修复 (admin) -------------------------------------------------------------------------
def test_admin_page_lists_the_quick_fixes(as_role):
    page = soup(as_role("admin").get("/admin/"))
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in page.select("table.grid tbody tr")]
    assert [r[0] for r in rows] == ["重置密码", "解锁账号", "更正会员证件信息", "更正卡片状态", "延长时间窗口",
                                    "恢复被误退回的参保提交", "延长互助保障时间窗口"]
    links = {a.get_text(strip=True): a["href"] for a in page.select("table.grid tbody a")}
    assert links == {"重置密码": "/admin/reset-password", "解锁账号": "/admin/unlock",
                     "更正会员证件信息": "/admin/member-identity", "更正卡片状态": "/admin/card-status",
                     "延长时间窗口": "/admin/extend-window", "恢复被误退回的参保提交": "/admin/restore-submission",
                     "延长互助保障时间窗口": "/admin/extend-aid-window"}


def test_quick_fix_is_in_the_admins_menu_only(as_role):
    admin_menu = [a.get_text(strip=True) for a in soup(as_role("admin").get("/home")).select(".sidemenu a")]
    assert "快速修复" in admin_menu
    district_menu = [a.get_text(strip=True) for a in soup(as_role("district").get("/home")).select(".sidemenu a")]
    assert "快速修复" not in district_menu


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_non_admins_cannot_use_quick_fixes(city, as_role, role):
    client = as_role(role)
    target = city.account("grassroots", 0)
    for url in ("/admin/", "/admin/reset-password", "/admin/unlock"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert refusal(response) == "您的账号无权使用此功能"
    for url in ("/admin/reset-password", "/admin/unlock"):
        response = client.post(url, data={"username": target.username, "reason": "试一试"})
        assert response.status_code == 403, url
    assert fresh(target).password_hash == target.password_hash
    assert not AuditLog.select().where(AuditLog.action.in_(["重置密码", "解锁账号"])).exists()


def test_admin_resets_a_password_with_a_reason(app, city, as_role):
    admin = as_role("admin")
    form = soup(admin.get("/admin/reset-password"))
    assert [label.get_text(strip=True) for label in form.select("form label")] == ["*账号", "*原因"]

    target = city.account("district", 1)
    response = admin.post("/admin/reset-password", data={"username": target.username,
                                                          "reason": "区总工会来电 已核实身份"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = one_time_password(response)
    assert soup(response).find("a", string="返回")["href"] == "/admin/"

    assert post_login(app.test_client(), target.username, factories.PASSWORD).status_code == 422
    assert post_login(app.test_client(), target.username, secret).headers["Location"] == "/password"
    rows = audit_rows(target, "重置密码")
    assert len(rows) == 1
    assert rows[0].reason == "区总工会来电 已核实身份"
    assert rows[0].account_name == city.account("admin").username
    assert_secret_nowhere_in_audit(secret)


def test_admin_unlocks_with_a_reason(app, city, as_role):
    admin = as_role("admin")
    target = city.account("secondary", 0)
    lock(app, target)
    response = admin.post("/admin/unlock", data={"username": f" {target.username} ", "reason": "误输密码"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert f"已解锁账号 {target.username}" in flashes(admin.get("/admin/"))
    assert post_login(app.test_client(), target.username, factories.PASSWORD).status_code == 302
    rows = audit_rows(target, "解锁账号")
    assert len(rows) == 1 and rows[0].reason == "误输密码"


@pytest.mark.parametrize("url", ["/admin/reset-password", "/admin/unlock"])
@pytest.mark.parametrize("data,message", [
    ({"username": "", "reason": "原因"}, "请填写账号"),
    ({"username": "USER", "reason": ""}, "请填写原因（记入操作日志）"),
    ({"username": "USER", "reason": "   "}, "请填写原因（记入操作日志）"),
    ({"username": "nobody-at-all", "reason": "核实"}, "没有这个账号"),
])
def test_quick_fix_needs_an_account_and_a_reason(city, as_role, url, data, message):
    target = city.account("grassroots", 0)
    data = {k: (target.username if v == "USER" else v) for k, v in data.items()}
    admin = as_role("admin")
    before = AuditLog.select().count()
    response = admin.post(url, data=data)
    assert response.status_code == 422
    assert message in field_errors(response)
    assert soup(response).select_one("#one-time-password") is None
    assert fresh(target).password_hash == target.password_hash
    assert AuditLog.select().count() == before


def test_admin_quick_fix_reaches_every_account(app, city, as_role):
    other_admin = factories.make_account(city.orgs["city"], admin=True)
    response = as_role("admin").post("/admin/reset-password", data={"username": other_admin.username,
                                                                     "reason": "管理员交接"})
    assert response.status_code == 200
    assert post_login(app.test_client(), other_admin.username, one_time_password(response)).status_code == 302


def test_admin_cannot_reset_its_own_password_through_the_quick_fix(city, as_role):
    """Like 账号管理, the quick fix must not act on the user's own account: a self-reset would
    replace the admin's password without the old one (bypassing 修改密码)."""
    me = city.account("admin")
    client = as_role("admin")
    response = client.post("/admin/reset-password", data={"username": me.username, "reason": "自己重置"})
    assert response.status_code == 403
    assert refusal(response) == "不能对自己的账号执行此操作"
    assert fresh(me).password_hash == me.password_hash
    assert audit_rows(me, "重置密码") == []
