"""Pure rules: statutory retirement age (渐进式延迟法定退休年龄, from 2025-01-01)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.retirement import (
    MAYBE,
    REACHED,
    SCHEDULE,
    flag,
    latest_birth,
    retirement_age,
    retirement_date,
)


def month(text: str, day: int = 15) -> date:
    year, mon = text.split("-")
    return date(int(year), int(mon), day)


# Boundaries from the official tables: (schedule, birth month, age, retirement month).
OFFICIAL = [
    ("男", "1964-12", (60, 0), "2024-12"),
    ("男", "1965-01", (60, 1), "2025-02"),
    ("男", "1965-04", (60, 1), "2025-05"),
    ("男", "1965-05", (60, 2), "2025-07"),
    ("男", "1971-01", (61, 7), "2032-08"),
    ("男", "1976-08", (62, 11), "2039-07"),
    ("男", "1976-09", (63, 0), "2039-09"),
    ("男", "1990-01", (63, 0), "2053-01"),
    ("男", "1950-06", (60, 0), "2010-06"),
    ("女55", "1969-12", (55, 0), "2024-12"),
    ("女55", "1970-01", (55, 1), "2025-02"),
    ("女55", "1981-08", (57, 11), "2039-07"),
    ("女55", "1981-09", (58, 0), "2039-09"),
    ("女55", "2000-01", (58, 0), "2058-01"),
    ("女50", "1974-12", (50, 0), "2024-12"),
    ("女50", "1975-01", (50, 1), "2025-02"),
    ("女50", "1975-02", (50, 1), "2025-03"),
    ("女50", "1975-03", (50, 2), "2025-05"),
    ("女50", "1984-10", (54, 11), "2039-09"),
    ("女50", "1984-11", (55, 0), "2039-11"),
    ("女50", "2000-01", (55, 0), "2055-01"),
]


@pytest.mark.parametrize("schedule,born,age,retires", OFFICIAL)
def test_official_boundaries(schedule, born, age, retires):
    for day in (1, 15, 28):
        assert retirement_age(month(born, day), schedule) == age
        assert retirement_date(month(born, day), schedule) == month(retires, day)


def test_man_born_1964_06_retires_2024_06():
    assert retirement_date(date(1964, 6, 10), "男") == date(2024, 6, 10)


def test_day_clipped_to_month_end():
    # born 1965-01-31, +60y1m → February 2025 has 28 days
    assert retirement_date(date(1965, 1, 31), "男") == date(2025, 2, 28)
    # born on 29 February, retiring in a non-leap year
    assert retirement_date(date(1964, 2, 29), "男") == date(2024, 2, 29)
    assert retirement_date(date(1960, 2, 29), "女55") == date(2015, 2, 28)


def test_unknown_schedule_is_an_error():
    with pytest.raises(KeyError):
        retirement_age(date(1970, 1, 1), "女")


# ---- flag -----------------------------------------------------------------------------------

@pytest.mark.parametrize("birth", [date(1964, 12, 10), date(1965, 1, 31), date(1971, 1, 1), date(1990, 5, 5)])
def test_flag_men(birth):
    retires = retirement_date(birth, "男")
    assert flag(birth, "男", retires - timedelta(days=1)) == ""
    assert flag(birth, "男", retires) == REACHED
    assert flag(birth, "男", retires + timedelta(days=400)) == REACHED


@pytest.mark.parametrize("birth", [date(1969, 12, 10), date(1970, 1, 31), date(1975, 3, 3), date(1990, 5, 5)])
def test_flag_women(birth):
    worker, cadre = retirement_date(birth, "女50"), retirement_date(birth, "女55")
    assert worker < cadre
    assert flag(birth, "女", worker - timedelta(days=1)) == ""
    assert flag(birth, "女", worker) == MAYBE
    assert flag(birth, "女", cadre - timedelta(days=1)) == MAYBE
    assert flag(birth, "女", cadre) == REACHED


def test_flag_woman_between_the_two_dates():
    # born 1975-03-03: worker age 50y2m (2025-05-03), cadre age 56y4m (2031-07-03)
    birth = date(1975, 3, 3)
    assert flag(birth, "女", date(2026, 1, 1)) == MAYBE
    assert flag(birth, "女", date(2024, 1, 1)) == ""
    assert flag(birth, "女", date(2031, 7, 2)) == MAYBE
    assert flag(birth, "女", date(2031, 7, 3)) == REACHED


def test_flag_unknown():
    assert flag(None, "男", date(2100, 1, 1)) == ""
    assert flag(date(1900, 1, 1), "", date(2025, 1, 1)) == ""
    assert flag(date(1900, 1, 1), "未知", date(2025, 1, 1)) == ""


# ---- latest_birth ---------------------------------------------------------------------------

def test_latest_birth_examples():
    # on 2025-06-01 men born up to 1965-04-30 have retired (60y1m → 2025-05-30); 1965-05-01 → 2025-07-01
    assert latest_birth(date(2025, 6, 1), "男") == date(1965, 4, 30)
    assert latest_birth(date(2024, 12, 31), "男") == date(1964, 12, 31)
    # no man retires in January 2025: the first 60y1m birth (1965-01-01) retires on 2025-02-01
    assert latest_birth(date(2025, 1, 31), "男") == date(1964, 12, 31)
    assert latest_birth(date(2025, 2, 1), "男") == date(1965, 1, 1)


SCHEDULES = st.sampled_from(sorted(SCHEDULE))
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@given(DATES, SCHEDULES, st.data())
def test_latest_birth_splits_everyone(on, schedule, data):
    last = latest_birth(on, schedule)
    assert retirement_date(last, schedule) <= on < retirement_date(last + timedelta(days=1), schedule)
    near = data.draw(st.integers(-800, 800))
    birth = last + timedelta(days=near)
    other = data.draw(st.dates(min_value=date(1850, 1, 1), max_value=date(2050, 12, 31)))
    for b in (birth, other):
        assert (b <= last) == (retirement_date(b, schedule) <= on)


@given(DATES, DATES, SCHEDULES)
def test_retirement_date_never_decreases(a, b, schedule):
    a, b = min(a, b), max(a, b)
    assert retirement_date(a, schedule) <= retirement_date(b, schedule)


# ---- the table itself -----------------------------------------------------------------------

@pytest.mark.parametrize("schedule,rows,first_step,last_row", [
    ("男", 37, "1965-01..1965-04 → 60y1m", "1976-09 onwards → 63y0m"),
    ("女55", 37, "1970-01..1970-04 → 55y1m", "1981-09 onwards → 58y0m"),
    ("女50", 61, "1975-01..1975-02 → 50y1m", "1984-11 onwards → 55y0m"),
])
def test_table_shape(schedule, rows, first_step, last_row):
    table = SCHEDULE[schedule]
    assert len(table) == rows
    assert table[0].first is None and table[-1].last is None
    assert str(table[1]) == first_step and str(table[-1]) == last_row
    for before, after in zip(table, table[1:], strict=False):
        # contiguous: the next row starts the month after this one ends
        assert before.last is not None and after.first is not None
        assert after.first == (before.last.replace(day=28) + timedelta(days=4)).replace(day=1)
        assert (after.years, after.months) > (before.years, before.months)
        assert after.years * 12 + after.months == before.years * 12 + before.months + 1
        assert 0 <= after.months < 12
    for row in table[1:-1]:
        assert row.first <= row.last


def test_table_agrees_with_lookup():
    for schedule, table in SCHEDULE.items():
        for row in table:
            for when in (row.first, row.last):
                if when is not None:
                    assert retirement_age(when, schedule) == (row.years, row.months)
