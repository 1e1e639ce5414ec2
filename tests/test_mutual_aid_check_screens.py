"""清册校验 and 附件审核 screens (issue 18 items 6, 10; seed 004 清册校验 pages): the unit's check page
(counts opening their people, 清册校验, 人员确认, the rule-1 ticks, 上传附件 with 附件类型, 清册提交 with
the 承诺书 as a plain page), the centre's queue with its filters and its decision, who may open what."""

import io
from datetime import date

import pytest

from models.messages import for_account
from models.mutual_aid.batches import (
    ATTACH_FAILED,
    ATTACH_REVIEW,
    CHECK_FAILED,
    CHOOSE_ITEMS,
    TO_CHECK,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.checks import BatchAttachment
from models.rules.mutual_roster import DECLARATION, EXPLANATION
from tests import factories
from tests.factories.mutual_aid import approved_code, batch_in, png
from tests.factories.mutual_check import close_now, insured_last_year, open_now, registry_unit, roster
from tests.helpers import soup


@pytest.fixture
def unit(app, city):
    open_now()
    return approved_code(city, 1)


def client_of(app, account):
    client = app.test_client()
    factories.login(client, account)
    return client


def url(batch, tail=""):
    return f"/mutual-aid/batches/{batch.id}/{tail or 'check'}"


def status(batch):
    return AidBatch.get_by_id(batch.id).status


def upload(client, batch, kind, name="附件.png", data=None):
    return client.post(url(batch, "attachments"), data={"kind": kind, "file": [(io.BytesIO(data or png()), name)]},
                       content_type="multipart/form-data")


def test_the_counts_open_their_people_and_a_fault_fails_the_check(app, unit):
    batch = batch_in(unit, TO_CHECK)
    roster(batch, 4)
    roster(batch, 2, start=10, matched=False)
    roster(batch, 1, start=20, employment="退休")
    client = client_of(app, unit.account)
    page = soup(client.get(url(batch)))
    counts = {a["id"]: a.get_text() for a in page.select("#check-counts a")}
    assert counts == {"count-all": "7", "count-unmatched": "2", "count-matched": "5", "count-retired": "1",
                      "count-over_age": "0", "count-name_warning": "0"}
    for link in page.select("#check-counts a"):
        people = soup(client.get(link["href"]))
        assert len(people.select("#people tbody tr:not(:has(.empty))")) == int(link.get_text())
    masked = soup(client.get(url(batch, "check/people?which=unmatched"))).select_one("#people tbody td.nowrap")
    assert "*" in masked.get_text()  # ID numbers masked in the list
    response = client.post(url(batch, "check/run"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{url(batch)}#result")
    assert status(batch) == CHECK_FAILED
    page = soup(client.get(url(batch)))
    assert page.select_one("#batch-status").get_text() == CHECK_FAILED
    assert "清册中有1名退休人员" in page.select_one("#batch-reason").get_text()
    rows = {tr.select("td")[0].get_text(): tr.select("td")[1].get_text()
            for tr in page.select("#rule-results tbody tr")}
    assert rows["退休人员"] == "不通过" and rows["规则一、在职超龄校验"] == "通过"


def test_over_age_ticks_and_the_unmatched_confirmation_from_the_page(app, unit):
    insured_last_year(unit, 3)
    batch = batch_in(unit, TO_CHECK)
    roster(batch, 1, start=1, birth_date=date(1960, 1, 1))
    roster(batch, 2, start=10, matched=False)
    client = client_of(app, unit.account)
    old = RosterEntry.select().where(RosterEntry.batch == batch.id).order_by(RosterEntry.id).first()
    response = client.post(url(batch, "check/ticks"), data={"shown": [str(old.id)], "medical": [str(old.id)]})
    assert response.status_code == 302
    assert soup(client.get(url(batch))).select_one(f"input[name=medical][value='{old.id}']").has_attr("checked")
    refused = client.post(url(batch, "check/confirm"), data={})
    assert refused.status_code == 422 and "我已阅读并同意" in soup(refused).select_one("#check-error").get_text()
    assert client.post(url(batch, "check/confirm"), data={"agree": "1"}).status_code == 302
    page = soup(client.get(url(batch)))
    assert page.select_one("#unmatched-confirmed").get_text() == "已确认" and page.select_one("#blockers") is None
    assert page.select_one("#verdict").get_text() == "清册校验通过，可直接点击【清册提交】"


def test_the_letter_page_without_javascript_submits(app, unit):
    insured_last_year(unit, 2)
    batch = batch_in(unit, TO_CHECK)
    roster(batch, 2)
    client = client_of(app, unit.account)
    assert soup(client.get(url(batch))).select_one("#submit-roster").get_text() == "清册提交"
    letter = soup(client.get(url(batch, "submit")))
    assert letter.select_one("#commitment-title").get_text() == "承诺书"
    assert "我已阅读并同意" in letter.select_one("#submit-form").get_text()
    assert letter.select_one("#confirm-submit").get_text() == "确认提交"
    assert letter.select_one("#close-commitment")["href"] == url(batch)  # × back to editing
    refused = client.post(url(batch, "submit"), data={})
    assert refused.status_code == 422 and status(batch) == TO_CHECK
    assert "我已阅读并同意" in soup(refused).select_one("#submit-error").get_text()
    done = client.post(url(batch, "submit"), data={"agree": "1"})
    assert done.status_code == 302 and status(batch) == CHOOSE_ITEMS
    assert AidBatch.get_by_id(batch.id).submitted_at is not None


def test_attachments_go_to_the_centre_which_fails_then_passes(app, city, unit):
    registry_unit("SB001", 40)
    batch = batch_in(unit, TO_CHECK)
    roster(batch, 10)  # a new unit at 25 %
    client = client_of(app, unit.account)
    page = soup(client.get(url(batch)))
    assert [o.get_text() for o in page.select("#attachment-kind option")][1] == DECLARATION
    bad = upload(client, batch, DECLARATION, "申报表.png", b"plain text")
    assert bad.status_code == 422 and "只能是图片" in soup(bad).select_one("#check-error").get_text()
    assert upload(client, batch, "", "申报表.png").status_code == 422
    assert BatchAttachment.select().count() == 0
    assert upload(client, batch, "任命书", "任命书.png").status_code == 302
    wrong = BatchAttachment.get()
    refused = client.post(url(batch, "submit"), data={"agree": "1"})
    assert refused.status_code == 409 and f"请上传附件：{DECLARATION}" in soup(refused).get_text()
    client.post(url(batch, "attachments/remove"), data={"n": str(wrong.id)})
    upload(client, batch, DECLARATION, "申报表.png")
    assert client.post(url(batch, "submit"), data={"agree": "1"}).status_code == 302
    assert status(batch) == ATTACH_REVIEW

    centre = client_of(app, city.account("centre"))
    queue = soup(centre.get("/mutual-aid/attachments/"))
    assert [tr.select("td")[0].get_text() for tr in queue.select("tbody tr")] == [unit.code]
    for query, found in ((f"?code={unit.code}", 1), ("?code=NOPE", 0), ("?name=互助测试1", 1), ("?year=2026", 1),
                         ("?year=2025", 0), ("?status=附件审核不通过", 0), ("?year=99999999999999999999", 1)):
        rows = soup(centre.get(f"/mutual-aid/attachments/{query}")).select("tbody tr:not(:has(.empty))")
        assert len(rows) == found, query
    page = soup(centre.get(url(batch)))
    link = page.select_one("#attachment-list a")["href"]
    opened = centre.get(link)
    assert opened.status_code == 200 and opened.mimetype == "image/png"
    no_reason = centre.post(url(batch, "attachments/fail"), data={"reason": ""})
    assert no_reason.status_code == 422 and status(batch) == ATTACH_REVIEW
    centre.post(url(batch, "attachments/fail"), data={"reason": "申报表未显示社保缴费总人数"})
    assert status(batch) == ATTACH_FAILED
    log = soup(client.get(url(batch))).select_one("#audit-log").get_text()
    assert "附件审核不通过" in log and "申报表未显示社保缴费总人数" in log
    assert "附件审核不通过" in for_account(unit.account).first().title
    upload(client, batch, DECLARATION, "申报表（新）.png")
    page = soup(client.get(url(batch)))
    assert page.select_one("#submit-roster").get_text() == "重新提交附件"
    assert client.post(url(batch, "submit"), data={"agree": "1"}).status_code == 302
    assert status(batch) == ATTACH_REVIEW
    assert centre.post(url(batch, "attachments/pass")).status_code == 302
    assert status(batch) == CHOOSE_ITEMS
    assert "附件审核通过" in for_account(unit.account).first().title
    passed = soup(centre.get("/mutual-aid/attachments/?status=附件审核通过")).select("tbody tr:not(:has(.empty))")
    assert len(passed) == 1


def test_who_may_open_what(app, city, unit):
    batch = batch_in(unit, TO_CHECK)
    roster(batch, 2)
    BatchAttachment.create(batch=batch.id, kind=EXPLANATION, file_name="说明.png", stored_name="none.png",
                           content_type="image/png", size=1)
    other = client_of(app, approved_code(city, 2).account)  # another unit in the same union
    for path in ("check", "check/people", "submit", f"attachments/file?n={BatchAttachment.get().id}"):
        assert other.get(url(batch, path)).status_code == 404, path
    assert other.post(url(batch, "check/run")).status_code == 404
    city_client = client_of(app, city.account("city"))
    page = soup(city_client.get(url(batch)))
    assert page.select_one("#run-check") is None and page.select_one("#upload-form") is None
    assert city_client.post(url(batch, "check/run")).status_code == 403
    district = client_of(app, city.account("district"))
    assert district.get(url(batch)).status_code == 200  # its subtree's unit, read-only
    assert district.get(url(batch, f"attachments/file?n={BatchAttachment.get().id}")).status_code == 404
    assert district.post(url(batch, "check/run")).status_code == 403
    assert status(batch) == TO_CHECK


def test_the_window_closed_refuses_the_unit_in_chinese(app, unit):
    batch = batch_in(unit, TO_CHECK)
    roster(batch, 1, employment="退休")
    close_now()
    client = client_of(app, unit.account)
    page = soup(client.get(url(batch)))
    assert "已结束" in page.select_one("#window-closed").get_text() and page.select_one("#run-check") is None
    refused = client.post(url(batch, "check/run"))
    assert refused.status_code == 409
    assert "2026年度集中参保已结束" in soup(refused).select_one("#check-error").get_text()
    assert status(batch) == TO_CHECK


def test_retirees_and_an_over_age_person_are_removed_from_the_check_page(app, unit):
    batch = batch_in(unit, TO_CHECK)
    roster(batch, 2)
    roster(batch, 3, start=10, employment="退休")
    old = roster(batch, 1, start=20, birth_date=date(1950, 1, 1))[-1]
    client = client_of(app, unit.account)
    page = soup(client.get(url(batch)))
    assert page.select_one("#remove-retired").get_text() == "移除全部退休人员（3人）"
    assert client.post(url(batch, "check/remove"), data={"which": "retired"}).status_code == 302
    assert RosterEntry.select().where(RosterEntry.batch == batch.id).count() == 3
    first = RosterEntry.select().where(RosterEntry.batch == batch.id).order_by(RosterEntry.id).first()
    # an id that is not an over-age person of this batch is not removed
    client.post(url(batch, "check/remove"), data={"which": "over_age", "id": [str(first.id)]})
    assert RosterEntry.select().where(RosterEntry.batch == batch.id).count() == 3
    page = soup(client.get(url(batch)))
    assert page.select_one(f"#remove-{old.id}") is not None
    client.post(url(batch, "check/remove"), data={"which": "over_age", "id": [str(old.id)]})
    assert not RosterEntry.select().where(RosterEntry.id == old.id).exists()
    page = soup(client.get(url(batch)))
    assert page.select_one("#count-all").get_text() == "2" and page.select_one("#over-age") is None
