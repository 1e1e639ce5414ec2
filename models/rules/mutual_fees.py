"""在职职工互助保障 plan items (保障项目) and premiums (seed 004 上海职工互助保障项目2020一览表, spec 70) —
pure code, integer fen.

Items: three lines (在职住院 A, 特种重病 B, 意外伤害 C), each with a basic item (基本保障层: A0, B0, C0)
and three enhanced ones (加强保障层: 1–3). A unit ticks one set of items for its whole roster
(`check_items`); each person pays for the ticked items they may take (`person_items`):

- A0 only for people covered by 职保. Seed 004 参保对象: "A0：属于上海市职工基本医疗保险（以下简称
  “职保”）保障范围的在职职工"; A1–A3, 特种重病 and 意外伤害: "1、属于“职保”保障范围的在职职工；
  2、不属于“职保”范围，女性未满55周岁、男性未满60周岁的从业人员" and "※保障项目A1、A2、A3中的起付线补助，
  非“职保”范围的人员不享受" — so A1–A3 are charged for people outside 职保 too (the age limit is
  roster rule 1's business, `mutual_roster`).
- A0+B0+C0 for one person at full price: 190 → 180 yuan (seed 004: "同时参保A0、B0、C0保障项目，且保障期
  大于半年，总费用优惠10元/人"); the half-year prices have no discount.

A batch's total is the sum of its people's premiums (`batch_total`, by counting people who pay the
same items — the same sum, computed once per group).
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

LINES = {"A": "在职住院", "B": "特种重病", "C": "意外伤害"}
BASIC_LAYER, ENHANCED_LAYER = "基本保障层", "加强保障层"


@dataclass(frozen=True)
class Item:
    code: str
    full: int  # 保障费 一年 (fen)
    half: int  # 半年 (fen): instant enrollment starting 1 Jan – 30 Jun
    benefits: str  # 待遇 (fee table)

    @property
    def line(self) -> str:
        return LINES[self.code[0]]

    @property
    def basic(self) -> bool:
        return self.code[1] == "0"

    @property
    def layer(self) -> str:
        return BASIC_LAYER if self.basic else ENHANCED_LAYER

    @property
    def name(self) -> str:
        """As the handbook's 免责期 passage names them: 住院基本保障A0, 住院加强保障A1, 特种重病保障B0 …"""
        if self.code[0] == "A":
            return f"住院{'基本' if self.basic else '加强'}保障{self.code}"
        return f"{self.line}保障{self.code}"


# Seed 004 fee table (一览表 and the instant half-year table), yuan × 100.
ITEMS = {i.code: i for i in (
    Item("A0", 12000, 6000, "1.<=10万元 2.统筹：①住院60%；②门诊大病50%；③家庭病床60% "
                            "3.附加：①住院70%；②门诊大病50%；③家庭病床70% 4.疾病身故1万元"),
    Item("A1", 13500, 6750, "1.天数：100元/天（最高1.8万元） 2.起付线：<=1000元"),
    Item("A2", 23000, 11500, "1.天数：200元/天（最高3.6万元） 2.起付线：<=1200元"),
    Item("A3", 33000, 16500, "1.天数：300元/天（最高5.4万元） 2.起付线：<=1500元"),
    Item("B0", 5500, 2750, "1.22类重病1万元（含原位癌） 2.女性癌+1万元（含原位癌）"),
    Item("B1", 10000, 5000, "1.22类重大疾病2万元（含原位癌） 2.女性癌+1万元（含原位癌）"),
    Item("B2", 23500, 11750, "1.22类重病5万元（原位癌2万元） 2.女性癌+3万元（女性原位癌+1万）"),
    Item("B3", 46000, 23000, "1.22类重病10万元（原位癌2万元） 2.女性癌+5万元（女性原位癌+1万）"),
    Item("C0", 1500, 750, "1.意外伤残<=2万元 2.意外身故2万元"),
    Item("C1", 4000, 2000, "1.意外伤残<=5万元 2.意外身故5万元"),
    Item("C2", 7500, 3750, "1.意外伤残<=10万元 2.意外身故10万元"),
    Item("C3", 22500, 11250, "1.意外伤残<=30万元 2.意外身故30万元"),
)}
CODES = tuple(ITEMS)  # the fee table's order
REFERENCE_PRICES = {code: (i.full, i.half) for code, i in ITEMS.items()}  # what the settings store
BASIC = ("A0", "B0", "C0")
BUNDLE = frozenset(BASIC)
BUNDLE_DISCOUNT = 1000  # 190 → 180 yuan
A0_NOT_ZHIBAO = "A0仅限“职保”人员参保"
# A0+B0+C0 lines of a premium: a negative line so the item lines and the discount add up to the total.
DISCOUNT_LINE = "A0B0C0优惠"


class ItemsError(ValueError):
    """A selection of items that cannot be chosen; the message is Chinese and names each problem."""


def check_items(codes: Iterable[str]) -> tuple[str, ...]:
    """The unit's ticked items, in the fee table's order, or ItemsError naming every problem.

    Seed 004 选择规则: "A0、B0、C0至少选1种"; "A1、A2、A3至多选1种 / B1、B2、B3至多选1种 / C1、C2、C3
    至多选1种"; "参保单位在参保“基本保障项目”A0、B0或C0的基础上可参保“加强保障项目”"; "每个保障项目只能参保
    一份". The third is read as the handbook writes it — on top of a basic item (A0, B0 or C0), not
    of its own line's: A1–A3 are offered to people outside 职保, who can never have A0 (参保对象), so
    A1 cannot need A0. It therefore adds nothing to the first rule but its message.
    """
    if isinstance(codes, str):  # "A0、B0" / "A0,B0" (a stored or typed list), never its characters
        codes = re.split(r"[\s,，、;；]+", codes.strip())
    given = [str(c).strip().upper() for c in codes if str(c).strip()]
    problems = []
    unknown = [c for c in given if c not in ITEMS]
    if unknown:
        problems.append(f"未知的保障项目：{'、'.join(unknown)}")
    twice = sorted({c for c, n in Counter(given).items() if n > 1 and c in ITEMS}, key=CODES.index)
    if twice:
        problems.append(f"每个保障项目只能参保一份（{'、'.join(twice)}重复）")
    chosen = [c for c in CODES if c in given]
    enhanced = [c for c in chosen if not ITEMS[c].basic]
    if not any(ITEMS[c].basic for c in chosen):
        if enhanced:
            problems.append(f"加强保障项目（{'、'.join(enhanced)}）须在基本保障项目A0、B0或C0的基础上参保，"
                            "A0、B0、C0至少选1种")
        else:
            problems.append("基本保障项目A0、B0、C0至少选1种")
    for letter, line in LINES.items():
        mine = [c for c in enhanced if c[0] == letter]
        if len(mine) > 1:
            problems.append(f"{line}加强保障项目{letter}1、{letter}2、{letter}3至多选1种（已选{'、'.join(mine)}）")
    if problems:
        raise ItemsError("；".join(problems))
    return tuple(chosen)


def check_instant_items(centralized: Iterable[str] | None, chosen: Iterable[str]) -> tuple[str, ...]:
    """Instant enrollment of a unit that enrolled centrally this year uses the same items (seed 004:
    "即时参保保障项目和集中参保项目必须保持一致"). `centralized` is None when it did not."""
    items = check_items(chosen)
    if centralized is not None:
        same = check_items(centralized)
        if items != same:
            raise ItemsError(f"本单位已参加本年度集中参保，即时参保的保障项目须与集中参保一致"
                             f"（{'、'.join(same)}），不可更改")
    return items


def person_items(items: Iterable[str], zhibao: bool) -> tuple[str, ...]:
    """The ticked items a person pays for: all of them, without A0 for people outside 职保."""
    return tuple(c for c in items if zhibao or c != "A0")


@dataclass(frozen=True)
class Premium:
    lines: tuple[tuple[str, int], ...]  # (item code or DISCOUNT_LINE, fen)
    half: bool

    @property
    def total(self) -> int:
        return sum(fen for _, fen in self.lines)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.lines if code in ITEMS)


def premium(items: Iterable[str], zhibao: bool, half: bool,
            prices: dict[str, tuple[int, int]] | None = None, discount: int = BUNDLE_DISCOUNT) -> Premium:
    """One person's premium for the unit's checked items (`check_items`). `half`: the half-year
    prices (`mutual_year.is_half_year`); `prices` / `discount`: the year's settings (defaults: seed 004)."""
    prices = prices or REFERENCE_PRICES
    mine = person_items(check_items(items), zhibao)
    lines = [(code, prices[code][1 if half else 0]) for code in mine]
    if not half and BUNDLE <= set(mine):
        lines.append((DISCOUNT_LINE, -discount))
    return Premium(tuple(lines), half)


def batch_total(people: Iterable[tuple[bool, bool]], items: Iterable[str],
                prices: dict[str, tuple[int, int]] | None = None, discount: int = BUNDLE_DISCOUNT) -> int:
    """The premium total of a batch whose people are given as (zhibao, half) pairs: each distinct
    pair's premium times the number of people with it — the sum of the people's premiums."""
    items = tuple(items)
    counts = Counter(people)
    return sum(premium(items, zhibao, half, prices, discount).total * n for (zhibao, half), n in counts.items())


def by_item(premiums: Iterable[Premium]) -> dict[str, int]:
    """Premium by item (statistics, 保费详细): fen per item code, and the discount line (negative);
    the values add up to the sum of the premiums' totals."""
    out: dict[str, int] = {}
    for p in premiums:
        for code, fen in p.lines:
            out[code] = out.get(code, 0) + fen
    return out
