"""参保批次 and 清册 (issue 18 item 9, spec 70, seed 004): the protection year's settings, creating
a batch (经办人 first, the window, no second centralized batch), the batch workflow over every
pair (and its bulk form), 批次撤回 with its two choices, 批次删除 only in 清册待校验 / 清册校验不通过,
and one ID number insured at most once per protection year across all units — the refusal naming
the holding unit and its handler, a database constraint on both databases and a two-thread race."""

from datetime import date, datetime

import peewee as pw
import pytest

from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.mutual_aid import batch_ops, roster_ops, years
from models.mutual_aid.batches import (
    AWAIT_VOUCHER,
    CHECK_FAILED,
    CHOOSE_ITEMS,
    INSURED,
    TO_CHECK,
    VOUCHER_REVIEW,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.handler_ops import HANDLER_REQUIRED
from tests import factories
from tests.factories.mutual_aid import IN_CENTRAL, IN_INSTANT, aid_year, approved_code, batch_in, person
from tests.helpers import race
from tests.workflow_helpers import check_bulk_stale_refused, check_every_pair, check_stale_object_refused


def test_a_protection_year_runs_1_july_to_30_june_with_seed_004s_settings():
    year = aid_year(2026)
    assert (year.starts, year.ends) == (date(2026, 7, 1), date(2027, 6, 30))
    assert (year.account_name, year.account_no, year.bank) == ("上海市职工保障互助会", "31602300008022150",
                                                               "上海银行人民广场支行")
    prices = {i.code: (i.full_fee, i.half_fee) for i in years.items_of(year)}
    assert prices["A0"] == (12000, 6000) and prices["A1"] == (13500, 6750) and prices["C3"] == (22500, 11250)
    assert sum(prices[c][0] for c in ("A0", "B0", "C0")) == 19000 and year.basic_combo_fee == 18000
    central = years.window_state(year, years.CENTRAL, at=datetime(2026, 6, 30, 23, 59))
    assert central.open and central.dates == "2026-06-01 00:00 至 2026-06-30 23:59"
    closed = years.window_state(year, years.CENTRAL, at=datetime(2026, 7, 1, 0, 0))
    assert not closed.open
    assert closed.reason == "2026年度集中参保已结束（开放时间：2026-06-01 00:00 至 2026-06-30 23:59）"
    # The instant window ends 29 June: a roster submitted on 30 June would be covered from 1 July,
    # the next year (models/rules/mutual_year.reference_windows).
    assert years.window_state(year, years.INSTANT, at=datetime(2027, 6, 29, 23, 59)).open
    assert not years.window_state(year, years.INSTANT, at=datetime(2027, 6, 30, 12, 0)).open
    # Centralized enrollment in June enrolls the year starting 1 July; instant the year running.
    assert years.year_of(date(2026, 6, 10), years.CENTRAL) == 2026
    assert years.year_of(date(2027, 3, 1), years.INSTANT) == 2026
    assert years.year_of(date(2026, 7, 1), years.INSTANT) == 2026
    with pytest.raises(DomainError, match="2026年度互助保障已存在"):
        years.create_year(2026)


def test_a_batch_needs_an_approved_code_of_the_account_and_its_handler(city):
    aid_year()
    code = approved_code(city, 1, handler=False)
    with pytest.raises(DomainError) as refused:
        batch_ops.create_batch(code, years.CENTRAL, code.account, at=IN_CENTRAL)
    assert refused.value.message == HANDLER_REQUIRED and "经办人" in HANDLER_REQUIRED
    other = approved_code(city, 2)
    with pytest.raises(DomainError, match="不属于本账号"):
        batch_ops.create_batch(other, years.CENTRAL, code.account, at=IN_CENTRAL)
    with pytest.raises(DomainError, match="集中参保已结束"):
        batch_ops.create_batch(other, years.CENTRAL, other.account, at=IN_INSTANT)
    batch = batch_ops.create_batch(other, years.CENTRAL, other.account, at=IN_CENTRAL)
    assert (batch.status, batch.kind, batch.year.year) == (TO_CHECK, years.CENTRAL, 2026)
    assert batch_ops.find_code(other.account, other.code.lower(), other.unit_name).id == other.id
    with pytest.raises(DomainError, match="不匹配"):
        batch_ops.find_code(other.account, other.code, "别的单位")


def test_no_second_centralized_batch_per_code_and_year(city):
    aid_year()
    code = approved_code(city, 1)
    first = batch_ops.create_batch(code, years.CENTRAL, code.account, at=IN_CENTRAL)
    with pytest.raises(DomainError, match=r"已有集中参保批次（清册待校验），请在该批次中继续办理"):
        batch_ops.create_batch(code, years.CENTRAL, code.account, at=IN_CENTRAL)
    AidBatch.update({AidBatch.status: INSURED}).where(AidBatch.id == first.id).execute()
    with pytest.raises(DomainError, match="集中参保已办理完毕，不能再次办理集中参保；遗漏的职工请通过即时参保办理"):
        batch_ops.create_batch(code, years.CENTRAL, code.account, at=IN_CENTRAL)
    # Forgotten people go through instant enrollment, as many batches as needed.
    batch_ops.create_batch(code, years.INSTANT, code.account, at=IN_INSTANT)
    batch_ops.create_batch(code, years.INSTANT, code.account, at=IN_INSTANT)
    # The rule is the database's: a direct insert fails on both databases.
    with pytest.raises(pw.IntegrityError), db.atomic():
        AidBatch.create(code=code.id, year=first.year_id, kind=years.CENTRAL)
    assert AidBatch.select().where(AidBatch.kind == years.CENTRAL).count() == 1


def test_two_pages_starting_the_centralized_batch_at_once_leave_one(committed):
    city = factories.make_city()
    aid_year()
    code = approved_code(city, 1)
    outcomes = race(*[lambda: batch_ops.create_batch(code, years.CENTRAL, code.account, at=IN_CENTRAL)] * 2)
    assert outcomes.count("ok") == 1, outcomes
    assert "已有集中参保批次" in [o for o in outcomes if o != "ok"][0]
    assert AidBatch.select().count() == 1


def _maker(city):
    code = approved_code(city, 1)
    year = aid_year()

    def make(state):
        return batch_in(code, state, kind=years.INSTANT, year=year)
    return make


def test_the_batch_workflow_every_pair(city):
    allowed, forbidden = check_every_pair(AidBatch, _maker(city), account=city.account("centre"), reason="附件不清晰")
    assert (allowed, forbidden) == (14, 8 * 12 - 14)


def test_the_batch_workflow_every_pair_in_bulk(city):
    """The centre's voucher review moves all the batches one voucher pays at once."""
    allowed, _ = check_every_pair(AidBatch, _maker(city), account=city.account("centre"), reason="金额不符", bulk=True)
    assert allowed == 14


def test_a_stale_page_is_refused(city):
    make = _maker(city)
    check_stale_object_refused(make(AWAIT_VOUCHER), "upload_voucher", moved_by_other_to=TO_CHECK)
    reviewing = [make(VOUCHER_REVIEW), make(VOUCHER_REVIEW)]
    check_bulk_stale_refused(reviewing, "write_off", moved_by_other_to=AWAIT_VOUCHER)


def test_withdraw_with_a_reason_and_one_of_the_two_choices_while_the_window_is_open(city):
    code = approved_code(city, 1)
    year = aid_year()
    batch = batch_in(code, AWAIT_VOUCHER, year=year)
    with pytest.raises(DomainError, match="请选择重新整理清册或重新选择保障项目"):
        batch_ops.withdraw(batch, "withdraw", code.account, "漏选项目", at=IN_CENTRAL)
    with pytest.raises(DomainError, match="须填写原因"):
        batch_ops.withdraw(batch, "withdraw_items", code.account, " ", at=IN_CENTRAL)
    with pytest.raises(DomainError, match="批次撤回只能在办理期间进行：2026年度集中参保已结束"):
        batch_ops.withdraw(batch, "withdraw_items", code.account, "漏选项目", at=IN_INSTANT)
    moved = batch_ops.withdraw(batch, "withdraw_items", code.account, "漏选项目", at=IN_CENTRAL)
    assert (moved.status, moved.reason) == (CHOOSE_ITEMS, "漏选项目")
    again = batch_ops.withdraw(batch_in(code, AWAIT_VOUCHER, kind=years.INSTANT, year=year), "withdraw_roster",
                               code.account, "有人已离职", at=IN_INSTANT)
    assert again.status == TO_CHECK
    with pytest.raises(DomainError, match="当前状态为「缴费凭证审核中」"):
        batch_ops.withdraw(batch_in(code, VOUCHER_REVIEW, kind=years.INSTANT, year=year), "withdraw_roster",
                           code.account, "凭证已传", at=IN_INSTANT)


@pytest.mark.parametrize("state", [TO_CHECK, CHECK_FAILED])
def test_delete_takes_the_batch_and_its_people_in_the_two_editable_states(city, state):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [person(1), person(2)], code.account)
    AidBatch.update({AidBatch.status: state}).where(AidBatch.id == batch.id).execute()
    batch = AidBatch.get_by_id(batch.id)
    assert batch_ops.delete_batch(batch, code.account) == 2
    assert not AidBatch.select().where(AidBatch.id == batch.id).exists()
    assert RosterEntry.select().count() == 0
    log = AuditLog.get((AuditLog.object_type == "AidBatch") & (AuditLog.action == "批次删除"))
    assert (log.object_id, log.from_state) == (batch.id, state)
    # The people are free again: another batch of the year may take them.
    roster_ops.add_entries(batch_in(code, TO_CHECK, kind=years.INSTANT), [person(1)], code.account)


@pytest.mark.parametrize("state", ["附件审核中", CHOOSE_ITEMS, AWAIT_VOUCHER, INSURED])
def test_delete_is_refused_in_every_other_state(city, state):
    code = approved_code(city, 1)
    batch = batch_in(code, state)
    refusal = f"当前状态为「{state}」，只有「清册待校验」「清册校验不通过」状态的批次可以删除"
    with pytest.raises(DomainError, match=refusal):
        batch_ops.delete_batch(batch, code.account)
    assert AidBatch.select().where(AidBatch.id == batch.id).exists()


def test_delete_of_a_batch_moved_meanwhile_is_refused(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    AidBatch.update({AidBatch.status: CHOOSE_ITEMS}).where(AidBatch.id == batch.id).execute()
    with pytest.raises(DomainError, match="已被他人修改"):
        batch_ops.delete_batch(batch, code.account)
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS


def test_an_extension_keeps_the_window_open_for_that_code_only(city):
    year = aid_year()
    late, other = approved_code(city, 1), approved_code(city, 2)
    window = years.AidWindow.get((years.AidWindow.year == year.id) & (years.AidWindow.kind == years.CENTRAL))
    with pytest.raises(DomainError, match="请填写延长原因"):
        years.extend_window(window, late, datetime(2026, 7, 5, 23, 59), city.account("admin"), "")
    years.extend_window(window, late, datetime(2026, 7, 5, 23, 59), city.account("admin"), "系统故障补办")
    years.extend_window(window, late, datetime(2026, 7, 8, 23, 59), city.account("admin"), "再延三天")
    at = datetime(2026, 7, 6, 9, 0)
    assert batch_ops.create_batch(late, years.CENTRAL, late.account, at=at).year.year == 2026
    with pytest.raises(DomainError, match="集中参保已结束"):
        batch_ops.create_batch(other, years.CENTRAL, other.account, at=at)
