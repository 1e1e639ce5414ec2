"""在职职工互助保障 rules (models/rules/mutual_*.py) with seed 004's figures: the protection year and
its windows, items and their combinations, premiums in fen, waiting periods, the payment deadline
and the roster validation rules at their edges (issue 18 item 6)."""

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules import mutual_fees as mf
from models.rules import mutual_roster as mr
from models.rules import mutual_year as my
from models.rules.fees import yuan

ZB, NOT_ZB = True, False


# --- the protection year and its windows -----------------------------------------------------------
@pytest.mark.parametrize("day,year", [
    (date(2023, 7, 1), 2023), (date(2023, 12, 31), 2023), (date(2024, 1, 1), 2023), (date(2024, 6, 30), 2023),
    (date(2023, 6, 30), 2022), (date(2023, 6, 1), 2022), (date(2024, 7, 1), 2024),
])
def test_the_protection_year_runs_1_july_to_30_june(day, year):
    assert my.protection_year_of(day) == year
    assert my.year_start(year) <= day <= my.year_end(year)


def test_the_year_is_named_as_the_handbook_names_it():
    # Seed 004 (2023 handbook): 集中参保 "自2023年7月1日零时起至2024年6月30日24时止", compared with "2022年度参保人数".
    assert (my.year_start(2023), my.year_end(2023)) == (date(2023, 7, 1), date(2024, 6, 30))
    assert my.year_label(2023) == "2023年度"
    assert my.year_span(2023) == "2023-07-01至2024-06-30"


def test_reference_windows_and_settings():
    windows = my.reference_windows(2023)
    assert windows[my.CENTRALIZED] == (date(2023, 6, 1), date(2023, 6, 30))  # "2023年6月1日零时起至6月30日24时止"
    assert windows[my.INSTANT] == (date(2023, 7, 1), date(2024, 6, 29))  # "2023年7月1日零时起"
    settings = my.reference_settings(2023)
    assert (settings["account_name"], settings["account_no"], settings["bank"]) == (
        "上海市职工保障互助会", "31602300008022150", "上海银行人民广场支行")
    assert settings["prices"]["A0"] == (12000, 6000)
    assert settings["bundle_discount"] == 1000 and settings["payment_days"] == 15
    assert settings["windows"] == windows


def test_coverage_centralized_is_the_whole_year():
    assert my.coverage(my.CENTRALIZED, 2023) == (date(2023, 7, 1), date(2024, 6, 30))


@pytest.mark.parametrize("submitted,start", [
    (date(2023, 7, 1), date(2023, 7, 2)), (date(2023, 12, 31), date(2024, 1, 1)),
    (date(2024, 2, 28), date(2024, 2, 29)), (date(2024, 6, 29), date(2024, 6, 30)),
])
def test_instant_coverage_starts_the_day_after_the_roster_is_submitted(submitted, start):
    assert my.coverage(my.INSTANT, 2023, submitted) == (start, date(2024, 6, 30))


@pytest.mark.parametrize("submitted", [date(2024, 6, 30), date(2023, 6, 30), date(2023, 6, 1)])
def test_instant_coverage_outside_the_year_is_refused(submitted):
    with pytest.raises(my.CoverageError, match="不在2023年度即时参保保障期内"):
        my.coverage(my.INSTANT, 2023, submitted)


def test_instant_coverage_needs_the_submission_day():
    with pytest.raises(my.CoverageError, match="提交正式参保名单"):
        my.coverage(my.INSTANT, 2023)


@pytest.mark.parametrize("kind,start,half", [
    (my.INSTANT, date(2023, 7, 2), False), (my.INSTANT, date(2023, 12, 31), False),
    (my.INSTANT, date(2024, 1, 1), True), (my.INSTANT, date(2024, 6, 30), True),
    (my.CENTRALIZED, date(2023, 7, 1), False),
])
def test_half_year_prices_for_instant_starts_from_1_january(kind, start, half):
    assert my.is_half_year(kind, start) is half
    assert my.period_label(kind, start) == ("半年" if half else "全年")


# --- items and prices -------------------------------------------------------------------------------
TABLE = [  # seed 004: 一览表 (yuan/人) and the instant half-year table
    ("A0", "120", "60"), ("A1", "135", "67.5"), ("A2", "230", "115"), ("A3", "330", "165"),
    ("B0", "55", "27.5"), ("B1", "100", "50"), ("B2", "235", "117.5"), ("B3", "460", "230"),
    ("C0", "15", "7.5"), ("C1", "40", "20"), ("C2", "75", "37.5"), ("C3", "225", "112.5"),
]


@pytest.mark.parametrize("code,full,half", TABLE)
def test_every_price_of_the_table(code, full, half):
    basic = code[0] + "0"
    items = [code] if code == basic else [basic, code]
    whole = mf.premium(items, ZB, half=False)
    part = mf.premium(items, ZB, half=True)
    assert yuan(dict(whole.lines)[code]) == full
    assert yuan(dict(part.lines)[code]) == half
    assert mf.ITEMS[code].full == 2 * mf.ITEMS[code].half


def test_items_are_named_as_the_handbook_names_them():
    assert [mf.ITEMS[c].name for c in ("A0", "A2", "B0", "B3", "C1")] == [
        "住院基本保障A0", "住院加强保障A2", "特种重病保障B0", "特种重病保障B3", "意外伤害保障C1"]
    assert (mf.ITEMS["A1"].line, mf.ITEMS["A1"].layer) == ("在职住院", "加强保障层")
    assert (mf.ITEMS["C0"].line, mf.ITEMS["C0"].layer) == ("意外伤害", "基本保障层")
    assert "起付线：<=1000元" in mf.ITEMS["A1"].benefits and "意外身故30万元" in mf.ITEMS["C3"].benefits


@pytest.mark.parametrize("codes,expected", [
    (["A0"], ("A0",)), (["B0"], ("B0",)), (["C0"], ("C0",)),
    (["C0", "B0", "A0"], ("A0", "B0", "C0")),
    (["a0", " a3 ", "B0", "B2", "C0", "C1"], ("A0", "A3", "B0", "B2", "C0", "C1")),
    (["B0", "A1"], ("A1", "B0")),  # A1 on top of B0: A1–A3 are offered to people who cannot have A0
    (["C0", "A2", "B3", "C3"], ("A2", "B3", "C0", "C3")),
    ("A0、B0,C1", ("A0", "B0", "C1")),  # a stored or typed list
])
def test_allowed_combinations(codes, expected):
    assert mf.check_items(codes) == expected


@pytest.mark.parametrize("codes,message", [
    ([], "基本保障项目A0、B0、C0至少选1种"),
    (["A1"], "加强保障项目（A1）须在基本保障项目A0、B0或C0的基础上参保"),
    (["A1", "B2", "C3"], "加强保障项目（A1、B2、C3）须在基本保障项目"),
    (["A0", "A1", "A2"], "在职住院加强保障项目A1、A2、A3至多选1种（已选A1、A2）"),
    (["B0", "B1", "B3"], "特种重病加强保障项目B1、B2、B3至多选1种（已选B1、B3）"),
    (["C0", "C1", "C2", "C3"], "意外伤害加强保障项目C1、C2、C3至多选1种（已选C1、C2、C3）"),
    (["A0", "A0"], "每个保障项目只能参保一份（A0重复）"),
    (["A0", "D1"], "未知的保障项目：D1"),
])
def test_refused_combinations_name_the_problem(codes, message):
    with pytest.raises(mf.ItemsError, match=message.replace("(", r"\(")):
        mf.check_items(codes)


def test_a_refusal_names_every_problem():
    with pytest.raises(mf.ItemsError) as refused:
        mf.check_items(["A1", "A2", "A2"])
    assert str(refused.value).split("；") == [
        "每个保障项目只能参保一份（A2重复）",
        "加强保障项目（A1、A2）须在基本保障项目A0、B0或C0的基础上参保，A0、B0、C0至少选1种",
        "在职住院加强保障项目A1、A2、A3至多选1种（已选A1、A2）"]


def test_instant_enrollment_keeps_the_centralized_items():
    assert mf.check_instant_items(None, ["B0"]) == ("B0",)
    assert mf.check_instant_items(["A0", "B0"], ["B0", "A0"]) == ("A0", "B0")
    with pytest.raises(mf.ItemsError, match="须与集中参保一致（A0、B0），不可更改"):
        mf.check_instant_items(["A0", "B0"], ["A0", "B0", "C0"])


# --- premiums ---------------------------------------------------------------------------------------
def test_a0_b0_c0_cost_180_instead_of_190_for_the_full_year():
    p = mf.premium(["A0", "B0", "C0"], ZB, half=False)
    assert p.total == 18000
    assert dict(p.lines) == {"A0": 12000, "B0": 5500, "C0": 1500, mf.DISCOUNT_LINE: -1000}


def test_no_discount_at_half_price():
    assert mf.premium(["A0", "B0", "C0"], ZB, half=True).total == 9500  # 60 + 27.5 + 7.5


def test_the_discount_with_enhanced_items_on_top():
    assert mf.premium(["A0", "A1", "B0", "B1", "C0", "C1"], ZB, half=False).total == 18000 + 13500 + 10000 + 4000


def test_two_basic_items_have_no_discount():
    assert mf.premium(["A0", "B0"], ZB, half=False).total == 17500


def test_a0_only_for_people_covered_by_zhibao():
    # Outside 职保: no A0, hence no A0+B0+C0 discount; A1–A3 still charged (seed 004 参保对象).
    p = mf.premium(["A0", "A2", "B0", "C0"], NOT_ZB, half=False)
    assert p.items == ("A2", "B0", "C0")
    assert p.total == 23000 + 5500 + 1500
    assert mf.premium(["A0"], NOT_ZB, half=False).total == 0
    assert mf.premium(["A0"], ZB, half=True).total == 6000


def test_premium_refuses_a_selection_that_breaks_the_rules():
    with pytest.raises(mf.ItemsError):
        mf.premium(["A1"], ZB, half=False)


def test_the_years_prices_from_the_settings():
    prices = dict(mf.REFERENCE_PRICES, A0=(13000, 6500))
    assert mf.premium(["A0", "B0", "C0"], ZB, half=False, prices=prices, discount=1500).total == 13000 + 7000 - 1500


@pytest.mark.parametrize("codes,zhibao,status,social", [
    (["A0"], True, mr.IN_SERVICE, None), (["A0"], True, mr.UNKNOWN, True),
    (["A0"], False, mr.UNKNOWN, False), (["A0"], False, mr.UNKNOWN, None), (["A0"], False, mr.RETIRED, True),
])
def test_who_is_covered_by_zhibao(codes, zhibao, status, social):
    """Seed 004 FAQ: 设置在职 or 是否有社保 = 是 makes a "-" person 在职 and able to take A0."""
    assert mr.zhibao(status, social) is zhibao
    assert mf.person_items(codes, mr.zhibao(status, social)) == (("A0",) if zhibao else ())


SELECTIONS = st.builds(
    lambda basic, enhanced: [*basic, *enhanced],
    st.lists(st.sampled_from(mf.BASIC), min_size=1, max_size=3, unique=True),
    st.lists(st.sampled_from(["A", "B", "C"]), max_size=3, unique=True).flatmap(
        lambda lines: st.tuples(*[st.sampled_from([f"{x}1", f"{x}2", f"{x}3"]) for x in lines]).map(list)),
)
PEOPLE = st.lists(st.tuples(st.booleans(), st.booleans()), max_size=300)


@given(items=SELECTIONS, people=PEOPLE)
def test_a_batch_total_is_the_sum_of_its_people(items, people):
    premiums = [mf.premium(items, zhibao, half) for zhibao, half in people]
    assert mf.batch_total(people, items) == sum(p.total for p in premiums)
    assert sum(mf.by_item(premiums).values()) == sum(p.total for p in premiums)
    for p, (zhibao, half) in zip(premiums, people, strict=True):
        assert p.total >= 0 and ("A0" in p.items) == (zhibao and "A0" in items)
        bundle = set(mf.BASIC) <= set(p.items)
        assert p.total == sum(mf.REFERENCE_PRICES[c][half] for c in p.items) - (1000 if bundle and not half else 0)


# --- waiting periods --------------------------------------------------------------------------------
def test_centralized_enrollment_has_no_waiting_period():
    start, end = my.coverage(my.CENTRALIZED, 2023)
    for w in my.waiting_periods(my.CENTRALIZED, ["A0", "A1", "B0", "C0"], start, end):
        assert (w.days, w.first_day, w.note) == (0, date(2023, 7, 1), "集中参保，无免责期")


def test_instant_waiting_periods_per_item():
    start, end = my.coverage(my.INSTANT, 2023, date(2023, 7, 31))  # covered from 1 Aug
    got = {w.code: w for w in my.waiting_periods(my.INSTANT, ["A0", "A1", "B2", "C3"], start, end)}
    assert (got["A0"].days, got["A0"].first_day) == (30, date(2023, 8, 31))
    assert got["A0"].note == "住院基本保障A0及附加疾病身故保障执行30天免责期，自2023-08-31起保障"
    assert (got["A1"].days, got["A1"].first_day) == (30, date(2023, 8, 31))
    assert "（因意外伤害事故住院不执行免责期）" in got["A1"].note
    assert (got["B2"].days, got["B2"].first_day) == (60, date(2023, 9, 30))
    assert got["B2"].note == "特种重病保障B2执行60天免责期，自2023-09-30起保障"
    assert (got["C3"].days, got["C3"].first_day) == (0, date(2023, 8, 1))
    assert got["C3"].note == "意外伤害保障C3无免责期，自2023-08-01起保障"


def test_a_waiting_period_past_the_year_end_is_said():
    start, end = my.coverage(my.INSTANT, 2023, date(2024, 5, 14))  # covered from 15 May 2024
    w = my.waiting_period(my.INSTANT, "B0", start, end)
    assert w.first_day == date(2024, 7, 14)
    assert "本保障年度内不享受该项保障" in w.note


# --- the payment deadline ---------------------------------------------------------------------------
@pytest.mark.parametrize("submitted,confirmed,due", [
    (date(2023, 6, 10), None, date(2023, 6, 25)),
    (date(2023, 6, 10), date(2023, 6, 12), date(2023, 6, 27)),  # the later count: premium confirmation
    (date(2023, 6, 10), date(2023, 6, 10), date(2023, 6, 25)),
    (date(2023, 6, 20), date(2023, 6, 28), date(2023, 7, 13)),  # calendar days, across a month
    (date(2024, 2, 20), date(2024, 2, 20), date(2024, 3, 6)),  # 29 Feb counted
])
def test_the_payment_deadline_is_the_later_of_the_two_counts(submitted, confirmed, due):
    assert my.payment_deadline(submitted, confirmed) == due


# --- roster validation (清册校验) -------------------------------------------------------------------
ON = date(2023, 7, 1)  # rule 1's reference day for the 2023 centralized roster: the coverage start


def test_rule1_counts_ages_on_the_coverage_start():
    assert mr.reference_day(my.CENTRALIZED, 2023, today=date(2023, 6, 12)) == ON
    assert mr.reference_day(my.INSTANT, 2023, today=date(2023, 9, 1)) == date(2023, 9, 2)
    assert mr.reference_day(my.INSTANT, 2023, date(2023, 9, 1)) == my.coverage(my.INSTANT, 2023, date(2023, 9, 1))[0]


@pytest.mark.parametrize("birth,gender,on,over", [
    (date(1968, 7, 2), "女", ON, False),  # 54 years 364 days
    (date(1968, 7, 1), "女", ON, True),  # 55 today
    (date(1968, 7, 2), "女", date(2023, 7, 2), True),
    (date(1963, 7, 2), "男", ON, False),  # 59 years 364 days
    (date(1963, 7, 1), "男", ON, True),
    (date(1968, 7, 1), "男", ON, False),  # a man of 55
    (date(1960, 1, 1), "", ON, False),  # gender unknown: nothing can be said
    (None, "女", ON, False),
])
def test_rule1_over_age_in_service(birth, gender, on, over):
    assert mr.is_over_age(birth, gender, on) is over


@pytest.mark.parametrize("birth,gender,on,over", [
    (date(1968, 2, 29), "女", date(2023, 2, 27), False),
    (date(1968, 2, 29), "女", date(2023, 2, 28), True),  # 2023 has no 29 Feb: 28 Feb (as retirement.py)
    (date(1964, 2, 29), "男", date(2024, 2, 28), False),
    (date(1964, 2, 29), "男", date(2024, 2, 29), True),  # a leap year: on the day
])
def test_rule1_29_february_birthdays(birth, gender, on, over):
    assert mr.is_over_age(birth, gender, on) is over


def test_rule1_every_kept_over_age_person_ticked():
    woman = mr.RosterPerson(date(1968, 7, 1), "女", mr.IN_SERVICE)
    young = mr.RosterPerson(date(1990, 1, 1), "男", mr.IN_SERVICE)
    assert mr.check_rule1([young], ON) == mr.PASS
    refused = mr.check_rule1([woman, woman, young], ON)
    assert not refused.passed
    assert "清册中有2名在职超龄人员" in refused.reason and "社保尚在缴金/医保享受在职待遇" in refused.reason
    ticked = mr.RosterPerson(date(1968, 7, 1), "女", mr.IN_SERVICE, ticked=True)
    assert mr.check_rule1([ticked, young], ON) == mr.PASS


def test_retirees_must_all_be_removed():
    retiree = mr.RosterPerson(date(1950, 1, 1), "男", mr.RETIRED)
    assert mr.check_retirees([mr.RosterPerson(None, "女")]) == mr.PASS
    refused = mr.check_retirees([retiree, retiree])
    assert not refused.passed and "清册中有2名退休人员" in refused.reason


@pytest.mark.parametrize("last,this,passed,shown", [
    (100, 110, True, ""), (100, 90, True, ""), (100, 100, True, ""),  # 10 % exactly passes
    (10000, 11001, False, "+10.01%"), (10000, 8999, False, "-10.01%"),  # 10.01 % fails
    (100, 111, False, "+11%"), (100000, 110001, False, "+10.001%"),
    (3, 4, False, "+33.33%"),
])
def test_rule2_change_within_10_percent(last, this, passed, shown):
    check = mr.check_rule2(last, this)
    assert check.passed is passed
    if not passed:
        assert f"增减幅度为{shown}，超出±10%" in check.reason and f"上年度参保{last}人" in check.reason


@pytest.mark.parametrize("last", [None, 0])
def test_rule2_needs_last_year(last):
    assert mr.check_rule2(last, 50) is None


@pytest.mark.parametrize("roster,payers,passed", [
    (75, 100, True), (3, 4, False),  # 3 people: a unit of 10 or fewer
    (750, 1000, True), (7499, 10000, False), (7500, 10000, True),  # 75 % exactly, 74.99 %
    (100, 100, True), (101, 100, False), (10001, 10000, False),  # 100 %, just over
    (10, 10, True), (9, 10, False), (1, 1, True), (10, 13, False),  # 10 people or fewer: 100 %
    (11, 14, True), (11, 10, False),
])
def test_rule3_ratio_75_to_100_percent(roster, payers, passed):
    assert mr.check_rule3(roster, payers).passed is passed


def test_rule3_reasons():
    assert "参保比例为74.99%，不在75%~100%之间" in mr.check_rule3(7499, 10000).reason
    small = mr.check_rule3(9, 10).reason
    assert "参保比例为90%" in small and "单位参保人数小于等于10人，参保比例需达到100%" in small
    none = mr.check_rule3(5, 0)
    assert not none.passed and "缴费人数之和为0" in none.reason


@pytest.mark.parametrize("args", [(-1, 10), (1.5, 10), (True, 10)])
def test_counts_must_be_whole_numbers(args):
    with pytest.raises(ValueError, match="须为不小于0的整数"):
        mr.check_rule3(*args)


def test_which_rules_apply():
    kept = mr.rules_2_and_3(last=100, this=105, payers=1000)  # rule 2 passes: rule 3 not needed
    assert kept.rule2.passed and kept.rule3 is None and not kept.needs_attachments and kept.reasons == []
    moved = mr.rules_2_and_3(last=100, this=120, payers=150)  # rule 2 fails, rule 3 80 %
    assert not moved.rule2.passed and moved.rule3.passed and not moved.needs_attachments
    short = mr.rules_2_and_3(last=100, this=120, payers=200)  # rule 3 60 %
    assert short.needs_attachments and short.required_attachment == mr.EXPLANATION and len(short.reasons) == 2
    new = mr.rules_2_and_3(last=None, this=80, payers=100)  # new unit: rule 3, attachments anyway
    assert new.rule2 is None and new.rule3.passed and new.needs_attachments
    assert new.required_attachment == mr.DECLARATION
    flagged = mr.rules_2_and_3(last=100, this=100, payers=100, new_unit=True)
    assert flagged.rule2 is None and flagged.rule3.passed and flagged.required_attachment == mr.DECLARATION


@pytest.mark.parametrize("ratio,shown", [
    (Fraction(1, 10), "10%"), (Fraction(1001, 10000), "10.01%"), (Fraction(3, 4), "75%"),
    (Fraction(7499, 10000), "74.99%"), (Fraction(749999, 1000000), "74.9999%"), (Fraction(1, 3), "33.33%"),
])
def test_percent_never_rounds_onto_a_bound(ratio, shown):
    assert mr.percent(ratio) == shown
