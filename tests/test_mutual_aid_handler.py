"""在职职工互助保障 → 经办人填报 (issue 18 item 2, seed 004 p. 17): the unit fills 经办人姓名, 经办人手机
(获取验证码, the SMS code) and 经办人邮箱 once its code is approved; a wrong code saves nothing;
filled once (changes by 信息变更申请); audited; the unions above see their subtree's handlers
read-only and the centre all; no enrollment without it."""

import pytest

from models import sms
from models.audit import AuditLog
from models.base import DomainError
from models.mutual_aid import batch_ops, code_ops, handler_ops, years
from models.mutual_aid.codes import CodeHandler
from tests import factories
from tests.factories.mutual_aid import (
    IN_CENTRAL,
    aid_year,
    applied,
    approved_code,
    enterprise_account,
    form,
    png,
    sms_code,
)
from tests.helpers import soup

URL = "/mutual-aid/handler/"


def unit_client(app, account):
    client = app.test_client()
    factories.login(client, account)
    return client


def fill(client, mobile="13600001111", code=None, **fields):
    if code is None:
        code = sms_code(client, URL, mobile, field="mobile")
    data = {"name": "张经办", "mobile": mobile, "email": "zhang@example.com", "sms_code": code, "action": "save",
            **fields}
    return client.post(URL, data=data)


def test_the_unit_fills_its_handler_with_an_sms_code_once(app, city):
    code = approved_code(city, 1, handler=False)
    client = unit_client(app, code.account)
    page = soup(client.get(URL))
    labels = [label.get_text(" ", strip=True) for label in page.select("#handler-form label")]
    assert labels == ["* 经办人姓名", "* 经办人手机", "* 短信验证码", "* 经办人邮箱"]
    assert page.select_one("#send-sms").get_text() == "获取验证码"
    assert page.select_one("#save-handler").get_text() == "保存"

    sent = soup(client.post(URL, data={"name": "张经办", "mobile": "13600001111", "action": "sms"}))
    assert sent.select_one("#sms-notice").get_text() == "验证码已发送至136****1111，5分钟内有效"
    assert sent.select_one("#h-name")["value"] == "张经办"  # the typed values come back (no JavaScript)
    with app.app_context():

        the_code = sms.outbox_codes("13600001111")[-1]
    wrong = "000000" if the_code != "000000" else "111111"
    refused = fill(client, code=wrong)
    assert refused.status_code == 422 and "验证码错误" in soup(refused).select_one("#handler-error").get_text()
    assert CodeHandler.select().count() == 0

    response = fill(client, code=the_code)
    assert response.status_code == 302
    handler = CodeHandler.get(CodeHandler.code == code.id)
    assert (handler.name, handler.mobile, handler.email) == ("张经办", "13600001111", "zhang@example.com")
    assert AuditLog.get(AuditLog.action == "经办人填报").object_id == code.id
    shown = soup(client.get(URL))
    assert shown.select_one("#handler-mobile").get_text() == "13600001111"
    assert shown.select_one("#handler-form") is None
    again = client.post(URL, data={"name": "李", "mobile": "13600002222", "email": "l@example.com",
                                   "sms_code": "123456", "action": "save"})
    assert again.status_code == 409 and "如需变更请提交信息变更申请" in again.get_data(as_text=True)
    assert CodeHandler.get(CodeHandler.code == code.id).name == "张经办"


def test_the_sms_code_must_be_for_the_handlers_mobile(app, city):
    code = approved_code(city, 1, handler=False)
    client = unit_client(app, code.account)
    other = sms_code(client, URL, "13600009999", field="mobile")
    response = fill(client, mobile="13600001111", code=other)
    assert response.status_code == 422 and CodeHandler.select().count() == 0


def test_bad_fields_are_named_in_chinese(app, city):
    code = approved_code(city, 1, handler=False)
    client = unit_client(app, code.account)
    response = client.post(URL, data={"name": "", "mobile": "123", "email": "nope", "sms_code": "1",
                                      "action": "save"})
    assert response.status_code == 422
    errors = {p.get_text() for p in soup(response).select(".field-error")}
    assert "请填写经办人姓名" in errors and "经办人邮箱格式不正确" in errors
    assert any(e.startswith("经办人手机：") for e in errors)


def test_before_the_code_is_approved_there_is_nothing_to_fill(app, city):
    code = applied(city, 1)
    client = unit_client(app, code.account)
    page = soup(client.get(URL))
    assert "参保编码申请申请中，审核通过后才能填报经办人" in page.select_one("#handler-needs-code").get_text()
    response = client.post(URL, data={"name": "张", "mobile": "13600001111", "email": "a@b.c", "action": "save"})
    assert response.status_code == 409 and CodeHandler.select().count() == 0
    fresh = unit_client(app, factories.make_account(city.orgs["direct1"], username="no-code"))
    assert "请先" in soup(fresh.get(URL)).select_one("#handler-needs-code").get_text()


def test_an_enterprise_account_fills_its_handler(app, city, as_role):
    account = enterprise_account(1)

    code = code_ops.decide(code_ops.apply(account, form(1, unit_name=account.org.name, uscc=account.org.uscc),
                                          [("营业执照.png", png())]), True, city.account("centre"))
    client = unit_client(app, account)
    assert fill(client).status_code == 302
    assert CodeHandler.get(CodeHandler.code == code.id).name == "张经办"
    assert account.org.name in soup(as_role("centre").get(URL)).get_text()  # the centre sees every unit
    assert account.org.name not in soup(as_role("district").get(URL)).get_text()  # in no union's subtree


def test_the_unions_above_see_their_subtrees_handlers_read_only(app, city, as_role):
    mine = approved_code(city, 1)  # a unit of district 1 (grassroots1), handler filled
    approved_code(city, 2, handler=False)
    district = as_role("district")
    page = soup(district.get(URL))
    rows = [tr.get_text(" ", strip=True) for tr in page.select("#handler-list tbody tr")]
    assert any(mine.unit_name in r and "13800000001" in r for r in rows)
    assert any("上海互助测试2有限公司" in r and "未填报" in r for r in rows)
    assert page.select_one("#handler-form") is None
    assert district.post(URL, data={"name": "x", "action": "save"}).status_code == 403
    filtered = soup(district.get(URL + "?filled=未填报")).select("#handler-list tbody tr")
    assert [r.select_one(".name").get_text() for r in filtered] == ["上海互助测试2有限公司"]
    other = soup(as_role("district", 1).get(URL))
    assert mine.unit_name not in other.get_text()  # district 2: outside its subtree
    centre = soup(as_role("centre").get(URL + "?name=互助测试1"))
    assert [r.select_one(".name").get_text() for r in centre.select("#handler-list tbody tr")] == [mine.unit_name]
    city_post = as_role("city").post(URL, data={"name": "x", "action": "save"})
    assert city_post.status_code == 403 and "只能查看" in city_post.get_data(as_text=True)


def test_no_enrollment_before_the_handler_is_filled_and_the_refusal_names_the_screen(city):
    code = approved_code(city, 1, handler=False)
    aid_year(2026)
    with pytest.raises(DomainError) as refused:
        batch_ops.create_batch(code, years.CENTRAL, code.account, at=IN_CENTRAL)
    assert "【经办人填报】" in refused.value.message
    assert refused.value.message == handler_ops.HANDLER_REQUIRED
