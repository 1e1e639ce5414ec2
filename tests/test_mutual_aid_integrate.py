"""The mutual-aid line as one product (issue 18, ma-integrate): rules 2 and 3 judge the unit's whole
roster of the protection year (an instant batch adding forgotten people is judged with the batches
already submitted), 清册提交 and a roster change at the same instant (nobody slips past the re-check),
and 批次删除 taking its attachments' stored files along."""

from datetime import datetime

import pytest

from models import sms
from models.base import FieldErrors
from models.mutual_aid import (
    attachment_ops,
    batch_ops,
    change_ops,
    handler_ops,
    registry,
    roster_check,
    roster_edit,
    roster_ops,
)
from models.mutual_aid.batches import (
    ATTACH_FAILED,
    ATTACH_REVIEW,
    AWAIT_VOUCHER,
    CHECK_FAILED,
    CHOOSE_ITEMS,
    INSURED,
    TO_CHECK,
    VOUCHER_REVIEW,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.checks import BatchAttachment
from models.mutual_aid.codes import APPLYING, WAITING, CodeChange, InsuranceCode
from models.mutual_aid.recovery import PENDING, AccountRecovery
from models.mutual_aid.vouchers import R_REVIEW, V_REVIEW, AidReceiptSet, AidVoucher
from models.mutual_aid.years import INSTANT
from models.rules.mutual_roster import EXPLANATION
from models.workflow import STALE
from tests import factories
from tests.factories.aid_money import voucher_of
from tests.factories.mutual_aid import (
    IN_CENTRAL,
    IN_INSTANT,
    applied,
    approved_code,
    batch_in,
    change_of,
    outbox_code,
    person,
    png,
    recovery_request,
)
from tests.factories.mutual_check import insured_last_year, open_now, registry_unit, roster
from tests.helpers import race, soup
from views.menu import MENU


@pytest.fixture
def unit(city):
    return approved_code(city, 1)


def submitted(code, n: int, state=INSURED, start: int = 0, **fields) -> AidBatch:
    """The code's 2026 centralized batch, past 清册提交, with n people."""
    batch = batch_in(code, state)
    roster(batch, n, start=start, **fields)
    AidBatch.update(submitted_at=IN_CENTRAL).where(AidBatch.id == batch.id).execute()
    return AidBatch.get_by_id(batch.id)


def instant_of(code, n: int, start: int = 10_000, **fields) -> AidBatch:
    batch = batch_in(code, TO_CHECK, kind=INSTANT)
    roster(batch, n, start=start, **fields)
    return batch


def judged(batch):
    return roster_check.report(AidBatch.get_by_id(batch.id), IN_INSTANT.date())


# --- rules 2 and 3 over the unit's whole roster of the year --------------------------------------------
def test_an_instant_batch_of_3_is_judged_with_the_100_already_insured(unit):
    insured_last_year(unit, 100)
    submitted(unit, 100)
    r = judged(instant_of(unit, 3))
    assert (r.uploaded, r.earlier, r.year_total, r.last) == (3, 100, 103, 100)
    assert r.outcome.rule2.passed and not r.needs_attachments
    assert "本年度拟参保103人" in dict((n, t) for n, _ok, t in r.rule_lines)["规则二、清册增减幅度校验"]


@pytest.mark.parametrize("added, passes", [(10, True), (11, False)])
def test_rule_2_edge_counts_the_year_not_the_batch(unit, added, passes):
    """110 against last year's 100 is +10 % (passes), 111 is +11 % (fails → rule 3, attachments)."""
    insured_last_year(unit, 100)
    submitted(unit, 100)
    r = judged(instant_of(unit, added))
    assert r.year_total == 100 + added
    assert r.outcome.rule2.passed is passes
    if not passes:
        assert f"本年度拟参保{100 + added}人" in r.outcome.rule2.reason


def test_only_the_codes_submitted_batches_of_the_same_year_count(city, unit):
    insured_last_year(unit, 100)  # last year's batch: the baseline, not this year's roster
    running = batch_in(unit, TO_CHECK)  # this year's centralized batch, not yet submitted
    roster(running, 100)
    other = approved_code(city, 2)
    submitted(other, 100, start=50_000)  # another unit's
    r = judged(instant_of(unit, 3))
    assert (r.earlier, r.year_total) == (0, 3)
    assert not r.outcome.rule2.passed  # 3 against 100 alone
    AidBatch.update(submitted_at=IN_CENTRAL).where(AidBatch.id == running.id).execute()
    assert judged(running).earlier == 0  # a batch never counts itself
    r = judged(AidBatch.get(AidBatch.kind == INSTANT))
    assert (r.earlier, r.year_total) == (100, 103) and r.outcome.rule2.passed
    # a removed person of the earlier batch no longer counts
    RosterEntry.update(active=False).where(RosterEntry.id == RosterEntry.select(RosterEntry.id)
                                           .where(RosterEntry.batch == running.id).limit(1)).execute()
    assert judged(AidBatch.get(AidBatch.kind == INSTANT)).year_total == 102


def test_rule_3_divides_the_years_people_by_the_payers_of_all_their_codes(unit):
    """A new unit (no last year): 100 submitted under SB001 + 3 now under SB002; payers 100 + 3 →
    103 / 103 = 100 % (passes, but a new unit still uploads the 申报表)."""
    registry_unit("SB001", 100)
    registry_unit("SB002", 3)
    submitted(unit, 100, state=CHOOSE_ITEMS)
    r = judged(instant_of(unit, 3, social_code="SB002"))
    assert (r.payers, r.social_codes) == (103, ["SB001", "SB002"])
    assert r.outcome.rule2 is None and r.outcome.rule3.passed and r.outcome.new_unit
    # alone, the instant batch would be 3 / 3
    assert registry.linked_payers(AidBatch.get(AidBatch.kind == INSTANT)) == (3, ["SB002"])


def test_the_check_page_says_the_rules_judge_the_years_total(app, unit):
    insured_last_year(unit, 100)
    submitted(unit, 100)
    batch = instant_of(unit, 3)
    client = app.test_client()
    factories.login(client, unit.account)
    page = client.get(f"/mutual-aid/batches/{batch.id}/check").get_data(as_text=True)
    assert "本批次3人，本年度已提交的其他批次100人，共103人" in page


# --- 清册提交 and a roster change at the same instant ------------------------------------------------------
def _ready(code, n: int = 2):
    """A 2026 centralized batch ready for 清册提交 (last year n, n matched people now)."""
    insured_last_year(code, n, start=900_000 + code.id * 1000)
    batch = batch_in(code, TO_CHECK)
    roster(batch, n, start=800_000 + code.id * 1000)
    return batch


def _nobody_slipped(batch, outcomes, refusal):
    batch = AidBatch.get_by_id(batch.id)
    people = RosterEntry.select().where((RosterEntry.batch == batch.id) & RosterEntry.active).count()
    if batch.status == TO_CHECK:  # the change won; the submit re-checked and refused it
        assert any(refusal in o for o in outcomes if o != "ok"), outcomes
    else:  # the submit won: the change was refused, the roster is what it checked
        assert batch.status == CHOOSE_ITEMS and STALE in outcomes, outcomes
        assert people == 2


def test_an_add_at_the_instant_of_submit_is_seen_or_refused(committed):
    city = factories.make_city()
    for n in range(1, 4):
        code = approved_code(city, n)
        batch = _ready(code)
        # an unmatched newcomer: the submit must see them (人员确认 missing) or the add must be refused
        outcomes = race(lambda b=batch, c=code: roster_check.submit(b, c.account, True, at=IN_CENTRAL),
                        lambda b=batch, c=code, n=n: roster_ops.add_entries(b, [person(700_000 + n)], c.account))
        _nobody_slipped(batch, outcomes, "人员确认")


def test_a_removal_at_the_instant_of_submit_is_seen_or_refused(committed):
    city = factories.make_city()
    open_now()  # 移除 acts at the real time
    for n in range(1, 4):
        code = approved_code(city, n)
        batch = _ready(code, 20)
        # 20 → 17 against last year's 20 is −15 %: rule 2 fails, rule 3 (no payers) asks for 附件
        gone = [e.id for e in RosterEntry.select().where(RosterEntry.batch == batch.id).limit(3)]
        outcomes = race(lambda b=batch, c=code: roster_check.submit(b, c.account, True),
                        lambda b=batch, c=code, ids=gone: roster_edit.remove(b, c.account, entry_ids=ids))
        after = AidBatch.get_by_id(batch.id)
        left = RosterEntry.select().where((RosterEntry.batch == batch.id) & RosterEntry.active).count()
        if after.status == TO_CHECK:
            assert left == 17 and any("请上传附件" in o for o in outcomes), outcomes
        else:
            assert (after.status, left) == (CHOOSE_ITEMS, 20) and STALE in outcomes, outcomes


# --- 批次删除 takes the attachments' files ---------------------------------------------------------------
def test_deleting_a_batch_removes_its_attachment_files(unit):
    batch = batch_in(unit, TO_CHECK)
    rows = [attachment_ops.upload(batch, EXPLANATION, f"说明{i}.png", png(), unit.account, at=IN_CENTRAL)
            for i in range(2)]
    paths = [attachment_ops.file_path(r) for r in rows]
    assert all(p.exists() for p in paths)
    keep = batch_in(unit, TO_CHECK, kind=INSTANT)
    kept = attachment_ops.upload(keep, EXPLANATION, "别的.png", png(), unit.account, at=IN_INSTANT)
    batch_ops.delete_batch(AidBatch.get_by_id(batch.id), unit.account)
    assert not any(p.exists() for p in paths)
    assert BatchAttachment.select().where(BatchAttachment.batch == batch.id).count() == 0
    assert attachment_ops.file_path(kept).exists()  # another batch's file stays


def test_a_refused_delete_keeps_the_files(unit):
    batch = batch_in(unit, TO_CHECK)
    row = attachment_ops.upload(batch, EXPLANATION, "说明.png", png(), unit.account, at=IN_CENTRAL)
    AidBatch.update(updated_at=datetime(2026, 6, 11)).where(AidBatch.id == batch.id).execute()
    stale = AidBatch.get_by_id(batch.id)
    batch_ops.move(stale, "submit_attachments", unit.account)
    with pytest.raises(Exception, match="已被他人修改|只有「清册待校验」"):
        batch_ops.delete_batch(stale, unit.account)
    assert attachment_ops.file_path(row).exists()


# --- the steps of a batch: from 参保批次管理 to every step, and back ---------------------------------------
STEPS = {  # per state the links of its row (seed 004 参保状态说明), the unit's own batch
    TO_CHECK: ["参保清册", "清册校验", "批次删除"],
    CHECK_FAILED: ["参保清册", "清册校验", "批次删除"],
    ATTACH_REVIEW: ["参保清册", "清册校验"],
    ATTACH_FAILED: ["参保清册", "清册校验"],
    CHOOSE_ITEMS: ["参保清册", "保障项目选择"],
    AWAIT_VOUCHER: ["参保清册", "保费详细", "上传缴费凭证", "批次撤回"],
    VOUCHER_REVIEW: ["参保清册", "保费详细"],
    INSURED: ["参保清册", "保费详细"],
}
HEADINGS = {"参保清册": "参保清册", "清册校验": "清册校验", "批次删除": "批次删除", "保障项目选择": "保障项目选择",
            "保费详细": "保费详细", "上传缴费凭证": "新增缴费信息", "批次撤回": "批次撤回"}


def one_batch_per_state(code) -> dict:
    open_now()
    return {state: batch_in(code, state, kind=INSTANT) for state in STEPS}


def test_the_batch_list_leads_to_each_states_next_step_and_each_step_leads_back(app, unit):
    client = app.test_client()
    factories.login(client, unit.account)
    batches = one_batch_per_state(unit)
    listing = soup(client.get("/mutual-aid/batches/"))
    for state, batch in batches.items():
        row = listing.select_one(f"#batch-{batch.id}")
        links = row.select("td.actions-cell a")
        assert [a.get_text() for a in links] == STEPS[state], state
        for a in links:
            page = client.get(a["href"])
            assert page.status_code == 200, (state, a.get_text())
            shown = soup(page)
            assert HEADINGS[a.get_text()] in shown.select_one("h1").get_text(), (state, a.get_text())
            if a.get_text() == "上传缴费凭证":  # the batch comes ticked
                assert shown.select_one(f"input[name=batch][value='{batch.id}']").has_attr("checked")
                assert shown.find("a", href=f"/mutual-aid/batches/{batch.id}/premiums")
            elif a.get_text() not in ("批次删除", "批次撤回"):  # the step pages lead back to the roster
                back = f"/mutual-aid/batches/{batch.id}/roster"
                assert shown.find("a", href=back) or a.get_text() == "参保清册", (state, a.get_text())
        # the roster page shows the same steps (but itself)
        roster_page = soup(client.get(f"/mutual-aid/batches/{batch.id}/roster"))
        assert [a.get_text() for a in roster_page.select("#batch-steps a")] == STEPS[state][1:], state


def test_lookers_get_the_read_only_steps_only(app, city, unit, as_role):
    batches = one_batch_per_state(unit)
    listing = soup(as_role("centre").get("/mutual-aid/batches/"))
    for state, batch in batches.items():
        shown = [a.get_text() for a in listing.select_one(f"#batch-{batch.id}").select("td.actions-cell a")]
        assert shown == [s for s in STEPS[state] if s in ("参保清册", "清册校验", "保费详细")], state


# --- 业务工作台: the centre's queues with their waiting counts ----------------------------------------------
def test_each_waiting_count_opens_exactly_its_rows(app, city, as_role):
    for n in (1, 2):
        applied(city, 10 + n)
    for name in ("grassroots1", "grassroots2"):
        change_of(city.orgs[name])
    batch_in(approved_code(city, 3), "附件审核中")
    voucher = voucher_of(city.orgs["grassroots1"])
    AidReceiptSet.update(status=R_REVIEW).where(AidReceiptSet.voucher == voucher.id).execute()
    recovery_request(1)
    direct = {"参保编码审核": InsuranceCode.select().where(InsuranceCode.status == APPLYING).count(),
              "信息变更审核": CodeChange.select().where(CodeChange.status == WAITING).count(),
              "附件审核": AidBatch.select().where(AidBatch.status == "附件审核中").count(),
              "互助保障缴费凭证审核": AidVoucher.select().where(AidVoucher.status == V_REVIEW).count(),
              "专用收据审核": AidReceiptSet.select().where(AidReceiptSet.status == R_REVIEW).count(),
              "账号找回申请": AccountRecovery.select().where(AccountRecovery.status == PENDING).count()}
    assert direct == {"参保编码审核": 2, "信息变更审核": 2, "附件审核": 1, "互助保障缴费凭证审核": 1, "专用收据审核": 1,
                      "账号找回申请": 1}
    centre = as_role("centre")
    counts = soup(centre.get("/workbench")).select("a.tile-count")
    assert {a["data-queue"]: int(a.get_text().split()[-1]) for a in counts} == direct
    for a in counts:  # each opens a list of exactly that many rows
        listed = soup(centre.get(a["href"]))
        rows = [tr for tr in listed.select("#rows tbody tr") if not tr.select("td.empty")]
        assert len(rows) == direct[a["data-queue"]], a["data-queue"]
    # a district union has the two queues it may look at, counted over its subtree only (grassroots1 is in it)
    district_account = city.account("district")
    subtree = district_account.org.subtree_ids()
    district = {a["data-queue"]: int(a.get_text().split()[-1])
                for a in soup(as_role("district").get("/workbench")).select("a.tile-count")}
    assert district == {
        "互助保障缴费凭证审核": AidVoucher.select().where((AidVoucher.status == V_REVIEW)
                                                 & AidVoucher.org.in_(subtree)).count(),
        "专用收据审核": AidReceiptSet.select().where((AidReceiptSet.status == R_REVIEW)
                                               & AidReceiptSet.org.in_(subtree)).count()}
    assert district["互助保障缴费凭证审核"] == 1


# --- the enterprise (企业注册) is a unit like a grassroots union on every mutual-aid screen ----------------
def test_every_unit_side_mutual_aid_line_and_route_admits_the_enterprise(app):
    lines = dict(MENU)["在职职工互助保障"]
    grassroots_only = [label for label, _endpoint, roles in lines
                       if roles is not None and "grassroots" in roles and "enterprise" not in roles]
    assert grassroots_only == []
    routes = [name for name, view in app.view_functions.items()
              if name.startswith(("mutual_aid", "account_recovery")) and getattr(view, "_access", None)
              and "grassroots" in view._access.roles and "enterprise" not in view._access.roles]
    assert routes == []


# --- 信息变更: a new 经办人手机 needs its SMS code, as 经办人填报 ------------------------------------------
def texted(app, mobile: str) -> str:
    """获取验证码 for a 经办人手机 (the app's outbox), and the code sent."""
    with app.app_context():
        handler_ops.send_code(mobile)
    return outbox_code(app, mobile)


def test_a_new_handler_mobile_needs_the_sms_code_sent_to_it(app, unit):
    client = app.test_client()
    factories.login(client, unit.account)
    form = {"handler_mobile": "13900001111", "address": "上海市徐汇区新址2号"}
    refused = client.post("/mutual-aid/changes/general", data={**form, "sms_code": ""})
    assert refused.status_code == 422 and sms.MISSING in refused.get_data(as_text=True)
    assert handler_ops.handler_of(unit).mobile == "13800000001"
    assert InsuranceCode.get_by_id(unit.id).address == "上海市黄浦区测试路1号"  # nothing half-written
    page = soup(client.post("/mutual-aid/changes/general", data={**form, "action": "sms"}))
    assert "验证码已发送至139****1111" in page.select_one("#sms-notice").get_text()
    assert page.select_one("#g-handler_mobile")["value"] == "13900001111"  # the form stays filled
    wrong = client.post("/mutual-aid/changes/general", data={**form, "sms_code": "000000"})
    assert wrong.status_code == 422 and "验证码错误" in soup(wrong).select_one("#g-sms_code-error").get_text()
    code = outbox_code(app, "13900001111")
    assert client.post("/mutual-aid/changes/general", data={**form, "sms_code": code}).status_code == 302
    assert handler_ops.handler_of(unit).mobile == "13900001111"
    again = client.post("/mutual-aid/changes/general", data={"handler_mobile": "13900001111", "sms_code": code})
    assert again.status_code == 422  # the same mobile: nothing to change
    # a code sent for another mobile does not open this one; the other fields need no code
    with app.app_context(), pytest.raises(FieldErrors) as other:  # the app's key hashes the codes
        change_ops.change_general(unit, unit.account, {"handler_mobile": "13600003333"}, texted(app, "13700002222"))
    assert "sms_code" in other.value.errors
    change_ops.change_general(unit, unit.account, {"handler_name": "孙经办"})
    assert handler_ops.handler_of(unit).name == "孙经办"


def test_one_sms_code_changes_the_handler_mobile_once(app, unit):
    with app.app_context():  # the app's key hashes the codes
        first = texted(app, "13900004444")
        change_ops.change_general(unit, unit.account, {"handler_mobile": "13900004444"}, first)
        change_ops.change_general(unit, unit.account, {"handler_mobile": "13900005555"}, texted(app, "13900005555"))
        with pytest.raises(FieldErrors, match=sms.SPENT):  # back to the first mobile with its spent code
            change_ops.change_general(unit, unit.account, {"handler_mobile": "13900004444"}, first)
    assert handler_ops.handler_of(unit).mobile == "13900005555"
