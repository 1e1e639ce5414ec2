"""在职职工互助保障 (seed 004, spec 70): the protection year, its windows and reference settings,
coverage, waiting periods (免责期) and the payment deadline — pure code, `datetime.date`, no database.

The protection year runs 1 July – 30 June and is named by the year it starts in, as seed 004 does:
its handbook for the year "自2023年7月1日零时起至2024年6月30日24时止" compares "2022年度参保人数" with
"2023年拟参保数" — so 1 Jul 2023 – 30 Jun 2024 is 2023年度.

Windows (seed 004 参保时间): 集中参保 1–30 June before the year starts (coverage the whole year, no
waiting period); 即时参保 from 1 July (coverage from the day after the formal roster is submitted,
"非7月1日起保的，保障期限自参保单位…提交正式参保名单的次日起", to 30 June).
`reference_settings(year)` is what the centre's settings screen stores for a new year and may change.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from models.rules.mutual_fees import BUNDLE_DISCOUNT, ITEMS, REFERENCE_PRICES

CENTRALIZED = "集中参保"
INSTANT = "即时参保"
KINDS = (CENTRALIZED, INSTANT)

# Seed 004: "提交确认保费后，请于15天内将保费汇至以下账号" / "参保清册提交后15天内…上传缴费凭证".
# Calendar days: the same handbook says "工作日" where it means working days (1个工作日, 2个工作日,
# 10个工作日内) and plain "15天" here.
PAYMENT_DAYS = 15

# Seed 004 (收款账户), configurable on the settings screen.
RECEIVING_ACCOUNT = {
    "account_name": "上海市职工保障互助会",  # 户名
    "account_no": "31602300008022150",  # 账号
    "bank": "上海银行人民广场支行",  # 开户行
}


class CoverageError(ValueError):
    """A coverage that cannot be; the message is Chinese."""


# --- the protection year -------------------------------------------------------------------------
def protection_year_of(day: date) -> int:
    """The protection year `day` falls in: 1 Jul Y – 30 Jun Y+1 is year Y."""
    return day.year if day.month >= 7 else day.year - 1


def year_start(year: int) -> date:
    return date(year, 7, 1)


def year_end(year: int) -> date:
    return date(year + 1, 6, 30)


def year_label(year: int) -> str:
    """"2023年度" (seed 004's "2022年度参保人数")."""
    return f"{year}年度"


def year_span(year: int) -> str:
    return f"{year_start(year):%Y-%m-%d}至{year_end(year):%Y-%m-%d}"


# --- windows and the settings' reference values ---------------------------------------------------
def reference_windows(year: int) -> dict[str, tuple[date, date]]:
    """The windows of `year`, first and last day included (the settings screen turns them into
    00:00 / 23:59:59 moments). The instant window ends on 29 June: a roster submitted on 30 June
    would be covered from 1 July, which is the next year (the basic line's instant window stops
    a day early for the same reason, spec 05)."""
    return {
        CENTRALIZED: (date(year, 6, 1), date(year, 6, 30)),
        INSTANT: (year_start(year), year_end(year) - timedelta(days=1)),
    }


def reference_settings(year: int) -> dict:
    """What the centre's 互助保障年度设置 stores for a new year: windows, the receiving account,
    item prices (fen, full and half year), the A0+B0+C0 discount (fen) and the payment days."""
    return {
        "year": year,
        "windows": reference_windows(year),
        **RECEIVING_ACCOUNT,
        "prices": dict(REFERENCE_PRICES),
        "bundle_discount": BUNDLE_DISCOUNT,
        "payment_days": PAYMENT_DAYS,
    }


# --- coverage --------------------------------------------------------------------------------------
def coverage(kind: str, year: int, submitted: date | None = None) -> tuple[date, date]:
    """(first day, last day) of a batch's coverage. Centralized: the whole year. Instant: from the
    day after the formal roster is submitted (`submitted`) to 30 June."""
    if kind == CENTRALIZED:
        return year_start(year), year_end(year)
    if kind != INSTANT:
        raise CoverageError(f"未知的参保方式：{kind}")
    if submitted is None:
        raise CoverageError("即时参保须在提交正式参保名单后才能确定起保日")
    start = submitted + timedelta(days=1)
    if not year_start(year) < start <= year_end(year):
        raise CoverageError(f"提交正式参保名单的次日（{start:%Y-%m-%d}）不在{year_label(year)}即时参保"
                            f"保障期内（{year_start(year) + timedelta(days=1):%Y-%m-%d}至{year_end(year):%Y-%m-%d}）")
    return start, year_end(year)


def is_half_year(kind: str, start: date) -> bool:
    """Seed 004: instant enrollment whose 起保日 is 1 Jan – 30 Jun pays the half-year prices;
    1 Jul – 31 Dec, and every centralized enrollment, the full-year ones."""
    return kind == INSTANT and start.month <= 6


def period_label(kind: str, start: date) -> str:
    return "半年" if is_half_year(kind, start) else "全年"


# --- waiting periods (免责期) ----------------------------------------------------------------------
@dataclass(frozen=True)
class Waiting:
    code: str  # the item
    days: int  # 0: none
    first_day: date  # the first covered day (for A1–A3: of hospital stays not caused by accidents)
    note: str  # what the coverage record shows


# Seed 004 免责期: "即时参保：参保后“住院基本保障A0”和“附加疾病身故保障”执行30天免责期，“住院加强保障A1、
# A2、A3”执行30天免责期（因意外伤害事故住院不执行免责期）；“特种重病保障”执行60天免责期；“意外伤害保障”
# 无免责期。" The 附加疾病身故保障 is A0's 疾病身故1万元 (fee table), so it is written on A0.
WAITING_DAYS = {"A": 30, "B": 60, "C": 0}
_WAITING_EXTRA = {"A0": "及附加疾病身故保障", "A": "（因意外伤害事故住院不执行免责期）"}


def waiting_period(kind: str, code: str, start: date, end: date) -> Waiting:
    """The waiting period of one item for coverage starting `start` (ending `end`). A 30-day
    waiting period covers the start day and the 29 after it; the item covers from day 31."""
    if kind == CENTRALIZED:
        return Waiting(code, 0, start, "集中参保，无免责期")
    days = WAITING_DAYS[code[0]]
    what = ITEMS[code].name + _WAITING_EXTRA.get(code, _WAITING_EXTRA.get(code[0], ""))
    if days == 0:
        return Waiting(code, 0, start, f"{what}无免责期，自{start:%Y-%m-%d}起保障")
    first = start + timedelta(days=days)
    if first > end:
        return Waiting(code, days, first, f"{what}执行{days}天免责期，免责期满（{first:%Y-%m-%d}）已在保障期满"
                                         f"（{end:%Y-%m-%d}）之后，本保障年度内不享受该项保障")
    return Waiting(code, days, first, f"{what}执行{days}天免责期，自{first:%Y-%m-%d}起保障")


def waiting_periods(kind: str, codes, start: date, end: date) -> list[Waiting]:
    return [waiting_period(kind, code, start, end) for code in codes]


# --- money -----------------------------------------------------------------------------------------
def payment_deadline(roster_submitted: date, premium_confirmed: date | None = None,
                     days: int = PAYMENT_DAYS) -> date:
    """The last day to pay: the later of `days` calendar days after the roster is submitted (the
    handbook's timeline) and after the premium is confirmed (the payment page) — spec 70 Money."""
    due = roster_submitted + timedelta(days=days)
    if premium_confirmed is not None:
        due = max(due, premium_confirmed + timedelta(days=days))
    return due
