"""在职职工互助保障 roster validation (清册校验, seed 004, spec 70) — pure arithmetic, no database.

Each check returns a `Check`: passed, or the Chinese reason. Ratios are exact (integer
cross-multiplication); percentages are only formatted for the reason text.

Seed 004 校验规则: "规则一、在职超龄校验 女性未满55周岁、男性未满60周岁"; "规则二、清册增减幅度校验 清册人员
增减幅度在±10%以内【（2022年度参保人数-2023年拟参保数）/2022年度参保人数】"; "规则三、单位社保人员参保比例
校验 单位整体社保参保比例均不低于75%【参保清册拟参保数/参保清册所关联的所有社保编码的缴费人数之和】";
"若清册人员增减幅度超出±10%，则需进行单位社保比例校验"; "若单位社保比例整体校验结果在75%~100%之间，直接点击
【清册提交】"; "若是新参保单位，无论是否超过75%，均需上传附件"; "若单位参保人数小于等于10人，社保编码的参保比例
需达到100%".
"""

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import NamedTuple

from models.rules.mutual_year import CENTRALIZED, year_start

# 职退状态 (from the 建议清册; "-": unknown in the historical rosters)
IN_SERVICE, RETIRED, UNKNOWN = "在职", "退休", "-"
RETIREMENT_STATES = (IN_SERVICE, RETIRED, UNKNOWN)
# The two ticks that keep an over-age person (seed 004 uses both words).
OVER_AGE_TICKS = ("社保尚在缴金", "医保享受在职待遇")
OVER_AGE = {"女": 55, "男": 60}

RULE2_LIMIT = Fraction(10, 100)
RULE3_LOW, RULE3_HIGH = Fraction(75, 100), Fraction(1)
SMALL_UNIT = 10  # 参保人数 at most this: the ratio must be 100 %

# 附件类型 (seed 004, 上传附件): what a unit outside rule 3's range, or a new unit, uploads.
DECLARATION = "社会保险费缴费申报表或单位参加城镇社会保险基本情况"  # new units, always; shows the payer total
EXPLANATION = "情况说明（加盖公章）"  # continuing units outside the range
ATTACHMENT_KINDS = (
    DECLARATION,
    EXPLANATION,
    "人员转出核定表或退工单",  # social insurance still here, the person has left
    "个人养老金核定表",  # social insurance still here, the person has retired
    "劳务派遣、人事代理单位开具的情况说明",  # dispatched staff, with their list
    "任命书",  # social insurance elsewhere, working here
    "人员转入核定表",  # transferred here, not yet in the system
)


class Check(NamedTuple):
    passed: bool
    reason: str = ""  # Chinese, when not passed


PASS = Check(True)


def percent(ratio: Fraction) -> str:
    """A ratio as a percentage for messages: two decimals (half up), more when two would round onto
    a rule's bound and hide that the value is past it (10.001 % shows as 10.001 %, not 10 %)."""
    for places in range(2, 7):
        scale = 10 ** places
        n = (ratio * 100 * scale * 2 + 1) // 2  # half up
        shown = Fraction(int(n), scale * 100)
        if shown == ratio or shown not in (RULE2_LIMIT, RULE3_LOW, RULE3_HIGH):
            break
    whole, frac = divmod(int(n), scale)
    text = f"{whole}.{frac:0{places}d}".rstrip("0").rstrip(".")
    return f"{text}%"


# --- who is covered by 职保 -------------------------------------------------------------------------
def zhibao(status: str, has_social_insurance: bool | None = None) -> bool:
    """Covered by 职保 (may take A0). Seed 004 FAQ: a "-" person "如单位确认其身份为在职有社保人员，可以
    参加保障项目A0，…点击【设置在职】…该人员的职退状态将变成“在职”"; "导入模板最后一栏：是否有社保，选择
    【是】即可" (a template row with 是否有社保 = 是 becomes 在职). So: 职退状态 在职 (from the 建议清册
    or 设置在职), or 是否有社保 = 是 for a person the 建议清册 does not call 退休."""
    if status == RETIRED:
        return False
    return status == IN_SERVICE or has_social_insurance is True


# --- ages and rule 1 --------------------------------------------------------------------------------
def birthday_in(birth: date, year: int) -> date:
    """The birthday in `year`; 29 Feb falls on 28 Feb in common years (as `retirement.py` clips)."""
    if birth.month == 2 and birth.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return birth.replace(year=year)


def age_on(birth: date, on: date) -> int:
    """Whole years (周岁) on `on`: one more on each birthday."""
    years = on.year - birth.year
    return years if on >= birthday_in(birth, on.year) else years - 1


def is_over_age(birth: date | None, gender: str, on: date) -> bool:
    """Rule 1 (在职超龄): a woman aged 55 or more, a man aged 60 or more on `on` (`reference_day`).
    Without a birth date or a known gender nothing can be said: not flagged."""
    limit = OVER_AGE.get(gender)
    if birth is None or limit is None:
        return False
    return age_on(birth, on) >= limit


def reference_day(kind: str, year: int, today: date) -> date:
    """The day rule 1 counts ages on: the first day of coverage — centralized, 1 July of the year;
    instant, the day after the roster is submitted, which at validation is at the earliest tomorrow
    (validating and submitting the same day is the usual case). The seed names no day; the age
    limits are 参保对象's ("女性未满55周岁、男性未满60周岁的从业人员"), i.e. who is covered."""
    if kind == CENTRALIZED:
        return year_start(year)
    return today + timedelta(days=1)


@dataclass(frozen=True)
class RosterPerson:
    birth: date | None
    gender: str
    status: str = UNKNOWN  # 职退状态
    ticked: bool = False  # 社保尚在缴金 / 医保享受在职待遇


def check_retirees(people) -> Check:
    """Seed 004: "如清册中有退休人员，系统默认无法参保，需将退休人员全部移除后，再次点击【清册校验】"."""
    n = sum(1 for p in people if p.status == RETIRED)
    if n:
        return Check(False, f"清册中有{n}名退休人员，退休人员无法参保，请全部移除后再进行清册校验")
    return PASS


def check_rule1(people, on: date) -> Check:
    """Every over-age person still on the roster is ticked 社保尚在缴金 / 医保享受在职待遇 ("不移除的人员
    必须全部勾选"), or the reason with their number."""
    n = sum(1 for p in people if not p.ticked and is_over_age(p.birth, p.gender, on))
    if n:
        return Check(False, f"规则一（在职超龄校验）：清册中有{n}名在职超龄人员（女性年满55周岁、男性年满60周岁，"
                            f"以{on:%Y-%m-%d}计），请移除或勾选“社保尚在缴金/医保享受在职待遇”")
    return PASS


# --- rule 2 and rule 3 ------------------------------------------------------------------------------
def _count(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what}须为不小于0的整数")
    return value


def rule2_applies(last: int | None) -> bool:
    """Rule 2 needs last year's roster; a unit without one (new, or 0 people) goes to rule 3."""
    return bool(last)


def check_rule2(last: int | None, this: int) -> Check | None:
    """|last − this| / last ≤ 10 % passes; None when there is no last year (not applicable)."""
    if not rule2_applies(last):
        return None
    last, this = _count(last, "上年度参保人数"), _count(this, "本年度拟参保人数")
    if abs(last - this) * RULE2_LIMIT.denominator <= RULE2_LIMIT.numerator * last:
        return PASS
    sign = "+" if this > last else "-"
    return Check(False, f"规则二（清册增减幅度校验）：上年度参保{last}人，本年度拟参保{this}人，增减幅度为"
                        f"{sign}{percent(Fraction(abs(last - this), last))}，超出±10%")


def check_rule3(roster: int, payers: int) -> Check:
    """roster / payers (the sum over all social-security codes linked to the roster) within
    75 %–100 %, both ends included; a unit of 10 people or fewer (the roster) needs exactly 100 %."""
    roster, payers = _count(roster, "拟参保人数"), _count(payers, "社保缴费人数")
    if payers == 0:
        return Check(False, "规则三（单位社保人员参保比例校验）：参保清册所关联的社保编码缴费人数之和为0，"
                            "无法计算参保比例，请上传附件")
    ratio = Fraction(roster, payers)
    figures = f"拟参保{roster}人，关联社保编码缴费人数之和{payers}人，参保比例为{percent(ratio)}"
    if roster <= SMALL_UNIT and roster < payers:
        return Check(False, f"规则三（单位社保人员参保比例校验）：{figures}；单位参保人数小于等于{SMALL_UNIT}人，"
                            "参保比例需达到100%，请上传附件")
    if RULE3_LOW <= ratio <= RULE3_HIGH:
        return PASS
    return Check(False, f"规则三（单位社保人员参保比例校验）：{figures}，不在75%~100%之间，请上传附件")


@dataclass(frozen=True)
class Outcome:
    """What 清册校验 decides once retirees and rule 1 pass."""
    rule2: Check | None  # None: not applicable (no last year)
    rule3: Check | None  # None: not needed (rule 2 passed)
    new_unit: bool

    @property
    def needs_attachments(self) -> bool:
        """Rule 3 fails, or the unit is new (always, "无论是否超过75%")."""
        return self.new_unit or (self.rule3 is not None and not self.rule3.passed)

    @property
    def required_attachment(self) -> str:
        """The attachment kind that must be among the uploads ("" when none is needed)."""
        if not self.needs_attachments:
            return ""
        return DECLARATION if self.new_unit else EXPLANATION

    @property
    def reasons(self) -> list[str]:
        return [c.reason for c in (self.rule2, self.rule3) if c is not None and not c.passed]


def rules_2_and_3(last: int | None, this: int, payers: int, new_unit: bool = False) -> Outcome:
    """Rule 2 when there is a last year; rule 3 when rule 2 fails or does not apply, or the unit is new."""
    rule2 = None if new_unit else check_rule2(last, this)
    rule3 = check_rule3(this, payers) if rule2 is None or not rule2.passed else None
    return Outcome(rule2, rule3, new_unit or rule2 is None)
