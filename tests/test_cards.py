"""会员服务卡: 卡片信息管理, 待办会员列表 (checks, header counts, 修改证件到期日 with and without
htmx, 移除), 提交办卡 (refused until every row passed), 办卡批次管理, 导出报送银行, and the
database constraints behind them."""

import io
from datetime import date, timedelta

import peewee as pw
import pytest
from openpyxl import load_workbook

from models import db
from models.audit import AuditLog
from models.base import DomainError, today
from models.cards import card_batches, cards
from models.cards.cards import Card, CardBatch, CardBatchItem, CardPending
from models.members.people import Membership, Person
from models.rules import cards as rules
from tests import factories
from tests.factories.cards import card_member, luhn_card, make_batch, make_card, make_pending
from tests.helpers import soup

HX = {"HX-Request": "true"}


def text(response):
    return " ".join(soup(response).get_text(" ").split())


@pytest.fixture
def union(city):
    return city.orgs["grassroots1"]


@pytest.fixture
def grassroots(as_role):
    return as_role("grassroots")


# --- 卡片信息管理 → 加入待办会员列表 ------------------------------------------------------------------
def test_card_list_shows_members_inside_enterprises_with_their_card_state(city, union, grassroots):
    plain = card_member(union, name="未办卡甲")
    holder = make_card(union)
    flexible = card_member(union, name="灵活就业乙", category="灵活就业", category_detail="快递物流")
    page = grassroots.get("/cards/")
    assert page.status_code == 200
    body = text(page)
    assert "未办卡甲" in body and holder.person.name in body
    assert "灵活就业乙" not in body  # 申工社, not here
    assert "申工社" in body and "服务大厅" in body
    row = soup(page).find("input", {"value": str(holder.person.memberships[0].id)})
    assert row is None  # a card holder cannot be ticked
    assert soup(page).find("input", {"name": "ids", "value": str(plain.id)}) is not None
    assert holder.card_no not in page.get_data(as_text=True)  # masked
    assert cards.progress_of([flexible])[flexible.id][0] == cards.NO_CARD


def test_has_card_on_the_roster_and_the_member_page_follows_the_cards(union, grassroots):
    """已办会员卡: 是 while the person holds a card that is not 注销 (正常 / 挂失), 否 without one or once
    it is 注销 — read from the cards, nothing copied on the person."""
    plain = card_member(union, name="无卡丙")
    holder = make_card(union)
    lost = make_card(union, status=cards.CARD_LOST)

    def shown():
        page = soup(grassroots.get("/members/"))
        column = [th.get_text(strip=True) for th in page.select("table.grid thead th")].index("已办会员卡")
        rows = {}
        for tr in page.select("table.grid tbody tr"):
            cells = [td.get_text(strip=True) for td in tr.select("td")]
            rows[next(c for c in cells if c in names)] = cells[column]
        details = {name: soup(grassroots.get(f"/members/{mid}")).select_one("#has-card").get_text()
                   for name, mid in ids.items()}
        return rows, details

    names = {plain.person.name, holder.person.name, lost.person.name}
    ids = {m.person.name: m.id for m in Membership.select().join(Person).where(Person.name.in_(names))}
    assert shown() == ({plain.person.name: "否", holder.person.name: "是", lost.person.name: "是"},) * 2
    cards.set_card_status(Card.get_by_id(holder.id), cards.CARD_CANCELLED, None, "持卡人申请注销")
    assert shown() == ({plain.person.name: "否", holder.person.name: "否", lost.person.name: "是"},) * 2


def test_card_list_filter_by_state_equals_a_direct_count(union, grassroots):
    for _ in range(3):
        card_member(union)
    for _ in range(2):
        make_card(union)
    page = grassroots.get("/cards/?state=已开卡")
    assert "总共 2 条记录" in text(page)
    direct = (Card.select().join(Membership, on=(Card.person == Membership.person))
              .where((Membership.org == union.id) & Card.status.in_(cards.HELD_CARD)).count())
    assert direct == 2
    assert "总共 3 条记录" in text(grassroots.get("/cards/?state=未办卡"))
    assert grassroots.get("/cards/?state=乱填").status_code == 422


def test_add_ticked_members_checks_them_at_once(union, grassroots):
    good = card_member(union)
    short = card_member(union, work_unit="南京东路")
    response = grassroots.post("/cards/pending/add", data={"ids": [good.id, short.id]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/cards/pending")
    rows = {r.membership_id: r for r in CardPending.select()}
    assert rows[good.id].check_state == rules.PASSED
    assert rows[short.id].check_state == rules.FAILED
    assert "工作单位/服务平台须超过6个汉字" in rows[short.id].check_reason
    again = grassroots.post("/cards/pending/add", data={"ids": [good.id]}, follow_redirects=True)
    assert "已在待办会员列表中" in text(again)
    assert CardPending.select().count() == 2


def test_add_every_matching_member_skips_holders(union, grassroots):
    for _ in range(4):
        card_member(union)
    make_card(union)
    grassroots.post("/cards/pending/add", data={"all_matching": "1"})
    assert CardPending.select().where(CardPending.org == union.id).count() == 4


def test_add_from_the_roster_batch_bar(union, grassroots):
    members = [card_member(union) for _ in range(2)]
    page = grassroots.get("/members/")
    assert soup(page).find("button", {"formaction": "/cards/pending/add"}) is not None
    grassroots.post("/cards/pending/add", data={"from": "roster", "ids": [m.id for m in members]})
    assert CardPending.select().count() == 2


def test_other_unions_members_and_superiors_cannot_add(city, union, grassroots, as_role):
    other = card_member(city.orgs["direct1"])
    grassroots.post("/cards/pending/add", data={"ids": [other.id]})
    assert CardPending.select().count() == 0  # out of scope: ignored, not added
    mine = card_member(union)
    assert as_role("district").post("/cards/pending/add", data={"ids": [mine.id]}).status_code == 403
    assert CardPending.select().count() == 0


def test_one_pending_row_per_person_is_a_database_constraint(union):
    row = make_pending(union)
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            CardPending.create(org=union, membership=row.membership_id, person=row.person_id)


# --- 待办会员列表 ---------------------------------------------------------------------------------
def test_pending_header_in_the_manuals_shape_and_each_count_opens_its_rows(union, grassroots):
    for _ in range(3):
        make_pending(union)
    make_pending(union, work_unit="短")
    make_pending(union, checked=False)
    page = grassroots.get("/cards/pending")
    header = " ".join(soup(page).find(id="pending-counts").get_text().split())
    assert header.startswith("待办会员：5人；校验通过：3人；未通过：1人。未校验：1人。")
    assert "请移除校验未通过及未校验的会员，才能进行提交办卡" in header
    for state, n in ((rules.PASSED, 3), (rules.FAILED, 1), (rules.UNCHECKED, 1)):
        listed = grassroots.get(f"/cards/pending?check={state}")
        assert len(soup(listed).select("tbody tr[id^=pending-]")) == n
        direct = CardPending.select().where((CardPending.org == union.id) & (CardPending.check_state == state))
        assert direct.count() == n
    columns = [th.get_text() for th in soup(page).select("table.pending-list th")]
    assert columns == ["姓名", "证件类型", "证件号码", "加入待办时间", "证件到期日", "信息校验结果", "操作"]


def test_pending_filter_by_id_number(union, grassroots):
    row = make_pending(union)
    make_pending(union)
    page = grassroots.get(f"/cards/pending?id_number={row.person.id_number}")
    assert len(soup(page).select("tbody tr[id^=pending-]")) == 1


def test_change_expiry_without_javascript(union, grassroots):
    row = make_pending(union, id_expiry=today())
    assert CardPending.get_by_id(row.id).check_state == rules.FAILED
    form = grassroots.get(f"/cards/pending/{row.id}/expiry")
    assert form.status_code == 200 and soup(form).find("input", {"name": "id_expiry"}) is not None
    bad = grassroots.post(f"/cards/pending/{row.id}/expiry", data={"id_expiry": "2033-02-30"})
    assert bad.status_code == 422 and "证件到期日格式应为" in text(bad)
    assert Person.get_by_id(row.person_id).id_expiry == today()
    new = today() + timedelta(days=1)
    done = grassroots.post(f"/cards/pending/{row.id}/expiry", data={"id_expiry": new.isoformat()})
    assert done.status_code == 302
    assert Person.get_by_id(row.person_id).id_expiry == new
    assert CardPending.get_by_id(row.id).check_state == rules.PASSED
    log = AuditLog.select().where(AuditLog.action == "修改证件到期日").get()
    assert today().isoformat() in log.detail and new.isoformat() in log.detail


def test_change_expiry_inline_with_htmx(union, grassroots):
    row = make_pending(union, id_expiry=None)
    Person.update(birth_date=today().replace(year=today().year - 30)).where(Person.id == row.person_id).execute()
    editor = grassroots.get(f"/cards/pending/{row.id}/expiry", headers=HX)
    assert editor.status_code == 200
    assert soup(editor).find("tr", id=f"pending-{row.id}").find("input", {"name": "id_expiry"}) is not None
    assert "<html" not in editor.get_data(as_text=True)
    saved = grassroots.post(f"/cards/pending/{row.id}/expiry", data={"id_expiry": "长期"}, headers=HX)
    # 30 years old: 长期 does not match an ID card (46 and over) — saved, but the check fails
    tr = soup(saved).find("tr", id=f"pending-{row.id}")
    assert tr.find(class_="expiry").get_text() == "长期"
    assert "未满46周岁" in tr.get_text()
    counts = soup(saved).find(id="pending-counts")
    assert counts is not None and counts.get("hx-swap-oob") == "true"
    error = grassroots.post(f"/cards/pending/{row.id}/expiry", data={"id_expiry": "x"}, headers=HX)
    assert error.status_code == 422 and soup(error).find(class_="field-error") is not None


def test_remove_with_and_without_htmx(union, grassroots):
    a, b = make_pending(union), make_pending(union)
    fragment = grassroots.post(f"/cards/pending/{a.id}/remove", headers=HX)
    assert fragment.status_code == 200
    assert "待办会员：1人" in " ".join(soup(fragment).get_text().split())
    full = grassroots.post(f"/cards/pending/{b.id}/remove")
    assert full.status_code == 302
    assert CardPending.select().count() == 0
    assert grassroots.post(f"/cards/pending/{b.id}/remove").status_code == 404


def test_pending_detail_lists_the_reasons(union, grassroots):
    row = make_pending(union, work_unit="短短", mobile="")
    page = text(grassroots.get(f"/cards/pending/{row.id}"))
    assert "工作单位/服务平台须超过6个汉字" in page and "移动电话未填写" in page


def test_a_mobile_used_by_another_applicant_fails(city, union):
    other_union = city.orgs["direct1"]
    first = make_pending(other_union, mobile="13912345678")
    second = make_pending(union, mobile="13912345678")
    assert CardPending.get_by_id(second.id).check_state == rules.FAILED
    reason = CardPending.get_by_id(second.id).check_reason
    assert "移动电话与其他工会的办卡人员重复" in reason
    assert first.person.name not in reason  # another union's member is not named
    waiting = make_batch(union, people=1)  # a member of this union waiting in a batch, mobile as submitted
    CardBatchItem.update(mobile="13912345679").where(CardBatchItem.batch == waiting.id).execute()
    third = make_pending(union, mobile="13912345679")
    item = CardBatchItem.get(CardBatchItem.batch == waiting.id)
    assert f"本单位办卡会员（{item.name}）" in CardPending.get_by_id(third.id).check_reason


def test_editing_the_member_makes_the_row_unchecked(union, grassroots):
    row = make_pending(union)
    m = Membership.get_by_id(row.membership_id)
    from models.members import members
    members.update(m, factories.make_account(union), {}, {"work_unit": "上海市黄浦区南京东路一号大楼"})
    assert CardPending.get_by_id(row.id).check_state == rules.UNCHECKED


def test_a_member_who_leaves_is_taken_off_the_list(union):
    row = make_pending(union)
    from models.members import members
    members.delete(Membership.get_by_id(row.membership_id), factories.make_account(union), "退休")
    assert CardPending.select().where(CardPending.id == row.id).count() == 0


# --- 提交办卡 ------------------------------------------------------------------------------------
def test_submit_is_refused_until_every_row_passed(union, grassroots):
    good = make_pending(union)
    bad = make_pending(union, id_expiry=None)
    unchecked = make_pending(union, checked=False)
    refused = grassroots.post("/cards/pending/submit")
    assert refused.status_code == 409
    assert "请移除校验未通过及未校验的会员，才能进行提交办卡" in text(refused)
    assert CardBatch.select().count() == 0 and CardPending.select().count() == 3
    grassroots.post(f"/cards/pending/{bad.id}/remove")
    assert grassroots.post("/cards/pending/submit").status_code == 409  # 未校验 still there
    grassroots.post(f"/cards/pending/{unchecked.id}/remove")
    done = grassroots.post("/cards/pending/submit")
    assert done.status_code == 302
    batch = CardBatch.get()
    assert batch.status == cards.TO_SEND and batch.count == 1 and batch.org_id == union.id
    assert batch.number.startswith("KB" + today().strftime("%Y%m%d")) and len(batch.number) == 14
    item = CardBatchItem.get()
    assert item.person_id == good.person_id and item.state == cards.ITEM_WAITING
    assert CardPending.select().count() == 0
    assert grassroots.post("/cards/pending/submit").status_code == 422  # the list is empty now


def test_submit_checks_again_and_refuses_what_changed_since(union, grassroots):
    row = make_pending(union)
    Person.update(id_expiry=today()).where(Person.id == row.person_id).execute()  # expired since
    assert grassroots.post("/cards/pending/submit").status_code == 409
    assert CardBatch.select().count() == 0
    assert CardPending.get_by_id(row.id).check_state == rules.FAILED  # the new result is kept


def test_submit_with_htmx_shows_the_refusal_in_place(union, grassroots):
    make_pending(union, id_expiry=None)
    response = grassroots.post("/cards/pending/submit", headers=HX)
    assert response.status_code == 409
    assert soup(response).find(id="submit-error").get_text() == cards.SUBMIT_REFUSED
    assert "<html" not in response.get_data(as_text=True)


def test_batch_numbers_count_per_day():
    first, second = card_batches.next_batch_number(), card_batches.next_batch_number()
    assert int(second[-4:]) == int(first[-4:]) + 1


def test_a_person_waits_in_one_batch_at_most_database_constraint(union):
    batch = make_batch(union, people=1)
    item = CardBatchItem.get(CardBatchItem.batch == batch.id)
    other = make_batch(union, people=0)
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            CardBatchItem.create(batch=other, person=item.person_id, name="x", id_type="身份证", id_number="1")


def test_one_held_card_per_person_database_constraint(union):
    card = make_card(union)
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            Card.create(person=card.person_id, org=union, card_no=luhn_card(), issued_date=today(),
                        eligible_from=today())
    with pytest.raises(pw.IntegrityError):  # card numbers are unique
        with db.atomic():
            Card.create(person=make_card(union).person_id, org=union, card_no=card.card_no, status="注销",
                        issued_date=today(), eligible_from=today())


# --- 办卡批次管理 / 导出报送银行 ---------------------------------------------------------------------
def test_batch_list_and_detail(union, grassroots):
    batch = make_batch(union, people=3)
    page = grassroots.get("/cards/batches")
    assert batch.number in text(page)
    detail = grassroots.get(f"/cards/batches/{batch.id}")
    assert len(soup(detail).select("section:last-of-type tbody tr")) == 3
    assert "导出报送银行" not in text(detail)  # the grassroots union does not send to the bank
    assert grassroots.get(f"/cards/batches?number={batch.number}&status=已开卡").status_code == 200
    assert "没有找到匹配的记录" in text(grassroots.get(f"/cards/batches?number={batch.number}&status=已开卡"))
    assert grassroots.get("/cards/batches?start=2026-13-01").status_code == 422


@pytest.mark.parametrize("role", ["district", "centre"])
def test_export_for_the_bank_marks_the_batch_sent(union, as_role, role):
    batch = make_batch(union, people=2)
    client = as_role(role)
    response = client.post(f"/cards/batches/{batch.id}/export")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book.active.values)
    assert list(rows[0]) == card_batches.BANK_COLUMNS
    items = list(CardBatchItem.select().where(CardBatchItem.batch == batch.id))
    assert sorted(r[5] for r in rows[1:]) == sorted(i.id_number for i in items)  # full numbers for the bank
    by_number = {i.id_number: i for i in items}
    for row in book.active.iter_rows(min_row=2):  # 出生日期 / 证件到期日 as date cells
        item = by_number[row[5].value]
        assert (row[6].value.date(), row[6].number_format) == (item.birth_date, "yyyy-mm-dd")
        if item.id_expiry and item.id_expiry != date(9999, 12, 31):
            assert (row[7].value.date(), row[7].number_format) == (item.id_expiry, "yyyy-mm-dd")
        else:
            assert row[7].value in ("长期", "-")
    assert CardBatch.get_by_id(batch.id).status == cards.SENT
    again = client.get(f"/cards/batches/{batch.id}/bank-file")
    assert again.status_code == 200
    assert client.post(f"/cards/batches/{batch.id}/export").status_code == 200  # download again, no error
    assert AuditLog.select().where(AuditLog.action == "导出报送银行").count() == 1


def test_secondary_and_grassroots_cannot_export(union, as_role):
    batch = make_batch(union)
    assert as_role("secondary").post(f"/cards/batches/{batch.id}/export").status_code == 403
    assert as_role("grassroots").post(f"/cards/batches/{batch.id}/export").status_code == 403
    assert CardBatch.get_by_id(batch.id).status == cards.TO_SEND


def test_bank_file_cells_are_formula_safe(union):
    batch = make_batch(union, people=1)
    CardBatchItem.update(work_unit="=HYPERLINK(\"x\")").execute()
    rows = list(load_workbook(io.BytesIO(card_batches.bank_workbook(batch))).active.values)
    assert rows[1][9].startswith("'=")


def test_closing_a_union_with_an_open_card_batch_is_refused(union):
    make_batch(union)
    assert "有1个办卡批次尚未开卡" in union.close_blockers()


def test_member_detail_shows_the_card(union, grassroots):
    card = make_card(union)
    m = Membership.get(Membership.person == card.person_id)
    page = grassroots.get(f"/members/{m.id}")
    assert soup(page).find(id="card-state").get_text().startswith("已开卡")
    assert soup(page).find(id="card-no").get_text() == card.card_no  # the union sees its member's number
    assert "起可办理会员卡参保" in text(page)


def test_card_channel_eligibility_from_the_day_after(union):
    card = make_card(union, issued=today())
    assert not cards.card_channel_eligible(card.person_id, today())
    assert cards.card_channel_eligible(card.person_id, today() + timedelta(days=1))
    Card.update(status=cards.CARD_LOST).where(Card.id == card.id).execute()
    assert not cards.card_channel_eligible(card.person_id, today() + timedelta(days=1))


def test_domain_refusals_change_nothing(union):
    batch = make_batch(union, status=cards.REVOKED)
    with pytest.raises(DomainError, match="已撤销"):
        card_batches.export_for_bank(batch, factories.make_account(factories.make_org(None, "市职保中心",
                                                                                     level="centre")))


def test_the_demo_shows_every_card_and_plan_screen():
    """`make run`'s demo data: card holders, batches in three states, a pending list with failing
    rows; protection years with splits; bureau statuses."""
    from models.demo import load_demo
    from models.enroll.enrollment import StatusRecord
    from models.enroll.plans import ProtectionYear
    load_demo(password="demo-pass-1", members=300)
    assert Card.select().count() == 20
    assert sorted(b.status for b in CardBatch.select()) == sorted([cards.OPENED, cards.SENT, cards.TO_SEND])
    states = [r.check_state for r in CardPending.select()]
    assert len(states) == 8 and states.count(rules.FAILED) == 3
    assert ProtectionYear.select().count() == 2 and StatusRecord.select().count() > 60
    # 社保卡参保 (issue 9): 新世界百货 has people in every routing class, and the bureau's registry
    # agrees with the checked ones, so a new ① keeps 封存 / 挂失 in 待校验
    from models.enroll import social_enroll
    from models.enroll.plans import central_year
    from models.orgs.accounts import Account
    union = Account.get(Account.username == "grassroots").org
    screen = social_enroll.screen(union, central_year())
    assert all(screen.sets[k] for k in ("ready", "pending", "verify", "retired", "dead")), \
        {k: len(v) for k, v in screen.sets.items()}
    abnormal = [c for c in screen.checks.values() if c.card_status in ("封存", "挂失")]
    assert len(abnormal) == 2
    for check in abnormal:
        record = StatusRecord.get(StatusRecord.id_number == check.person.id_number)
        assert record.card_status == check.card_status
    # the card holders may enroll on the day the demo is loaded (their cards came back a month ago)
    from models.enroll import card_enroll
    central = card_enroll.central_screen(union, central_year())
    assert len(central.sets["eligible"]) > 0, {k: len(v) for k, v in central.sets.items()}
