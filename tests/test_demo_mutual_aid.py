"""`make run`'s demo data for 在职职工互助保障 (issue 18 item 11): every state the issue lists, read
back from the tables after load_demo."""

import json

from flask import url_for

from models import demo_mutual_aid
from models.base import today
from models.demo import DEMO_USERNAMES, account_lines, load_demo
from models.jobs import Job
from models.mutual_aid import registry, roster_check, roster_import, voucher_ops, years
from models.mutual_aid.batches import BATCH_STATES, AidBatch, RosterEntry
from models.mutual_aid.checks import BatchAttachment
from models.mutual_aid.codes import (
    APPLYING,
    APPROVED,
    NAME_CHANGE,
    REFUSED,
    WAITING,
    CodeChange,
    CodeUnit,
    InsuranceCode,
)
from models.mutual_aid.recovery import PENDING, AccountRecovery
from models.mutual_aid.vouchers import R_PASSED, V_DONE, V_REVIEW, AidReceipt, AidReceiptSet, AidVoucher
from models.orgs.accounts import Account
from models.storage import storage_dir
from tests import factories
from tests.helpers import soup
from views.menu import MENU


def _code(username):
    return InsuranceCode.get(InsuranceCode.account == Account.get(Account.username == username).id)


def _batches(username):
    return {b.status: b for b in AidBatch.select().where(AidBatch.code == _code(username).id)}


def test_the_demo_shows_every_state_of_the_mutual_aid_line(app, client):
    load_demo(password="Demo-pass-1", members=300)
    running = years.year_of(today(), years.INSTANT)
    assert {y.year for y in years.AidYear.select()} == {running - 1, running}
    # every batch state of the workflow is among the demo's batches
    assert {b.status for b in AidBatch.select()} == set(BATCH_STATES)

    # the union unit: code, handler, last year 参保成功 with receipts, this year one name mismatch
    union = _code("grassroots")
    assert union.status == APPROVED and union.code and union.handlers.count() == 1
    batches = _batches("grassroots")
    done, now_ = batches["参保成功"], batches["清册校验不通过"]
    assert (done.year.year, done.kind) == (running - 1, years.CENTRAL)
    assert (now_.year.year, now_.kind) == (running, years.INSTANT)
    voucher = AidVoucher.select().join(AidReceiptSet, on=(AidReceiptSet.voucher == AidVoucher.id)).where(
        AidVoucher.code == union.id).get()
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    assert voucher.status == V_DONE and receipts.status == R_PASSED
    assert sum(r.amount for r in AidReceipt.select().where(AidReceipt.receipt_set == receipts.id)) == voucher.due
    assert voucher.due == done.premium_total > 0
    # this year's roster came from last year's list and the 建议清册
    last = RosterEntry.select().where((RosterEntry.batch == done.id) & RosterEntry.active).count()
    assert RosterEntry.select().where(RosterEntry.batch == now_.id).count() == last >= 30
    assert registry.RegistryPayer.select().count() > last and registry.RegistryUnit.select().count() >= 4
    warned = list(roster_check.people_of(now_, "name_warning"))
    assert len(warned) == 1
    person = warned[0]
    assert person.name_warning and person.name == person.registry_name != person.member_name
    assert now_.reason == "清册中有1名人员姓名匹配异常，请点击“姓名匹配异常，请人工确认”选择正确的姓名"
    assert roster_check.report(now_).unmatched == 2  # two people the 建议清册 does not know

    # the group code covering two units
    group = _code("grassroots2")
    assert CodeUnit.select().where(CodeUnit.code == group.id).count() == 2
    assert set(_batches("grassroots2")) == {"缴费凭证待上传", "清册待校验"}
    awaiting = _batches("grassroots2")["缴费凭证待上传"]
    assert awaiting.premium_total > 0 and awaiting.premium_confirmed_at is not None
    # 新增缴费信息 offers it, and 100 元 more than its total is a refund of 100 元
    assert [b.id for b in voucher_ops.payable(Account.get(Account.username == "grassroots2"))] == [awaiting.id]
    assert voucher_ops.payment([awaiting], awaiting.premium_total + 10000).refund == 10000

    # the demo's roster file (STORAGE_DIR/demo) in that batch's 上传本地参保名单文件: 8 people in, the
    # wrong ID number and the person 新世界百货 holds come back in the error file
    waiting = _batches("grassroots2")["清册待校验"]
    before = RosterEntry.select().where(RosterEntry.batch == waiting.id).count()
    job = roster_import.submit(waiting, Account.get(Account.username == "grassroots2"),
                               (storage_dir("demo") / demo_mutual_aid.UPLOAD_FILE).read_bytes(),
                               demo_mutual_aid.UPLOAD_FILE)
    result = json.loads(Job.get_by_id(job.id).result)
    assert (result["imported"], len(result["errors"])) == (8, 2), result
    assert "上海新世界百货有限公司" in result["errors"][1]["reason"]
    assert RosterEntry.select().where(RosterEntry.batch == waiting.id).count() == before + 8

    # the rule-3 unit: rule 2 and rule 3 fail, its attachments wait for the centre
    small = _batches("smallfirms")
    review = small["附件审核中"]
    report = roster_check.report(review)
    assert report.outcome.rule2 is not None and not report.outcome.rule2.passed
    assert report.outcome.rule3 is not None and not report.outcome.rule3.passed
    assert BatchAttachment.select().where(BatchAttachment.batch == review.id).count() == 2
    assert small["附件审核不通过"].reason

    # a voucher paid with an overpayment (refund details) waiting for 核销
    paid = AidVoucher.get(AidVoucher.code == _code("grassroots3").id)
    assert paid.status == V_REVIEW and paid.refund > 0 and paid.paid == paid.due + paid.refund
    assert paid.refund_name and paid.refund_account and paid.refund_bank
    assert set(_batches("grassroots3")) == {"缴费凭证审核中", "保障项目待选择"}

    # the waiting code application, the refused one with its reason, a name change, a recovery
    applying = _code("enterprise")  # the unit without a union (企业注册)
    assert applying.status == APPLYING and applying.org.level == "enterprise" and applying.org.parent_id is None
    refused = _code("grassroots4")
    assert refused.status == REFUSED and refused.reason
    change = CodeChange.get(CodeChange.code == _code("grassroots3").id)
    assert (change.kind, change.status) == (NAME_CHANGE, WAITING)
    assert AccountRecovery.select().where(AccountRecovery.status == PENDING).count() == 1

    # the union's screens: its two batches, the roster with the one 警告
    factories.login(client, Account.get(Account.username == "grassroots"), "Demo-pass-1")
    listing = soup(client.get("/mutual-aid/batches/"))
    assert {"参保成功", "清册校验不通过"} <= {td.get_text(strip=True) for td in listing.select("td")}
    roster = client.get(f"/mutual-aid/batches/{now_.id}/roster")
    assert roster.status_code == 200
    page = soup(roster)
    assert len([td for td in page.select("td") if td.get_text(strip=True) == "警告"]) == 1
    assert "姓名匹配异常，请人工确认" in page.get_text()

    # every page of the section opens on the demo's data for each kind of account
    section, opened = dict(MENU)["在职职工互助保障"], 0
    for username in ("centre", "city", "district", "secondary", "grassroots", "smallfirms", "enterprise"):
        account = Account.get(Account.username == username)
        browser = app.test_client()
        factories.login(browser, account, "Demo-pass-1")
        for label, endpoint, roles in section:
            if roles is None or account.role in roles:
                with app.test_request_context():
                    url = url_for(endpoint)
                answer = browser.get(url)
                assert answer.status_code == 200, (username, label, answer.status_code)
                assert "系统出错了" not in answer.get_data(as_text=True), (username, label)
                opened += 1
    assert opened >= 40

    # the accounts of the new units are printed with the others
    printed = "\n".join(account_lines({}))
    for username in ("enterprise", "grassroots3", "grassroots4"):
        assert username in DEMO_USERNAMES and username in printed


def test_a_tiny_demo_has_no_mutual_aid_examples():
    load_demo(password="Demo-pass-1", members=10)
    assert not AidBatch.select().exists() and not InsuranceCode.select().exists()
