"""The settings screens: 保障年度设置 (centre), 保障类型管理 (district reads), 保障金额设置 with
基层缴费设置 in and outside its window (frozen time), with and without htmx; 延长时间窗口."""

from datetime import datetime

import pytest
import time_machine

from models.audit import AuditLog
from models.enroll import plans
from models.enroll.plans import FeeSplit, ProtectionType, ProtectionYear, Window
from tests.factories.enroll import IN_WINDOW
from tests.helpers import soup

HX = {"HX-Request": "true"}
AFTER = datetime(2026, 11, 2, 10, 0)


def text(response):
    return " ".join(soup(response).get_text(" ").split())


@pytest.fixture
def year():
    return plans.create_year(2027)


def test_the_centre_creates_a_year_with_the_reference_data(as_role):
    centre = as_role("centre")
    response = centre.post("/plans/years", data={"year": "2028"})
    assert response.status_code == 302
    year = ProtectionYear.get(ProtectionYear.year == 2028)
    assert [t.code for t in plans.types_of(year)] == ["A", "A+", "B", "B+"]
    assert Window.select().where(Window.year == year.id).count() == len(plans.WINDOWS)
    again = centre.post("/plans/years", data={"year": "2028"})
    assert again.status_code == 422 and "2028年度已存在" in text(again)
    assert as_role("district").post("/plans/years", data={"year": "2029"}).status_code == 403


def test_the_centre_sets_windows_and_bad_dates_change_nothing(as_role, year):
    centre = as_role("centre")
    form = {"section": "windows"}
    for kind, w in ((w.kind, w) for w in Window.select().where(Window.year == year.id)):
        form[f"{kind}_starts"] = w.starts.strftime("%Y-%m-%d %H:%M")
        form[f"{kind}_ends"] = w.ends.strftime("%Y-%m-%d %H:%M")
    form["grassroots_ends"] = "2026-12-27"
    assert centre.post(f"/plans/years/{year.id}", data=form).status_code == 302
    grassroots = Window.get((Window.year == year.id) & (Window.kind == "grassroots"))
    assert grassroots.ends == datetime(2026, 12, 27, 23, 59, 59)
    bad = dict(form, fee_split_ends="2026-10-01", review_starts="明天")
    response = centre.post(f"/plans/years/{year.id}", data=bad)
    assert response.status_code == 422
    assert "保障金额设置：结束时间不能早于开始时间" in text(response) and "时间格式应为" in text(response)
    fee_split = Window.get((Window.year == year.id) & (Window.kind == "fee_split"))
    assert fee_split.ends == datetime(2026, 10, 31, 23, 59, 59)


def test_credits_per_district(city, as_role, year):
    centre = as_role("centre")
    district = city.orgs["district1"]
    centre.post(f"/plans/years/{year.id}", data={"section": "credit", "district": district.id, "amount": "1200.5",
                                                 "note": "2025年会员计划退回金额"})
    credit = plans.Credit.get()
    assert (credit.org_id, credit.amount) == (district.id, 120050)
    bad = centre.post(f"/plans/years/{year.id}", data={"section": "credit", "district": district.id, "amount": "x"})
    assert bad.status_code == 422 and "抵扣金额" in text(bad)


def test_the_district_reads_the_types_but_cannot_edit(as_role, year):
    page = as_role("district").get("/plans/types?year=2027")
    assert page.status_code == 200 and "A类会员专享基本保障" in text(page)
    assert not soup(page).select("table.types a")  # no 修改 links
    a = plans.types_of(year)[0]
    assert as_role("district").post(f"/plans/types/{a.id}/edit", data={}).status_code == 403


def test_the_centre_edits_a_type_and_is_told_what_is_wrong(as_role, year):
    a = plans.types_of(year)[0]
    centre = as_role("centre")
    form = {"code": "A", "name": "A类会员专享基本保障", "benefits": "", "full_fee": "26", "half_fee": "13",
            "subsidy_full": "30", "subsidy_half": "6.5", "special_full": "", "special_half": ""}
    bad = centre.post(f"/plans/types/{a.id}/edit", data=form)
    assert bad.status_code == 422 and "市总统一划拨不能超过参保费用" in text(bad)
    assert ProtectionType.get_by_id(a.id).subsidy_full == 1300
    clash = centre.post(f"/plans/types/{a.id}/edit", data=dict(form, subsidy_full="13", code="B"))
    assert clash.status_code == 422 and "已有代码为“B”的保障类型" in text(clash)
    ok = centre.post(f"/plans/types/{a.id}/edit", data=dict(form, subsidy_full="13", full_fee="28", half_fee="14"))
    assert ok.status_code == 302
    assert ProtectionType.get_by_id(a.id).full_fee == 2800
    assert ProtectionType.get_by_id(a.id).special_full is None


def test_fee_split_list_and_dialog_in_the_window(city, as_role, year):
    a = plans.types_of(year)[0]
    with time_machine.travel(IN_WINDOW, tick=False):
        district = as_role("district")  # logged in at that time
        page = district.get("/plans/split?year=2027")
        heads = [th.get_text() for th in soup(page).select("table.split th")]
        assert heads == ["保障类型名称", "参保费用", "市总统一划拨(元/人)", "区局默认缴纳(元/人)",
                         "基层缴纳(元/人)", "操作"]
        dialog = district.get(f"/plans/split/edit?year=2027&type={a.id}")
        assert "有效期开始：2027-01-01 00:00" in text(dialog) and "有效期结束：2027-12-31 23:59" in text(dialog)
        bad = district.post(f"/plans/split/edit?year=2027&type={a.id}",
                            data={"district_part": "13", "grassroots_part": "1"}, headers=HX)
        assert bad.status_code == 422 and "须等于参保费用（26元）" in text(bad)
        assert "<html" not in bad.get_data(as_text=True)
        ok = district.post(f"/plans/split/edit?year=2027&type={a.id}",
                           data={"district_part": "13", "grassroots_part": "0"})
        assert ok.status_code == 302
    row = FeeSplit.get()
    assert (row.org_id, row.district_part, row.grassroots_part) == (city.orgs["district1"].id, 1300, 0)
    assert AuditLog.select().where(AuditLog.action == "保障金额设置").count() == 1


def test_fee_split_outside_the_window_is_disabled_and_refused(as_role, year):
    a = plans.types_of(year)[0]
    with time_machine.travel(AFTER, tick=False):
        district = as_role("district")
        dialog = soup(district.get(f"/plans/split/edit?year=2027&type={a.id}"))
        button = dialog.find("button", string="保存设置")
        assert button.has_attr("disabled")
        assert "保障金额设置已结束（开放时间：2026-10-25 00:00 至 2026-10-31 23:59）" == button["title"]
        refused = district.post(f"/plans/split/edit?year=2027&type={a.id}",
                                data={"district_part": "13", "grassroots_part": "0"})
        assert refused.status_code == 409 and "保障金额设置已结束" in text(refused)
    assert FeeSplit.select().count() == 0


def test_a_type_of_another_year_is_not_found(as_role, year):
    other = plans.create_year(2026)
    b = plans.types_of(other)[2]
    assert as_role("district").get(f"/plans/split/edit?year=2027&type={b.id}").status_code == 404
    assert as_role("district").get("/plans/split/edit?year=2027&type=abc").status_code == 404


def test_admin_extends_a_window_for_one_union(city, as_role, year):
    window = Window.get((Window.year == year.id) & (Window.kind == "grassroots"))
    admin = as_role("admin")
    form = {"window": window.id, "org": city.orgs["grassroots1"].name, "ends": "2026-12-30 18:00", "reason": "补办"}
    assert admin.post("/admin/extend-window", data=dict(form, org="没有这个组织")).status_code == 422
    assert admin.post("/admin/extend-window", data=form).status_code == 302
    late = datetime(2026, 12, 29, 9, 0)
    assert plans.window_state(year, "grassroots", city.orgs["grassroots1"], late).open
    assert not plans.window_state(year, "grassroots", city.orgs["direct1"], late).open
    assert "补办" in text(admin.get("/admin/extend-window"))


def test_special_subsidy_groups_are_set_by_the_centre(city, as_role):
    from models.orgs.organizations import Organization
    centre = as_role("centre")
    ask = centre.post("/plans/special", data={"org": [city.orgs["district2"].id]})  # asked first
    assert ask.status_code == 200 and not Organization.get_by_id(city.orgs["district2"].id).special_subsidy
    centre.post("/plans/special", data={"org": [city.orgs["district2"].id], "confirmed": "1"})
    assert Organization.get_by_id(city.orgs["district2"].id).special_subsidy
    assert not Organization.get_by_id(city.orgs["district1"].id).special_subsidy
    assert as_role("district").get("/plans/special").status_code == 403


def test_the_city_reads_the_year_as_text_not_as_a_form(as_role, year):
    """市总工会 is read-only: 保障年度设置 shows the receiving account and the claims deadline as text,
    not as inputs marked * that look editable; the centre gets the form."""
    page = soup(as_role("city").get(f"/plans/years/{year.id}"))
    assert page.find("input", attrs={"name": "account_name"}) is None
    assert page.find("input", attrs={"name": "claims_deadline"}) is None
    assert page.find(class_="req") is None
    facts = " ".join(page.find(id="year-account").get_text(" ").split())
    assert f"户名 {year.account_name}" in facts and f"开户行 {year.bank}" in facts
    assert "给付申请材料截止" in page.find(id="year-claims-deadline").get_text()
    centre = soup(as_role("centre").get(f"/plans/years/{year.id}"))
    assert centre.find("input", attrs={"name": "account_name"})["value"] == year.account_name
