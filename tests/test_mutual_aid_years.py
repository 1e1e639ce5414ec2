"""互助保障年度设置 (issue 18 item 3): the centre creates a protection year with seed 004's reference
settings and changes its receiving account, windows and item prices — each section saved and
audited with what changed, each bad value refused naming the field with nothing written; the
read-only 市总工会 only looks; a grassroots union may not open it."""

import json
from datetime import datetime

import pytest

from models.audit import AuditLog
from models.mutual_aid import year_settings, years
from models.mutual_aid.years import AidItem, AidWindow, AidYear
from tests.helpers import race, soup

HX = {"HX-Request": "true"}
ACTION = "修改互助保障年度设置"


def text(response):
    return " ".join(soup(response).get_text(" ").split())


@pytest.fixture
def year():
    return years.create_year(2026)


def window(year, kind):
    return AidWindow.get((AidWindow.year == year.id) & (AidWindow.kind == kind))


def windows_form(year, **changes):
    form = {"section": "windows"}
    for name, kind in year_settings.WINDOW_FIELDS.items():
        w = window(year, kind)
        form[f"{name}_starts"] = f"{w.starts:%Y-%m-%d %H:%M}"
        form[f"{name}_ends"] = f"{w.ends:%Y-%m-%d %H:%M}"
    return {**form, **changes}


def prices_form(year, **changes):
    form = {"section": "prices", "basic_combo_fee": f"{year.basic_combo_fee / 100:g}"}
    for item in years.items_of(year):
        form[f"{item.code}_full"] = f"{item.full_fee / 100:g}"
        form[f"{item.code}_half"] = f"{item.half_fee / 100:g}"
    return {**form, **changes}


def account_form(**changes):
    return {"section": "account", "account_name": "上海市职工保障互助会", "account_no": "31602300008022150",
            "bank": "上海银行人民广场支行", **changes}


def settings(year):
    """Everything the screen can change, as stored."""
    y = AidYear.get_by_id(year.id)
    return ((y.account_name, y.account_no, y.bank, y.basic_combo_fee),
            sorted((w.kind, w.starts, w.ends) for w in AidWindow.select().where(AidWindow.year == y.id)),
            sorted((i.code, i.full_fee, i.half_fee) for i in AidItem.select().where(AidItem.year == y.id)))


def audits():
    return list(AuditLog.select().where(AuditLog.action == ACTION).order_by(AuditLog.id))


# --- 新建保障年度 ------------------------------------------------------------------------------------
def test_the_centre_creates_a_year_with_seed_004s_settings(as_role):
    centre = as_role("centre")
    response = centre.post("/mutual-aid/years", data={"year": "2026"})
    created = AidYear.get(AidYear.year == 2026)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/mutual-aid/years/{created.id}")
    assert (created.account_name, created.account_no, created.bank) == (
        "上海市职工保障互助会", "31602300008022150", "上海银行人民广场支行")
    # 集中参保 1–30 June before the year; 即时参保 from 1 July to 29 June (spec 70, the rules).
    assert (window(created, "集中参保").starts, window(created, "集中参保").ends) == (
        datetime(2026, 6, 1), datetime(2026, 6, 30, 23, 59, 59))
    assert (window(created, "即时参保").starts, window(created, "即时参保").ends) == (
        datetime(2026, 7, 1), datetime(2027, 6, 29, 23, 59, 59))
    prices = {i.code: (i.full_fee, i.half_fee) for i in years.items_of(created)}
    assert len(prices) == 12 and prices["A0"] == (12000, 6000) and prices["C3"] == (22500, 11250)
    assert created.basic_combo_fee == 18000  # A0+B0+C0: 190 → 180 元
    assert AuditLog.get(AuditLog.action == "新建互助保障年度").object_id == created.id
    listing = text(centre.get("/mutual-aid/years"))
    assert "2026年度" in listing and "2026-07-01 至 2027-06-30" in listing
    assert "2026-06-01 00:00 至 2026-06-30 23:59" in listing and "上海银行人民广场支行" in listing


@pytest.mark.parametrize("value", ["", "26", "二〇二六", "1999", "2101", "2026.5"])
def test_a_bad_year_number_is_refused_and_nothing_created(as_role, value):
    response = as_role("centre").post("/mutual-aid/years", data={"year": value})
    assert response.status_code == 422 and "保障年度：请填写四位数的年份" in text(response)
    assert AidYear.select().count() == 0


def test_a_year_that_exists_is_refused(as_role, year):
    response = as_role("centre").post("/mutual-aid/years", data={"year": "2026"})
    assert response.status_code == 422 and "保障年度：2026年度互助保障已存在" in text(response)
    assert AidYear.select().count() == 1


def test_a_year_created_by_another_page_after_the_check_is_refused_in_the_same_words(as_role, year, monkeypatch):
    """The race's other ending, made certain: the check saw no year, the insert meets the one another
    page committed — the same 保障年度 message (not a second wording), nothing created."""
    from models.mutual_aid import years as years_
    monkeypatch.setattr(years_, "get_year", lambda y: None)
    response = as_role("centre").post("/mutual-aid/years", data={"year": "2026"})
    assert response.status_code == 422 and "保障年度：2026年度互助保障已存在" in text(response)
    assert AidYear.select().count() == 1


def test_two_centre_pages_creating_the_same_year_at_once_leave_one(committed):
    outcomes = race(*[lambda: year_settings.new_year("2030", None)] * 2)
    assert sorted(outcomes) == sorted(["ok", "保障年度：2030年度互助保障已存在"]), outcomes
    assert AidYear.select().count() == 1 and AidItem.select().count() == 12
    assert AidWindow.select().count() == 2


# --- 收款账户 ----------------------------------------------------------------------------------------
def test_the_receiving_account_is_saved_and_audited(as_role, year):
    centre = as_role("centre")
    response = centre.post(f"/mutual-aid/years/{year.id}", data=account_form(bank="上海银行黄浦支行",
                                                                             account_no="3160 2300 0080 2215 1"))
    assert response.status_code == 302
    assert "已保存收款账户" in text(centre.get(response.headers["Location"]))
    saved = AidYear.get_by_id(year.id)
    assert (saved.bank, saved.account_no) == ("上海银行黄浦支行", "31602300008022151")
    [row] = audits()
    detail = json.loads(row.detail)
    assert detail["开户行"] == ["上海银行人民广场支行", "上海银行黄浦支行"]
    assert [v[-4:] for v in detail["账号"]] == ["2150", "2151"]  # the log masks long numbers
    assert "户名" not in detail  # only what changed
    again = centre.post(f"/mutual-aid/years/{year.id}", data=account_form(bank="上海银行黄浦支行",
                                                                          account_no="31602300008022151"))
    assert "收款账户没有变化" in text(centre.get(again.headers["Location"])) and len(audits()) == 1


@pytest.mark.parametrize("field, value, message", [
    ("account_name", "  ", "户名：请填写户名"),
    ("account_no", "", "账号：请填写账号"),
    ("account_no", "3160230000802215O", "账号：只能填写数字"),
    ("account_no", "1" * 41, "账号：不能超过40个字符"),
    ("bank", "", "开户行：请填写开户行"),
])
def test_a_bad_account_field_is_refused_and_nothing_written(as_role, year, field, value, message):
    before = settings(year)
    response = as_role("centre").post(f"/mutual-aid/years/{year.id}",
                                      data=account_form(**{"bank": "上海银行黄浦支行", field: value}))
    assert response.status_code == 422 and message in text(response)
    assert soup(response).select_one(f'[name="{field}"]')["aria-invalid"] == "true"
    assert settings(year) == before and audits() == []


# --- 参保时间窗口 ------------------------------------------------------------------------------------
def test_the_windows_are_saved_and_audited(as_role, year):
    centre = as_role("centre")
    response = centre.post(f"/mutual-aid/years/{year.id}",
                           data=windows_form(year, central_starts="2026-05-25 09:00", instant_ends="2027-06-20"))
    assert response.status_code == 302
    assert window(year, "集中参保").starts == datetime(2026, 5, 25, 9, 0)
    assert window(year, "即时参保").ends == datetime(2027, 6, 20, 23, 59, 59)  # a day alone: its last moment
    [row] = audits()
    detail = json.loads(row.detail)
    assert detail["集中参保开始"] == ["2026-06-01 00:00", "2026-05-25 09:00"]
    assert detail["即时参保结束"] == ["2027-06-29 23:59", "2027-06-20 23:59"]
    assert "集中参保结束" not in detail and "即时参保开始" not in detail
    # The window rule the enrollment screens ask answers with the new moments.
    assert not years.window_state(year, years.CENTRAL, at=datetime(2026, 5, 25, 8, 59)).open
    assert years.window_state(year, years.CENTRAL, at=datetime(2026, 5, 25, 9, 0)).open


@pytest.mark.parametrize("changes, message", [
    ({"central_ends": "2026-05-31"}, "集中参保结束时间：不能早于开始时间（2026-06-01 00:00）"),
    ({"instant_starts": "明天"}, "即时参保开始时间：格式应为 年-月-日 时:分"),
    ({"instant_ends": "2027-02-30"}, "即时参保结束时间：格式应为 年-月-日 时:分"),
    ({"central_starts": ""}, "集中参保开始时间：格式应为 年-月-日 时:分"),
])
def test_a_bad_window_is_refused_and_nothing_written(as_role, year, changes, message):
    before = settings(year)
    form = windows_form(year, **{"instant_starts": "2026-07-02", **changes})  # a good change beside the bad one
    response = as_role("centre").post(f"/mutual-aid/years/{year.id}", data=form)
    assert response.status_code == 422 and message in text(response)
    assert settings(year) == before and audits() == []


def test_with_htmx_the_windows_section_swaps_itself(as_role, year):
    centre = as_role("centre")
    response = centre.post(f"/mutual-aid/years/{year.id}", headers=HX,
                           data=windows_form(year, instant_ends="2027-06-10"))
    page = soup(response)
    assert response.status_code == 200 and page.find("html") is None
    assert page.select_one("#sec-windows") and "已保存参保时间窗口" in text(response)
    assert page.select_one('[name="instant_ends"]')["value"] == "2027-06-10 23:59"
    bad = centre.post(f"/mutual-aid/years/{year.id}", headers=HX, data=windows_form(year, instant_ends="x"))
    assert bad.status_code == 422 and soup(bad).select_one("#sec-windows") and "即时参保结束时间" in text(bad)


# --- 保障项目价格 ------------------------------------------------------------------------------------
def test_the_prices_are_saved_in_fen_and_audited(as_role, year):
    centre = as_role("centre")
    response = centre.post(f"/mutual-aid/years/{year.id}",
                           data=prices_form(year, A1_full="140", A1_half="70.5", basic_combo_fee="175.50"))
    assert response.status_code == 302
    a1 = AidItem.get((AidItem.year == year.id) & (AidItem.code == "A1"))
    assert (a1.full_fee, a1.half_fee) == (14000, 7050)
    assert AidYear.get_by_id(year.id).basic_combo_fee == 17550
    [row] = audits()
    detail = json.loads(row.detail)
    assert (detail["A1全年"], detail["A1半年"]) == (["135", "140"], ["67.5", "70.5"])
    assert detail["A0+B0+C0合计（保障期大于半年）"] == ["180", "175.5"]
    assert "A0全年" not in detail


@pytest.mark.parametrize("changes, message", [
    ({"A0_full": "120.005"}, "A0保障费（全年）：金额“120.005”格式不正确"),
    ({"B2_half": ""}, "B2保障费（半年）：金额“”格式不正确"),
    ({"C1_full": "-40"}, "C1保障费（全年）"),
    ({"A3_half": "330.01"}, "A3保障费（半年）：不能高于全年保障费（330元）"),
    ({"basic_combo_fee": "190.01"}, "A0+B0+C0合计（保障期大于半年）：不能高于A0、B0、C0全年保障费之和（190元）"),
    ({"basic_combo_fee": "一百八"}, "A0+B0+C0合计（保障期大于半年）：金额"),
])
def test_a_bad_price_is_refused_and_nothing_written(as_role, year, changes, message):
    before = settings(year)
    form = prices_form(year, **{"A2_full": "240", **changes})  # a good change beside the bad one
    response = as_role("centre").post(f"/mutual-aid/years/{year.id}", data=form)
    assert response.status_code == 422 and message in text(response)
    assert settings(year) == before and audits() == []


def test_an_unknown_section_is_a_bad_request(as_role, year):
    assert as_role("centre").post(f"/mutual-aid/years/{year.id}", data={"section": "x"}).status_code == 400


# --- who may ------------------------------------------------------------------------------------------
def test_the_city_reads_and_may_not_write(as_role, year):
    city = as_role("city")
    listing = city.get("/mutual-aid/years")
    assert listing.status_code == 200 and "2026年度" in text(listing)
    assert not soup(listing).select("main input[name=year], main button")
    page = city.get(f"/mutual-aid/years/{year.id}")
    assert page.status_code == 200 and "31602300008022150" in text(page)
    assert not soup(page).select("main input[name], main [hx-post], main button")
    before = settings(year)
    for data in (account_form(bank="改"), windows_form(year, instant_ends="2027-01-01"),
                 prices_form(year, A0_full="1")):
        assert city.post(f"/mutual-aid/years/{year.id}", data=data).status_code == 403, data["section"]
    assert city.post("/mutual-aid/years", data={"year": "2027"}).status_code == 403
    assert settings(year) == before and audits() == [] and AidYear.select().count() == 1


def test_the_admin_may_act_as_the_centre(as_role, year):
    admin = as_role("admin")
    assert admin.post(f"/mutual-aid/years/{year.id}", data=account_form(bank="上海银行外滩支行")).status_code == 302
    assert AidYear.get_by_id(year.id).bank == "上海银行外滩支行"


@pytest.mark.parametrize("role", ["grassroots", "district", "secondary"])
def test_unions_may_not_open_the_settings(as_role, year, role):
    client = as_role(role)
    assert client.get("/mutual-aid/years").status_code == 403
    assert client.get(f"/mutual-aid/years/{year.id}").status_code == 403
    response = client.post(f"/mutual-aid/years/{year.id}", data=account_form(bank="改"))
    assert response.status_code == 403 and settings(year)[0][2] == "上海银行人民广场支行"
    assert client.post("/mutual-aid/years", data={"year": "2027"}).status_code == 403
    assert AidYear.select().count() == 1


def test_the_menu_entry_shows_for_the_centre_and_the_city_only(city, as_role):
    for role in ("centre", "city", "admin"):
        assert "互助保障年度设置" in text(as_role(role).get("/home")), role
    for role in ("grassroots", "district"):
        assert "互助保障年度设置" not in text(as_role(role).get("/home")), role


def test_a_created_year_is_found_by_the_enrolling_rule(year):
    """The year the screen creates is the one the enrollment screens look up."""
    assert years.enrolling_year(years.INSTANT, datetime(2026, 8, 3).date()).id == year.id
