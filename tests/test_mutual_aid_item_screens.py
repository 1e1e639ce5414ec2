"""保障项目选择 screens (issue 18 item 7, seed 004 集中参保操作流程 （四）): the fee table with the year's
prices and 待遇, 生成保费信息 and 提交确认保费 as plain forms (PRG), refusals in Chinese with nothing
changed, 保费详细 paged with its totals and the Excel file, the instant batch's locked items, who sees
and who acts; and 保障信息查询 showing the mutual-aid coverage beside the other line's, in scope."""

import io
from datetime import datetime, timedelta

from openpyxl import load_workbook

from models.base import now
from models.mutual_aid import code_ops, handler_ops, premium_ops, years
from models.mutual_aid.batches import AWAIT_VOUCHER, CHOOSE_ITEMS, INSURED, AidBatch, RosterEntry
from models.mutual_aid.premiums import BatchItem
from tests import factories
from tests.factories.mutual_aid import aid_year, approved_code, batch_in, enterprise_account, form, png, roster_of
from tests.helpers import soup

ZHIBAO = {"employment": "在职"}
NOT_ZHIBAO = {"employment": "-"}


def open_windows(year):
    """Both windows of the year open now (the screens judge the real clock)."""
    years.AidWindow.update(starts=now() - timedelta(days=1), ends=now() + timedelta(days=1)).where(
        years.AidWindow.year == year.id).execute()


def batch_with(city, people, kind=years.INSTANT, n=1, code=None, submitted=datetime(2026, 8, 2, 9)):
    year = aid_year()
    open_windows(year)
    code = code or approved_code(city, n)
    batch = batch_in(code, CHOOSE_ITEMS, kind=kind)
    AidBatch.update(submitted_at=submitted).where(AidBatch.id == batch.id).execute()
    roster_of(batch, people)
    return AidBatch.get_by_id(batch.id)


def client_of(app, account):
    client = app.test_client()
    factories.login(client, account)
    return client


def url(batch, tail="items"):
    return f"/mutual-aid/batches/{batch.id}/{tail}"


def test_the_page_shows_the_fee_table_with_the_years_prices_and_benefits(app, city):
    batch = batch_with(city, [ZHIBAO])
    page = soup(client_of(app, batch.code.account).get(url(batch)))
    rows = page.select("table.aid-items tbody tr")
    assert [r["id"] for r in rows] == [f"item-{c}" for c in ("A0", "A1", "A2", "A3", "B0", "B1", "B2", "B3", "C0",
                                                              "C1", "C2", "C3")]
    a1 = page.select_one("#item-A1").get_text(" ", strip=True)
    assert "135" in a1 and "67.5" in a1 and "100元/天" in a1 and "加强保障层" in a1
    assert "190元/人优惠至180元/人" in page.get_text()
    assert page.select_one("#generate").get_text() == "生成保费信息"
    assert page.select_one("#fee-period").get_text().startswith("全年")


def test_choose_generate_confirm_detail_and_excel_without_javascript(app, city):
    batch = batch_with(city, [ZHIBAO, ZHIBAO, NOT_ZHIBAO])
    client = client_of(app, batch.code.account)
    response = client.post(url(batch), data={"action": "generate", "items": ["A0", "B0", "C0", "C1"]})
    assert response.status_code == 302 and response.headers["Location"].endswith(url(batch))
    page = soup(client.get(url(batch)))
    # 职保: 180 + 40 = 220 each; outside 职保: 55 + 15 + 40 = 110.
    assert page.select_one("#premium-total").get_text() == "550元"
    assert page.select_one("#chosen-items").get_text() == "A0、B0、C0、C1"
    assert page.select_one("#coverage-period").get_text() == "2026-08-03 至 2027-06-30（全年）"
    assert "特种重病保障B0执行60天免责期，自2026-10-02起保障" in page.select_one("#item-totals").get_text()
    assert page.select_one("#tick-C1").has_attr("checked") and not page.select_one("#tick-A1").has_attr("checked")
    response = client.post(url(batch), data={"action": "confirm", "total": "55000"})
    assert response.status_code == 302
    moved = AidBatch.get_by_id(batch.id)
    assert moved.status == AWAIT_VOUCHER and moved.premium_confirmed_at is not None
    page = soup(client.get(url(batch)))
    assert page.select_one("#batch-status").get_text() == AWAIT_VOUCHER
    assert page.select_one("#generate") is None and page.select_one("#confirm-premium") is None
    deadline = premium_ops.payment_deadline(moved)
    assert page.select_one("#payment-deadline").get_text() == deadline.isoformat()
    assert "上海市职工保障互助会" in page.select_one("#payment-info").get_text()
    detail = soup(client.get(url(batch, "premiums")))
    cells = [[td.get_text() for td in tr.select("td")] for tr in detail.select("#premium-rows tbody tr")]
    assert [c[-1] for c in cells] == ["220元", "220元", "110元"] and [c[6] for c in cells][2] == "B0、C0、C1"
    assert "显示第 1 到第 3 条记录，总共 3 条记录" in detail.get_text()
    xlsx = client.get(url(batch, "premiums.xlsx"))
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1] == tuple(premium_ops.DETAIL_COLUMNS)
    people = values[2:5]
    assert [p[3] for p in people] == [e.id_number for e in RosterEntry.select().order_by(RosterEntry.id)]
    assert sum(p[7] for p in people) == 550 and values[-1][0] == "保费合计" and values[-1][3] == 550


def test_a_refused_choice_says_why_keeps_the_ticks_and_changes_nothing(app, city):
    batch = batch_with(city, [ZHIBAO])
    client = client_of(app, batch.code.account)
    response = client.post(url(batch), data={"action": "generate", "items": ["A1", "A2"]})
    assert response.status_code == 422
    page = soup(response)
    assert "须在基本保障项目A0、B0或C0的基础上参保" in page.select_one("#items-error").get_text()
    assert "A1、A2、A3至多选1种" in page.select_one("#items-error").get_text()
    assert page.select_one("#tick-A1").has_attr("checked") and page.select_one("#tick-A2").has_attr("checked")
    assert not BatchItem.select().exists()
    response = client.post(url(batch), data={"action": "confirm", "total": "0"})
    assert response.status_code == 409 and "请先勾选保障项目" in response.get_data(as_text=True)
    assert client.post(url(batch), data={"action": "bogus"}).status_code == 422
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS


def test_a_stale_total_is_refused(app, city):
    batch = batch_with(city, [ZHIBAO])
    client = client_of(app, batch.code.account)
    client.post(url(batch), data={"action": "generate", "items": ["A0"]})
    for total in ("11999", "", "abc", "9" * 40):
        response = client.post(url(batch), data={"action": "confirm", "total": total})
        assert response.status_code == 409 and "请重新生成保费信息" in response.get_data(as_text=True)
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS


def test_instant_batch_of_a_centrally_enrolled_unit_shows_the_items_not_editable(app, city):
    first = batch_with(city, [ZHIBAO], kind=years.CENTRAL, submitted=datetime(2026, 6, 9, 9))
    premium_ops.generate(first, ["A0", "C0"], first.code.account)
    AidBatch.update(status=INSURED).where(AidBatch.id == first.id).execute()
    batch = batch_with(city, [ZHIBAO, NOT_ZHIBAO], code=first.code)
    client = client_of(app, batch.code.account)
    page = soup(client.get(url(batch)))
    assert "（A0、C0），不可更改" in page.select_one("#items-locked").get_text()
    assert page.select("input[type=checkbox]") == []
    assert [i["value"] for i in page.select("#items-form input[name=items]")] == ["A0", "C0"]
    response = client.post(url(batch), data={"action": "generate", "items": ["A0", "B0", "C0"]})
    assert response.status_code == 422 and "须与集中参保一致" in response.get_data(as_text=True)
    assert client.post(url(batch), data={"action": "generate", "items": ["A0", "C0"]}).status_code == 302
    assert AidBatch.get_by_id(batch.id).premium_total == 13500 + 1500


def test_who_sees_and_who_acts(app, city):
    batch = batch_with(city, [ZHIBAO])
    premium_ops.generate(batch, ["A0"], batch.code.account)
    for role, which in (("centre", 0), ("city", 0), ("district", 0), ("secondary", 0), ("grassroots", 0)):
        client = client_of(app, city.account(role, which))
        page = client.get(url(batch))
        assert page.status_code == 200, role
        assert soup(page).select_one("#generate") is None and soup(page).select_one("#confirm-premium") is None
        assert client.get(url(batch, "premiums")).status_code == 200
        refused = client.post(url(batch), data={"action": "confirm", "total": "12000"})
        assert refused.status_code == 403, role
    for role, which in (("district", 1), ("secondary", 1), ("grassroots", 1)):
        client = client_of(app, city.account(role, which))
        for tail in ("items", "premiums", "premiums.xlsx"):
            assert client.get(url(batch, tail)).status_code == 404, (role, tail)
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS
    owner = client_of(app, batch.code.account)
    for bad in ("0", "99999999", "999999999999999999999"):
        assert owner.get(f"/mutual-aid/batches/{bad}/items").status_code == 404


def test_the_city_sees_masked_numbers_in_the_detail_and_file(app, city):
    batch = batch_with(city, [ZHIBAO])
    premium_ops.generate(batch, ["A0"], batch.code.account)
    number = RosterEntry.get().id_number
    client = client_of(app, city.account("city"))
    assert number not in client.get(url(batch, "premiums")).get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(client.get(url(batch, "premiums.xlsx")).data)).active
    assert number not in [row[3] for row in sheet.iter_rows(values_only=True)]


def test_the_detail_pages_and_its_count_is_the_roster(app, city):
    batch = batch_with(city, [ZHIBAO] * 17 + [{**ZHIBAO, "active": False}])
    premium_ops.generate(batch, ["B0"], batch.code.account)
    client = client_of(app, batch.code.account)
    first = soup(client.get(url(batch, "premiums")))
    assert "显示第 1 到第 15 条记录，总共 17 条记录" in first.get_text()
    second = soup(client.get(url(batch, "premiums") + "?page=2"))
    assert [tr.select("td")[0].get_text() for tr in second.select("#premium-rows tbody tr")] == ["16", "17"]
    page = soup(client.get(url(batch)))
    count = int(page.select_one("#people-count").get_text())
    assert count == RosterEntry.select().where((RosterEntry.batch == batch.id) & RosterEntry.active).count() == 17
    assert page.select_one("#people-count")["href"].endswith(url(batch, "premiums"))


# --- 保障信息查询, both lines ------------------------------------------------------------------------
def test_the_coverage_query_shows_the_mutual_aid_coverage_in_scope(app, city):
    batch = batch_with(city, [ZHIBAO])
    premium_ops.generate(batch, ["A0", "B0", "C0"], batch.code.account)
    number = RosterEntry.get().id_number
    for account in (city.account("centre"), city.account("city"), city.account("district"),
                    city.account("grassroots"), batch.code.account):
        page = soup(client_of(app, account).get(f"/coverage/?id_number={number}"))
        table = page.select_one("#aid-coverage")
        assert table is not None, account.username
        cells = [td.get_text(" ", strip=True) for td in table.select("tbody tr td")]
        assert cells[0] == "2026" and cells[1] == batch.code.unit_name and cells[3] == "即时参保"
        assert cells[4] == "A0、B0、C0" and cells[5:8] == ["2026-08-03", "2027-06-30", "全年"]
        assert "住院基本保障A0及附加疾病身故保障执行30天免责期，自2026-09-02起保障" in cells[8]
        assert "意外伤害保障C0无免责期" in cells[8] and cells[9] == CHOOSE_ITEMS
    for account in (city.account("district", 1), city.account("grassroots", 1)):
        page = soup(client_of(app, account).get(f"/coverage/?id_number={number}"))
        assert page.select_one("#aid-coverage") is None
        assert "未查询到该证件号码在本单位范围内的参保信息" in page.get_text()


def test_the_coverage_query_shows_a_non_zhibao_persons_own_items_and_waiting_before_generation(app, city):
    batch = batch_with(city, [NOT_ZHIBAO, ZHIBAO])
    number = RosterEntry.select().order_by(RosterEntry.id).first().id_number
    client = client_of(app, city.account("centre"))
    page = soup(client.get(f"/coverage/?id_number={number}"))
    assert "待生成保费信息后确定" in page.select_one("#aid-coverage").get_text()
    premium_ops.generate(batch, ["A0", "B0"], batch.code.account)
    cells = [td.get_text(" ", strip=True) for td in
             soup(client.get(f"/coverage/?id_number={number}")).select("#aid-coverage tbody td")]
    assert cells[4] == "B0" and "A0" not in cells[8]


def test_hostile_ticks_are_refused_in_chinese_never_a_500(app, city):
    batch = batch_with(city, [ZHIBAO])
    client = client_of(app, batch.code.account)
    for items in (["Z" * 5000], ["A0"] * 500, ["<script>"], [""]):
        response = client.post(url(batch), data={"action": "generate", "items": items})
        assert response.status_code == 422, items
        assert "<script>" not in response.get_data(as_text=True)
    assert not BatchItem.select().exists() and AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS


def test_every_count_in_the_totals_opens_its_people(app, city):
    batch = batch_with(city, [ZHIBAO, ZHIBAO, NOT_ZHIBAO, {"employment": "-", "has_social_insurance": True}])
    premium_ops.generate(batch, ["A0", "B0", "C0", "C2"], batch.code.account)
    client = client_of(app, batch.code.account)
    page = soup(client.get(url(batch, "premiums")))
    shown = {a["id"].removeprefix("count-"): (int(a.get_text()), a["href"]) for a in page.select("a[id^=count-]")}
    assert set(shown) == {"A0", "B0", "C0", "C2", "A0B0C0优惠"}
    for code, (count, href) in shown.items():
        assert count == premium_ops.people_paying(batch, code).count()
        rows = soup(client.get(href)).select("#premium-rows tbody tr")
        assert len(rows) == count, code
        assert all(code in tr.select("td")[6].get_text() for tr in rows if code != "A0B0C0优惠")
    assert shown["A0"][0] == 3 and shown["C2"][0] == 4 and shown["A0B0C0优惠"][0] == 3
    assert premium_ops.people_paying(batch, "A1").count() == 0
    bad = client.get(url(batch, "premiums") + "?item=%3Cx%3E")
    assert bad.status_code == 200 and len(soup(bad).select("#premium-rows tbody tr")) == 4


def test_pages_of_a_batch_whose_start_is_unknown_again_still_open(app, city):
    batch = batch_with(city, [ZHIBAO])
    premium_ops.generate(batch, ["A0"], batch.code.account)
    AidBatch.update(submitted_at=None).where(AidBatch.id == batch.id).execute()  # (back before 清册提交)
    client = client_of(app, batch.code.account)
    for tail in ("items", "premiums", "premiums.xlsx"):
        assert client.get(url(batch, tail)).status_code == 200, tail
    number = RosterEntry.get().id_number
    assert client_of(app, city.account("centre")).get(f"/coverage/?id_number={number}").status_code == 200


def test_an_enterprise_queries_its_own_peoples_coverage_from_its_menu(app, city):
    """A unit without a union (企业注册) sees only the mutual-aid menu: 保障信息查询 is in it, and answers
    for its own roster's people only."""
    unit = enterprise_account(7)
    code = code_ops.decide(code_ops.apply(unit, form(7, unit_name=unit.org.name, uscc=unit.org.uscc),
                                          [("营业执照.png", png())]), True, city.account("centre"))
    handler_ops.save_handler(code, unit, "经办人7", "13800000007", "h7@example.com")
    batch = batch_with(city, [ZHIBAO], code=code)
    premium_ops.generate(batch, ["A0"], unit)
    other = batch_with(city, [ZHIBAO], n=2)
    mine = RosterEntry.get(RosterEntry.batch == batch.id).id_number
    theirs = RosterEntry.get(RosterEntry.batch == other.id).id_number
    client = client_of(app, unit)
    menu = soup(client.get("/coverage/")).select("nav a")
    assert "/coverage/" in [a["href"] for a in menu if a.get_text(strip=True) == "保障信息查询"]
    cells = [td.get_text(" ", strip=True) for td in
             soup(client.get(f"/coverage/?id_number={mine}")).select("#aid-coverage tbody tr td")]
    assert cells[1] == code.unit_name and cells[4] == "A0"
    page = soup(client.get(f"/coverage/?id_number={theirs}"))
    assert page.select_one("#aid-coverage") is None
