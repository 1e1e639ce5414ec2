"""Two centre / admin screens of the mutual-aid line (issue 18 items 1 and 3):

- 快速修复 → 延长互助保障时间窗口: the admin keeps 集中参保 or 即时参保 of a year open longer for one
  insurance code (by 参保编码 or 单位名称), audited with the reason; before the extension the late
  unit's 集中参保办理 is refused, after it the same moment is allowed — for that code only.
- 参保编码审核 → a code's page → 添加单位 (集团下属单位): the centre adds a unit of the group; a name or
  统一社会信用代码 already on a code is refused in Chinese naming that code; 市总工会 and units write
  nothing; two codes adding one unit at once leave one.
"""

from datetime import datetime

import pytest

from models.audit import AuditLog
from models.base import DomainError
from models.mutual_aid import batch_ops, code_ops, years
from models.mutual_aid.codes import CodeUnit
from tests import factories
from tests.factories.mutual_aid import aid_year, applied, approved_code, uscc
from tests.helpers import race, soup

EXTEND = "/admin/extend-aid-window"
LATE = datetime(2026, 7, 3, 9, 0)  # 集中参保 of 2026 ended on 30 June


def central_window():
    year = aid_year()
    return years.AidWindow.get((years.AidWindow.year == year.id) & (years.AidWindow.kind == years.CENTRAL))


def test_the_admin_extends_a_window_for_one_code_and_the_window_check_honours_it(city, as_role):
    late, other = approved_code(city, 1), approved_code(city, 2)
    window = central_window()
    with pytest.raises(DomainError, match="集中参保已结束"):
        batch_ops.create_batch(late, years.CENTRAL, late.account, at=LATE)
    admin = as_role("admin")
    assert "延长互助保障时间窗口" in soup(admin.get("/admin/")).get_text()
    page = soup(admin.get(EXTEND))
    assert [o.get_text() for o in page.select("#w-window option")][1:] == [
        "2026年度 即时参保（2026-07-01 00:00 至 2027-06-29 23:59）",
        "2026年度 集中参保（2026-06-01 00:00 至 2026-06-30 23:59）"]
    response = admin.post(EXTEND, data={"window": window.id, "code": late.code.lower(), "ends": "2026-07-05 23:59",
                                        "reason": "系统故障补办"})
    assert response.status_code == 302
    listed = soup(admin.get(EXTEND))
    assert "已为「上海互助测试1有限公司」" in listed.get_text()
    assert [td.get_text() for td in listed.select("#aid-extensions tbody tr td")] == [
        "2026", "集中参保", late.code, "上海互助测试1有限公司", "2026-07-05 23:59", "系统故障补办"]
    row = AuditLog.for_object(late).first()
    assert (row.action, row.reason) == ("延长时间窗口", "系统故障补办")
    assert years.window_state(aid_year(), years.CENTRAL, late, LATE).open
    assert batch_ops.create_batch(late, years.CENTRAL, late.account, at=LATE).year.year == 2026
    with pytest.raises(DomainError, match="集中参保已结束"):
        batch_ops.create_batch(other, years.CENTRAL, other.account, at=LATE)
    with pytest.raises(DomainError, match="集中参保已结束"):  # after the extension's own end
        batch_ops.create_batch(late, years.CENTRAL, late.account, at=datetime(2026, 7, 6, 0, 1))
    # by the unit's full name works as well
    assert admin.post(EXTEND, data={"window": window.id, "code": "上海互助测试2有限公司", "ends": "2026-07-02 12:00",
                                    "reason": "补办"}).status_code == 302
    assert years.window_state(aid_year(), years.CENTRAL, other, datetime(2026, 7, 2, 11, 0)).open


@pytest.mark.parametrize("fields,message", [
    ({"window": ""}, "请选择时间窗口"),
    ({"code": "HZ99999999"}, "没有这个参保编码"),
    ({"ends": "2026-13-01"}, "时间格式应为"),
    ({"ends": "2026-06-20 00:00"}, "须晚于原结束时间"),
    ({"reason": " "}, "请填写延长原因"),
])
def test_a_refused_extension_says_why_and_changes_nothing(city, as_role, fields, message):
    code = approved_code(city, 1)
    applied(city, 2)  # a code still 申请中 is not found either
    data = {"window": central_window().id, "code": code.code, "ends": "2026-07-05 23:59", "reason": "补办", **fields}
    response = as_role("admin").post(EXTEND, data=data)
    assert response.status_code == 422
    assert message in soup(response).select_one("#extend-error").get_text()
    assert years.AidWindowExtension.select().count() == 0


def test_only_the_admin_extends(city, as_role):
    code = approved_code(city, 1)
    for role in ("centre", "city", "district", "grassroots"):
        client = as_role(role)
        assert client.get(EXTEND).status_code == 403
        assert client.post(EXTEND, data={"window": central_window().id, "code": code.code,
                                         "ends": "2026-07-05 23:59", "reason": "x"}).status_code == 403
    assert years.AidWindowExtension.select().count() == 0


# --- 集团下属单位 ------------------------------------------------------------------------------------
def test_the_centre_adds_a_unit_of_the_group_on_the_codes_page(app, city, as_role):
    code = approved_code(city, 1)
    centre = as_role("centre")
    page = soup(centre.get(f"/mutual-aid/codes/{code.id}"))
    assert [td.get_text() for td in page.select("#unit-list tbody td.name")] == ["上海互助测试1有限公司"]
    assert page.select_one("#add-unit").get_text() == "添加单位"
    response = centre.post(f"/mutual-aid/codes/{code.id}/units", data={"name": "上海互助测试1有限公司第二分公司",
                                                                        "uscc": uscc(50)})
    assert response.status_code == 302 and response.headers["Location"].endswith("#code-units")
    page = soup(centre.get(f"/mutual-aid/codes/{code.id}"))
    rows = [[td.get_text() for td in tr.select("td")][:3] for tr in page.select("#unit-list tbody tr")]
    assert rows == [["上海互助测试1有限公司", uscc(1), "申请单位"],
                    ["上海互助测试1有限公司第二分公司", uscc(50), "集团下属单位"]]
    assert AuditLog.for_object(code).first().action == "添加集团下属单位"
    # the unit itself sees its units but no form
    unit = app.test_client()
    factories.login(unit, code.account)
    mine = soup(unit.get(f"/mutual-aid/codes/{code.id}"))
    assert len(mine.select("#unit-list tbody tr")) == 2 and mine.select_one("#unit-form") is None


@pytest.mark.parametrize("fields,status,message", [
    ({"name": "上海互助测试2有限公司"}, 409, "已有参保编码HZ"),  # the other code's main unit
    ({"name": "全新的一家公司", "uscc": None}, 409, "统一社会信用代码"),  # the other code's USCC
    ({"name": ""}, 422, "请填写单位名称"),
    ({"name": "全新的一家公司", "uscc": "123"}, 422, "统一社会信用代码"),
])
def test_a_unit_already_on_a_code_is_refused_naming_that_code(city, as_role, fields, status, message):
    code, other = approved_code(city, 1), approved_code(city, 2)
    data = {"uscc": "", **fields}
    if data["uscc"] is None:
        data["uscc"] = other.uscc
    response = as_role("centre").post(f"/mutual-aid/codes/{code.id}/units", data=data)
    assert response.status_code == status
    text = soup(response).select_one("#unit-error").get_text()
    assert message in text
    if status == 409:
        assert other.code in text and "联系人：经办人2" in text
    assert CodeUnit.select().where(CodeUnit.code == code.id).count() == 1


def test_units_are_added_only_by_the_centre_to_an_approved_code(city, as_role):
    code, waiting = approved_code(city, 1), applied(city, 2)
    city_client, unit, centre = as_role("city"), as_role("grassroots"), as_role("centre")
    before = AuditLog.select().count()
    assert city_client.post(f"/mutual-aid/codes/{code.id}/units", data={"name": "某单位"}).status_code == 403
    assert unit.post(f"/mutual-aid/codes/{code.id}/units", data={"name": "某单位"}).status_code == 403
    assert soup(city_client.get(f"/mutual-aid/codes/{code.id}")).select_one("#unit-form") is None
    refused = centre.post(f"/mutual-aid/codes/{waiting.id}/units", data={"name": "某单位"})
    assert refused.status_code == 409
    assert soup(refused).select_one("#unit-error").get_text() == "参保编码审核通过后才能添加集团下属单位"
    assert CodeUnit.select().count() == 1
    assert AuditLog.select().count() == before


def test_two_codes_adding_one_unit_at_once_leave_one(committed):
    city = factories.make_city()
    first, second = approved_code(city, 1), approved_code(city, 2)
    centre = city.account("centre")
    outcomes = race(*[lambda c=c: code_ops.add_unit(c, "同一家子公司", "", centre) for c in (first, second)])
    assert outcomes.count("ok") == 1, outcomes
    assert any(o.startswith("提交失败") for o in outcomes if o != "ok"), outcomes
    assert CodeUnit.select().where(CodeUnit.name == "同一家子公司").count() == 1
