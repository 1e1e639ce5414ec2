"""Fee rules (models/rules/fees.py) with the manuals' figures: integer fen, parts always add up."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules import fees as f
from models.rules.fees import yuan

# 2020 table (seed 001) and 2024–2025 type A (seeds 002/003), in fen.
A = f.TypeFees(full=2600, half=1300, subsidy_full=1300, subsidy_half=650, special_full=650, special_half=300)
A_PLUS = f.TypeFees(full=7600, half=3800, subsidy_full=1300, subsidy_half=650, special_full=650, special_half=300)
B = f.TypeFees(full=9000, half=4500, subsidy_full=4000, subsidy_half=2000, special_full=2250, special_half=1100)
B_PLUS = f.TypeFees(full=14000, half=7000, subsidy_full=4000, subsidy_half=2000, special_full=2250,
                    special_half=1100)
A_SPLIT = f.Split(district=1300, grassroots=0)  # 26 = 13 city + 13 district + 0 grassroots


def shown(parts: f.Parts) -> tuple:
    return tuple(yuan(x) for x in (parts.fee, parts.city, parts.district, parts.grassroots))


@pytest.mark.parametrize("people,expected", [
    (31, ("806", "403", "403", "0")),
    (53, ("1378", "689", "689", "0")),
    (36, ("936", "468", "468", "0")),
    (3, ("78", "39", "39", "0")),
    (2, ("52", "26", "26", "0")),
])
def test_the_manuals_worked_examples(people, expected):
    one = f.per_person(A, A_SPLIT)
    assert shown(f.for_count(one, people)) == expected
    assert shown(f.total([one] * people)) == expected  # sum of per-person amounts, same result


@pytest.mark.parametrize("fees,full,city,half,half_city", [
    (A, "26", "13", "13", "6.5"), (A_PLUS, "76", "13", "38", "6.5"),
    (B, "90", "40", "45", "20"), (B_PLUS, "140", "40", "70", "20"),
])
def test_the_2020_fee_table(fees, full, city, half, half_city):
    split = f.Split(district=fees.full - fees.subsidy_full, grassroots=0)
    whole = f.per_person(fees, split)
    assert (yuan(whole.fee), yuan(whole.city)) == (full, city)
    part = f.per_person(fees, split, half=True)
    assert (yuan(part.fee), yuan(part.city)) == (half, half_city)
    assert part.city + part.district + part.grassroots == part.fee


@pytest.mark.parametrize("fees,full,half", [(A, "6.5", "3"), (A_PLUS, "6.5", "3"), (B, "22.5", "11"),
                                            (B_PLUS, "22.5", "11")])
def test_special_subsidy_groups(fees, full, half):
    """东航, 民航华东局, 民航华东空管局, 铁路工会, 中国金融工会 units (seed 001)."""
    split = f.Split(district=fees.full - fees.special_full, grassroots=0)
    assert yuan(f.per_person(fees, split, special=True).city) == full
    assert yuan(f.per_person(fees, split, half=True, special=True).city) == half
    with pytest.raises(f.FeeError):  # the ordinary split does not add up for a special group
        f.per_person(fees, f.Split(district=fees.full - fees.subsidy_full, grassroots=0), special=True)


def test_a_split_that_does_not_add_up_is_refused_with_the_numbers():
    with pytest.raises(f.FeeError) as exc:
        f.check_split(A, f.Split(district=1000, grassroots=200))
    assert str(exc.value) == ("区局/各级工会默认缴纳（10元）+ 基层单位默认缴纳（2元）+ 市总统一划拨（13元）"
                              "须等于参保费用（26元）")
    with pytest.raises(f.FeeError, match="不能为负数"):
        f.check_split(A, f.Split(district=1400, grassroots=-100))


@given(full=st.integers(0, 100_000), subsidy_pct=st.integers(0, 100), grassroots_pct=st.integers(0, 100),
       n=st.integers(0, 6000), half=st.booleans())
def test_parts_always_sum_to_the_total(full, subsidy_pct, grassroots_pct, n, half):
    subsidy = full * subsidy_pct // 100
    fees = f.TypeFees(full=full, half=full // 2, subsidy_full=subsidy, subsidy_half=min(subsidy // 2, full // 2))
    grassroots = (full - subsidy) * grassroots_pct // 100
    split = f.Split(district=full - subsidy - grassroots, grassroots=grassroots)
    one = f.per_person(fees, split, half=half)
    assert one.city + one.district + one.grassroots == one.fee
    assert min(one.city, one.district, one.grassroots) >= 0
    many = f.for_count(one, n)
    assert many.city + many.district + many.grassroots == many.fee == one.fee * n


@pytest.mark.parametrize("start,label", [(date(2025, 1, 2), "全年"), (date(2025, 6, 30), "全年"),
                                         (date(2025, 7, 1), "半年"), (date(2025, 12, 31), "半年")])
def test_half_year_from_1_july(start, label):
    assert f.period_label(start) == label
    assert f.period_label(start, centralized=True) == "全年"


@pytest.mark.parametrize("text,amount", [("13", 1300), ("6.5", 650), ("6.50", 650), ("１３", 1300), ("0", 0),
                                         (" 22.5 ", 2250)])
def test_yuan_input_to_fen(text, amount):
    assert f.fen(text) == amount


@pytest.mark.parametrize("text", ["", "-1", "1.234", "十三", "1e3"])
def test_bad_yuan_input(text):
    with pytest.raises(f.FeeError, match="格式不正确"):
        f.fen(text)
