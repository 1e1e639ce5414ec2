"""清册校验 (issue 18 item 6, spec 70, seed 004 清册校验 pages) over the database: the counts
(上传参保人员总数 = 清册未能匹配人员 + 清册匹配的拟参保人数, each opening its people), the rules at the
issue's edges (10 % / 10.01 %, 75 % / 74.99 %, 100 % / more, 10 people at 9/10 and 10/10, a woman of
54 years 364 days), retirees, the rule-1 ticks, 人员确认, name warnings, 清册提交 re-checking on the
server, attachments, the centre's 附件审核, and each operation in every batch state and outside the window."""

from datetime import date, datetime

import peewee as pw
import pytest

from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.messages import for_account
from models.mutual_aid import attachment_ops, roster_check, roster_ops
from models.mutual_aid.batches import (
    ATTACH_FAILED,
    ATTACH_REVIEW,
    BATCH_STATES,
    CHECK_FAILED,
    CHOOSE_ITEMS,
    TO_CHECK,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.checks import BatchAttachment, RosterConfirmation
from models.rules.mutual_roster import DECLARATION, EXPLANATION
from models.workflow import STALE
from tests import factories
from tests.factories.memberfiles import BIRTH_START
from tests.factories.mutual_aid import IN_CENTRAL, IN_INSTANT, approved_code, batch_in, person, png
from tests.factories.mutual_check import insured_last_year, registry_unit, roster
from tests.helpers import race

JULY = date(2026, 7, 1)  # a centralized batch's reference day (rule 1)
AFTER = datetime(2026, 7, 2, 9, 0)  # the 2026 centralized window has closed


@pytest.fixture
def unit(city):
    return approved_code(city, 1)


def central(code, state=TO_CHECK):
    return batch_in(code, state)


def report(batch):
    return roster_check.report(AidBatch.get_by_id(batch.id), IN_CENTRAL.date())


# --- counts -----------------------------------------------------------------------------------------
def test_uploaded_is_unmatched_plus_matched_and_each_count_opens_its_people(unit):
    batch = central(unit)
    roster(batch, 7)
    roster(batch, 3, start=100, matched=False)
    roster(batch, 2, start=200, employment="退休")
    r = report(batch)
    assert (r.uploaded, r.matched, r.unmatched, r.retired) == (12, 9, 3, 2)
    assert r.uploaded == r.matched + r.unmatched == RosterEntry.select().where(RosterEntry.batch == batch.id).count()
    for which, n in (("all", 12), ("matched", 9), ("unmatched", 3), ("retired", 2)):
        assert roster_check.people_of(batch, which).count() == n
    unmatched = {e.id_number for e in roster_check.people_of(batch, "unmatched")}
    assert unmatched == {e.id_number for e in RosterEntry.select().where(~RosterEntry.registry_matched)}


# --- rule 2 -------------------------------------------------------------------------------------------
def test_rule2_exactly_10_percent_passes_without_rule3(unit):
    insured_last_year(unit, 10)
    batch = central(unit)
    roster(batch, 11)
    r = report(batch)
    assert r.last == 10 and r.outcome.rule2.passed and r.outcome.rule3 is None
    assert not r.needs_attachments and not r.blockers
    assert ("规则二、清册增减幅度校验", True,
            "上年度参保10人，本年度拟参保11人，增减幅度为10%，在±10%以内，通过") in r.rule_lines


def test_rule2_at_10_01_percent_fails_and_rule3_decides(unit):
    insured_last_year(unit, 999)
    registry_unit("SB001", 1000)
    batch = central(unit)
    roster(batch, 899)
    r = report(batch)
    assert not r.outcome.rule2.passed
    assert "增减幅度为-10.01%，超出±10%" in r.outcome.rule2.reason
    assert r.outcome.rule3.passed and not r.needs_attachments  # 899 / 1000 = 89.9 %


def test_last_year_counts_only_the_codes_insured_batches_of_last_year(unit, city):
    last = insured_last_year(unit, 5)
    roster(batch_in(unit, CHOOSE_ITEMS, kind="即时参保", year=last.year), 3, start=600)  # not 参保成功
    insured_last_year(approved_code(city, 2), 7, start=700_000)  # another unit's
    batch = central(unit)
    roster(batch, 5)
    assert report(batch).last == 5


# --- rule 3 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("people", "payers", "passed", "shown"), [
    (15, 20, True, "75%"), (1250, 1667, False, "74.99%"), (20, 20, True, "100%"), (21, 20, False, "105%"),
    (9, 10, False, "90%"), (10, 10, True, "100%")])
def test_rule3_at_its_edges(unit, people, payers, passed, shown):
    insured_last_year(unit, 1)  # a continuing unit whose rule 2 fails
    registry_unit("SB001", payers)
    batch = central(unit)
    roster(batch, people)
    r = report(batch)
    assert r.payers == payers and r.outcome.rule3.passed is passed
    assert r.needs_attachments is not passed
    line = next(text for name, _, text in r.rule_lines if name.startswith("规则三"))
    assert f"参保比例为{shown}" in line
    if not passed:
        assert r.missing_attachment == f"请上传附件：{EXPLANATION}"
        if people <= 10:
            assert "单位参保人数小于等于10人，参保比例需达到100%" in line


def test_rule3_sums_the_payers_of_every_linked_social_security_code(unit):
    insured_last_year(unit, 1)
    registry_unit("SB001", 6)
    registry_unit("SB002", 4)
    registry_unit("SB999", 50)  # nobody of the roster is paid under it
    batch = central(unit)
    roster(batch, 5)
    roster(batch, 5, start=10, social_code="SB002")
    r = report(batch)
    assert (r.payers, r.social_codes) == (10, ["SB001", "SB002"]) and r.outcome.rule3.passed


def test_a_new_unit_always_uploads_the_declaration(unit):
    registry_unit("SB001", 20)
    batch = central(unit)
    roster(batch, 20)
    r = report(batch)
    assert r.last is None and r.outcome.new_unit and r.outcome.rule3.passed
    assert r.needs_attachments and r.missing_attachment == f"请上传附件：{DECLARATION}"
    assert ("规则二、清册增减幅度校验", None,
            "新参保单位（无上年度参保成功的清册），不适用，需进行单位社保比例校验") in r.rule_lines


# --- retirees and rule 1 ------------------------------------------------------------------------------
def test_a_woman_aged_54_years_364_days_is_not_over_age_and_at_55_she_is(unit):
    batch = central(unit)
    young = roster(batch, 1, gender="女", birth_date=date(1971, 7, 2))[0]
    assert report(batch).rule1.passed and report(batch).over_age == 0
    RosterEntry.update(birth_date=date(1971, 7, 1)).where(RosterEntry.id == young.id).execute()
    r = report(batch)
    assert r.over_age == 1 and not r.rule1.passed and "以2026-07-01计" in r.rule1.reason
    assert [e.id for e in roster_check.people_of(batch, "over_age", IN_CENTRAL.date())] == [young.id]


def test_an_over_age_person_kept_needs_a_tick_and_a_fault_fails_the_check(unit):
    batch = central(unit)
    roster(batch, 3)
    old = roster(batch, 2, start=50, birth_date=date(1960, 1, 1))[3:]
    found = roster_check.run_check(batch, unit.account, at=IN_CENTRAL)
    batch = AidBatch.get_by_id(batch.id)
    assert batch.status == CHECK_FAILED and "规则一（在职超龄校验）：清册中有2名在职超龄人员" in batch.reason
    assert found.faults == [found.rule1.reason]
    roster_check.tick_over_age(batch, unit.account, [o.id for o in old], [old[0].id], [], at=IN_CENTRAL)
    assert report(batch).rule1.reason.startswith("规则一（在职超龄校验）：清册中有1名")
    roster_check.tick_over_age(batch, unit.account, [o.id for o in old], [old[0].id], [old[1].id], at=IN_CENTRAL)
    assert report(batch).rule1.passed
    assert RosterEntry.get_by_id(old[1].id).medical_in_service and not RosterEntry.get_by_id(old[1].id).still_paying


def test_retirees_must_all_be_removed(unit):
    batch = central(unit)
    roster(batch, 4)
    retired = roster(batch, 2, start=10, employment="退休")[4:]
    roster_check.run_check(batch, unit.account, at=IN_CENTRAL)
    batch = AidBatch.get_by_id(batch.id)
    assert batch.status == CHECK_FAILED and "清册中有2名退休人员" in batch.reason
    roster_ops.remove_entries(batch, [r.id for r in retired], unit.account)
    assert report(batch).retirees.passed
    roster_check.run_check(batch, unit.account, at=IN_CENTRAL)  # checked again: no fault left
    batch = AidBatch.get_by_id(batch.id)
    assert (batch.status, batch.reason) == (CHECK_FAILED, "")  # 清册提交 is open from here


def test_a_passing_check_leaves_the_state_and_writes_its_outcome(unit):
    insured_last_year(unit, 4)
    batch = central(unit)
    roster(batch, 4)
    roster_check.run_check(batch, unit.account, at=IN_CENTRAL)
    assert AidBatch.get_by_id(batch.id).status == TO_CHECK
    row = AuditLog.for_object(batch).first()
    assert row.action == "清册校验" and row.detail_data["结果"] == "通过"


def test_an_empty_roster_fails(unit):
    batch = central(unit)
    assert report(batch).faults == [roster_check.EMPTY]


# --- names and 人员确认 ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "member", "registry", "confirmed"), [
    ("张三", "", "", False), ("张三", "张三", "", False), ("张三", "张叁", "", False), ("张三", "", "张叁", False),
    ("张三", "张叁", "", True), ("张三", "张三", "张三", False), ("张叁", "张三", "张叁", False)])
def test_the_name_warning_count_is_the_models_warning(unit, name, member, registry, confirmed):
    batch = central(unit)
    entry = roster(batch, 1, name=name, member_name=member, registry_name=registry, name_confirmed=confirmed)[0]
    assert report(batch).name_warnings == int(entry.name_warning)
    assert roster_check.people_of(batch, "name_warning").count() == int(entry.name_warning)


def test_a_name_warning_blocks_the_submission(unit):
    insured_last_year(unit, 2)
    batch = central(unit)
    roster(batch, 2, member_name="别名")
    with pytest.raises(DomainError, match="2名人员姓名匹配异常"):
        roster_check.submit(batch, unit.account, True, at=IN_CENTRAL)
    assert AidBatch.get_by_id(batch.id).status == TO_CHECK


def test_unmatched_people_need_their_confirmation_and_a_roster_change_undoes_it(unit):
    insured_last_year(unit, 3)
    batch = central(unit)
    roster(batch, 3, matched=False)
    assert not report(batch).unmatched_confirmed
    with pytest.raises(DomainError, match="我已阅读并同意"):
        roster_check.confirm_unmatched(batch, unit.account, False, at=IN_CENTRAL)
    assert roster_check.confirm_unmatched(batch, unit.account, True, at=IN_CENTRAL) == 3
    assert report(batch).unmatched_confirmed
    roster_ops.add_entries(batch, [person(77, gender="男", birth_date=BIRTH_START)], unit.account)
    r = report(batch)
    assert r.unmatched == 4 and not r.unmatched_confirmed
    assert "清册中有4名清册未能匹配人员，请点击【人员确认】" in "；".join(r.blockers)


def test_no_unmatched_people_nothing_to_confirm(unit):
    batch = central(unit)
    roster(batch, 2)
    with pytest.raises(DomainError, match="无需确认"):
        roster_check.confirm_unmatched(batch, unit.account, True, at=IN_CENTRAL)


# --- 清册提交 ----------------------------------------------------------------------------------------
def test_submit_needs_the_letter_and_moves_to_item_selection_with_the_moment(unit):
    insured_last_year(unit, 5)
    batch = central(unit)
    roster(batch, 5)
    with pytest.raises(DomainError, match="我已阅读并同意"):
        roster_check.submit(batch, unit.account, False, at=IN_CENTRAL)
    moved = roster_check.submit(batch, unit.account, True, at=IN_CENTRAL)
    assert (moved.status, moved.submitted_at) == (CHOOSE_ITEMS, IN_CENTRAL)
    actions = [row.action for row in AuditLog.for_object(batch)]
    assert actions[:2] == ["承诺书", "清册提交"]


def test_submit_reruns_the_rules_on_the_server(unit):
    insured_last_year(unit, 5)
    batch = central(unit)
    roster(batch, 5, employment="退休")
    with pytest.raises(DomainError) as refused:
        roster_check.submit(batch, unit.account, True, at=IN_CENTRAL)
    assert refused.value.message.startswith("清册提交失败：清册中有5名退休人员")
    assert AidBatch.get_by_id(batch.id).submitted_at is None


def test_attachments_then_submit_go_to_the_centre_which_passes(unit, city):
    registry_unit("SB001", 20)
    batch = central(unit)
    roster(batch, 10)  # new unit, 50 %
    with pytest.raises(DomainError, match=f"请上传附件：{DECLARATION}"):
        roster_check.submit(batch, unit.account, True, at=IN_CENTRAL)
    other = attachment_ops.upload(batch, "任命书", "任命书.png", png(), unit.account, at=IN_CENTRAL)
    attachment_ops.upload(batch, DECLARATION, "申报表.png", png(), unit.account, at=IN_CENTRAL)
    attachment_ops.remove(batch, other.id, unit.account, at=IN_CENTRAL)
    assert [f.kind for f in attachment_ops.files_of(batch)] == [DECLARATION]
    moved = roster_check.submit(batch, unit.account, True, at=IN_CENTRAL)
    assert moved.status == ATTACH_REVIEW and moved.submitted_at == IN_CENTRAL
    with pytest.raises(DomainError, match="不能执行此操作"):
        attachment_ops.upload(moved, EXPLANATION, "说明.png", png(), unit.account, at=IN_CENTRAL)
    passed = attachment_ops.decide(moved, True, city.account("centre"))
    assert passed.status == CHOOSE_ITEMS
    note = for_account(unit.account).first()
    assert "附件审核通过" in note.title and note.link == f"/mutual-aid/batches/{batch.id}/check"


def test_the_queue_holds_the_batches_sent_to_the_centre_and_keeps_them_after_the_decision(unit, city):
    """附件审核 lists what 清册提交 sent to the centre — under 附件审核通过 after the decision too — and
    not a batch whose rules passed although it had a file attached (it never went to the centre)."""
    registry_unit("SB001", 20)
    sent = central(unit)
    roster(sent, 10)  # new unit, 50 %: rule 3 fails, the declaration goes to the centre
    attachment_ops.upload(sent, DECLARATION, "申报表.png", png(), unit.account, at=IN_CENTRAL)
    other = approved_code(city, 2)
    insured_last_year(other, 5)
    direct = central(other)
    roster(direct, 5, start=500)  # rule 2 passes
    attachment_ops.upload(direct, EXPLANATION, "说明.png", png(), other.account, at=IN_CENTRAL)
    assert roster_check.submit(direct, other.account, True, at=IN_CENTRAL).status == CHOOSE_ITEMS

    def listed(status=""):
        return [b.id for b in attachment_ops.search(AidBatch.select(), status)]
    assert listed() == []
    sent = roster_check.submit(sent, unit.account, True, at=IN_CENTRAL)
    assert listed() == listed(ATTACH_REVIEW) == [sent.id] and listed(attachment_ops.PASSED) == []
    attachment_ops.decide(sent, True, city.account("centre"))
    assert listed() == listed(attachment_ops.PASSED) == [sent.id] and listed(ATTACH_REVIEW) == []
    assert attachment_ops.search(AidBatch.select()).count() == \
        AidBatch.select().where(AidBatch.attachments_sent == True).count() == 1  # noqa: E712


def test_the_centre_fails_with_a_reason_the_unit_fixes_and_resubmits(unit, city):
    insured_last_year(unit, 1)
    registry_unit("SB001", 100)
    batch = central(unit)
    roster(batch, 10)
    attachment_ops.upload(batch, EXPLANATION, "说明.png", png(), unit.account, at=IN_CENTRAL)
    batch = roster_check.submit(batch, unit.account, True, at=IN_CENTRAL)
    centre = city.account("centre")
    with pytest.raises(DomainError, match="须填写原因"):
        attachment_ops.decide(batch, False, centre, "  ")
    failed = attachment_ops.decide(batch, False, centre, "情况说明未加盖公章")
    assert (failed.status, failed.reason) == (ATTACH_FAILED, "情况说明未加盖公章")
    row = AuditLog.for_object(batch).first()
    assert (row.action, row.reason, row.to_state) == ("附件审核不通过", "情况说明未加盖公章", ATTACH_FAILED)
    assert "情况说明未加盖公章" in for_account(unit.account).first().body
    attachment_ops.upload(failed, EXPLANATION, "说明（盖章）.png", png(), unit.account, at=IN_CENTRAL)
    again = roster_check.submit(failed, unit.account, True, at=IN_CENTRAL)
    assert again.status == ATTACH_REVIEW
    assert AuditLog.for_object(batch).offset(1).first().action == "重新提交附件"


def test_an_attachment_is_checked_by_content_and_needs_its_kind(unit):
    batch = central(unit)
    with pytest.raises(DomainError, match="只能是图片"):
        attachment_ops.upload(batch, EXPLANATION, "说明.png", b"not an image", unit.account, at=IN_CENTRAL)
    with pytest.raises(DomainError, match="请选择附件类型"):
        attachment_ops.upload(batch, "别的", "说明.png", png(), unit.account, at=IN_CENTRAL)
    assert BatchAttachment.select().count() == 0


def test_only_the_centre_decides_and_only_the_unit_acts(unit, city):
    batch = central(unit, ATTACH_REVIEW)
    with pytest.raises(DomainError, match="只有上海市职工保障互助会"):
        attachment_ops.decide(batch, True, unit.account)
    other = approved_code(city, 2)
    mine = batch_in(unit, TO_CHECK, kind="即时参保")
    roster(mine, 1)
    for op in (lambda: roster_check.run_check(mine, other.account, at=IN_INSTANT),
               lambda: roster_check.submit(mine, other.account, True, at=IN_INSTANT),
               lambda: attachment_ops.upload(mine, EXPLANATION, "a.png", png(), other.account, at=IN_INSTANT)):
        with pytest.raises(DomainError, match=roster_check.NOT_MINE):
            op()


# --- every state, and the window ----------------------------------------------------------------------
UNIT_OPS = {
    "run_check": (lambda b, a, at: roster_check.run_check(b, a, at=at), (TO_CHECK, CHECK_FAILED)),
    "submit": (lambda b, a, at: roster_check.submit(b, a, True, at=at), (TO_CHECK, CHECK_FAILED, ATTACH_FAILED)),
    "upload": (lambda b, a, at: attachment_ops.upload(b, EXPLANATION, "a.png", png(), a, at=at),
               (TO_CHECK, CHECK_FAILED, ATTACH_FAILED)),
    "confirm": (lambda b, a, at: roster_check.confirm_unmatched(b, a, True, at=at), (TO_CHECK, CHECK_FAILED)),
}


@pytest.mark.parametrize("op", sorted(UNIT_OPS))
@pytest.mark.parametrize("state", BATCH_STATES)
def test_each_unit_operation_in_every_state(unit, op, state):
    """Allowed states act (submit: → 保障项目待选择 or 附件审核中); every other state is refused in
    Chinese naming it, nothing changed."""
    call, allowed = UNIT_OPS[op]
    insured_last_year(unit, 2)
    registry_unit("SB001", 2)
    batch = central(unit, state)
    roster(batch, 1, matched=False)
    roster(batch, 1, start=5)
    before = AuditLog.for_object(batch).count()
    if state not in allowed:
        with pytest.raises(DomainError) as refused:
            call(batch, unit.account, IN_CENTRAL)
        assert f"当前状态为「{state}」" in refused.value.message
        assert AidBatch.get_by_id(batch.id).status == state and AuditLog.for_object(batch).count() == before
        return
    if op == "submit":
        if state == ATTACH_FAILED:  # its roster was confirmed before the attachments went to the centre
            RosterEntry.update(registry_matched=True).where(RosterEntry.batch == batch.id).execute()
        else:
            roster_check.confirm_unmatched(batch, unit.account, True, at=IN_CENTRAL)
        moved = call(batch, unit.account, IN_CENTRAL)
        assert moved.status == (ATTACH_REVIEW if state == ATTACH_FAILED else CHOOSE_ITEMS)
    else:
        call(batch, unit.account, IN_CENTRAL)
        assert AuditLog.for_object(batch).count() > before


@pytest.mark.parametrize("state", BATCH_STATES)
@pytest.mark.parametrize("approve", [True, False])
def test_the_centres_decision_in_every_state_and_after_the_window(unit, city, state, approve):
    batch = central(unit, state)
    if state != ATTACH_REVIEW:
        with pytest.raises(DomainError, match=f"当前状态为「{state}」"):
            attachment_ops.decide(batch, approve, city.account("centre"), "原因")
        assert AidBatch.get_by_id(batch.id).status == state
        return
    # The review is the centre's: it goes on after the units' window has closed (the test runs in
    # December, long after the 2026 centralized window).
    moved = attachment_ops.decide(batch, approve, city.account("centre"), "原因")
    assert moved.status == (CHOOSE_ITEMS if approve else ATTACH_FAILED)


@pytest.mark.parametrize("op", sorted(UNIT_OPS))
def test_the_units_operations_need_the_window(unit, op):
    call, _ = UNIT_OPS[op]
    batch = central(unit)
    roster(batch, 1, matched=False)
    before = AuditLog.for_object(batch).count()
    with pytest.raises(DomainError, match="2026年度集中参保已结束"):
        call(batch, unit.account, AFTER)
    assert AidBatch.get_by_id(batch.id).status == TO_CHECK and AuditLog.for_object(batch).count() == before
    # an instant batch of the same year is inside its own window then
    instant = batch_in(unit, TO_CHECK, kind="即时参保")
    assert roster_check.report(instant, IN_INSTANT.date()).on == date(2026, 8, 4)


# --- races and the constraint -------------------------------------------------------------------------
def test_two_submits_at_once_leave_one_and_the_centre_decides_once(committed):
    city = factories.make_city()
    code = approved_code(city, 1)
    insured_last_year(code, 2)
    batch = central(code)
    roster(batch, 2)
    outcomes = race(*[lambda: roster_check.submit(batch, code.account, True, at=IN_CENTRAL)] * 2)
    assert sorted(outcomes) == sorted(["ok", STALE])
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS
    assert [r.action for r in AuditLog.for_object(batch)].count("清册提交") == 1
    review = central(approved_code(city, 2), ATTACH_REVIEW)
    centre = city.account("centre")
    outcomes = race(lambda: attachment_ops.decide(review, True, centre),
                    lambda: attachment_ops.decide(review, False, centre, "原因"))
    assert sorted(outcomes) == sorted(["ok", STALE])
    assert AidBatch.get_by_id(review.id).status in (CHOOSE_ITEMS, ATTACH_FAILED)


def test_one_confirmation_per_batch_is_the_databases_rule(unit):
    batch = central(unit)
    RosterConfirmation.create(batch=batch.id, digest="x", people=1)
    with pytest.raises(pw.IntegrityError), db.atomic():
        RosterConfirmation.create(batch=batch.id, digest="y", people=2)
    assert RosterConfirmation.select().count() == 1
