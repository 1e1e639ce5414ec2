"""The review chain (issue 8): the two panes with the manuals' header figures, secondary and district
levels, 退回, submitting to the centre (window, CB numbers, once), the district notice, the centre's
decisions, vouchers, the unpaid-batch sweep, reminders and the admin's restore."""

import io
import re
import threading
from datetime import date, datetime
from email import message_from_bytes
from pathlib import Path

import pytest
import time_machine

from models import db, messages
from models.audit import AuditLog
from models.base import DomainError
from models.enroll import enrollment, plans
from models.enroll.enrollment import Enrollment, Submission
from models.review import batch_notice, batches, vouchers
from models.review import enroll_review as review
from models.review.batches import DistrictBatch
from models.review.vouchers import PaymentVoucher
from models.rules.fees import yuan
from tests import factories
from tests.factories.enroll import people, ready_year
from tests.factories.review import (
    PNG,
    REVIEW_DAY,
    SUBMIT_DAY,
    accepted_batch,
    at,
    keys,
    make_batch,
    submit,
    submitted_batch,
)
from tests.helpers import post_file, soup
from tests.workflow_helpers import check_bulk_stale_refused, check_every_pair


def test_the_pending_submit_header_shows_the_seed_figures_1_plus_2(city, as_role):
    """Seed 002: 3 people (会员卡 1 + 社保卡 2) → 78 / 39 / 39 / 0, through the screen."""
    year = ready_year(city)
    submit(city, n=1)
    submit(city, n=2, channel=enrollment.SOCIAL_CHANNEL)
    with time_machine.travel(REVIEW_DAY, tick=False):
        client = as_role("district")
        page = client.get("/review/central").get_data(as_text=True)
        assert page.count('name="key"') == 2  # one row per union × channel
        assert "社保卡参保" in page and "会员卡参保" in page
        form_keys = keys(city.orgs["district1"], year)
        assert client.post("/review/central/add", data={"key": form_keys}).status_code == 302
        page = client.get("/review/central").get_data(as_text=True)
    assert ("合计参保人数：3人(会员卡参保人数1人，社保卡参保人数2人)。保障费用：78元；市总统一划拨：39元；"
            "区局/各级工会缴费：39元；基层单位缴费：0元。") in page
    assert page.count("区局(产业)") == 2


def test_36_people_header_and_district_notice(city, as_role, tmp_path):
    year = ready_year(city)
    submit(city, n=20)
    submit(city, "direct1", n=16)
    district = city.orgs["district1"]
    review.add_to_queue(district, year, review.CENTRAL_KIND, keys(district, year), None)
    assert review.totals(review.pane(district, year, review.CENTRAL_KIND, True)).header().startswith(
        "合计参保人数：36人(会员卡参保人数36人，社保卡参保人数0人)。保障费用：936元；市总统一划拨：468元；"
        "区局/各级工会缴费：468元；基层单位缴费：0元。")
    with time_machine.travel(SUBMIT_DAY, tick=False):
        batch = review.submit_to_centre(district, year, review.CENTRAL_KIND,
                                        {"name": "王经办", "mobile": "13800000000", "email": "w@example.com"}, None)
    text = batch_notice.district_text(batch)
    assert text[0] == "测试区1总工会："
    assert text[1] == ("你会集中参保2027年度会员专享基本保障计划，参加A类会员共计36人，参保资金总额为468元。"
                       "你会尚需于2027年1月20日之前将参保资金468元划入如下帐户，保障日期为2027年1月1日起至2027年12月31日止。"
                       "逾期未划款，则按照即时参保流程另行办理参保手续，保障日期自办理参保日的次日起至2027年12月31日止。")
    assert f"户名：{year.account_name}" in text and year.district_signature in text
    from pypdf import PdfReader
    pdf = PdfReader(io.BytesIO(batch_notice.district_notice(batch)))
    lines = ["".join(line.split()) for page in pdf.pages for line in page.extract_text().split("\n")]
    extracted = "".join(lines)
    assert "参加A类会员共计36人" in extracted and "468元" in extracted
    for day in re.findall(r"\d{4}年\d{1,2}月\d{1,2}日", text[1]):  # every date on one line
        assert any(day in line for line in lines), (day, lines)
    fonts = {str(f.get_object().get("/BaseFont")) for p in pdf.pages for f in p["/Resources"]["/Font"].values()}
    assert any("Micro" in f or "wqy" in f.lower() for f in fonts), fonts


def test_credit_is_deducted_once_and_the_rest_carries_over(city):
    year = ready_year(city)
    district = city.orgs["district1"]
    plans.Credit.create(org=district, year=year, amount=50000, note="2025年会员计划退回金额")  # 500 元
    handler = {"name": "王", "mobile": "13800000000", "email": "w@example.com"}
    submit(city, n=31)  # 403 元 district share
    assert review.credit_line(district, year) == "2025年会员计划退回金额500元，可用于抵扣2027年集中参保费用。"
    with time_machine.travel(SUBMIT_DAY, tick=False):
        review.add_to_queue(district, year, review.CENTRAL_KIND, keys(district, year), None)
        first = review.submit_to_centre(district, year, review.CENTRAL_KIND, handler, None)
        assert (first.credit_used, first.due) == (40300, 0)
        assert review.credit_line(district, year) == "2025年会员计划退回金额97元，可用于抵扣2027年集中参保费用。"
        submit(city, "direct1", n=36, on=date(2026, 12, 20))
        review.add_to_queue(district, year, review.CENTRAL_KIND, keys(district, year), None)
        second = review.submit_to_centre(district, year, review.CENTRAL_KIND, handler, None)
    assert (second.credit_used, second.due) == (9700, 46800 - 9700)
    assert review.credit_line(district, year) == ""
    text = batch_notice.district_text(second)[1]
    assert "鉴于2025年会员计划退回金额97元指定用于抵扣2027年度会员保障集中参保款项" in text
    assert "剩余参保资金371元" in text


def test_secondary_adds_with_its_mark_the_district_sees_it_and_only_the_district_submits(city, as_role):
    year = ready_year(city)
    submit(city, "grassroots1", n=2)  # under the street union
    submit(city, "direct1", n=1)  # directly under the district
    street, district = city.orgs["secondary1"], city.orgs["district1"]
    assert len(keys(street, year)) == 1  # the secondary union sees its subtree only
    with time_machine.travel(SUBMIT_DAY, tick=False):
        client = as_role("secondary")
        assert client.post("/review/central/add", data={"key": keys(street, year)}).status_code == 302
        assert "二级工会" in client.get("/review/central").get_data(as_text=True)
        assert client.get("/review/central/submit").status_code == 403
        page = as_role("district").get("/review/central").get_data(as_text=True)
    assert "二级工会" in page and "提交列表中的参保信息" in page
    assert len(keys(district, year, queued=True)) == 1 and len(keys(district, year)) == 1
    review.add_to_queue(district, year, review.CENTRAL_KIND, keys(district, year), None)
    marks = {g.mark for g in review.groups(review.pane(district, year, review.CENTRAL_KIND, True))[0]}
    assert marks == {"二级工会", "区局(产业)"}
    assert len(keys(street, year, queued=True)) == 1  # the secondary union sees what it added only
    with pytest.raises(DomainError):  # and cannot remove what the district added
        review.remove_from_queue(street, year, review.CENTRAL_KIND,
                                 [k for k in keys(district, year, queued=True) if k.startswith(
                                     str(city.orgs["direct1"].id) + "-")], None)
    review.remove_from_queue(district, year, review.CENTRAL_KIND, keys(district, year, queued=True), None)
    assert len(keys(district, year)) == 2 and not keys(district, year, queued=True)


def test_another_districts_rows_are_refused(city):
    year = ready_year(city)
    submit(city, "grassroots2", n=2)
    other = keys(city.orgs["district2"], year)
    assert not keys(city.orgs["district1"], year)
    with pytest.raises(DomainError, match="不在本单位审核范围内"):
        review.add_to_queue(city.orgs["district1"], year, review.CENTRAL_KIND, other, None)
    with pytest.raises(DomainError, match="无效"):
        review.add_to_queue(city.orgs["district1"], year, review.CENTRAL_KIND, ["1-x-0"], None)
    assert Submission.get().queued_level is None


def test_return_needs_a_reason_and_releases_the_people(city, as_role):
    year = ready_year(city)
    sub = submit(city, n=3)
    k = keys(city.orgs["district1"], year)
    with time_machine.travel(REVIEW_DAY, tick=False):
        client = as_role("district")
        page = client.get("/review/central/return", query_string={"key": k})
        assert page.status_code == 200 and "确定退回" in page.get_data(as_text=True)
        refused = client.post("/review/central/return", data={"key": k, "reason": "  "})
        assert refused.status_code == 422 and "请填写原因" in refused.get_data(as_text=True)
        assert Submission.get_by_id(sub.id).status == enrollment.REVIEWING
        assert client.post("/review/central/return", data={"key": k, "reason": "名单有误"}).status_code == 302
    sub = Submission.get_by_id(sub.id)
    assert (sub.status, sub.reason) == ("退回", "名单有误")
    assert not Enrollment.select().where(Enrollment.submission == sub.id, Enrollment.active).exists()
    note = messages.Message.get(messages.Message.org == city.orgs["grassroots1"].id)
    assert "退回" in note.title and "名单有误" in note.body


def test_submit_only_in_the_window_once_with_a_cb_number(city, as_role):
    year = ready_year(city)
    submit(city, n=2)
    district = city.orgs["district1"]
    review.add_to_queue(district, year, review.CENTRAL_KIND, keys(district, year), None)
    handler = {"name": "王经办", "mobile": "13800000000", "email": "w@example.com"}
    with time_machine.travel(REVIEW_DAY, tick=False):
        client = as_role("district")
        page = client.get("/review/central").get_data(as_text=True)
        assert "disabled" in page and "尚未开始（开放时间：2026-12-26 00:00 至 2026-12-31 23:59）" in page
        refused = client.post("/review/central/submit", data=handler)
        assert refused.status_code == 409 and "尚未开始" in refused.get_data(as_text=True)
    assert not DistrictBatch.select().exists()
    with time_machine.travel(SUBMIT_DAY, tick=False):
        client = as_role("district")
        bad = client.post("/review/central/submit", data={**handler, "mobile": "123", "email": "x"})
        assert bad.status_code == 422
        body = bad.get_data(as_text=True)
        assert "手机号应为11位手机号码" in body and "电子邮箱格式不正确" in body
        done = client.post("/review/central/submit", data=handler)
        assert done.status_code == 302
        again = client.post("/review/central/submit", data=handler)  # resent POST
        assert again.status_code == 409
    batch = DistrictBatch.get()
    assert batch.number == "CB202612270001" and batch.status == "参保审核中"
    assert DistrictBatch.select().count() == 1
    sub = Submission.get()
    assert (sub.status, sub.district_batch, sub.batch_id) == ("已完成", batch.number, batch.id)
    with time_machine.travel(SUBMIT_DAY, tick=False):
        listing = as_role("grassroots").get("/enroll/card").get_data(as_text=True)
    assert batch.number in listing  # the grassroots list shows the CB number
    with pytest.raises(DomainError):  # immutable afterwards: nothing left to remove
        review.remove_from_queue(district, year, review.CENTRAL_KIND, [sub_key(sub)], None)


def sub_key(sub):
    return review.group_key(sub.org_id, sub.channel, sub.mode, sub.type_id, sub.id)


def test_instant_batches_any_time(city):
    year = ready_year(city)
    org = city.orgs["grassroots1"]
    enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.HAS_CARD_NO_COVER, plans.types_of(year)[0],
                      people(org, 2), None, on=date(2027, 3, 1))
    district = city.orgs["district1"]
    review.add_to_queue(district, year, review.INSTANT_KIND, keys(district, year, kind=review.INSTANT_KIND), None)
    with time_machine.travel(at(2027, 3, 2, 9), tick=False):
        batch = review.submit_to_centre(district, year, review.INSTANT_KIND,
                                        {"name": "王", "mobile": "13800000000", "email": "w@example.com"}, None)
    assert batch.kind == "即时参保" and batch.count == 2 and batch.number == "CB202703020001"


def test_cb_numbers_are_unique_under_concurrency(committed):
    from models.review.batches import next_batch_number
    results, errors = [], []

    def take():
        try:
            with db.connection_context():
                results.append(next_batch_number(datetime(2026, 12, 28, 9)))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(results) == [f"CB20261228{n:04d}" for n in range(1, 7)]


def test_a_district_batch_number_is_a_database_constraint(city):
    import peewee as pw
    make_batch(city.orgs["grassroots1"], number="CB202612260009")
    with pytest.raises(pw.IntegrityError), db.atomic():
        make_batch(city.orgs["grassroots1"], number="CB202612260009")


def test_district_batch_workflow_every_pair(city):
    def make(state):
        return make_batch(city.orgs["grassroots1"], status=state)
    allowed, forbidden = check_every_pair(DistrictBatch, make, account=city.account("centre"))
    states = len(DistrictBatch.WORKFLOW.states)
    actions = len(DistrictBatch.WORKFLOW.action_names)
    assert allowed == len(DistrictBatch.WORKFLOW.transitions) == 6
    assert forbidden == states * actions - allowed


def test_district_batch_workflow_every_pair_in_bulk(city):
    """A voucher's batches move together (上传, 核销, 驳回): the bulk form over every pair."""
    def make(state):
        return make_batch(city.orgs["grassroots1"], status=state)
    allowed, forbidden = check_every_pair(DistrictBatch, make, account=city.account("centre"), bulk=True)
    assert (allowed, forbidden) == (6, 6 * 6 - 6)


def test_submission_workflow_every_pair_in_bulk(city):
    """A district's 待提交 list moves at once (提交至职保中心; the centre's 退回; 逾期未缴费)."""
    year = ready_year(city)
    a = plans.types_of(year)[0]

    def make(state):
        return Submission.create(org=city.orgs["grassroots1"], year=year, channel=enrollment.CARD_CHANNEL,
                                 mode=enrollment.CENTRAL, type=a, status=state)
    allowed, forbidden = check_every_pair(Submission, make, account=city.account("district"), reason="名单有误",
                                          bulk=True)
    assert (allowed, forbidden) == (6, 5 * 6 - 6)


def test_a_stale_pending_submit_list_moves_nothing(city):
    """One row of the list submitted meanwhile (another tab): the bulk move is refused as a whole."""
    year = ready_year(city)
    a = plans.types_of(year)[0]
    subs = [Submission.create(org=city.orgs["grassroots1"], year=year, channel=enrollment.CARD_CHANNEL,
                              mode=enrollment.CENTRAL, type=a) for _ in range(3)]
    check_bulk_stale_refused(subs, "complete", moved_by_other_to=enrollment.DONE)


def test_voucher_workflow_every_pair(city):
    from tests.factories.review import make_voucher

    def make(state):
        v = make_voucher(city.orgs["grassroots1"])
        PaymentVoucher.update(status=state).where(PaymentVoucher.id == v.id).execute()
        return PaymentVoucher.get_by_id(v.id)
    allowed, forbidden = check_every_pair(PaymentVoucher, make, account=city.account("centre"))
    assert (allowed, forbidden) == (2, 3 * 2 - 2)


def test_centre_accepts_and_the_payment_detail_is_mailed(city, as_role, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path))
    batch = submitted_batch(city)
    detail = soup(as_role("centre").get(f"/batches/{batch.id}"))
    row = detail.select_one("table tbody tr")
    # the union's 保障费用 / 市总统一划拨 / 区局/各级工会缴费 / 基层单位缴费 carry their unit
    assert [td.get_text(strip=True) for td in row.find_all("td")][5:9] == ["78元", "39元", "39元", "0元"]
    with time_machine.travel(at(2026, 12, 28, 9), tick=False):
        assert as_role("district").post(f"/batches/{batch.id}/accept").status_code == 403
        centre = as_role("centre")
        # Money at stake: 确认 asks first (issue 16 item 17a); asking changes nothing.
        asked = centre.post(f"/batches/{batch.id}/accept")
        assert asked.status_code == 200 and 'name="confirmed" value="1"' in asked.get_data(as_text=True)
        assert f"应缴{yuan(batch.due)}元" in asked.get_data(as_text=True)
        assert DistrictBatch.get_by_id(batch.id).status == "参保审核中"
        assert centre.post(f"/batches/{batch.id}/accept", data={"confirmed": "1"}).status_code == 302
        again = centre.post(f"/batches/{batch.id}/accept")  # the page resent: refused, says why
        assert again.status_code == 409 and "当前状态为「缴费凭证待上传」" in again.get_data(as_text=True)
    batch = DistrictBatch.get_by_id(batch.id)
    assert batch.status == "缴费凭证待上传" and batch.feedback_at == datetime(2026, 12, 28, 9)
    [eml] = list(Path(tmp_path).glob("*.eml"))
    mail = message_from_bytes(eml.read_bytes())
    assert mail["To"] == "w@example.com" and batch.number in str(mail["Subject"])
    attachments = [p for p in mail.walk() if p.get_filename()]
    assert attachments and attachments[0].get_filename().endswith(".xlsx")
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(attachments[0].get_payload(decode=True))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "测试区1街道甲公司工会委员会" and rows[1][5] == 3
    assert rows[-1][0] == "应缴金额" and rows[-1][8] == 39


def test_centre_rejects_and_the_rows_return_to_the_pending_submit_list(city, as_role):
    batch = submitted_batch(city)
    year = batch.year
    with time_machine.travel(at(2026, 12, 28, 9), tick=False):
        client = as_role("centre")
        assert client.post(f"/batches/{batch.id}/reject", data={"reason": ""}).status_code == 422
        assert DistrictBatch.get_by_id(batch.id).status == "参保审核中"
        assert client.post(f"/batches/{batch.id}/reject", data={"reason": "人数不符"}).status_code == 302
    assert DistrictBatch.get_by_id(batch.id).status == "已退回"
    sub = Submission.get()
    assert (sub.status, sub.batch_id, sub.district_batch) == ("区局确认中", None, None)
    assert len(keys(city.orgs["district1"], year, queued=True)) == 1  # back in 待提交
    assert Enrollment.select().where(Enrollment.active).count() == 3  # still enrolled
    assert messages.Message.select().where(messages.Message.org == city.orgs["district1"].id,
                                           messages.Message.title.contains("被职保中心退回")).exists()


def test_the_centres_reject_and_fail_move_the_submissions_through_the_workflow(city):
    """退回 and 参保失败 move the batch's submissions by the Submission table (职保中心退回区局批次,
    逾期未缴费: from 已完成 only, one audit row each); one that is no longer 已完成 refuses the
    whole decision and nothing changes."""
    batch = submitted_batch(city)
    sub = Submission.get(Submission.batch == batch.id)
    Submission.update(status=enrollment.RETURNED).where(Submission.id == sub.id).execute()  # corrupted meanwhile
    with pytest.raises(DomainError, match="当前状态为「退回」，不能执行「职保中心退回区局批次」"):
        batches.reject(batch, city.account("centre"), "人数不符")
    assert DistrictBatch.get_by_id(batch.id).status == batches.CHECKING
    assert Submission.get_by_id(sub.id).batch_id == batch.id
    Submission.update(status=enrollment.DONE).where(Submission.id == sub.id).execute()
    batches.reject(batch, city.account("centre"), "人数不符")
    row = AuditLog.select().where((AuditLog.object_type == "Submission") & (AuditLog.object_id == sub.id)
                                  ).order_by(AuditLog.id.desc()).get()
    assert (row.action, row.from_state, row.to_state, row.detail_data) == (
        "职保中心退回区局批次", enrollment.DONE, enrollment.REVIEWING, {"批次编号": batch.number})
    failed = accepted_batch(city)  # the returned row and a new one, submitted again
    batches.fail(failed, city.account("centre"), "逾期未缴费")
    subs = list(Submission.select().where(Submission.batch == failed.id))
    assert len(subs) == 2 and {s.status for s in subs} == {enrollment.FAILED}
    for s in subs:
        last = AuditLog.select().where((AuditLog.object_type == "Submission") & (AuditLog.object_id == s.id)
                                       ).order_by(AuditLog.id.desc()).get()
        assert (last.action, last.from_state, last.to_state) == ("逾期未缴费", enrollment.DONE, enrollment.FAILED)


def upload(client, batch_ids, data=PNG, name="voucher.png", file_name="12月缴费凭证"):
    return post_file(client, "/batches/vouchers/new", data, name, field="voucher",
                     batch=[str(b) for b in batch_ids], file_name=file_name, save="1")


@pytest.mark.parametrize("data,reason", [
    (b"MZ\x90\x00 not an image", "只能是图片"),
    (b"%PDF-1.4 broken", "PDF文件已损坏"),
    (PNG[:30], "只能是图片"),
    (b"", "请选择缴费凭证文件"),
])
def test_bad_vouchers_are_refused_and_nothing_changes(city, as_role, data, reason):
    batch = accepted_batch(city)
    with time_machine.travel(at(2026, 12, 29, 9), tick=False):
        response = upload(as_role("district"), [batch.id], data=data)
    assert response.status_code == 422 and reason in response.get_data(as_text=True)
    assert not PaymentVoucher.select().exists()
    assert DistrictBatch.get_by_id(batch.id).status == "缴费凭证待上传"


def test_an_oversized_voucher_is_refused(city):
    with pytest.raises(DomainError, match="不能超过10MB"):
        vouchers.check_voucher_file(b"\x89PNG" + b"0" * vouchers.MAX_VOUCHER_BYTES, "big.png")


def test_voucher_upload_review_and_write_off(city, as_role):
    batch = accepted_batch(city)
    with time_machine.travel(at(2026, 12, 29, 9), tick=False):
        client = as_role("district")
        page = client.get("/batches/vouchers/new", query_string={"batch": batch.id}).get_data(as_text=True)
        assert "区局/各级工会缴费：39元； 基层单位缴费：0元；" in page
        assert upload(client, [batch.id]).status_code == 302
        again = upload(client, [batch.id])  # already covered by a voucher
        assert again.status_code == 409 and "已有缴费凭证" in again.get_data(as_text=True)
    voucher = PaymentVoucher.get()
    assert voucher.content_type == "image/png" and voucher.due == 3900
    batch = DistrictBatch.get_by_id(batch.id)
    assert batch.status == "凭证审核中" and batch.voucher_at == datetime(2026, 12, 29, 9)
    from models.storage import stored_file
    assert stored_file("vouchers", voucher.stored_name).read_bytes().startswith(b"\x89PNG")
    file = as_role("centre").get(f"/batches/vouchers/{voucher.id}/file")
    assert file.status_code == 200 and file.headers["Content-Type"] == "image/png"
    assert as_role("district", 1).get(f"/batches/vouchers/{voucher.id}/file").status_code == 404
    with time_machine.travel(at(2027, 1, 5, 9), tick=False):
        client = as_role("centre")
        assert client.post(f"/batches/vouchers/{voucher.id}/reject", data={"reason": "金额不符"}).status_code == 302
    assert DistrictBatch.get_by_id(batch.id).status == "缴费凭证待上传"
    assert PaymentVoucher.get_by_id(voucher.id).status == "已驳回"
    with time_machine.travel(at(2027, 1, 6, 9), tick=False):
        assert upload(as_role("district"), [batch.id], file_name="重新上传").status_code == 302
        second = PaymentVoucher.get(PaymentVoucher.file_name == "重新上传")
        centre = as_role("centre")
        asked = centre.post(f"/batches/vouchers/{second.id}/confirm")  # 确认核销 asks first
        assert asked.status_code == 200 and batch.number in asked.get_data(as_text=True)
        assert "确定核销" in asked.get_data(as_text=True) and PaymentVoucher.get_by_id(second.id).status == "凭证审核中"
        assert centre.post(f"/batches/vouchers/{second.id}/confirm", data={"confirmed": "1"}).status_code == 302
    batch = DistrictBatch.get_by_id(batch.id)
    assert batch.status == "已完成" and batch.writeoff_at == datetime(2027, 1, 6, 9)


def test_one_voucher_covers_several_batches_but_not_another_districts(city, as_role):
    first = accepted_batch(city, n=2)
    second = accepted_batch(city, org_key="direct1", n=3)
    foreign = accepted_batch(city, org_key="grassroots2", district_key="district2", n=1)
    with time_machine.travel(at(2026, 12, 29, 9), tick=False):
        client = as_role("district")
        forged = upload(client, [first.id, foreign.id])
        assert forged.status_code == 409 and not PaymentVoucher.select().exists()
        assert client.get(f"/batches/{foreign.id}").status_code == 404
        assert upload(client, [first.id, second.id]).status_code == 302
    voucher = PaymentVoucher.get()
    assert voucher.district_amount == first.district_part + second.district_part
    covered = DistrictBatch.select().where(DistrictBatch.id.in_([first.id, second.id]))
    assert {b.status for b in covered} == {"凭证审核中"}
    assert DistrictBatch.get_by_id(foreign.id).status == "缴费凭证待上传"


def test_a_batch_under_two_live_vouchers_is_a_database_constraint(city):
    import peewee as pw

    from models.review.vouchers import VoucherItem
    from tests.factories.review import make_voucher
    voucher = make_voucher(city.orgs["grassroots1"])
    batch = VoucherItem.get(VoucherItem.voucher == voucher.id).batch
    with pytest.raises(pw.IntegrityError), db.atomic():
        VoucherItem.create(voucher=make_voucher(city.orgs["grassroots1"]), batch=batch)


def test_unpaid_centralized_batches_fail_after_the_deadline_and_release_their_people(city):
    batch = accepted_batch(city, n=2)
    assert batches.fail_unpaid(datetime(2027, 1, 20, 23, 0)) == []  # deadline not passed
    assert batches.fail_unpaid(datetime(2027, 1, 21, 0, 1)) == [batch.number]
    assert batches.fail_unpaid(datetime(2027, 1, 22, 0, 1)) == []  # idempotent
    assert DistrictBatch.get_by_id(batch.id).status == "失败"
    assert {s.status for s in Submission.select()} == {"失败"}
    assert not Enrollment.select().where(Enrollment.active).exists()  # eligible for instant enrollment
    person = Enrollment.get().person
    assert enrollment.holder_of(batch.year, [person.id]) == {}


def test_a_deadline_extension_keeps_a_batch_alive(city):
    batch = accepted_batch(city, n=1)
    window = plans.Window.get((plans.Window.year == batch.year_id) & (plans.Window.kind == "payment"))
    plans.extend_window(window, city.orgs["district1"], datetime(2027, 1, 31, 23, 59), city.account("admin"),
                        "银行系统故障")
    assert batches.fail_unpaid(datetime(2027, 1, 25)) == []
    assert batches.fail_unpaid(datetime(2027, 2, 1)) == [batch.number]


def test_deadline_reminders_are_posted_once(city):
    year = ready_year(city)
    submit(city, n=1)
    at = datetime(2026, 12, 30, 9)
    assert batches.remind_deadlines(at) == 1
    assert batches.remind_deadlines(at) == 0
    note = messages.Message.get(messages.Message.kind == "截止提醒")
    assert note.org_id == city.orgs["district1"].id and "2026-12-31 23:59" in note.title
    assert batches.remind_deadlines(datetime(2026, 12, 20, 9)) == 0 and year


def test_the_batches_register_their_sweeps_in_the_hourly_deadline_sweep(city):
    """models/jobs.py knows no area: batches.py registers 逾期未缴费 and 截止提醒 (@jobs.hourly)."""
    from models import jobs
    assert jobs.HOURLY["failed"] is batches.fail_unpaid and jobs.HOURLY["reminded"] is batches.remind_deadlines
    assert list(jobs.deadline_sweep()) == ["failed", "reminded", "purged", "kept_purged"]


def test_admin_restores_a_wrongly_returned_submission(city, as_role):
    year = ready_year(city)
    sub = submit(city, n=2)
    review.return_groups(city.orgs["district1"], year, review.CENTRAL_KIND, keys(city.orgs["district1"], year),
                         "误退", None)
    with pytest.raises(DomainError, match="请填写原因"):
        review.restore_returned(Submission.get_by_id(sub.id), city.account("admin"), "")
    review.restore_returned(Submission.get_by_id(sub.id), city.account("admin"), "区局误操作")
    sub = Submission.get_by_id(sub.id)
    assert sub.status == "区局确认中" and Enrollment.select().where(Enrollment.active).count() == 2
    assert AuditLog.select().where(AuditLog.action == "恢复被误退回的参保提交").exists()


def test_restore_is_refused_when_someone_is_insured_elsewhere_meanwhile(city):
    year = ready_year(city)
    sub = submit(city, n=1)
    review.return_groups(city.orgs["district1"], year, review.CENTRAL_KIND, keys(city.orgs["district1"], year),
                         "误退", None)
    person = Enrollment.get(Enrollment.submission == sub.id).person
    factories.make_member(city.orgs["direct1"])
    enrollment.submit(city.orgs["direct1"], year, enrollment.CARD_CHANNEL, enrollment.CENTRAL,
                      plans.types_of(year)[0], [person], None, on=date(2026, 11, 22))
    with pytest.raises(DomainError, match="不能恢复"):
        review.restore_returned(Submission.get_by_id(sub.id), city.account("admin"), "区局误操作")
    assert Submission.get_by_id(sub.id).status == "退回"


def test_the_worker_schedules_the_deadline_sweep_hourly(app):
    from models import jobs
    huey = jobs.init_queue("sqlite:///:memory:", mode="memory")
    due = {task.name for task in huey.read_periodic(datetime(2027, 1, 21, 10, 7))}
    assert "deadline_sweep" in due  # every hour at :07
    assert not huey.read_periodic(datetime(2027, 1, 21, 10, 8))
    jobs.init_queue("", mode="immediate")


def test_flask_deadlines_fails_unpaid_batches(city, app):
    batch = accepted_batch(city, n=1)
    with time_machine.travel(at(2027, 1, 21, 9), tick=False):
        result = app.test_cli_runner().invoke(args=["deadlines"])
    assert result.exit_code == 0 and batch.number in result.output
    assert DistrictBatch.get_by_id(batch.id).status == "失败"


def test_admin_restore_screen(city, as_role):
    year = ready_year(city)
    sub = submit(city, n=2)
    review.return_groups(city.orgs["district1"], year, review.CENTRAL_KIND, keys(city.orgs["district1"], year),
                         "误退", None)
    client = as_role("admin")
    page = client.get("/admin/restore-submission", query_string={"org": "甲公司"}).get_data(as_text=True)
    assert "误退" in page and "恢复" in page
    refused = client.post("/admin/restore-submission", data={"submission": sub.id, "reason": "", "org": "甲公司"})
    assert refused.status_code == 422 and "请填写原因" in refused.get_data(as_text=True)
    assert client.post("/admin/restore-submission", data={"submission": sub.id, "reason": "误操作"}).status_code == 302
    assert Submission.get_by_id(sub.id).status == "区局确认中"
    assert as_role("district").get("/admin/restore-submission").status_code == 403


def test_two_submits_of_the_same_list_at_once_make_one_batch(committed):
    """Two operators of a district (or a double click reaching two workers) submit together:
    exactly one batch, the other refused in Chinese, the counter not consumed by the loser."""
    city = factories.make_city()
    year = ready_year(city)
    submit(city, n=2)
    submit(city, "direct1", n=1)
    district = city.orgs["district1"]
    review.add_to_queue(district, year, review.CENTRAL_KIND, keys(district, year), None)
    barrier = threading.Barrier(2)
    outcomes = []
    handler = {"name": "王", "mobile": "13800000000", "email": "w@example.com"}

    def run():
        db.connect(reuse_if_open=True)
        try:
            barrier.wait()
            batch = review.submit_to_centre(district, year, review.CENTRAL_KIND, handler, None,
                                            at=datetime(2026, 12, 27, 10))
            outcomes.append(batch.number)
        except DomainError as exc:
            outcomes.append(exc.message)
        finally:
            db.close()
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("CB202612270001") == 1, outcomes
    assert any("待提交参保列表" in o for o in outcomes if not o.startswith("CB")), outcomes
    assert DistrictBatch.select().count() == 1
    assert DistrictBatch.get().count == 3
    assert {s.district_batch for s in Submission.select()} == {"CB202612270001"}
    assert batches.next_batch_number(datetime(2026, 12, 27, 11)) == "CB202612270002"


def test_two_reviewers_adding_the_same_row_at_once_one_wins(committed):
    city = factories.make_city()
    year = ready_year(city)
    submit(city, n=2)
    key = keys(city.orgs["district1"], year)
    barrier = threading.Barrier(2)
    outcomes = []

    def run(reviewer):
        db.connect(reuse_if_open=True)
        try:
            barrier.wait()
            review.add_to_queue(reviewer, year, review.CENTRAL_KIND, key, None)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.message)
        finally:
            db.close()
    threads = [threading.Thread(target=run, args=(org,)) for org in (city.orgs["district1"], city.orgs["secondary1"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    assert Submission.get().queued_level in ("区局(产业)", "二级工会")


def test_the_centre_sees_every_districts_batches_with_amounts_and_a_district_only_its_own(city, as_role):
    mine = make_batch(city.orgs["grassroots1"])
    other = make_batch(city.orgs["grassroots2"])
    centre = soup(as_role("centre").get("/batches/?status=参保审核中"))
    rows = {tr.find("td").get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in centre.select("table.batches tbody tr")}
    assert set(rows) == {mine.number, other.number}
    assert rows[mine.number][1] == "测试区1总工会" and "78元" in rows[mine.number] and "39元" in rows[mine.number]
    district = as_role("district").get("/batches/").get_data(as_text=True)
    assert mine.number in district and other.number not in district
    assert as_role("district").get(f"/batches/{other.id}").status_code == 404
    assert as_role("secondary").get("/batches/").status_code == 403


@pytest.mark.parametrize("pane", ["pending_pane", "queued_pane"])
def test_each_pane_is_a_fragment_for_htmx_keeping_the_other_panes_filters(city, as_role, pane):
    ready_year(city)
    submit(city, n=2)
    with time_machine.travel(REVIEW_DAY, tick=False):
        response = as_role("district").get(f"/review/central?pane={pane}&p_channel=会员卡参保&q_name=乙",
                                           headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert ('id="pending-pane"' in body) == (pane == "pending_pane")
    other = 'name="q_name" value="乙"' if pane == "pending_pane" else 'name="p_channel" value="会员卡参保"'
    assert other in body


def test_the_handler_form_errors_come_back_as_a_fragment_for_htmx(city, as_role):
    year = ready_year(city)
    submit(city, n=1)
    review.add_to_queue(city.orgs["district1"], year, review.CENTRAL_KIND, keys(city.orgs["district1"], year), None)
    with time_machine.travel(SUBMIT_DAY, tick=False):
        response = as_role("district").post("/review/central/submit", data={"name": "", "mobile": "1", "email": ""},
                                            headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and "请填写经办人姓名" in body


def test_a_voucher_without_its_file_name_is_refused(city, as_role):
    batch = accepted_batch(city)
    with time_machine.travel(at(2026, 12, 29, 9), tick=False):
        response = upload(as_role("district"), [batch.id], file_name="")
    assert response.status_code == 422 and "请填写文件名称" in response.get_data(as_text=True)
    assert not PaymentVoucher.select().exists()


def test_a_panes_group_total_is_the_direct_count_on_every_page_and_past_the_end(city):
    """The total rides on the page's rows (COUNT(*) OVER ()); past the last page it is counted
    apart, and an empty pane is 0."""
    year = ready_year(city)
    district = city.orgs["district1"]
    pane = review.pane(district, year, review.CENTRAL_KIND, False)
    assert review.groups(pane, 1, 1) == ([], 0)
    submit(city, "grassroots1", n=2)
    submit(city, "direct1", n=1)
    submit(city, "direct1", n=1, channel=enrollment.SOCIAL_CHANNEL)
    direct = (Submission.select(Submission.org, Submission.channel, Submission.mode, Submission.type)
              .where(Submission.id.in_(pane.select(Submission.id))).distinct().count())
    assert direct == 3
    seen = set()
    for page in (1, 2, 3):
        rows, total = review.groups(pane, page, 1)
        assert total == direct and len(rows) == 1
        seen.add((rows[0].org_id, rows[0].channel))
    assert len(seen) == 3  # each page its own group
    assert review.groups(pane, 4, 1) == ([], direct)
    assert review.groups(pane, 1, 15)[1] == direct
