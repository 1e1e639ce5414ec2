"""Card batches after submission: the bank's return file (xlsx / xls / csv, errors fixed and
uploaded again, re-upload harmless), 撤销办卡批次 and its review, the two workflows over every
(state, action) pair, and the races."""

import csv
import io
import threading
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook

from models.audit import AuditLog
from models.base import DomainError, today
from models.cards import card_batches, card_pending, card_return, cards
from models.cards.card_batches import CardRevokeRequest
from models.cards.cards import Card, CardBatch, CardBatchItem, CardPending
from models.io.tables import lost_digits_message
from models.members import people
from models.messages import Message
from models.rules.text import mask
from tests import factories
from tests.factories.cards import items_of, luhn_card, make_batch, make_card, make_pending, make_revoke
from tests.helpers import job_of, post_file, soup
from tests.workflow_helpers import check_every_pair, race_transition

HX = {"HX-Request": "true"}


def text(response):
    return " ".join(soup(response).get_text(" ").split())


def xlsx(rows, header=card_return.RETURN_COLUMNS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_gbk(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(card_return.RETURN_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("gbk")


def xls(rows) -> bytes:
    import xlwt
    book = xlwt.Workbook()
    sheet = book.add_sheet("开卡回盘")
    for c, h in enumerate(card_return.RETURN_COLUMNS):
        sheet.write(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            sheet.write(r, c, v)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data: bytes, name="回盘.xlsx"):
    return post_file(client, "/cards/returns", data, name)


@pytest.fixture
def union(city):
    return city.orgs["grassroots1"]


def sent_batch(union, people=3):
    return make_batch(union, status=cards.SENT, people=people)


# --- the bank's return file ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "xls", "csv"])
def test_return_file_round_trip(union, as_role, fmt):
    batch = sent_batch(union, people=3)
    issued = today() - timedelta(days=2)
    rows = [(i.id_number, luhn_card(), issued.isoformat()) for i in items_of(batch)]
    data = {"xlsx": xlsx, "xls": xls, "csv": csv_gbk}[fmt](rows)
    job = job_of(upload(as_role("district"), data, f"回盘.{fmt}"))
    assert job.status == "已完成", job.errors
    assert job.result_data["imported"] == 3 and job.result_data["failed"] == 0
    assert CardBatch.get_by_id(batch.id).status == cards.OPENED
    for i, (_, card_no, _) in zip(items_of(batch), rows, strict=True):
        card = Card.get(Card.person == i.person_id)
        assert card.card_no == card_no and card.status == cards.CARD_NORMAL and card.issued_date == issued
        assert card.eligible_from == today() + timedelta(days=1)  # known today: eligible tomorrow
        assert i.state == cards.ITEM_OPENED and cards.holders([i.person_id]) == {i.person_id}


def test_return_file_errors_then_fixed_and_uploaded_again(union, as_role, city):
    batch = sent_batch(union, people=4)
    waiting = make_batch(union, people=1)  # 待报送: not sent to the bank yet
    stranger = factories.make_member(city.orgs["direct1"])
    its = items_of(batch)
    taken = make_card(union).card_no
    good = luhn_card()
    rows = [
        (its[0].id_number, good, "2026-11-20"),
        (its[1].id_number, good, "2026-11-20"),  # the same card number twice in the file
        (its[2].id_number, good[:-1] + str((int(good[-1]) + 1) % 10), "2026-11-20"),  # Luhn
        (its[3].id_number, taken, "明天"),  # used card number and a bad date
        (items_of(waiting)[0].id_number, luhn_card(), "2026-11-20"),
        (stranger.person.id_number, luhn_card(), "2026-11-20"),
    ]
    client = as_role("district")
    job = job_of(upload(client, xlsx(rows)))
    result = job.result_data
    assert result["imported"] == 0 and result["failed"] == 6  # both rows of the shared number refused
    reasons = {e["row"]: e["reason"] for e in result["errors"]}
    assert "卡号在文件中重复（第2、3行）" in reasons[2] and "卡号在文件中重复（第2、3行）" in reasons[3]
    assert "Luhn" in reasons[4]
    assert "该卡号已被其他会员使用" in reasons[5] and "开卡日期格式应为 年-月-日" in reasons[5]
    assert "尚未报送银行" in reasons[6]
    assert "不在任何已报送银行的办卡批次中" in reasons[7]
    assert all(stranger.person.id_number not in e["id_number"] for e in result["errors"])  # masked
    page = client.get(f"/cards/returns/{job.id}")
    assert "导入信息有以下错误，请重新修改后导入" in text(page)
    assert CardBatch.get_by_id(batch.id).status == cards.SENT  # everyone still waits
    assert Card.select().where(Card.batch == batch.id).count() == 0
    assert CardBatch.get_by_id(waiting.id).status == cards.TO_SEND
    # the error file: fix the rows of this batch, drop the two that are not ours to fix
    errors = client.get(f"/jobs/{job.id}/errors")
    sheet = load_workbook(io.BytesIO(errors.data)).active
    fixed = [list(r) for r in sheet.values]
    assert fixed[0] == card_return.RETURN_COLUMNS + ["错误行号", "错误原因"]
    assert [r[-2] for r in fixed[1:]] == [e["row"] for e in result["errors"]]  # the rows of the upload
    body = [r for r in fixed[1:] if r[0] in {i.id_number for i in its}]
    for r in body:
        r[1], r[2] = luhn_card(), "2026-11-21"
    again = job_of(upload(client, xlsx([r[:3] for r in body], header=fixed[0][:3])))
    assert again.result_data["imported"] == 4 and again.result_data["failed"] == 0
    assert CardBatch.get_by_id(batch.id).status == cards.OPENED


def test_the_same_return_file_twice_changes_nothing_the_second_time(union, as_role):
    batch = sent_batch(union, people=2)
    data = xlsx([(i.id_number, luhn_card(), "2026-11-20") for i in items_of(batch)])
    client = as_role("centre")
    job_of(upload(client, data))
    second = job_of(upload(client, data))
    assert second.result_data["imported"] == 0 and second.result_data["already"] == 2
    assert second.result_data["failed"] == 0
    assert Card.select().count() == 2


def test_each_batch_shows_the_card_its_own_return_made(union, as_role):
    """An item's card is its person's card from its batch: a person opened in a first batch, the card
    注销, then opened again in a second batch — each batch lists its own card, the rest '-'."""
    first = sent_batch(union, people=2)
    item, other = items_of(first)
    client = as_role("centre")
    old_no, new_no = luhn_card(), luhn_card()
    job_of(upload(client, xlsx([(item.id_number, old_no, "2026-11-20")])))
    old = Card.get(Card.card_no == old_no)
    cards.set_card_status(old, cards.CARD_CANCELLED, None, "挂失后注销")
    second = make_batch(union, status=cards.SENT, people=1)
    CardBatchItem.create(batch=second, person=item.person_id, membership=item.membership_id, name=item.name,
                         id_type=item.id_type, id_number=item.id_number, gender=item.gender, mobile=item.mobile,
                         work_unit=item.work_unit, state=cards.ITEM_WAITING)
    assert job_of(upload(client, xlsx([(item.id_number, new_no, "2026-11-25")]))).result_data["imported"] == 1
    first_page = text(client.get(f"/cards/batches/{first.id}"))
    second_page = text(client.get(f"/cards/batches/{second.id}"))
    assert mask(old_no) in first_page and "2026-11-20" in first_page and mask(new_no) not in first_page
    assert mask(new_no) in second_page and "2026-11-25" in second_page and mask(old_no) not in second_page
    assert first_page.count("已开卡") >= 1 and "待开卡" in first_page  # `other` waits: no card, '-'
    assert not Card.select().where(Card.person == other.person_id).exists()


def test_opening_an_item_writes_into_few_indexes():
    """开卡回盘导入 changes an item's `state` only (never HOT on PostgreSQL: `state` is the predicate of
    the partial indexes): the indexes that take the opened row are these five (migration 039)."""
    from models import db
    taking = {i.name for i in db.get_indexes("card_batch_item") if "WHERE" not in (i.sql or "").upper()}
    assert taking - {"card_batch_item_pkey"} == {"cardbatchitem_batch_id_person_id", "cardbatchitem_person_id",
                                                 "cardbatchitem_membership_id", "cardbatchitem_id_number"}
    assert "card_id" not in {c.name for c in db.get_columns("card_batch_item")}
    assert "card_org_id" not in {i.name for i in db.get_indexes("card")}  # nothing reads cards by it


def test_a_district_imports_only_its_own_batches(city, as_role):
    batch = sent_batch(city.orgs["grassroots2"], people=1)  # district 2
    job = job_of(upload(as_role("district"), xlsx([(items_of(batch)[0].id_number, luhn_card(), "2026-11-20")])))
    assert job.result_data["imported"] == 0
    assert Card.select().count() == 0


def test_return_file_of_thousands_of_rows(union, as_role):
    batch = sent_batch(union, people=2000)
    data = csv_gbk([(i.id_number, luhn_card(), "2026-11-20") for i in items_of(batch)])
    job = job_of(upload(as_role("centre"), data, "回盘.csv"))
    assert job.result_data["imported"] == 2000
    assert CardBatch.get_by_id(batch.id).status == cards.OPENED


@pytest.mark.parametrize("data,message", [
    (b"", "上传的文件是空的"),
    (b"PK\x03\x04 not really a zip", "文件已损坏"),
    ("姓名,卡号\n张三,1\n".encode(), "文件缺少必需的列：证件号码、开卡日期"),
])
def test_bad_return_files_are_refused_at_upload(as_role, data, message):
    response = upload(as_role("district"), data)
    assert response.status_code == 422 and message in text(response)


def test_only_the_centre_and_districts_import_return_files(as_role):
    assert as_role("grassroots").get("/cards/returns").status_code == 403
    assert as_role("secondary").post("/cards/returns").status_code == 403


# --- 撤销办卡批次 -----------------------------------------------------------------------------------
def test_revoke_request_approved_returns_people_to_the_pending_list(city, union, as_role):
    batch = make_batch(union, people=2)
    grassroots = as_role("grassroots")
    refused = grassroots.post(f"/cards/batches/{batch.id}/revoke", data={"reason": " "})
    assert refused.status_code == 422 and "请填写撤销原因" in text(refused)
    assert grassroots.post(f"/cards/batches/{batch.id}/revoke", data={"reason": "名单有误"}).status_code == 302
    req = CardRevokeRequest.get()
    assert Message.select().where(Message.org == city.orgs["district1"].id).count() == 1
    # export waits for the decision
    assert as_role("district").post(f"/cards/batches/{batch.id}/export").status_code == 409
    listing = as_role("district").get("/cards/revokes")
    assert batch.number in text(listing)
    assert as_role("district").post(f"/cards/revokes/{req.id}/approve").status_code == 302
    assert CardRevokeRequest.get_by_id(req.id).status == card_batches.APPROVED
    assert CardBatch.get_by_id(batch.id).status == cards.REVOKED
    assert {i.state for i in items_of(batch)} == {cards.ITEM_REVOKED}
    assert CardPending.select().where(CardPending.org == union.id).count() == 2
    note = Message.select().where(Message.org == union.id).order_by(Message.id.desc()).get()
    assert "已通过" in note.title


def test_revoke_rejected_needs_a_reason_and_keeps_the_batch(union, as_role):
    req = make_revoke(union)
    district = as_role("district")
    refused = district.post(f"/cards/revokes/{req.id}/reject", data={"note": ""})
    assert refused.status_code == 422 and "须填写原因" in text(refused)
    assert CardRevokeRequest.get_by_id(req.id).status == card_batches.PENDING_REVOKE
    assert district.post(f"/cards/revokes/{req.id}/reject", data={"note": "已与银行核对"}).status_code == 302
    assert CardRevokeRequest.get_by_id(req.id).status == card_batches.REJECTED
    assert CardBatch.get_by_id(req.batch_id).status == cards.TO_SEND
    msg = Message.select().where(Message.org == union.id).order_by(Message.id.desc()).get()
    assert "已与银行核对" in msg.title


def test_no_revoke_after_the_batch_was_sent(union, as_role):
    batch = sent_batch(union)
    response = as_role("grassroots").post(f"/cards/batches/{batch.id}/revoke", data={"reason": "x"})
    assert response.status_code == 409 and "只有待报送的批次可以申请撤销" in text(response)
    assert CardRevokeRequest.select().count() == 0


def test_one_waiting_revoke_request_per_batch(union):
    req = make_revoke(union)
    account = factories.make_account(union)
    with pytest.raises(DomainError, match="已有待审核的撤销申请"):
        card_batches.request_revoke(req.batch, account, "再次申请")


def test_only_the_district_above_decides(city, as_role):
    req = make_revoke(city.orgs["grassroots1"])
    assert as_role("district", 1).post(f"/cards/revokes/{req.id}/approve").status_code == 404  # other district
    assert as_role("secondary").post(f"/cards/revokes/{req.id}/approve").status_code == 403
    assert CardRevokeRequest.get_by_id(req.id).status == card_batches.PENDING_REVOKE


# --- workflows over every (state, action) pair ---------------------------------------------------------
def test_card_batch_workflow_every_pair(city, union):
    allowed, forbidden = check_every_pair(CardBatch, lambda state: make_batch(union, status=state, people=1),
                                          account=city.account("district"))
    assert (allowed, forbidden) == (3, 4 * 3 - 3)


def test_revoke_workflow_every_pair(city, union):
    allowed, forbidden = check_every_pair(CardRevokeRequest, lambda state: make_revoke(union, status=state),
                                          account=city.account("district"), reason="材料不全")
    assert (allowed, forbidden) == (2, 3 * 2 - 2)


def test_the_view_refuses_a_decided_request(union, as_role):
    req = make_revoke(union, status=card_batches.REJECTED)
    response = as_role("district").post(f"/cards/revokes/{req.id}/approve")
    assert response.status_code == 409 and "当前状态为「已驳回」，不能执行「撤销办卡批次审核通过」" in text(response)


# --- races (committed data, threads) ---------------------------------------------------------------------
def test_two_exports_at_once_one_transition(committed):
    city = factories.make_city()
    batch = make_batch(city.orgs["grassroots1"], people=1)
    outcomes = race_transition(CardBatch, batch.id, "export")
    assert sorted(outcomes) == ["ok", "该记录的状态已被他人修改，请刷新页面后重试"], outcomes


def test_double_submit_creates_one_batch(committed):
    from models import db
    city = factories.make_city()
    org = city.orgs["grassroots1"]
    for _ in range(3):
        make_pending(org)
    account = city.account("grassroots")
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        db.connect(reuse_if_open=True)
        try:
            barrier.wait()
            card_batches.submit_batch(org, account)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.message)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted(["ok", card_batches.SUBMITTED_BY_OTHER]) or \
        sorted(outcomes) == sorted(["ok", "待办会员列表中没有会员，请先加入待办会员"]), outcomes
    assert CardBatch.select().count() == 1 and CardBatchItem.select().count() == 3
    assert AuditLog.select().where(AuditLog.action == "提交办卡").count() == 1


def test_two_unions_queue_the_same_person_one_wins(committed):
    """A person is queued for a card at most once city-wide (unique index), under a race."""
    from models import db
    city = factories.make_city()
    row = make_pending(city.orgs["grassroots1"])
    results = []
    barrier = threading.Barrier(2)

    def run():
        db.connect(reuse_if_open=True)
        try:
            barrier.wait()
            with db.atomic():
                CardPending.create(org=row.org_id, membership=row.membership_id, person=row.person_id)
            results.append("ok")
        except Exception as exc:  # noqa: BLE001
            results.append(type(exc).__name__)
        finally:
            db.close()

    CardPending.delete().execute()
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["IntegrityError", "ok"], results
    assert CardPending.select().count() == 1


# --- the return file as a background job -------------------------------------------------------------
@pytest.fixture
def queued_mode():
    from models.jobs import init_queue
    from tests.conftest import DB_URL
    huey = init_queue(DB_URL, "memory")
    yield huey
    init_queue(DB_URL, "immediate")


def test_upload_returns_at_once_and_the_page_shows_progress(union, as_role, queued_mode):
    from models.jobs import QUEUED, run_job
    batch = sent_batch(union, people=2)
    client = as_role("district")
    job = job_of(upload(client, xlsx([(i.id_number, luhn_card(), "2026-11-20") for i in items_of(batch)])))
    assert job.status == QUEUED and len(queued_mode.pending()) == 1
    assert Card.select().count() == 0  # nothing done inside the request
    page = client.get(f"/cards/returns/{job.id}")
    assert 'http-equiv="refresh"' in page.get_data(as_text=True)  # without JavaScript: reloads
    fragment = client.get(f"/cards/returns/{job.id}", headers=HX)
    assert fragment.status_code == 200 and "hx-trigger" in fragment.get_data(as_text=True)
    run_job(job.id)
    done = client.get(f"/cards/returns/{job.id}", headers=HX)
    assert done.status_code == 286  # finished: htmx stops polling
    assert Card.select().count() == 2


def test_a_return_job_killed_midway_runs_again_once(union, as_role, queued_mode):
    """The job applies everything in one transaction: a worker killed before the commit left
    nothing, the restart sweep queues it again and the second run applies each card once."""
    from models.jobs import QUEUED, RUNNING, Job, run_job, sweep_interrupted
    batch = sent_batch(union, people=3)
    job = job_of(upload(as_role("centre"), xlsx([(i.id_number, luhn_card(), "2026-11-20") for i in items_of(batch)])))
    Job.update(status=RUNNING).where(Job.id == job.id).execute()  # the worker died inside the job
    assert Card.select().count() == 0
    assert job.id in sweep_interrupted()
    assert Job.get_by_id(job.id).status == QUEUED
    run_job(job.id)
    run_job(job.id)  # a duplicate enqueue does nothing
    assert Card.select().count() == 3 and Job.get_by_id(job.id).status == "已完成"
    assert CardBatch.get_by_id(batch.id).status == cards.OPENED


def test_admin_corrects_a_card_status(union, as_role):
    card = make_card(union)
    admin = as_role("admin")
    assert card.card_no in admin.get(f"/admin/card-status?card_no={card.card_no}").get_data(as_text=True)
    looked_up = admin.post("/admin/card-status", data={"card_no": card.card_no})  # lookup: no number in the URL
    assert looked_up.status_code == 200 and card.person.name in text(looked_up)
    refused = admin.post("/admin/card-status", data={"card_no": card.card_no, "status": "挂失", "reason": "",
                                                     "change": "1"})
    assert refused.status_code == 422 and "请填写更正原因" in text(refused)
    done = admin.post("/admin/card-status", data={"card_no": card.card_no, "status": "注销",
                                                  "reason": "持卡人申请注销", "change": "1"})
    assert done.status_code == 302 and card.card_no not in done.headers["Location"]
    assert Card.get_by_id(card.id).status == "注销"
    assert not cards.holders([card.person_id])  # may apply for a new card
    log = AuditLog.select().where(AuditLog.action == "更正卡片状态").get()
    assert log.reason == "持卡人申请注销" and card.card_no not in (log.detail or "")
    assert as_role("district").get("/admin/card-status").status_code == 403


def test_numbers_excel_stored_as_numbers_are_refused(union, as_role):
    """A 19-digit 卡号 (or 18-digit 证件号码) typed into a number cell keeps only 15 digits; a wrong
    number may still pass Luhn, so such cells are refused, never guessed."""
    batch = sent_batch(union, people=2)
    its = items_of(batch)
    rows = [(its[0].id_number, int(luhn_card()), "2026-11-20"),
            (int(its[1].id_number[:17] + "0"), luhn_card(), "2026-11-20")]
    job = job_of(upload(as_role("district"), xlsx(rows)))
    reasons = [e["reason"] for e in job.result_data["errors"]]
    assert job.result_data["imported"] == 0
    assert reasons[0] == lost_digits_message("卡号") and reasons[1] == lost_digits_message("证件号码")
    assert Card.select().count() == 0


def test_people_the_bank_did_not_open_a_card_for_leave_the_batch(union, as_role):
    batch = sent_batch(union, people=3)
    its = items_of(batch)
    client = as_role("district")
    job_of(upload(client, xlsx([(its[0].id_number, luhn_card(), "2026-11-20")])))
    refused = client.post(f"/cards/batches/{batch.id}/unreturned", data={"item": [its[1].id], "reason": ""})
    assert refused.status_code == 422 and "请填写开卡失败的原因" in text(refused)
    assert client.post(f"/cards/batches/{batch.id}/unreturned",
                       data={"item": [its[0].id], "reason": "x"}).status_code == 409  # already opened
    done = client.post(f"/cards/batches/{batch.id}/unreturned", data={"item": [its[1].id, its[2].id],
                                                                     "reason": "银行核查身份信息不符"})
    assert done.status_code == 302
    assert CardBatch.get_by_id(batch.id).status == cards.OPENED  # nobody waits any more
    assert [i.state for i in items_of(batch)] == ["已开卡", "开卡失败", "开卡失败"]
    assert "开卡失败" in Message.select().where(Message.org == union.id).order_by(Message.id.desc()).get().title
    m = people.Membership.get(people.Membership.person == its[1].person_id)
    added, _ = card_pending.add_pending(union, factories.make_account(union), [m])  # free to apply again
    assert added == 1
    assert not any("办卡批次" in reason for reason in union.close_blockers())


def test_revoke_and_export_cannot_cross(union, as_role):
    batch = make_batch(union, people=1)
    stale = CardBatch.get_by_id(batch.id)  # the union's page still says 待报送
    as_role("centre").post(f"/cards/batches/{batch.id}/export")  # exported meanwhile
    with pytest.raises(DomainError, match="已报送银行，不能再申请撤销"):
        card_batches.request_revoke(stale, factories.make_account(union), "名单有误")
    assert CardRevokeRequest.select().count() == 0
