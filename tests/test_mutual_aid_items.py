"""保障项目选择 → 生成保费信息 → 提交确认保费 (issue 18 item 7, spec 70, seed 004): the combination rules
at every edge, premiums with the manual's prices (A0 only for 职保 people, 190 → 180 for A0+B0+C0
over a full year, the half-year prices from a 1 Jan start with no discount), the instant batch of a
unit that enrolled centrally keeping its items, the (state, action) pairs and the window, the
totals equal to the sum of the people (a property test), and the 免责期 written on the coverage."""

from datetime import date, datetime, timedelta

import peewee as pw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.mutual_aid import batch_ops, premium_ops, years
from models.mutual_aid.batches import (
    AWAIT_VOUCHER,
    BATCH_STATES,
    CHOOSE_ITEMS,
    INSURED,
    VOUCHER_REVIEW,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.premiums import BatchCoverage, BatchItem
from models.rules import mutual_fees
from tests import factories
from tests.factories.mutual_aid import IN_CENTRAL, IN_INSTANT, aid_year, approved_code, batch_in, roster_of
from tests.helpers import race

ZHIBAO = {"employment": "在职"}
ZHIBAO_BY_TEMPLATE = {"employment": "-", "has_social_insurance": True}  # 是否有社保 = 是
NOT_ZHIBAO = {"employment": "-", "has_social_insurance": False}
RETIREE = {"employment": "退休", "has_social_insurance": True}  # (清册校验 removes them; never A0)


def central(city, n=1, people=(ZHIBAO,)):
    aid_year()
    code = approved_code(city, n)
    batch = batch_in(code, CHOOSE_ITEMS)
    AidBatch.update(submitted_at=datetime(2026, 6, 9, 15, 0)).where(AidBatch.id == batch.id).execute()
    roster_of(batch, list(people))
    return AidBatch.get_by_id(batch.id)


def instant(city, submitted: datetime, n=2, people=(ZHIBAO,), code=None):
    aid_year()
    code = code or approved_code(city, n)
    batch = batch_in(code, CHOOSE_ITEMS, kind=years.INSTANT)
    AidBatch.update(submitted_at=submitted).where(AidBatch.id == batch.id).execute()
    roster_of(batch, list(people))
    return AidBatch.get_by_id(batch.id)


def generate(batch, codes, at=IN_CENTRAL):
    return premium_ops.generate(batch, codes, batch.code.account, at=at)


def premiums(batch):
    return [e.premium for e in RosterEntry.select().where(RosterEntry.batch == batch.id).order_by(RosterEntry.id)]


# --- the combination rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("codes, message", [
    ([], "基本保障项目A0、B0、C0至少选1种"),
    (["A1"], "须在基本保障项目A0、B0或C0的基础上参保"),
    (["A1", "B2", "C3"], "须在基本保障项目A0、B0或C0的基础上参保"),
    (["A0", "A1", "A2"], "A1、A2、A3至多选1种（已选A1、A2）"),
    (["B0", "B1", "B3"], "B1、B2、B3至多选1种（已选B1、B3）"),
    (["C0", "C2", "C3"], "C1、C2、C3至多选1种（已选C2、C3）"),
    (["A0", "A0"], "每个保障项目只能参保一份"),
    (["A0", "D1"], "未知的保障项目：D1"),
])
def test_a_refused_combination_names_the_rule_and_stores_nothing(city, codes, message):
    batch = central(city)
    with pytest.raises(DomainError, match=message) as refused:
        generate(batch, codes)
    assert refused.value.status == 422
    assert not BatchItem.select().exists() and not BatchCoverage.select().exists()
    assert premiums(batch) == [0] and AidBatch.get_by_id(batch.id).premium_total == 0


@pytest.mark.parametrize("codes", [["A0"], ["B0"], ["C0"], ["C0", "A1"], ["B0", "B3"], ["A0", "B0", "C0"],
                                   ["A0", "A3", "B0", "B3", "C0", "C3"], ["C0", "A2", "B1", "C1"]])
def test_allowed_combinations_are_stored_in_the_fee_tables_order(city, codes):
    batch = central(city)
    generate(batch, list(reversed(codes)))
    assert premium_ops.chosen_items(batch) == tuple(c for c in mutual_fees.CODES if c in codes)


def test_an_item_is_stored_once_per_batch_a_database_constraint(city):
    batch = central(city)
    generate(batch, ["A0", "B0"])
    with pytest.raises(pw.IntegrityError), db.atomic():
        BatchItem.insert(batch=batch.id, code="A0").execute()


# --- premiums ----------------------------------------------------------------------------------------
def test_a0_is_charged_only_for_zhibao_people_and_a0_b0_c0_costs_180_over_a_full_year(city):
    batch = central(city, people=[ZHIBAO, ZHIBAO_BY_TEMPLATE, NOT_ZHIBAO, RETIREE])
    batch = generate(batch, ["A0", "B0", "C0"])
    # 在职 and 是否有社保 = 是: 120 + 55 + 15 − 10 = 180; outside 职保: B0 + C0 = 70, no discount.
    assert premiums(batch) == [18000, 18000, 7000, 7000]
    assert batch.premium_total == 50000
    assert premium_ops.class_counts(batch) == {True: 2, False: 2}
    cover = premium_ops.coverage_row(batch)
    assert (cover.starts, cover.ends, cover.half, cover.people) == (date(2026, 7, 1), date(2027, 6, 30), False, 4)


def test_enhanced_items_add_their_full_prices_and_outside_zhibao_still_pay_a1(city):
    batch = central(city, people=[ZHIBAO, NOT_ZHIBAO])
    batch = generate(batch, ["A0", "A1", "B0", "B2", "C0", "C3"])
    # 180 + 135 + 235 + 225 = 775; outside 职保: 135 + 55 + 235 + 15 + 225 = 665.
    assert premiums(batch) == [77500, 66500] and batch.premium_total == 144000
    totals = {code: (n, fen) for code, _label, n, fen in premium_ops.item_totals(batch)}
    assert totals["A0"] == (1, 12000) and totals["A1"] == (2, 27000) and totals[mutual_fees.DISCOUNT_LINE] == (1, -1000)
    assert sum(fen for n, fen in totals.values()) == batch.premium_total


def test_without_all_three_basic_items_there_is_no_discount(city):
    batch = generate(central(city, people=[ZHIBAO]), ["A0", "B0"])
    assert premiums(batch) == [17500]


@pytest.mark.parametrize("submitted, start, half, fee", [
    (datetime(2026, 7, 1, 9), date(2026, 7, 2), False, 18000),  # 1 Jul – 31 Dec: full year, 180
    (datetime(2026, 12, 30, 9), date(2026, 12, 31), False, 18000),
    (datetime(2026, 12, 31, 9), date(2027, 1, 1), True, 9500),  # from 1 Jan: 60 + 27.5 + 7.5, no discount
    (datetime(2027, 6, 28, 9), date(2027, 6, 29), True, 9500),
])
def test_instant_enrollment_from_1_january_pays_the_half_prices_without_discount(city, submitted, start, half, fee):
    batch = instant(city, submitted, people=[ZHIBAO, NOT_ZHIBAO])
    batch = generate(batch, ["A0", "B0", "C0"], at=submitted)
    cover = premium_ops.coverage_row(batch)
    assert (cover.starts, cover.ends, cover.half) == (start, date(2027, 6, 30), half)
    other = 3500 if half else 7000  # B0 + C0
    assert premiums(batch) == [fee, other] and batch.premium_total == fee + other


def test_half_year_enhanced_prices_are_the_manuals(city):
    batch = instant(city, datetime(2027, 2, 1, 9), people=[ZHIBAO])
    batch = generate(batch, ["A0", "A1", "B0", "B2", "C0", "C3"], at=datetime(2027, 2, 2, 9))
    assert premiums(batch) == [6000 + 6750 + 2750 + 11750 + 750 + 11250]  # 60+67.5+27.5+117.5+7.5+112.5


def test_the_years_prices_and_combo_fee_are_used(city):
    batch = central(city, people=[ZHIBAO])
    years.AidItem.update(full_fee=13000).where((years.AidItem.year == batch.year_id)
                                               & (years.AidItem.code == "A0")).execute()
    years.AidYear.update(basic_combo_fee=18500).where(years.AidYear.id == batch.year_id).execute()
    batch = generate(AidBatch.get_by_id(batch.id), ["A0", "B0", "C0", "C1"])
    assert premiums(batch) == [18500 + 4000]  # the year's 185 for A0+B0+C0, plus C1


def test_removed_people_pay_nothing_and_are_not_counted(city):
    batch = central(city, people=[ZHIBAO, {**ZHIBAO, "active": False}])
    batch = generate(batch, ["A0"])
    assert premiums(batch) == [12000, 0] and batch.premium_total == 12000


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from([ZHIBAO, ZHIBAO_BY_TEMPLATE, NOT_ZHIBAO, RETIREE]), min_size=0, max_size=12),
       basics=st.sets(st.sampled_from(mutual_fees.BASIC), min_size=1),
       enhanced=st.fixed_dictionaries({k: st.sampled_from(["", "1", "2", "3"]) for k in "ABC"}),
       day=st.dates(min_value=date(2026, 7, 1), max_value=date(2027, 6, 28)))
def test_property_the_total_is_the_sum_of_the_peoples_premiums(city, kinds, basics, enhanced, day):
    with db.atomic() as inner:
        codes = sorted(basics) + [k + v for k, v in enhanced.items() if v]
        submitted = datetime.combine(day, datetime.min.time()).replace(hour=10)
        batch = instant(city, submitted, n=3, people=kinds)
        batch = generate(batch, codes, at=submitted)
        rows = list(RosterEntry.select().where(RosterEntry.batch == batch.id))
        assert batch.premium_total == sum(e.premium for e in rows)
        half = (day + timedelta(days=1)).month <= 6
        pairs = [(e.employment == "在职" or (e.employment != "退休" and e.has_social_insurance), half) for e in rows]
        assert batch.premium_total == mutual_fees.batch_total(pairs, codes)
        assert sum(fen for *_rest, fen in premium_ops.item_totals(batch)) == batch.premium_total
        inner.rollback()


# --- the instant batch of a unit that enrolled centrally -----------------------------------------------
@pytest.mark.parametrize("central_state, locked", [(CHOOSE_ITEMS, False), (AWAIT_VOUCHER, True),
                                                    (VOUCHER_REVIEW, True), (INSURED, True)])
def test_instant_enrollment_keeps_the_centralized_items(city, central_state, locked):
    first = central(city)
    generate(first, ["A0", "B0"])
    AidBatch.update(status=central_state).where(AidBatch.id == first.id).execute()
    batch = instant(city, datetime(2026, 8, 1, 9), code=first.code)
    assert premium_ops.central_items(batch) == (("A0", "B0") if locked else None)
    if locked:
        with pytest.raises(DomainError, match=r"须与集中参保一致（A0、B0），不可更改"):
            generate(batch, ["A0", "B0", "C0"], at=IN_INSTANT)
        assert not BatchItem.select().where(BatchItem.batch == batch.id).exists()
    else:
        generate(batch, ["A0", "B0", "C0"], at=IN_INSTANT)
    batch = generate(AidBatch.get_by_id(batch.id), ["A0", "B0"], at=IN_INSTANT)
    assert premium_ops.chosen_items(batch) == ("A0", "B0")


def test_another_units_centralized_items_do_not_lock(city):
    first = central(city, n=1)
    generate(first, ["A0"])
    AidBatch.update(status=INSURED).where(AidBatch.id == first.id).execute()
    batch = instant(city, datetime(2026, 8, 1, 9), n=2)
    assert premium_ops.central_items(batch) is None


# --- states, window, confirmation ------------------------------------------------------------------
@pytest.mark.parametrize("state", BATCH_STATES)
def test_items_and_premiums_only_in_choose_items(city, state):
    batch = central(city)
    AidBatch.update(status=state).where(AidBatch.id == batch.id).execute()
    batch = AidBatch.get_by_id(batch.id)
    if state == CHOOSE_ITEMS:
        generate(batch, ["A0"])
        moved = premium_ops.confirm(AidBatch.get_by_id(batch.id), batch.code.account, 12000, at=IN_CENTRAL)
        assert moved.status == AWAIT_VOUCHER
        return
    for call in (lambda: generate(batch, ["A0"]),
                 lambda: premium_ops.confirm(batch, batch.code.account, 0, at=IN_CENTRAL)):
        with pytest.raises(DomainError, match=f"当前状态为「{state}」") as refused:
            call()
        assert refused.value.status == 409
    assert AidBatch.get_by_id(batch.id).status == state and not BatchItem.select().exists()
    assert premiums(batch) == [0]


def test_outside_the_window_nothing_is_chosen_or_confirmed_unless_extended(city):
    batch = central(city)
    with pytest.raises(DomainError, match="保障项目选择只能在办理期间进行：2026年度集中参保已结束"):
        generate(batch, ["A0"], at=IN_INSTANT)
    generate(batch, ["A0"])
    with pytest.raises(DomainError, match="办理期间"):
        premium_ops.confirm(batch, batch.code.account, 12000, at=IN_INSTANT)
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS
    window = years.AidWindow.get((years.AidWindow.year == batch.year_id) & (years.AidWindow.kind == years.CENTRAL))
    years.extend_window(window, batch.code, datetime(2026, 8, 31, 23, 59), None, "补办")
    assert premium_ops.confirm(AidBatch.get_by_id(batch.id), batch.code.account, 12000,
                               at=IN_INSTANT).status == AWAIT_VOUCHER


def test_only_the_codes_own_account_chooses(city):
    batch = central(city)
    other = approved_code(city, 5).account
    with pytest.raises(DomainError, match="只能为本账号的参保批次选择保障项目") as refused:
        premium_ops.generate(batch, ["A0"], other, at=IN_CENTRAL)
    assert refused.value.status == 403
    with pytest.raises(DomainError, match="只能为本账号"):
        premium_ops.confirm(batch, city.account("centre"), 0, at=IN_CENTRAL)


def test_confirm_moves_to_await_voucher_with_the_moment_and_the_deadline(city):
    batch = central(city, people=[ZHIBAO, NOT_ZHIBAO])
    with pytest.raises(DomainError, match="请先勾选保障项目并点击【生成保费信息】"):
        premium_ops.confirm(batch, batch.code.account, 0, at=IN_CENTRAL)
    batch = generate(batch, ["A0", "B0", "C0"])
    with pytest.raises(DomainError, match="保费信息已变化"):
        premium_ops.confirm(batch, batch.code.account, 18000, at=IN_CENTRAL)
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS
    at = datetime(2026, 6, 20, 11, 0)
    moved = premium_ops.confirm(batch, batch.code.account, 25000, at=at)
    assert (moved.status, moved.premium_confirmed_at, moved.premium_total) == (AWAIT_VOUCHER, at, 25000)
    log = AuditLog.select().where((AuditLog.object_type == "AidBatch") & (AuditLog.object_id == batch.id)
                                  & (AuditLog.action == "提交确认保费")).get()
    assert (log.from_state, log.to_state) == (CHOOSE_ITEMS, AWAIT_VOUCHER)
    # Submitted 9 June, confirmed 20 June: the later of +15 days each.
    assert premium_ops.payment_deadline(moved) == date(2026, 7, 5)
    AidBatch.update(premium_confirmed_at=datetime(2026, 6, 10, 8)).where(AidBatch.id == batch.id).execute()
    assert premium_ops.payment_deadline(AidBatch.get_by_id(batch.id)) == date(2026, 6, 25)


def test_a_roster_changed_after_generating_must_be_generated_again(city):
    batch = generate(central(city, people=[ZHIBAO]), ["A0"])
    roster_of(batch, [ZHIBAO])  # (a withdraw → 清册 → back would do this)
    with pytest.raises(DomainError, match="保费信息已变化"):
        premium_ops.confirm(batch, batch.code.account, 12000, at=IN_CENTRAL)
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS
    batch = generate(batch, ["A0"])
    assert premium_ops.confirm(batch, batch.code.account, 24000, at=IN_CENTRAL).status == AWAIT_VOUCHER


def test_withdrawing_to_choose_items_keeps_the_ticks_for_a_new_choice(city):
    batch = generate(central(city), ["A0", "C0"])
    batch = premium_ops.confirm(batch, batch.code.account, batch.premium_total, at=IN_CENTRAL)
    from_items = batch_withdraw(batch)
    assert from_items.status == CHOOSE_ITEMS and premium_ops.chosen_items(from_items) == ("A0", "C0")
    batch = generate(from_items, ["A0", "B0", "C0"])
    assert batch.premium_total == 18000


def batch_withdraw(batch):
    return batch_ops.withdraw(batch, "withdraw_items", batch.code.account, "漏选保障项目", at=IN_CENTRAL)


# --- 免责期 --------------------------------------------------------------------------------------------
def test_instant_waiting_periods_are_written_per_item_and_centralized_has_none(city):
    batch = generate(instant(city, datetime(2026, 8, 2, 9)), ["A0", "A1", "B0", "C0"], at=IN_INSTANT)
    rows = {r.code: (r.waiting_days, r.covered_from, r.fee) for r in premium_ops.item_rows(batch)}
    assert rows == {"A0": (30, date(2026, 9, 2), 12000), "A1": (30, date(2026, 9, 2), 13500),
                    "B0": (60, date(2026, 10, 2), 5500), "C0": (0, date(2026, 8, 3), 1500)}
    notes = premium_ops.waiting_notes(batch)
    assert notes["A0"] == "住院基本保障A0及附加疾病身故保障执行30天免责期，自2026-09-02起保障"
    assert "因意外伤害事故住院不执行免责期" in notes["A1"] and notes["C0"].startswith("意外伤害保障C0无免责期")
    first = generate(central(city, n=7), ["A0", "B0"])
    assert {r.waiting_days for r in premium_ops.item_rows(first)} == {0}
    assert set(premium_ops.waiting_notes(first).values()) == {"集中参保，无免责期"}


# --- races ----------------------------------------------------------------------------------------------
def test_two_confirms_at_once_one_moves(committed):
    city = factories.make_city()
    batch = generate(central(city), ["A0"])
    account = batch.code.account
    outcomes = race(lambda: premium_ops.confirm(AidBatch.get_by_id(batch.id), account, 12000, at=IN_CENTRAL),
                    lambda: premium_ops.confirm(AidBatch.get_by_id(batch.id), account, 12000, at=IN_CENTRAL))
    assert outcomes.count("ok") == 1, outcomes
    assert AidBatch.get_by_id(batch.id).status == AWAIT_VOUCHER
    assert AuditLog.select().where((AuditLog.object_id == batch.id) & (AuditLog.action == "提交确认保费")).count() == 1


def test_two_generates_at_once_leave_one_consistent_choice(committed):
    city = factories.make_city()
    batch = central(city, people=[ZHIBAO, NOT_ZHIBAO])
    account = batch.code.account
    outcomes = race(lambda: premium_ops.generate(AidBatch.get_by_id(batch.id), ["A0", "B0", "C0"], account,
                                                 at=IN_CENTRAL),
                    lambda: premium_ops.generate(AidBatch.get_by_id(batch.id), ["C0"], account, at=IN_CENTRAL))
    assert outcomes == ["ok", "ok"]
    batch = AidBatch.get_by_id(batch.id)
    items = premium_ops.chosen_items(batch)
    assert items in (("A0", "B0", "C0"), ("C0",))
    assert batch.premium_total == sum(premiums(batch)) == (25000 if len(items) == 3 else 3000)


def test_a_batch_total_past_32_bits_is_kept(city):
    # 50,000 people at the richest items (A0+A3+B3+C3 = 1,135 − 10 元) are 5,625,000,000 fen.
    batch = central(city)
    AidBatch.update(premium_total=50_000 * 112_500).where(AidBatch.id == batch.id).execute()
    assert AidBatch.get_by_id(batch.id).premium_total == 5_625_000_000


def test_an_instant_batch_without_its_roster_submission_has_no_start_yet(city):
    batch = instant(city, datetime(2026, 8, 2, 9))
    AidBatch.update(submitted_at=None).where(AidBatch.id == batch.id).execute()
    with pytest.raises(DomainError, match="即时参保须在提交正式参保名单后才能确定起保日"):
        generate(AidBatch.get_by_id(batch.id), ["A0"], at=IN_INSTANT)
    assert not BatchItem.select().exists()
