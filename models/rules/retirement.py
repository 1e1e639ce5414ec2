"""Statutory retirement age (法定退休年龄) as in force from 1 January 2025.

Source: 全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定 (2024) and its attached
tables. Three schedules, by date of birth:

  "男"    base 60; from births in 1965-01, +1 month for every 4 months of birth, up to +36 (63).
  "女55"  women cadres, base 55; from births in 1970-01, +1 month per 4 months, up to +36 (58).
  "女50"  women workers, base 50; from births in 1975-01, +1 month per 2 months, up to +60 (55).

`SCHEDULE` holds each schedule as an explicit month-by-month table of rows
(first birth month, last birth month, years, months), built once at import, so it can be
printed and compared with the official tables; ages are looked up in it. The retirement
month is the birth month plus the age (a man born 1965-01 retires in 2025-02).

Our data cannot tell women workers from women cadres. A woman past the cadre date (女55) has
certainly reached retirement age; one past only the worker date (女50) *may* have, and is
flagged 可能已达. The flags are advisory: what excludes people from enrollment is the
registry's 就业状态 退休, not this calculation.
"""

import calendar
from bisect import bisect_right
from datetime import date
from typing import NamedTuple

REACHED = "已达法定退休年龄"
MAYBE = "可能已达法定退休年龄"


class Row(NamedTuple):
    first: date | None  # first birth month (day 1); None: every earlier month
    last: date | None  # last birth month (day 1); None: every later month
    years: int
    months: int

    def __str__(self) -> str:
        if self.first is None:
            span = f"before {_add_months(self.last, 1):%Y-%m}"
        elif self.last is None:
            span = f"{self.first:%Y-%m} onwards"
        else:
            span = f"{self.first:%Y-%m}..{self.last:%Y-%m}"
        return f"{span} → {self.years}y{self.months}m"


def _add_months(day: date, months: int) -> date:
    """`day` plus `months`, the day of month clipped to the end of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _build(base_years: int, start: date, step: int, cap: int) -> list[Row]:
    """Rows for a schedule: base age before `start`, then +1 month every `step` birth months up to +`cap`."""
    rows = [Row(None, _add_months(start, -1), base_years, 0)]
    for extra in range(1, cap + 1):
        first = _add_months(start, (extra - 1) * step)
        last = None if extra == cap else _add_months(first, step - 1)
        years, months = divmod(base_years * 12 + extra, 12)
        rows.append(Row(first, last, years, months))
    return rows


SCHEDULE: dict[str, list[Row]] = {
    "男": _build(60, date(1965, 1, 1), step=4, cap=36),
    "女55": _build(55, date(1970, 1, 1), step=4, cap=36),
    "女50": _build(50, date(1975, 1, 1), step=2, cap=60),
}

# First birth month of every row after the first, as a month index, for bisect.
_FIRSTS = {name: [r.first.year * 12 + r.first.month - 1 for r in rows[1:]] for name, rows in SCHEDULE.items()}
_MAX_AGE_MONTHS = max(r.years * 12 + r.months for rows in SCHEDULE.values() for r in rows)


def retirement_age(birth: date, schedule: str) -> tuple[int, int]:
    """(years, months) of the statutory retirement age for a birth date."""
    row = SCHEDULE[schedule][bisect_right(_FIRSTS[schedule], birth.year * 12 + birth.month - 1)]
    return row.years, row.months


def retirement_date(birth: date, schedule: str) -> date:
    """The date the age is reached: birth + age, the birth day clipped to the month's end."""
    years, months = retirement_age(birth, schedule)
    return _add_months(birth, years * 12 + months)


def flag(birth: date | None, gender: str, on: date) -> str:
    """REACHED, MAYBE (women past the worker date only) or "" on the date `on`."""
    if birth is None:
        return ""
    if gender == "男":
        return REACHED if on >= retirement_date(birth, "男") else ""
    if gender == "女":
        if on >= retirement_date(birth, "女55"):
            return REACHED
        if on >= retirement_date(birth, "女50"):
            return MAYBE
    return ""


def latest_birth(on: date, schedule: str) -> date:
    """The latest birth date that has reached the schedule's age by `on`.

    retirement_date never decreases as the birth date increases, so everyone born on or
    before the returned date has reached it and nobody born later has (for SQL filters).
    """
    if schedule not in SCHEDULE:
        raise KeyError(schedule)
    # lo has certainly retired by `on` (the age is below _MAX_AGE_MONTHS + 1 month); hi has not.
    lo = _add_months(on, -(_MAX_AGE_MONTHS + 1)).toordinal()
    hi = on.toordinal()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if retirement_date(date.fromordinal(mid), schedule) <= on:
            lo = mid
        else:
            hi = mid
    return date.fromordinal(lo)
