"""参保批次管理 and 参保清册 screens (issue 18 items 4, 5 and 9; seed 004): 集中参保办理 → 参保编码 +
参保单位名称 → 确定操作 → the roster; every count at the top opens exactly its people; the
confirmation pages of 移除 / 设置在职 / 批次删除 (htmx: the question inline); 批次撤回; 姓名确认;
read-only for the district above and 市总工会, 404 for another unit."""

import re
from datetime import date, timedelta

import pytest

from models.base import now, today
from models.mutual_aid import roster_ops, years
from models.mutual_aid.batches import AWAIT_VOUCHER, CHOOSE_ITEMS, TO_CHECK, AidBatch, RosterEntry
from models.mutual_aid.registry import RegistryPayer
from models.mutual_aid.years import AidWindow
from models.rules.mutual_roster import is_over_age
from tests import factories
from tests.factories.memberfiles import id_number
from tests.factories.mutual_aid import aid_year, approved_code, batch_in, open_aid_windows, person
from tests.helpers import soup


@pytest.fixture(autouse=True)
def windows_open(request):
    """Every window open (after `committed` empties the tables, when a test asks for it)."""
    if "committed" in request.fixturenames:
        request.getfixturevalue("committed")
    open_aid_windows()


def open_window(kind: str):
    """The protection year `kind` enrolls into today, its window open around now."""
    year = aid_year(years.year_of(today(), kind))
    AidWindow.update(starts=now() - timedelta(days=1), ends=now() + timedelta(days=1)).where(
        (AidWindow.year == year.id) & (AidWindow.kind == kind)).execute()
    return year


def passport(n: int, birth: date, gender: str) -> dict:
    return {"id_type": "护照", "id_number": f"E{n:08d}", "name": f"外籍{n}", "gender": gender, "birth_date": birth}


@pytest.fixture
def unit(client, city):
    code = approved_code(city, 1)
    factories.login(client, code.account)
    return code


def total(response) -> int:
    return int(re.search(r"总共 (\d+) 条记录", response.get_data(as_text=True)).group(1))


def test_central_enrollment_starts_from_code_and_unit_name(client, unit):
    year = open_window(years.CENTRAL)
    page = soup(client.get("/mutual-aid/batches/"))
    assert [a.get_text() for a in page.select("#batch-start a")] == ["集中参保办理", "即时参保办理"]
    form = soup(client.get("/mutual-aid/batches/start/central"))
    assert form.select_one("#code")["value"] == unit.code  # the account's approved code, filled in
    wrong = client.post("/mutual-aid/batches/start/central", data={"code": unit.code, "unit_name": "别的公司"})
    assert wrong.status_code == 422 and "不匹配" in soup(wrong).select_one("#start-error").get_text()
    done = client.post("/mutual-aid/batches/start/central", data={"code": unit.code, "unit_name": unit.unit_name})
    batch = AidBatch.get(AidBatch.code == unit.id)
    assert done.headers["Location"].endswith(f"/mutual-aid/batches/{batch.id}/roster")
    assert (batch.kind, batch.year_id, batch.status) == (years.CENTRAL, year.id, TO_CHECK)
    again = client.post("/mutual-aid/batches/start/central", data={"code": unit.code, "unit_name": unit.unit_name})
    assert again.status_code == 409 and "已有集中参保批次" in again.get_data(as_text=True)
    assert soup(again).select_one("#held-batch")["href"] == f"/mutual-aid/batches/{batch.id}/roster"
    row = soup(client.get("/mutual-aid/batches/")).select_one(f"#batch-{batch.id}")
    assert [td.get_text(strip=True) for td in row.select("td")][:6] == [
        f"{year.year}年度", "集中参保", unit.code, unit.unit_name, "0", "清册待校验"]


def test_every_count_opens_exactly_its_people(client, unit):
    batch = batch_in(unit, TO_CHECK)  # 集中参保 2026: ages on 1 July 2026
    roster_ops.add_entries(batch, [person(1), person(2, has_social_insurance=True),
                                   passport(3, date(1980, 1, 1), "女"), passport(4, date(1971, 7, 1), "女")],
                           unit.account)
    RosterEntry.update(employment="退休").where(RosterEntry.id_number == "E00000003").execute()
    RosterEntry.update(member_name="别名").where(RosterEntry.id_number == "E00000004").execute()
    page = soup(client.get(f"/mutual-aid/batches/{batch.id}/roster"))
    links = {a["data-count"]: a for a in page.select("#roster-counts a")}
    assert list(links) == ["拟参保人数", "在职", "退休", "-", "超龄", "警告"]
    people = list(RosterEntry.select().where(RosterEntry.batch == batch.id))
    direct = {"拟参保人数": len(people), "在职": sum(p.employment == "在职" for p in people),
              "退休": sum(p.employment == "退休" for p in people), "-": sum(p.employment == "-" for p in people),
              "超龄": sum(is_over_age(p.birth_date, p.gender, date(2026, 7, 1)) for p in people),
              "警告": sum(p.name_warning for p in people)}
    assert direct == {"拟参保人数": 4, "在职": 1, "退休": 1, "-": 2, "超龄": 3, "警告": 1}
    for label, link in links.items():
        opened = client.get(link["href"])
        assert int(link.get_text()) == direct[label] == total(opened), label
    listed = soup(client.get("/mutual-aid/batches/")).select_one(f"#batch-{batch.id} a.people-count")
    assert int(listed.get_text()) == 4 == total(client.get(listed["href"]))  # 人数 opens the roster
    over = soup(client.get(f"/mutual-aid/batches/{batch.id}/roster?age=超龄"))
    assert {td.get_text() for td in over.select("#roster tbody td:nth-of-type(9)")} == {"超龄"}
    assert "E00000003" not in str(over) and "E0 **** 03" not in str(over)  # 1980: not over age
    assert str(person(1)["id_number"]) not in str(page)  # ID numbers masked


def test_member_list_then_remove_all_over_age_through_the_confirmation(client, city, unit):
    batch = batch_in(unit, TO_CHECK)
    members = [factories.make_member(city.orgs["grassroots1"], id_number=id_number(1))]  # born 1966, a man
    members += [factories.make_member(city.orgs["grassroots1"]) for _ in range(2)]  # born 1980 or later
    done = client.post(f"/mutual-aid/batches/{batch.id}/roster/add/members")
    assert done.status_code == 302
    assert "已添加3名参保人员" in client.get(done.headers["Location"]).get_data(as_text=True)
    over = [e for e in RosterEntry.select() if is_over_age(e.birth_date, e.gender, date(2026, 7, 1))]
    assert len(over) == 1
    asked = client.post(f"/mutual-aid/batches/{batch.id}/roster/remove", data={"all": "1", "age": "超龄"})
    assert asked.status_code == 200
    assert f"移除以下{len(over)}名人员" in soup(asked).select_one("#confirm-text").get_text()
    assert RosterEntry.select().count() == 3  # asked only
    client.post(f"/mutual-aid/batches/{batch.id}/roster/remove", data={"all": "1", "age": "超龄", "confirmed": "1"})
    assert RosterEntry.select().count() == 3 - len(over)


def test_set_in_service_one_row_and_the_ticked_ones(client, unit):
    batch = batch_in(unit, TO_CHECK)
    roster_ops.add_entries(batch, [passport(i, date(1990, 1, i), "男") for i in range(1, 4)], unit.account)
    a, b, c = RosterEntry.select().order_by(RosterEntry.id)
    url = f"/mutual-aid/batches/{batch.id}/roster/in_service"
    asked = client.post(url, data={"one": a.id, "entry": [b.id]})  # a row's own button: that row only
    assert [i["value"] for i in soup(asked).select("#confirm-form input[name=entry]")] == [str(a.id)]
    client.post(url, data={"entry": [a.id], "confirmed": "1"})
    client.post(url, data={"entry": [b.id, c.id], "confirmed": "1"})
    assert {e.employment for e in RosterEntry.select()} == {"在职"}
    roster_ops.add_entries(batch, [passport(i, date(1990, 1, i), "男") for i in range(4, 6)], unit.account)
    page = soup(client.get(f"/mutual-aid/batches/{batch.id}/roster?employment=-"))
    assert page.select_one("#in-service-filtered") is not None
    client.post(url, data={"all": "1", "employment": "-", "confirmed": "1"})  # everyone the filter shows
    assert {e.employment for e in RosterEntry.select()} == {"在职"} and RosterEntry.select().count() == 5
    nothing = client.post(url, data={"confirmed": "1"})
    assert "请勾选要设置在职的人员" in client.get(nothing.headers["Location"]).get_data(as_text=True)


def test_edit_a_passport_holder(client, unit):
    batch = batch_in(unit, TO_CHECK)
    roster_ops.add_entries(batch, [person(1), passport(2, date(1990, 1, 1), "男")], unit.account)
    resident, foreign = RosterEntry.select().order_by(RosterEntry.id)
    refused = client.get(f"/mutual-aid/batches/{batch.id}/roster/edit?entry={resident.id}")
    assert refused.status_code == 409 and "编辑仅限非身份证类型" in refused.get_data(as_text=True)
    url = f"/mutual-aid/batches/{batch.id}/roster/edit?entry={foreign.id}"
    bad = client.post(url, data={"name": "新名", "gender": "女", "birth_date": "1990-13-01"})
    assert bad.status_code == 422 and "出生日期：格式应为 年-月-日" in bad.get_data(as_text=True)
    client.post(url, data={"name": "新名", "gender": "女", "birth_date": "1991-02-03"})
    foreign = RosterEntry.get_by_id(foreign.id)
    assert (foreign.name, foreign.gender, foreign.birth_date) == ("新名", "女", date(1991, 2, 3))
    assert foreign.id_type == "护照"
    assert client.get(f"/mutual-aid/batches/{batch.id}/roster/edit?entry=99999").status_code == 404


def test_name_warning_is_resolved_by_picking_a_name(client, city, unit):
    batch = batch_in(unit, TO_CHECK)
    member = factories.make_member(city.orgs["grassroots1"], name="王五")
    RegistryPayer.create(social_code="SB9", id_number=member.person.id_number, name="王伍")
    client.post(f"/mutual-aid/batches/{batch.id}/roster/add/members")
    roster = soup(client.get(f"/mutual-aid/batches/{batch.id}/roster"))
    assert roster.select_one("#name-check").get_text() == "姓名匹配异常，请人工确认"
    assert roster.select_one("#roster td.warning").get_text(strip=True) == "警告"
    entry = RosterEntry.get(RosterEntry.batch == batch.id)
    names = soup(client.get(f"/mutual-aid/batches/{batch.id}/roster/names"))
    assert [r["value"] for r in names.select(f"input[name=name-{entry.id}]")] == ["王五", "王伍"]
    done = client.post(f"/mutual-aid/batches/{batch.id}/roster/names", data={f"name-{entry.id}": "王五"})
    assert done.headers["Location"].endswith(f"/mutual-aid/batches/{batch.id}/roster")
    assert RosterEntry.get_by_id(entry.id).name == "王五"
    assert soup(client.get(f"/mutual-aid/batches/{batch.id}/roster")).select_one("#name-check") is None


def test_batch_delete_is_asked_inline_with_htmx_and_on_a_page_without(client, unit):
    batch = batch_in(unit, TO_CHECK)
    roster_ops.add_entries(batch, [person(1)], unit.account)
    inline = client.get(f"/mutual-aid/batches/{batch.id}/delete", headers={"HX-Request": "true"})
    assert "<html" not in inline.get_data(as_text=True) and "1名参保人员信息全部删除" in inline.get_data(as_text=True)
    assert "<html" in client.get(f"/mutual-aid/batches/{batch.id}/delete").get_data(as_text=True)
    client.post(f"/mutual-aid/batches/{batch.id}/delete")
    assert AidBatch.select().count() == 0 and RosterEntry.select().count() == 0
    locked = batch_in(unit, CHOOSE_ITEMS)
    refused = client.post(f"/mutual-aid/batches/{locked.id}/delete")
    assert refused.status_code == 409
    assert "只有「清册待校验」「清册校验不通过」状态的批次可以删除" in refused.get_data(as_text=True)


def test_withdraw_with_a_reason_and_a_choice(client, unit):
    open_window(years.CENTRAL)
    batch = batch_in(unit, AWAIT_VOUCHER, year=aid_year(years.year_of(today(), years.CENTRAL)))
    row = soup(client.get("/mutual-aid/batches/")).select_one(f"#batch-{batch.id}")
    assert [a.get_text() for a in row.select("td.actions-cell a")] == \
        ["参保清册", "保费详细", "上传缴费凭证", "批次撤回"]
    url = f"/mutual-aid/batches/{batch.id}/withdraw"
    assert [r.parent.get_text(strip=True) for r in soup(client.get(url)).select("input[name=choice]")] == [
        "重新整理清册", "重新选择保障项目"]
    missing = client.post(url, data={"choice": "withdraw_roster"})
    assert missing.status_code in (409, 422) and AidBatch.get_by_id(batch.id).status == AWAIT_VOUCHER
    client.post(url, data={"choice": "withdraw_roster", "reason": "漏报两人"})
    batch = AidBatch.get_by_id(batch.id)
    assert (batch.status, batch.reason) == (TO_CHECK, "漏报两人")


def test_the_district_above_looks_read_only_and_another_unit_gets_404(app, client, city, unit):
    batch = batch_in(unit, TO_CHECK)
    roster_ops.add_entries(batch, [person(1)], unit.account)
    other = approved_code(city, 2)
    other_client = app.test_client()
    factories.login(other_client, other.account)
    assert other_client.get(f"/mutual-aid/batches/{batch.id}/roster").status_code == 404
    assert f"batch-{batch.id}" not in other_client.get("/mutual-aid/batches/").get_data(as_text=True)
    for role in ("district", "city", "centre"):
        viewer = app.test_client()
        factories.login(viewer, city.account(role))
        assert f"batch-{batch.id}" in viewer.get("/mutual-aid/batches/").get_data(as_text=True), role
        page = soup(viewer.get(f"/mutual-aid/batches/{batch.id}/roster"))
        assert page.select_one("#add-people") is None and not page.select("input[name=entry]"), role
        assert viewer.post(f"/mutual-aid/batches/{batch.id}/roster/remove",
                           data={"entry": [1], "confirmed": "1"}).status_code == 403, role
    assert RosterEntry.select().count() == 1
