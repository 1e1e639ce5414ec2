"""账号找回申请 (issue 18 "Who uses it", seed 004: the 申工通账号找回或密码重置申请表 becomes a form):
sent from the login page without logging in, the same answer whether the unit exists or not,
throttled per address; the centre matches it to an account holding a code and resets with a
one-time password shown once (must be changed, old sessions end) — never a fixed default — or
驳回 with the reason; audited; every (state, action) pair; two clerks at once leave one reset."""

import io

import pytest

from models.audit import AuditLog
from models.base import DomainError
from models.mutual_aid import code_ops, recovery
from models.mutual_aid.recovery import PENDING, REJECTED, RESET, AccountRecovery
from models.orgs.accounts import Account
from tests import factories
from tests.factories.mutual_aid import approved_code, png, recovery_form, recovery_request, uscc
from tests.helpers import race, soup
from tests.workflow_helpers import check_every_pair

BASE = "/account-recovery"


def posted(n=1, file=("申请表.png", png()), **fields):
    data = recovery_form(n, **fields)
    if file:
        data["file"] = (io.BytesIO(file[1]), file[0])
    return data


def send(client, n=1, ip="198.51.100.1", **kwargs):
    return client.post(f"{BASE}/", data=posted(n, **kwargs), content_type="multipart/form-data",
                       environ_base={"REMOTE_ADDR": ip})


def test_the_login_page_leads_to_the_form_which_needs_no_login(client, city):
    login = soup(client.get("/login"))
    assert login.select_one("#account-recovery")["href"] == f"{BASE}/"
    page = soup(client.get(f"{BASE}/"))
    labels = {label.get_text(" ", strip=True) for label in page.select("#recovery-form label")}
    assert {"* 单位名称", "* 统一社会信用代码", "参保编码", "* 联系人", "* 手机号码", "* 申请原因",
            "* 申请表（加盖公章）"} == labels


def test_the_answer_is_the_same_whether_the_unit_has_an_account_or_not(client, city):
    code = approved_code(city, 1)
    known = send(client, 1, code_no=code.code)
    unknown = send(client, 77)
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == f"{BASE}/sent"
    assert AccountRecovery.select().count() == 2
    assert all(r.status == PENDING for r in AccountRecovery.select())
    row = AccountRecovery.get(AccountRecovery.unit_name == "上海互助测试1有限公司")
    assert (row.code_no, row.ip, row.content_type) == (code.code, "198.51.100.1", "image/png")
    assert recovery.file_path(row).exists()


def test_bad_fields_and_files_are_named_and_nothing_is_kept(client, city):
    missing = send(client, 1, unit_name="", mobile="123", uscc="123")
    assert missing.status_code == 422
    page = soup(missing)
    assert page.select_one("#r-unit_name-error").get_text() == "请填写单位名称"
    assert page.select_one("#r-mobile-error").get_text().startswith("手机号码：")
    assert page.select_one("#r-uscc-error") is not None
    assert page.select_one("#r-contact")["value"] == "联系人1"  # what was typed stays
    nofile = send(client, 1, file=None)
    assert nofile.status_code == 422 and "加盖公章" in soup(nofile).select_one("#r-file-error").get_text()
    text = send(client, 1, file=("申请表.png", b"just text"))
    assert text.status_code == 422 and "只能是图片" in soup(text).select_one("#recovery-error").get_text()
    assert AccountRecovery.select().count() == 0


def test_one_address_may_send_a_few_a_day(client, city):
    for n in range(recovery.MAX_PER_IP):
        assert send(client, n + 1, ip="192.0.2.9").status_code == 302
    refused = send(client, 9, ip="192.0.2.9")
    assert refused.status_code == 429 and "今日提交的账号找回申请过多" in refused.get_data(as_text=True)
    assert send(client, 9, ip="192.0.2.10").status_code == 302  # another address is not locked out
    assert AccountRecovery.select().count() == recovery.MAX_PER_IP + 1


def test_the_matching_accounts_by_code_name_and_group_unit(city):
    one, two, three = approved_code(city, 1), approved_code(city, 2), approved_code(city, 3)
    code_ops.add_unit(three, "集团下属甲公司", uscc(60), city.account("centre"))
    req = recovery_request(1, code_no=two.code)
    found = {account.username: why for account, why in recovery.candidates(req)}
    assert set(found) == {one.account.username, two.account.username}
    assert found[one.account.username].startswith("统一社会信用代码") and "单位名称" in found[one.account.username]
    assert found[two.account.username] == f"参保编码（参保编码{two.code}）"
    by_group = recovery_request(5, unit_name="集团下属甲公司", uscc=uscc(61))
    assert [a.username for a, _ in recovery.candidates(by_group)] == [three.account.username]
    assert recovery.candidates(recovery_request(8)) == []


def test_a_registered_enterprise_matches_before_it_has_a_code(city):
    """企业注册 (another workstream) gives a unit without a union an organisation of level
    "enterprise" outside the union tree: its accounts match by name or 统一社会信用代码 too."""
    org = factories.make_org(None, "企业", level=recovery.ENTERPRISE, name="自注册企业有限公司", uscc=uscc(70))
    account = factories.make_account(org)
    for fields in ({"unit_name": "自注册企业有限公司", "uscc": uscc(71)}, {"unit_name": "别名", "uscc": uscc(70)}):
        assert [(a.id, why) for a, why in recovery.candidates(recovery_request(70, **fields))] == [
            (account.id, "企业注册的单位")]
    assert recovery.candidates(recovery_request(72)) == []


def test_the_centre_resets_with_a_one_time_password_shown_once(app, city, as_role):
    code = approved_code(city, 1)
    old_session = app.test_client()
    factories.login(old_session, code.account)
    req = recovery_request(1)
    centre = as_role("centre")
    queue = soup(centre.get(f"{BASE}/review", query_string={"status": PENDING}))
    assert [td.get_text() for td in queue.select("#rows td.name")] == ["上海互助测试1有限公司"]
    detail = soup(centre.get(f"{BASE}/{req.id}"))
    assert [r.select("td")[1].get_text() for r in detail.select("#candidates tbody tr")] == [code.account.username]
    assert centre.get(f"{BASE}/{req.id}/file").mimetype == "image/png"
    wrong = centre.post(f"{BASE}/{req.id}/reset", data={"account": city.account("grassroots").id})
    assert wrong.status_code == 422 and "只能为匹配的账号重置密码" in soup(wrong).select_one("#decide-error").get_text()
    response = centre.post(f"{BASE}/{req.id}/reset", data={"account": code.account.id})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = soup(response).select_one("#one-time-password").get_text()
    assert len(secret) == 10 and secret != "abc123456"
    account = Account.get_by_id(code.account.id)
    assert account.must_change_password and account.check_password(secret)
    assert not account.check_password(factories.PASSWORD)
    assert old_session.get("/mutual-aid/changes/").status_code == 302  # the old session has ended
    again = soup(centre.get(f"{BASE}/{req.id}"))
    assert again.select_one("#recovery-status").get_text() == RESET
    assert secret not in str(again)  # shown once: never again
    assert again.select_one("#reset-account").get_text() == code.account.username
    assert AuditLog.for_object(req).first().action == "账号找回：重置密码"
    assert AuditLog.for_object(account).first().reason == "账号找回申请（上海互助测试1有限公司）"
    fresh = app.test_client()
    login = fresh.post("/login", data={"username": account.username, "password": secret})
    assert login.headers["Location"].endswith("/password")  # the one-time password must be changed


def test_the_centre_rejects_with_a_reason_and_city_writes_nothing(city, as_role):
    code = approved_code(city, 1)
    req = recovery_request(1)
    town = as_role("city")
    assert town.get(f"{BASE}/{req.id}").status_code == 200
    assert town.get(f"{BASE}/{req.id}/file").status_code == 404  # the stamped form: the centre's alone
    assert town.post(f"{BASE}/{req.id}/reset", data={"account": code.account.id}).status_code == 403
    assert town.post(f"{BASE}/{req.id}/reject", data={"reason": "x"}).status_code == 403
    for role in ("district", "secondary", "grassroots"):
        assert as_role(role).get(f"{BASE}/review").status_code == 403
    centre = as_role("centre")
    assert centre.post(f"{BASE}/{req.id}/reject", data={"reason": ""}).status_code == 422
    assert centre.post(f"{BASE}/{req.id}/reject", data={"reason": "申请表未加盖公章"}).status_code == 302
    req = AccountRecovery.get_by_id(req.id)
    assert (req.status, req.reply) == (REJECTED, "申请表未加盖公章")
    assert centre.post(f"{BASE}/{req.id}/reset", data={"account": code.account.id}).status_code == 409
    assert Account.get_by_id(code.account.id).check_password(factories.PASSWORD)


def test_the_recovery_workflow_every_pair(city):
    n = iter(range(100, 1000))

    def make(state):
        req = recovery_request(next(n), ip=f"192.0.2.{next(n) % 250}")
        AccountRecovery.update({AccountRecovery.status: state}).where(AccountRecovery.id == req.id).execute()
        return AccountRecovery.get_by_id(req.id)
    allowed, forbidden = check_every_pair(AccountRecovery, make, account=city.account("centre"), reason="材料不全")
    assert (allowed, forbidden) == (2, 3 * 2 - 2)
    with pytest.raises(DomainError, match="只有上海市职工保障互助会可以审核"):
        recovery.reject(make(PENDING), city.account("city"), "x")


def test_two_clerks_resetting_one_request_leave_one_password(committed):
    city = factories.make_city()
    code = approved_code(city, 1)
    req = recovery_request(1)
    centre, admin = city.account("centre"), city.account("admin")
    outcomes = race(*[lambda who=who: recovery.reset(AccountRecovery.get_by_id(req.id), code.account.id, who)
                      for who in (centre, admin)])
    assert outcomes.count("ok") == 1, outcomes
    assert AuditLog.select().where(AuditLog.action == "重置密码").count() == 1
