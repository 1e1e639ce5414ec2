"""首页 dashboard: the period tabs, the four counts and the 入会人数统计图 series of a subtree.

新增 = current members who joined on that day; 原有 = current members who joined before it
(spec 05). The chart is drawn by the template as SVG from `Chart.bars` — no JavaScript.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import peewee as pw

from models.members import counts as stats
from models.orgs.organizations import ACTIVE, Enterprise, Organization, OrgTree

TABS = {"today": "今日", "week": "本周", "month": "本月"}
MAX_DAYS = 366


@dataclass
class Period:
    tab: str  # today / week / month / range
    start: date
    end: date
    errors: list = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.tab in TABS:
            return TABS[self.tab]
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    @property
    def days(self) -> list:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def parse_period(args, today: date) -> Period:
    """From ?tab=today|week|month or ?start=…&end=… (开始日期 / 结束日期). Bad input → the
    week with a Chinese error naming the field."""
    week = Period("week", today - timedelta(days=today.weekday()), today)
    tab = args.get("tab") or ""
    if tab == "today":
        return Period("today", today, today)
    if tab == "month":
        return Period("month", today.replace(day=1), today)
    if not (args.get("start") or args.get("end")):
        return week
    errors, parsed = [], {}
    for key, label in (("start", "开始日期"), ("end", "结束日期")):
        text = (args.get(key) or "").strip()
        if not text:
            errors.append(f"请填写{label}")
            continue
        try:
            parsed[key] = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            errors.append(f"{label}格式应为 年-月-日，如 {today:%Y-%m-%d}")
    if not errors:
        start, end = parsed["start"], parsed["end"]
        if start > end:
            errors.append("开始日期不能晚于结束日期")
        elif end > today:
            errors.append("结束日期不能晚于今天")
        elif (end - start).days + 1 > MAX_DAYS:
            errors.append("查询范围不能超过一年（366天）")
        else:
            return Period("range", start, end)
    week.errors = errors
    return week


@dataclass
class Counts:
    members: int
    grassroots: int
    enterprises: int
    activated: int


def build(root: Organization, period: Period) -> tuple:
    """(Counts, Chart) of root's subtree for the period: whole-tree check, daily series and
    member total read once each."""
    whole = stats.is_whole_tree(root.id)
    daily = stats.daily(root.id, period.start, period.end, whole)
    members = stats.member_total(root.id, whole)
    return counts(root, daily, members, whole), chart(root, period, daily, members, whole)


def counts(root: Organization, daily: dict, members: int, whole: bool) -> Counts:
    grassroots = Organization.select(pw.fn.COUNT(Organization.id)).where(
        (Organization.level == "grassroots") & (Organization.status == ACTIVE))
    enterprises = Enterprise.select(pw.fn.COUNT(Enterprise.id))
    if not whole:  # the city root needs no subtree join
        grassroots = grassroots.join(OrgTree, on=(OrgTree.descendant == Organization.id)).where(
            OrgTree.ancestor == root.id)
        enterprises = enterprises.join(OrgTree, on=(OrgTree.descendant == Enterprise.org)).where(
            OrgTree.ancestor == root.id)
    return Counts(members=members, grassroots=grassroots.scalar() or 0,
                  enterprises=enterprises.scalar() or 0, activated=sum(a for _, a in daily.values()))


@dataclass
class Bar:
    day: date
    new: int  # 新增
    old: int  # 原有


@dataclass
class Chart:
    bars: list
    total_new: int
    # geometry for the SVG (viewBox units)
    width: int = 640
    height: int = 240
    left: int = 44
    right: int = 64
    top: int = 16
    bottom: int = 40

    @property
    def plot_w(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def max_new(self) -> int:
        return nice_max(max([b.new for b in self.bars] + [1]))

    @property
    def max_old(self) -> int:
        return nice_max(max([b.old for b in self.bars] + [1]))

    def slot(self, i: int) -> float:
        return self.plot_w / max(1, len(self.bars))

    def bar_rect(self, i: int):
        w = self.slot(i)
        b = self.bars[i]
        h = self.plot_h * b.new / self.max_new
        width = min(w * 0.6, 36)
        return (round(self.left + i * w + (w - width) / 2, 1), round(self.top + self.plot_h - h, 1),
                round(width, 1), round(h, 1))

    def points(self) -> list:
        """(x, y) of the 原有 line, one per bar (drawn as dots too: a one-day line is a dot)."""
        w = self.slot(0)
        return [(round(self.left + i * w + w / 2, 1),
                 round(self.top + self.plot_h - self.plot_h * b.old / self.max_old, 1))
                for i, b in enumerate(self.bars)]

    def line_points(self) -> str:
        return " ".join(f"{x},{y}" for x, y in self.points())

    def x_labels(self):
        """Every n-th day label so they never overlap (at most ~10 labels)."""
        n = max(1, -(-len(self.bars) // 10))
        w = self.slot(0)
        return [(round(self.left + i * w + w / 2, 1), f"{b.day:%m-%d}")
                for i, b in enumerate(self.bars) if i % n == 0]

    def y_ticks(self):
        """(y, left label 新增, right label 原有) for 5 grid lines."""
        return [(round(self.top + self.plot_h - self.plot_h * k / 4, 1),
                 self.max_new * k // 4, self.max_old * k // 4) for k in range(5)]


def nice_max(value: int) -> int:
    """Round an axis maximum up to 1, 2 or 5 × 10ⁿ, divisible into 4 ticks."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if value <= 4 * m * step:
                return 4 * m * step
        step *= 10


def chart(root: Organization, period: Period, daily: dict, total: int, whole: bool) -> Chart:
    after = stats.joined_after(root.id, period.end, whole)
    bars, later = [], after
    for day in reversed(period.days):
        new = daily.get(day, (0, 0))[0]
        later += new
        bars.append(Bar(day=day, new=new, old=total - later))
    bars.reverse()
    return Chart(bars=bars, total_new=sum(b.new for b in bars))


def dashboard_root(account) -> Organization:
    """The account's subtree root; city-wide roles look at the whole tree."""
    org = account.org
    if account.sees_whole_city:
        top = org.ancestors()
        return top[0] if top else org
    return org
