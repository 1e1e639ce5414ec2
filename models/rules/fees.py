"""会员专享基本保障 fees (spec 40, spec 05 "Protection years, fees, money") — pure code, integer fen.

Per person and protection type, the fee (参保费用) is paid by three parts:
市总统一划拨 (the city subsidy, fixed by the centre per type — or the special-group subsidy for
unions under 东航, 民航华东局, 民航华东空管局, 铁路工会, 中国金融工会 …), 区局/各级工会缴费 and
基层单位缴费 (set by the district in 保障金额设置, for the full year). The parts always add up to
the fee. A half year (instant enrollment starting on or after 1 Jul) pays the type's half fee and
half subsidy; the grassroots part is half the full-year one (rounded to the fen, half up), the
district pays the rest — so the half-year parts add up exactly too.

Totals are sums of per-person amounts (never a rate times a count that could round differently).
Formatting for screens: `yuan(fen)` below.
"""

from dataclasses import dataclass
from datetime import date


class FeeError(ValueError):
    """A fee split that cannot be saved; the message is Chinese."""


@dataclass(frozen=True)
class TypeFees:
    """What the centre fixes for a protection type (fen)."""
    full: int  # 参保费用 全年
    half: int  # 参保费用 半年
    subsidy_full: int  # 市总统一划拨 全年
    subsidy_half: int  # 市总统一划拨 半年
    special_full: int | None = None  # special subsidy groups: 市总统一划拨 全年
    special_half: int | None = None

    def subsidy(self, half: bool, special: bool) -> int:
        if special and self.special_full is not None:
            return self.special_half if half else self.special_full
        return self.subsidy_half if half else self.subsidy_full


@dataclass(frozen=True)
class Split:
    """What a district sets per type (full year, fen): 区局/各级工会默认缴纳, 基层单位默认缴纳."""
    district: int
    grassroots: int


@dataclass(frozen=True)
class Parts:
    """Per person or summed: 保障费用 = 市总统一划拨 + 区局/各级工会缴费 + 基层单位缴费 (fen)."""
    fee: int
    city: int
    district: int
    grassroots: int

    def __add__(self, other: "Parts") -> "Parts":
        return Parts(self.fee + other.fee, self.city + other.city, self.district + other.district,
                     self.grassroots + other.grassroots)


ZERO = Parts(0, 0, 0, 0)


def check_split(fees: TypeFees, split: Split, special: bool = False) -> None:
    """Refuse a split that does not add up to the fee, or has a negative part."""
    if split.district < 0 or split.grassroots < 0:
        raise FeeError("区局/各级工会默认缴纳和基层单位默认缴纳不能为负数")
    city = fees.subsidy(False, special)
    if split.district + split.grassroots + city != fees.full:
        raise FeeError(f"区局/各级工会默认缴纳（{yuan(split.district)}元）"
                       f"+ 基层单位默认缴纳（{yuan(split.grassroots)}元）"
                       f"+ 市总统一划拨（{yuan(city)}元）须等于参保费用（{yuan(fees.full)}元）")


def rebalance(fees: TypeFees, split: Split, special: bool = False) -> Split:
    """A district's split kept adding up when the centre changes the 市总统一划拨 (特殊补贴单位) or a
    type's fee: the district's part (区局/各级工会默认缴纳) takes the difference, the grassroots part
    stays; should the district's part fall below zero, it is 0 and the grassroots part takes the
    rest. A split that already adds up comes back unchanged."""
    city = fees.subsidy(False, special)
    district = fees.full - city - split.grassroots
    if district >= 0:
        return Split(district, split.grassroots)
    return Split(0, fees.full - city)


def per_person(fees: TypeFees, split: Split, half: bool = False, special: bool = False) -> Parts:
    check_split(fees, split, special)
    if not half:
        return Parts(fees.full, fees.subsidy(False, special), split.district, split.grassroots)
    city = fees.subsidy(True, special)
    grassroots = min((split.grassroots + 1) // 2, fees.half - city)
    return Parts(fees.half, city, fees.half - city - grassroots, grassroots)


def total(people: list[Parts]) -> Parts:
    """The sum of per-person parts."""
    out = ZERO
    for p in people:
        out = out + p
    return out


def for_count(parts: Parts, n: int) -> Parts:
    """n people with the same parts (the sum of n equal per-person amounts)."""
    return Parts(parts.fee * n, parts.city * n, parts.district * n, parts.grassroots * n)


def is_half_year(start: date) -> bool:
    """Instant enrollment: start on or before 30 Jun → 全年, from 1 Jul → 半年 (spec 05)."""
    return start.month >= 7


def period_label(start: date, centralized: bool = False) -> str:
    return "全年" if centralized or not is_half_year(start) else "半年"


def fen(yuan_text) -> int:
    """Yuan typed by an operator ("13", "6.5", "6.50", "１３") → integer fen; FeeError otherwise."""
    import re
    import unicodedata
    text = unicodedata.normalize("NFKC", str(yuan_text or "")).strip()
    if not re.fullmatch(r"[0-9]{1,7}(\.[0-9]{1,2})?", text):
        raise FeeError(f"金额“{yuan_text}”格式不正确，请填写元，最多两位小数")
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def yuan(fen: int) -> str:
    """Format integer fen as yuan: 80600 → '806', 650 → '6.5'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    if cents == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")

