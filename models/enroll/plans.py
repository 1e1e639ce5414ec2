"""会员专享基本保障 settings (spec 40, spec 05): protection years, protection types with their fees,
time windows (with per-organisation extensions), districts' fee splits (保障金额设置) and credits.

Money is integer fen. Windows are Asia/Shanghai datetimes, start inclusive, end inclusive to the
minute shown (stored as the last second). `window_state()` answers "is it open for this
organisation now, and if not, why" — every action that has a window asks it on the server, and
the screens show the button disabled with the same reason.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now, today
from models.orgs.accounts import Account
from models.orgs.organizations import Organization, OrgTree
from models.rules import fees as rules
from models.rules.fees import yuan

# Windows of a protection year (重要时间节点, seed 001), in the order of the year.
WINDOWS = {
    "fee_split": "保障金额设置",
    "grassroots": "基层工会集中参保确认提交",
    "grassroots_pay": "基层单位缴费截止",
    "review": "区局（产业）/二级工会集中参保审核",
    "district_submit": "区局（产业）工会提交至职保中心",
    "payment": "区局（产业）工会缴费截止",
    "instant": "即时参保",
}


class ProtectionYear(BaseModel):
    scope_field = None  # settings: everybody reads them, the centre changes them
    year = pw.IntegerField(unique=True)  # 保障年度
    account_name = pw.CharField(max_length=100, default="上海市职工保障互助中心会员专享保障专户")  # 户名
    account_no = pw.CharField(max_length=40, default="316023-03002745697")  # 帐号
    bank = pw.CharField(max_length=100, default="上海银行人民广场支行")  # 开户行
    grassroots_signature = pw.CharField(max_length=100, default="上海市总工会职工服务中心")
    district_signature = pw.CharField(max_length=100, default="上海市职工保障互助中心")
    claims_deadline = pw.DateField(null=True)  # 给付申请材料截止
    created_at = pw.DateTimeField(default=now)

    def __str__(self):
        return f"{self.year}年"


class ProtectionType(BaseModel):
    scope_field = None
    year = pw.ForeignKeyField(ProtectionYear, backref="types", on_delete="CASCADE")
    code = pw.CharField(max_length=10)  # A, A+, B, B+
    name = pw.CharField(max_length=50)  # A类会员专享基本保障
    benefits = pw.TextField(default="")  # 保障内容
    full_fee = pw.IntegerField()  # 参保费用 全年 (fen)
    half_fee = pw.IntegerField()
    subsidy_full = pw.IntegerField()  # 市总统一划拨 全年
    subsidy_half = pw.IntegerField()
    special_full = pw.IntegerField(null=True)  # special subsidy groups
    special_half = pw.IntegerField(null=True)
    sort = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("year", "code"), True),)

    @property
    def fees(self) -> rules.TypeFees:
        return rules.TypeFees(self.full_fee, self.half_fee, self.subsidy_full, self.subsidy_half,
                              self.special_full, self.special_half)


class Window(BaseModel):
    scope_field = None
    year = pw.ForeignKeyField(ProtectionYear, backref="windows", on_delete="CASCADE")
    kind = pw.CharField(max_length=20)  # a key of WINDOWS
    starts = pw.DateTimeField()
    ends = pw.DateTimeField()

    class Meta:
        table_name = "time_window"  # "window" is an SQL keyword
        indexes = ((("year", "kind"), True),)

    @property
    def label(self) -> str:
        return WINDOWS.get(self.kind, self.kind)


class WindowExtension(BaseModel):
    """A window kept open longer for one organisation (and everything under it) — an audited
    quick fix of the platform admin."""
    window = pw.ForeignKeyField(Window, backref="extensions", on_delete="CASCADE")
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    ends = pw.DateTimeField()
    reason = pw.TextField()
    created_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("window", "org"), True),)


class FeeSplit(BaseModel):
    """保障金额设置: what a district's unions pay per person for a type (full year, fen)."""
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")  # the district / industry union
    type = pw.ForeignKeyField(ProtectionType, on_delete="CASCADE")
    district_part = pw.IntegerField()  # 区局/各级工会默认缴纳
    grassroots_part = pw.IntegerField()  # 基层单位默认缴纳
    valid_from = pw.DateTimeField()  # 有效期开始
    valid_to = pw.DateTimeField()  # 有效期结束
    updated_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    updated_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("org", "type"), True),)

    @property
    def split(self) -> rules.Split:
        return rules.Split(self.district_part, self.grassroots_part)


class Credit(BaseModel):
    """退回金额 / 清算分配款: a district's credit for a year's centralized enrollment (fen)."""
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    year = pw.ForeignKeyField(ProtectionYear, on_delete="CASCADE")
    amount = pw.IntegerField()
    note = pw.CharField(max_length=200, default="")
    updated_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("org", "year"), True),)


# --- reading ----------------------------------------------------------------------------------
def get_year(year: int) -> ProtectionYear | None:
    return ProtectionYear.get_or_none(ProtectionYear.year == year)


def central_year(on: date | None = None) -> ProtectionYear | None:
    """The year being enrolled: next year from October (the centralized season), else this year."""
    on = on or today()
    return (get_year(on.year + 1) if on.month >= 10 else None) or get_year(on.year)


def enrolling_year(kind: str, refusal: str | None = None) -> ProtectionYear | None:
    """The year a screen of `kind` enrolls into: "central" the year being enrolled, else (instant)
    this year. None while the city has not set it up — or, given `refusal`, DomainError(refusal, 409)."""
    year = central_year() if kind == "central" else get_year(today().year)
    if year is None and refusal:
        raise DomainError(refusal, 409)
    return year


def types_of(year: ProtectionYear) -> list:
    return list(ProtectionType.select().where(ProtectionType.year == year.id)
                .order_by(ProtectionType.sort, ProtectionType.id))


def is_special(org: Organization, itself: bool = True) -> bool:
    """Under a union the centre marked as a special subsidy group (itself or an ancestor; only an
    ancestor with itself=False)."""
    query = (Organization.select().join(OrgTree, on=(OrgTree.ancestor == Organization.id))
             .where((OrgTree.descendant == org.id) & (Organization.special_subsidy == True)))  # noqa: E712
    return (query if itself else query.where(OrgTree.ancestor != org.id)).exists()


def district_of(org: Organization) -> Organization | None:
    if org.level == "district":
        return org
    return Organization.get_or_none(Organization.id == org.district_id) if org.district_id else None


@dataclass
class WindowState:
    open: bool
    reason: str  # why closed ("" when open)
    starts: datetime | None = None
    ends: datetime | None = None

    @property
    def dates(self) -> str:
        if not self.starts:
            return ""
        return f"{self.starts:%Y-%m-%d %H:%M} 至 {self.ends:%Y-%m-%d %H:%M}"

    @classmethod
    def judge(cls, label: str, starts: datetime, ends: datetime, extended_to: datetime | None = None,
              at: datetime | None = None) -> "WindowState":
        """The window `label` at `at`: open, or closed with the reason in Chinese; an extension
        later than the end moves it (both protection lines ask this)."""
        if extended_to and extended_to > ends:
            ends = extended_to
        at = at or now()
        state = cls(True, "", starts, ends)
        if at < starts:
            state.open, state.reason = False, f"{label}尚未开始（开放时间：{state.dates}）"
        elif at > ends:
            state.open, state.reason = False, f"{label}已结束（开放时间：{state.dates}）"
        return state

    def required(self) -> "WindowState":
        """The state itself when open; else the refusal (409)."""
        if not self.open:
            raise DomainError(self.reason, 409)
        return self


def window_state(year: ProtectionYear | None, kind: str, org: Organization | None = None,
                 at: datetime | None = None) -> WindowState:
    """Open or closed for `org` at `at`, with the reason in Chinese. An extension of the window for
    the organisation or one above it moves the end."""
    label = WINDOWS[kind]
    if year is None:
        return WindowState(False, f"保障年度尚未设置，{label}未开放")
    window = Window.get_or_none((Window.year == year.id) & (Window.kind == kind))
    if window is None:
        return WindowState(False, f"{year.year}年度的{label}时间尚未设置")
    extension = None
    if org is not None:
        extension = (WindowExtension.select(pw.fn.MAX(WindowExtension.ends))
                     .join(OrgTree, on=(OrgTree.ancestor == WindowExtension.org))
                     .where((WindowExtension.window == window.id) & (OrgTree.descendant == org.id)).scalar())
    return WindowState.judge(label, window.starts, window.ends, extension, at)


def require_window(year, kind: str, org=None, at=None) -> WindowState:
    return window_state(year, kind, org, at).required()


# --- changing -------------------------------------------------------------------------------------
def day_start(day: date) -> datetime:
    return datetime.combine(day, time())


def day_end(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59))


def set_window(year: ProtectionYear, kind: str, starts: datetime, ends: datetime, account) -> Window:
    if kind not in WINDOWS:
        raise DomainError("未知的时间窗口", 422)
    if ends < starts:
        raise DomainError(f"{WINDOWS[kind]}的结束时间不能早于开始时间", 422)
    with db.atomic():
        window = Window.get_or_none((Window.year == year.id) & (Window.kind == kind))
        before = f"{window.starts:%Y-%m-%d %H:%M} 至 {window.ends:%Y-%m-%d %H:%M}" if window else "（未设置）"
        if window is None:
            window = Window.create(year=year.id, kind=kind, starts=starts, ends=ends)
        else:
            Window.update(starts=starts, ends=ends).where(Window.id == window.id).execute()
        AuditLog.record("设置时间窗口", year, account=account,
                        detail={WINDOWS[kind]: [before, f"{starts:%Y-%m-%d %H:%M} 至 {ends:%Y-%m-%d %H:%M}"]})
    return Window.get_by_id(window.id)


def extend_window(window: Window, org: Organization, ends: datetime, account, reason: str) -> WindowExtension:
    """Quick fix 延长时间窗口: keep `window` open for `org` (and below) until `ends`."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写延长原因（记入操作日志）", 422)
    if ends <= window.ends:
        raise DomainError(f"延长后的结束时间须晚于原结束时间（{window.ends:%Y-%m-%d %H:%M}）", 422)
    with db.atomic():
        old = WindowExtension.get_or_none((WindowExtension.window == window.id) & (WindowExtension.org == org.id))
        if old:
            WindowExtension.update(ends=ends, reason=reason, created_by=account.id).where(
                WindowExtension.id == old.id).execute()
        else:
            old = WindowExtension.create(window=window.id, org=org.id, ends=ends, reason=reason, created_by=account.id)
        AuditLog.record("延长时间窗口", org, account=account, reason=reason,
                        detail={"时间窗口": f"{window.year.year}年度{window.label}",
                                "延长至": f"{ends:%Y-%m-%d %H:%M}"})
    return WindowExtension.get_by_id(old.id)


def save_split(district: Organization, ptype: ProtectionType, district_yuan, grassroots_yuan, account,
               at: datetime | None = None) -> FeeSplit:
    """基层缴费设置 → 保存设置: only in the fee-split window, parts adding up to the fee."""
    if district.level != "district":
        raise DomainError("只有区局（产业）工会可以设置保障金额", 403)
    require_window(ptype.year, "fee_split", district, at)
    try:
        split = rules.Split(rules.fen(district_yuan), rules.fen(grassroots_yuan))
        rules.check_split(ptype.fees, split, is_special(district))
    except rules.FeeError as exc:
        raise DomainError(str(exc), 422) from None
    with db.atomic():
        row = FeeSplit.get_or_none((FeeSplit.org == district.id) & (FeeSplit.type == ptype.id))
        values = {"district_part": split.district, "grassroots_part": split.grassroots, "updated_by": account.id,
                  "updated_at": now()}
        if row is None:
            y = ptype.year.year
            row = FeeSplit.create(org=district.id, type=ptype.id, valid_from=day_start(date(y, 1, 1)),
                                  valid_to=day_end(date(y, 12, 31)), **values)
            before = ["（未设置）", "（未设置）"]
        else:
            before = [yuan(row.district_part), yuan(row.grassroots_part)]
            FeeSplit.update(values).where(FeeSplit.id == row.id).execute()
        AuditLog.record("保障金额设置", district, account=account,
                        detail={"保障类型": ptype.name, "区局/各级工会默认缴纳": [before[0], yuan(split.district)],
                                "基层单位默认缴纳": [before[1], yuan(split.grassroots)]})
    return FeeSplit.get_by_id(row.id)


def split_of(district: Organization | None, ptype: ProtectionType) -> FeeSplit | None:
    if district is None:
        return None
    return FeeSplit.get_or_none((FeeSplit.org == district.id) & (FeeSplit.type == ptype.id))


def parts_by_period(org: Organization, ptype: ProtectionType) -> dict:
    """{"全年": Parts, "半年": Parts} per person for a union under its district's split (one
    lookup for a whole submission); refused while the district has not set one."""
    district = district_of(org)
    row = split_of(district, ptype)
    if row is None:
        raise DomainError(f"所属区局（产业）工会尚未设置「{ptype.name}」的保障金额，暂不能参保", 409)
    special = is_special(org)
    try:
        return {period: rules.per_person(ptype.fees, row.split, half=period == "半年", special=special)
                for period in ("全年", "半年")}
    except rules.FeeError:
        # The centre changed the type's fee or the union's subsidy group after the district set
        # its split: the parts no longer add up until the district sets them again.
        raise DomainError(f"所属区局（产业）工会「{ptype.name}」的保障金额设置与当前保障费用或市总补贴不一致，"
                          "请联系区局（产业）工会重新设置保障金额后再参保", 409) from None


def parts_for(org: Organization, ptype: ProtectionType, half: bool = False) -> rules.Parts:
    return parts_by_period(org, ptype)["半年" if half else "全年"]


# --- reference data (demo, new years) --------------------------------------------------------------
REFERENCE_TYPES = [  # seed 001 (2020) table; 2024–2025 use the same A type (26 / 13)
    ("A", "A类会员专享基本保障", "4种重大疾病（含原位癌）保障1万元；意外伤残、身故保障3万元",
     2600, 1300, 1300, 650, 650, 300),
    ("A+", "A+类会员专享基本保障", "A类保障内容；另加住院津贴每天60元，最高10800元",
     7600, 3800, 1300, 650, 650, 300),
    ("B", "B类会员专享基本保障", "22种重大疾病保障2万元；意外伤残、身故保障3万元；疾病身故保障1万元",
     9000, 4500, 4000, 2000, 2250, 1100),
    ("B+", "B+类会员专享基本保障", "B类保障内容；另加住院津贴每天60元，最高10800元",
     14000, 7000, 4000, 2000, 2250, 1100),
]


def reference_windows(year: int) -> dict:
    """The seed-001 timeline moved to `year` (enrolment for `year` happens in year-1)."""
    prev = year - 1
    return {
        "fee_split": (day_start(date(prev, 10, 25)), day_end(date(prev, 10, 31))),
        "grassroots": (day_start(date(prev, 11, 1)), day_end(date(prev, 12, 25))),
        "grassroots_pay": (day_start(date(prev, 11, 1)), day_end(date(prev, 12, 25))),
        "review": (day_start(date(prev, 11, 1)), day_end(date(prev, 12, 25))),
        "district_submit": (day_start(date(prev, 12, 26)), day_end(date(prev, 12, 31))),
        "payment": (day_start(date(prev, 12, 26)), day_end(date(year, 1, 20))),
        "instant": (day_start(date(year, 1, 1)), day_end(date(year, 12, 30))),
    }


def create_year(year: int, account=None, with_types: bool = True) -> ProtectionYear:
    with db.atomic():
        py = ProtectionYear.create(year=year, claims_deadline=date(year + 2, 12, 31))
        if with_types:
            for i, (code, name, benefits, *amounts) in enumerate(REFERENCE_TYPES):
                ProtectionType.create(year=py, code=code, name=name, benefits=benefits, sort=i,
                                      **dict(zip(("full_fee", "half_fee", "subsidy_full", "subsidy_half",
                                                  "special_full", "special_half"), amounts, strict=True)))
        for kind, (starts, ends) in reference_windows(year).items():
            Window.create(year=py, kind=kind, starts=starts, ends=ends)
        AuditLog.record("新建保障年度", py, account=account, detail={"保障年度": year})
    return py
