"""企业注册 (issue 18 "Who uses it"): a unit without a union registers on the login page with its
name, 统一社会信用代码, handler, mobile (SMS code) and account; the account is outside the union
tree — in no union list or count — and sees only 在职职工互助保障 (every other page 403 in Chinese);
one registration per unit (a DB constraint; two at once leave one); throttled."""

import io
import re
from datetime import timedelta

import peewee as pw
import pytest

from models import db, sms
from models.audit import AuditLog
from models.base import DomainError, now
from models.mutual_aid import registration
from models.mutual_aid.codes import InsuranceCode
from models.orgs.accounts import Account
from models.orgs.organizations import ENTERPRISE_LEVEL, Organization, OrgTree
from models.sms import SmsCode
from tests import factories
from tests.factories.mutual_aid import applied, approved_code, enterprise_account, form, png, sms_code
from tests.factories.mutual_aid import registration as reg_form
from tests.helpers import race, soup
from tests.routes import build, rule_access, rules

URL = "/register"


def register(client, n=1, code=None, **fields):
    values = reg_form(n, **fields)
    if code is None:
        code = sms_code(client, URL, values["phone"])
    return client.post(URL, data={**values, "sms_code": code, "action": "register"})


def test_the_login_page_links_to_the_registration_form(client):
    page = soup(client.get("/login"))
    assert page.select_one("#register-link").get_text() == "企业注册"
    form = soup(client.get(page.select_one("#register-link")["href"]))
    labels = [label.get_text(" ", strip=True) for label in form.select("#register-form label")]
    assert labels == ["* 单位名称", "* 统一社会信用代码", "* 经办人姓名", "* 手机号码", "* 短信验证码", "* 账号",
                      "* 密码", "* 确认密码"]
    assert form.select_one("#send-sms").get_text() == "获取验证码"
    assert form.select_one("#register-submit").get_text() == "注册"


def test_get_code_keeps_the_typed_values_and_says_where_it_went(client):
    values = reg_form(1)
    page = soup(client.post(URL, data={**values, "action": "sms"}))
    assert page.select_one("#register-notice").get_text() == "验证码已发送至137****0001，5分钟内有效"
    assert page.select_one("#r-unit_name")["value"] == values["unit_name"]
    assert page.select_one("#r-password").get("value") is None  # a password is never echoed
    again = client.post(URL, data={**values, "action": "sms"})
    assert again.status_code == 429
    assert re.search(r"发送过于频繁，请\d+秒后再试", soup(again).select_one("#register-error").get_text())


def test_a_unit_registers_logs_in_and_sees_only_the_mutual_aid_menu(app, client, city):
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    org = Organization.get(Organization.name == "上海未建会测试1有限公司")
    account = Account.get(Account.username == "ent-1")
    assert (org.level, org.parent_id, org.contact, org.phone) == (ENTERPRISE_LEVEL, None, "经办人1", "13712340001")
    assert account.org_id == org.id and account.role == "enterprise" and account.operates_mutual_aid
    assert not account.must_change_password and account.check_password("Qiye#2026x")
    assert not OrgTree.select().where((OrgTree.descendant == org.id) | (OrgTree.ancestor == org.id)).exists()
    assert AuditLog.get(AuditLog.action == "企业注册").object_id == org.id
    assert SmsCode.get().used_at is not None

    factories.login(client, account, "Qiye#2026x")
    home = client.get("/home")
    assert home.status_code == 302 and home.headers["Location"].endswith("/mutual-aid/codes/")
    page = soup(client.get("/mutual-aid/codes/"))
    sections = {s.select_one(".menu-title").get_text(): [a.get_text() for a in s.select("a")]
                for s in page.select(".menu-section")}
    assert list(sections) == ["首页", "在职职工互助保障", "系统管理"]
    assert sections["首页"] == ["消息提醒"]
    assert sections["在职职工互助保障"][:2] == ["参保编码申请", "经办人填报"]
    assert set(sections["系统管理"]) <= {"重要通知", "下载中心", "修改密码"} and "修改密码" in sections["系统管理"]
    assert "业务工作台" not in page.select_one(".topbar").get_text()


def test_registration_changes_no_union_list_or_count(app, city, as_role):
    pages = {"city": ["/orgs/list?status=", "/home", "/enroll-stats/", "/enroll-stats/monitor", "/members/", "/orgs/"],
             "centre": ["/orgs/list?status=", "/home", "/enroll-stats/", "/enroll-stats/monitor", "/members/",
                        "/mutual-aid/handler/"],
             "district": ["/orgs/list?status=", "/home", "/enroll-stats/", "/enroll-stats/monitor", "/members/",
                          "/mutual-aid/handler/"],
             "admin": ["/orgs/list?status=", "/home", "/members/", "/orgs/"]}

    def counts():
        shown = {}
        for role, urls in pages.items():
            client = as_role(role)
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, (role, url)
                text = re.sub(r"\s+", " ", soup(response).select_one("main").get_text())
                shown[(role, url)] = re.sub(r"\d{1,2}:\d{2}(:\d{2})?", "", text)  # clock times aside
        return shown

    before = counts()
    enterprise_account(1)
    enterprise_account(2)
    after = counts()
    assert after == before
    listing = soup(as_role("city").get("/orgs/list?status=&q=未建会测试"))
    assert "上海未建会测试1有限公司" not in listing.get_text()
    tree = soup(as_role("centre").get("/orgs/?q=未建会"))
    assert "上海未建会测试1有限公司" not in tree.get_text()


# Pages an enterprise account may open: its own session, password and 消息提醒, 在职职工互助保障, and
# 保障信息查询 (one query screen for both lines: the enterprise sees its mutual-aid coverage).
ENTERPRISE_ALLOWED = {"auth.logout", "auth.change_password", "home.index", "messages.index", "messages.open_",
                      "messages.mark_all", "coverage.periods"}


def test_every_page_outside_mutual_aid_refuses_the_enterprise_account_in_chinese(app, city):
    account = enterprise_account(1)
    client = app.test_client()
    factories.login(client, account)
    opened = []
    for rule in rules(app):
        access = rule_access(app, rule)
        if access.public:
            continue
        if "enterprise" in access.roles:
            assert rule.endpoint in ENTERPRISE_ALLOWED or rule.endpoint.startswith("mutual_aid"), rule.endpoint
            opened.append(rule.endpoint)
            continue
        objects = {name: type("Obj", (), {"id": 1})() for name in access.objects}
        url = build(rule, objects)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code in (403, 404), (rule.rule, method, response.status_code)
            if response.status_code == 403:
                assert "您的账号无权使用此功能" in response.get_data(as_text=True), rule.rule
    assert "mutual_aid_codes.index" in opened


def test_a_unit_registered_or_holding_a_code_is_refused(app, client, city):
    register(client)
    again = register(client, 2, unit_name="上海未建会测试1有限公司")
    assert again.status_code == 409
    assert "单位「上海未建会测试1有限公司」已注册平台账号" in soup(again).select_one("#register-error").get_text()
    same_code = register(client, 3, uscc=reg_form(1)["uscc"])
    assert same_code.status_code == 409
    assert "统一社会信用代码" in soup(same_code).select_one("#register-error").get_text()
    held = approved_code(city, 7)  # a union's unit that has a code
    clash = register(client, 4, unit_name=held.unit_name)
    assert clash.status_code == 409
    assert f"已有参保编码{held.code}" in soup(clash).select_one("#register-error").get_text()
    union = register(client, 5, unit_name=city.orgs["grassroots1"].name)
    assert union.status_code == 409
    assert Organization.select().where(Organization.level == ENTERPRISE_LEVEL).count() == 1


def test_bad_fields_are_named_in_chinese_and_nothing_is_written(client):
    values = reg_form(1, uscc="91310115000000001X", password="abc", password2="abd", username="a b")
    response = client.post(URL, data={**values, "sms_code": "123456", "action": "register"})
    assert response.status_code == 422
    errors = [p.get_text() for p in soup(response).select(".field-error")]
    assert any("统一社会信用代码" in e for e in errors)
    assert "账号为3至50位，只能包含字母、数字和 _ . @ -" in errors
    assert "密码至少8位" in errors and "两次输入的密码不一致" in errors
    blank = client.post(URL, data={"action": "register"})
    assert {"请填写单位名称", "请填写经办人姓名", "请填写手机号码", "请填写账号", "请填写密码"} <= {
        p.get_text() for p in soup(blank).select(".field-error")}
    assert Organization.select().count() == 0 and Account.select().count() == 0


def test_a_wrong_or_expired_code_registers_nothing(app, client, monkeypatch):
    values = reg_form(1)
    code = sms_code(client, URL, values["phone"])
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(URL, data={**values, "sms_code": wrong, "action": "register"})
    assert response.status_code == 422 and "验证码错误" in soup(response).select_one("#register-error").get_text()
    later = now() + timedelta(minutes=6)
    monkeypatch.setattr(sms, "now", lambda: later)
    response = client.post(URL, data={**values, "sms_code": code, "action": "register"})
    assert soup(response).select_one("#register-error").get_text() == "验证码已过期，请重新获取"
    assert Account.select().where(Account.username == "ent-1").count() == 0


def test_a_taken_account_name_is_refused_and_the_code_stays_usable(client, city):
    values = reg_form(1, username=city.account("district").username)
    code = sms_code(client, URL, values["phone"])
    response = client.post(URL, data={**values, "sms_code": code, "action": "register"})
    assert response.status_code == 422 and "该账号已存在，请换一个" in response.get_data(as_text=True)
    response = client.post(URL, data={**values, "username": "ent-1", "sms_code": code, "action": "register"})
    assert response.status_code == 302


def test_one_ip_registers_at_most_three_units_an_hour(client):
    for n in (1, 2, 3):
        assert register(client, n).status_code == 302
    values = reg_form(4)
    code = sms_code(client, URL, values["phone"])
    response = client.post(URL, data={**values, "sms_code": code, "action": "register"})
    assert response.status_code == 429 and "注册过于频繁" in soup(response).select_one("#register-error").get_text()


def test_one_unit_name_is_one_organisation_in_the_database(app):
    enterprise_account(1)
    with pytest.raises(pw.IntegrityError), db.atomic():
        Organization.insert(name="上海未建会测试1有限公司", type="企业（未建会）", level=ENTERPRISE_LEVEL,
                            created_at=now(), updated_at=now()).execute()


def test_two_registrations_of_one_unit_at_once_leave_one(app, committed):
    with app.test_request_context():
        a, b = reg_form(1), reg_form(2, unit_name=reg_form(1)["unit_name"])
        sms.send_code(a["phone"], "register", "10.0.0.1")
        sms.send_code(b["phone"], "register", "10.0.0.2")
        code_a, code_b = sms.outbox_codes(a["phone"])[-1], sms.outbox_codes(b["phone"])[-1]

        def attempt(form, code, ip):
            def call():
                with app.app_context():
                    registration.register(form, code, ip)
            return call

        outcomes = race(attempt(a, code_a, "10.0.0.1"), attempt(b, code_b, "10.0.0.2"))
    assert sorted(outcomes)[0] == "ok" and "已注册平台账号" in sorted(outcomes)[1]
    assert Organization.select().where(Organization.name == a["unit_name"]).count() == 1
    assert Account.select().count() == 1


# --- the enterprise's 参保编码申请 with its SMS code ---------------------------------------------------
def test_the_enterprise_applies_for_a_code_with_an_sms_code(app, city):
    account = enterprise_account(1)
    client = app.test_client()
    factories.login(client, account)
    page = soup(client.get("/mutual-aid/codes/new"))
    assert page.select_one("#send-sms").get_text() == "获取验证码"
    values = {"unit_name": account.org.name, "uscc": account.org.uscc, "address": "上海市浦东新区测试路1号",
              "contact": "经办人1", "phone": "13812345678", "email": "a@example.com"}
    files = {"files": [(io.BytesIO(png()), "营业执照.png")]}
    without = client.post("/mutual-aid/codes/new", data={**values, **files, "action": "submit"},
                          content_type="multipart/form-data")
    assert without.status_code == 422
    assert "请先点击【获取验证码】" in soup(without).select_one("#code-error").get_text()
    assert InsuranceCode.select().count() == 0
    code = sms_code(client, "/mutual-aid/codes/new", values["phone"],
                    **{k: v for k, v in values.items() if k != "phone"})
    files = {"files": [(io.BytesIO(png()), "营业执照.png")]}
    response = client.post("/mutual-aid/codes/new", data={**values, **files, "action": "submit", "sms_code": code},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    applied = InsuranceCode.get()
    assert applied.account_id == account.id and applied.org_id == account.org_id and applied.phone == "13812345678"
    # the centre sees it in its queue
    centre = app.test_client()
    factories.login(centre, city.account("centre"))
    assert account.org.name in soup(centre.get("/mutual-aid/codes/review")).get_text()


def test_an_sms_code_for_another_phone_does_not_verify_the_form(app, city, as_role):
    client = as_role("grassroots")
    values = form(1)
    code = sms_code(client, "/mutual-aid/codes/new", "13700000000")
    files = {"files": [(io.BytesIO(png()), "营业执照.png")]}
    response = client.post("/mutual-aid/codes/new", data={**values, **files, "action": "submit", "sms_code": code},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and InsuranceCode.select().count() == 0


def test_registration_refuses_without_sms(client):
    values = reg_form(1)
    with pytest.raises(DomainError):
        registration.register(values, "", "10.0.0.1")


def test_the_registered_units_form_starts_from_its_registration_and_no_other_account_applies_for_it(app, city,
                                                                                                     as_role):
    account = enterprise_account(1)
    client = app.test_client()
    factories.login(client, account)
    page = soup(client.get("/mutual-aid/codes/new"))
    assert page.select_one("#f-unit_name")["value"] == account.org.name
    assert page.select_one("#f-uscc")["value"] == account.org.uscc
    assert page.select_one("#f-phone")["value"] == account.org.phone
    union = as_role("grassroots")
    values = form(5, unit_name=account.org.name)
    code = sms_code(union, "/mutual-aid/codes/new", values["phone"])
    files = {"files": [(io.BytesIO(png()), "营业执照.png")]}
    response = union.post("/mutual-aid/codes/new", data={**values, **files, "action": "submit", "sms_code": code},
                          content_type="multipart/form-data")
    assert response.status_code == 409
    assert "已通过企业注册拥有平台账号" in soup(response).select_one("#code-error").get_text()
    assert InsuranceCode.select().count() == 0


def test_the_enterprise_opens_every_mutual_aid_page_of_its_menu(app, city):
    account = enterprise_account(1)
    client = app.test_client()
    factories.login(client, account)
    page = soup(client.get("/mutual-aid/codes/"))
    links = [a["href"] for a in page.select(".sidemenu a")]
    assert "/mutual-aid/handler/" in links
    for href in links:
        assert client.get(href).status_code == 200, href
    for rule in rules(app):
        access = rule_access(app, rule)
        if "enterprise" in access.roles and not access.objects and "GET" in rule.methods and "<" not in rule.rule:
            assert client.get(rule.rule).status_code < 500, rule.rule


def test_a_resubmission_with_a_new_phone_needs_its_sms_code(app, city, as_role):
    code = applied(city, 1)
    from_centre = as_role("centre")
    from_centre.post(f"/mutual-aid/codes/{code.id}/refuse", data={"reason": "联系电话有误"})
    client = app.test_client()
    factories.login(client, code.account)
    url = f"/mutual-aid/codes/{code.id}/edit"
    values = form(1, phone="13766665555")
    refused = client.post(url, data={**values, "action": "submit"}, content_type="multipart/form-data")
    assert refused.status_code == 422 and InsuranceCode.get_by_id(code.id).status == "审核不通过"
    sent = sms_code(client, url, "13766665555", **{k: v for k, v in values.items() if k != "phone"})
    response = client.post(url, data={**values, "action": "submit", "sms_code": sent},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert (InsuranceCode.get_by_id(code.id).status, InsuranceCode.get_by_id(code.id).phone) == ("申请中",
                                                                                                 "13766665555")


def test_an_over_long_unit_name_is_refused_not_cut(client):
    values = reg_form(1, unit_name="长" * 101)
    code = sms_code(client, URL, values["phone"])
    response = client.post(URL, data={**values, "sms_code": code, "action": "register"})
    assert response.status_code == 422 and "单位名称不能超过100个字" in response.get_data(as_text=True)
    assert Organization.select().count() == 0
