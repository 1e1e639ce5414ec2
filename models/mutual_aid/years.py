"""The mutual-aid protection year (1 Jul – 30 Jun) and its settings (spec 70, seed 004).

- **AidYear**: year Y runs 1 Jul Y – 30 Jun Y+1; the receiving account (户名 / 账号 / 开户行,
  seed 004's as defaults) and the A0+B0+C0 price for a period longer than half a year (180 元).
- **AidWindow** (集中参保 1–30 June Y, 即时参保 from 1 Jul Y to 30 Jun Y+1) and **AidWindowExtension**
  (a window kept open longer for one insurance code — the admin's quick fix) mirror
  `models/enroll/plans.Window` / `WindowExtension`: those hang on the calendar-year ProtectionYear
  of the other line and their extensions on an Organization of the union tree, while a mutual-aid
  unit is an insurance code that may have no organisation. `window_state()` answers with the same
  `plans.WindowState` (open, reason, dates), so the screens show both lines' windows alike.
- **AidItem**: the items A0–A3 / B0–B3 / C0–C3 of a year with their full and half-year prices (fen).
"""

from datetime import date, datetime, time

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now, today
from models.enroll.plans import WindowState
from models.mutual_aid.codes import InsuranceCode
from models.orgs.accounts import Account
from models.rules.mutual_fees import BASIC, BUNDLE_DISCOUNT, ITEMS, LINES
from models.rules.mutual_year import CENTRALIZED, RECEIVING_ACCOUNT, protection_year_of
from models.rules.mutual_year import INSTANT as INSTANT_KIND
from models.rules.mutual_year import reference_windows as rules_windows

CENTRAL, INSTANT = CENTRALIZED, INSTANT_KIND  # a window's and a batch's kind (the rules' words)
KINDS = (CENTRAL, INSTANT)
HOSPITAL, ILLNESS, ACCIDENT = LINES["A"], LINES["B"], LINES["C"]


class AidYear(BaseModel):
    scope_field = None  # settings: everybody reads them, the centre changes them
    year = pw.IntegerField(unique=True)  # 保障年度 Y: 1 Jul Y – 30 Jun Y+1
    account_name = pw.CharField(max_length=100, default=RECEIVING_ACCOUNT["account_name"])  # 户名
    account_no = pw.CharField(max_length=40, default=RECEIVING_ACCOUNT["account_no"])  # 账号
    bank = pw.CharField(max_length=100, default=RECEIVING_ACCOUNT["bank"])  # 开户行
    # A0+B0+C0 together, period over half a year (fen): 190 − 10 = 180 元
    basic_combo_fee = pw.IntegerField(default=sum(ITEMS[c].full for c in BASIC) - BUNDLE_DISCOUNT)
    created_at = pw.DateTimeField(default=now)

    @property
    def starts(self) -> date:
        return date(self.year, 7, 1)

    @property
    def ends(self) -> date:
        return date(self.year + 1, 6, 30)

    def __str__(self):
        return f"{self.year}年度（{self.starts:%Y-%m-%d}至{self.ends:%Y-%m-%d}）"


class AidWindow(BaseModel):
    scope_field = None
    year = pw.ForeignKeyField(AidYear, backref="windows", on_delete="CASCADE")
    kind = pw.CharField(max_length=4)  # 集中参保 / 即时参保
    starts = pw.DateTimeField()
    ends = pw.DateTimeField()

    class Meta:
        indexes = ((("year", "kind"), True),)


class AidWindowExtension(BaseModel):
    scope_field = None
    window = pw.ForeignKeyField(AidWindow, backref="extensions", on_delete="CASCADE")
    code = pw.ForeignKeyField(InsuranceCode, on_delete="CASCADE")
    ends = pw.DateTimeField()
    reason = pw.TextField()
    created_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("window", "code"), True),)


class AidItem(BaseModel):
    scope_field = None
    year = pw.ForeignKeyField(AidYear, backref="items", on_delete="CASCADE")
    code = pw.CharField(max_length=2)  # A0 … C3
    line = pw.CharField(max_length=4)  # 在职住院 / 特种重病 / 意外伤害
    full_fee = pw.IntegerField()  # 元/人 for a period of more than half a year (fen)
    half_fee = pw.IntegerField()  # instant enrollment starting 1 Jan – 30 Jun (fen)
    sort = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("year", "code"), True),)

    @property
    def basic(self) -> bool:
        return self.code.endswith("0")


# Seed 004's fee table (元 → fen): full year, half year — from the pure rules (models/rules/mutual_fees.py).
REFERENCE_ITEMS = [(i.code, i.line, i.full, i.half) for i in ITEMS.values()]


def year_of(day: date, kind: str) -> int:
    """The protection year `kind` enrolls into on `day`: centralized enrollment (June, or a later
    extension) the year starting 1 July of the same calendar year; instant the year running."""
    if kind == CENTRAL:
        return day.year
    return protection_year_of(day)


def get_year(year: int) -> AidYear | None:
    return AidYear.get_or_none(AidYear.year == year)


def enrolling_year(kind: str, on: date | None = None) -> AidYear:
    on = on or today()
    found = get_year(year_of(on, kind))
    if found is None:
        raise DomainError(f"{year_of(on, kind)}年度互助保障尚未设置，暂不能办理{kind}", 409)
    return found


def items_of(year: AidYear) -> list:
    return list(AidItem.select().where(AidItem.year == year.id).order_by(AidItem.sort, AidItem.id))


def window_state(year: AidYear | None, kind: str, code: InsuranceCode | None = None,
                 at: datetime | None = None) -> WindowState:
    """Open or closed for `code` at `at`, with the reason in Chinese (an extension for the code
    moves the end)."""
    if year is None:
        return WindowState(False, f"互助保障年度尚未设置，{kind}未开放")
    window = AidWindow.get_or_none((AidWindow.year == year.id) & (AidWindow.kind == kind))
    if window is None:
        return WindowState(False, f"{year.year}年度的{kind}时间尚未设置")
    extension = None
    if code is not None:
        extension = (AidWindowExtension.select(AidWindowExtension.ends)
                     .where((AidWindowExtension.window == window.id) & (AidWindowExtension.code == code.id))
                     .scalar())
    return WindowState.judge(f"{year.year}年度{kind}", window.starts, window.ends, extension, at)


def require_window(year: AidYear, kind: str, code: InsuranceCode | None = None, at=None) -> WindowState:
    return window_state(year, kind, code, at).required()


def reference_windows(year: int) -> dict:
    """The rules' reference windows (集中参保 1–30 June Y, 即时参保 1 July Y – 29 June Y+1) as moments:
    from 00:00 of the first day to 23:59:59 of the last."""
    last = time(23, 59, 59)
    return {kind: (datetime.combine(first, time()), datetime.combine(final, last))
            for kind, (first, final) in rules_windows(year).items()}


def create_year(year: int, account=None) -> AidYear:
    """新建互助保障年度: seed 004's account, windows and prices, the centre changes them later."""
    if get_year(year) is not None:  # the same words as new_year's (a race may end here or there)
        raise DomainError(f"保障年度：{year}年度互助保障已存在", 422)
    with db.atomic():
        aid_year = AidYear.create(year=year)
        for kind, (starts, ends) in reference_windows(year).items():
            AidWindow.create(year=aid_year.id, kind=kind, starts=starts, ends=ends)
        AidItem.insert_many([{"year": aid_year.id, "code": code, "line": line, "full_fee": full, "half_fee": half,
                              "sort": i} for i, (code, line, full, half) in enumerate(REFERENCE_ITEMS)]).execute()
        AuditLog.record("新建互助保障年度", aid_year, account=account, detail={"保障年度": str(aid_year)})
    return aid_year


def extend_window(window: AidWindow, code: InsuranceCode, ends: datetime, account, reason: str) -> AidWindowExtension:
    """Quick fix 延长时间窗口 for one insurance code (audited with its reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写延长原因（记入操作日志）", 422)
    if ends <= window.ends:
        raise DomainError(f"延长后的结束时间须晚于原结束时间（{window.ends:%Y-%m-%d %H:%M}）", 422)
    with db.atomic():
        AidWindowExtension.insert(window=window.id, code=code.id, ends=ends, reason=reason,
                                  created_by=account.id if account else None, created_at=now()).on_conflict(
            conflict_target=[AidWindowExtension.window, AidWindowExtension.code],
            update={AidWindowExtension.ends: ends, AidWindowExtension.reason: reason}).execute()
        AuditLog.record("延长时间窗口", code, account=account, reason=reason,
                        detail={"时间窗口": f"{window.year.year}年度{window.kind}", "延长至": f"{ends:%Y-%m-%d %H:%M}"})
    return AidWindowExtension.get((AidWindowExtension.window == window.id) & (AidWindowExtension.code == code.id))


def all_windows() -> list:
    """Every year's windows, newest year first (the quick fix's choice)."""
    return list(AidWindow.select(AidWindow, AidYear).join(AidYear).order_by(AidYear.year.desc(), AidWindow.kind))


def extensions(limit: int = 50) -> list:
    """The latest extensions, with their window, year and code."""
    return list(AidWindowExtension.select(AidWindowExtension, AidWindow, AidYear, InsuranceCode)
                .join(AidWindow).join(AidYear).switch(AidWindowExtension).join(InsuranceCode)
                .order_by(AidWindowExtension.created_at.desc(), AidWindowExtension.id.desc()).limit(limit))
