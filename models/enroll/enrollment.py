"""The enrollment model both channels share (spec 05, spec 40, spec 50; issue 7).

- **Submission** (a grassroots union's 提交, one channel and mode, one protection type):
  区局确认中 → 已完成 (the district submitted the batch containing it) / 退回 (reason; people
  released) / 已撤回 (by the union while 区局确认中); 已完成 → 区局确认中 (the centre rejected the
  district batch) / 失败 (the district batch was not paid in time).
- **Enrollment**: one person in one protection year — coverage dates, 全年/半年, the fee parts
  (fen). `active` while its submission stands; at most one active enrollment per person and year
  city-wide (a partial unique index), whatever the union, channel or source — enrollments through
  申工社 (imported by the centre) included.
- **TypeLock**: the protection type of a grassroots union for a year, fixed by its first
  submission in either channel (unique per union and year).
- **StatusRecord**: the registry of 社保卡状态 / 就业状态 / 社保缴纳 per ID number, filled by the
  centre's import of the bureau's file (models/enroll/status_import.py).
"""

from datetime import date, timedelta

import peewee as pw

from models import db, figures
from models.audit import AuditLog
from models.base import BaseModel, DomainError, in_values, now
from models.enroll import plans
from models.enroll.plans import ProtectionType, ProtectionYear
from models.members.people import Person
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.rules import fees
from models.rules.text import normalize
from models.workflow import Workflow, transition

CARD_CHANNEL, SOCIAL_CHANNEL = "会员卡参保", "社保卡参保"
CHANNELS = [CARD_CHANNEL, SOCIAL_CHANNEL]
CENTRAL, HAS_CARD_NO_COVER, NEW_CARD, INSTANT = "集中参保", "有卡无保", "新办卡", "即时参保"
MODES = [CENTRAL, HAS_CARD_NO_COVER, NEW_CARD, INSTANT]
REVIEWING, DONE, RETURNED, WITHDRAWN, FAILED = "区局确认中", "已完成", "退回", "已撤回", "失败"
ACTIVE = (REVIEWING, DONE)
STATUSES = [REVIEWING, DONE, RETURNED, WITHDRAWN, FAILED]  # the filter of a channel's submission list
INDIVIDUAL = "申工社"

# 社保卡状态 / 就业状态 / 社保缴纳 (spec 20, spec 05)
UNCLEAR = "不明确"
CARD_OK = "正常"
CARD_STATUSES = [CARD_OK, "封存", "挂失", "锁定", "注销", UNCLEAR]
EMPLOYED, RETIRED, DEAD = "在职", "退休", "死亡"
EMPLOYMENT = [EMPLOYED, RETIRED, DEAD, UNCLEAR]
NOT_ELIGIBLE = (RETIRED, DEAD)  # 就业状态 in the registry that takes a member out of 可参保 (models/stats/tally.py)
PAID = "已缴纳"
INSURANCE = [PAID, "未缴纳", UNCLEAR]


class Submission(BaseModel):
    WORKFLOW = Workflow("status", {
        (REVIEWING, "withdraw"): WITHDRAWN,
        (REVIEWING, "return"): RETURNED,
        (REVIEWING, "complete"): DONE,
        (DONE, "reopen"): REVIEWING,
        (DONE, "fail"): FAILED,
        (RETURNED, "restore"): REVIEWING,
    }, actions={"withdraw": "撤回", "return": "退回", "complete": "区局提交至职保中心",
                "reopen": "职保中心退回区局批次", "fail": "逾期未缴费", "restore": "恢复被误退回的参保提交"},
        needs_reason=frozenset({"return", "restore"}))
    REVIEWING, DONE, RETURNED, CENTRAL = REVIEWING, DONE, RETURNED, CENTRAL  # for templates: x.status == x.DONE

    org = pw.ForeignKeyField(Organization, on_delete="RESTRICT")
    year = pw.ForeignKeyField(ProtectionYear, on_delete="RESTRICT")
    channel = pw.CharField(max_length=6)
    mode = pw.CharField(max_length=6)
    type = pw.ForeignKeyField(ProtectionType, on_delete="RESTRICT")
    status = pw.CharField(max_length=6, default=REVIEWING, index=True)
    count = pw.IntegerField(default=0)
    fee = pw.IntegerField(default=0)  # totals of the per-person parts (fen)
    city = pw.IntegerField(default=0)
    district = pw.IntegerField(default=0)
    grassroots = pw.IntegerField(default=0)
    reason = pw.TextField(default="")  # 退回 reason
    district_batch = pw.CharField(max_length=20, null=True, index=True)  # CB number of its district batch
    batch = pw.DeferredForeignKey("DistrictBatch", null=True, on_delete="SET NULL")  # models/review/batches.py
    queued_level = pw.CharField(max_length=6, null=True)  # 审核标识 once in 待提交: 区局(产业) / 二级工会
    queued_by = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL", backref="queued")
    submitted_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    submitted_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("org", "year"), False), (("year", "status", "mode"), False))


class Enrollment(BaseModel):
    person = pw.ForeignKeyField(Person, on_delete="RESTRICT")
    year = pw.ForeignKeyField(ProtectionYear, on_delete="RESTRICT")
    # none for some 申工社 rows; looked up by the (org, year) index (no index of its own: migration 041)
    org = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL", index=False)
    submission = pw.ForeignKeyField(Submission, null=True, backref="enrollments", on_delete="CASCADE")
    source = pw.CharField(max_length=6, default="基层工会")  # 基层工会 / 申工社
    channel = pw.CharField(max_length=6)
    mode = pw.CharField(max_length=6)
    type = pw.ForeignKeyField(ProtectionType, null=True, on_delete="SET NULL")
    start = pw.DateField()  # 起保日期
    end = pw.DateField()  # 终保日期
    period = pw.CharField(max_length=2)  # 全年 / 半年
    fee = pw.IntegerField(default=0)
    city = pw.IntegerField(default=0)
    district = pw.IntegerField(default=0)
    grassroots = pw.IntegerField(default=0)
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("org", "year"), False),)


# One person insured at most once per protection year, city-wide.
Enrollment.add_index(Enrollment.index(Enrollment.year, Enrollment.person, unique=True, where=Enrollment.active,
                                      name="enrollment_once_per_year"))


class TypeLock(BaseModel):
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    year = pw.ForeignKeyField(ProtectionYear, on_delete="CASCADE")
    type = pw.ForeignKeyField(ProtectionType, on_delete="CASCADE")
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("org", "year"), True),)


class Confirmation(BaseModel):
    """A channel's 待确认名单 → 确认: the operator vouches for a person the registry leaves unsure;
    irreversible. Each channel keeps its own table (card_enroll.CardConfirm, social_enroll.SocialConfirm)."""
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    year = pw.ForeignKeyField(ProtectionYear, on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    confirmed_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("org", "year", "person"), True),)
        options = {"abstract": True}  # no table of its own; a channel's table says `options = {}`

    @classmethod
    def people(cls, org: Organization, year: ProtectionYear) -> set:
        """The ids of the people the union confirmed for the year."""
        return {r[0] for r in cls.select(cls.person).where((cls.org == org.id) & (cls.year == year.id)).tuples()}

    @classmethod
    def record(cls, org: Organization, year: ProtectionYear, pending: set, person_ids: list | None, account,
               action: str, nobody: str) -> int:
        """The chosen people (everyone pending when None) who are on the list, one audit row;
        refused with `nobody` when none is left."""
        chosen = sorted(pending) if person_ids is None else [pid for pid in person_ids if pid in pending]
        if not chosen:
            raise DomainError(nobody, 409)
        with db.atomic():
            cls.insert_many([{"org": org.id, "year": year.id, "person": pid, "confirmed_at": now()}
                             for pid in chosen]).on_conflict_ignore().execute()
            AuditLog.record(action, org, account=account, detail={"保障年度": year.year, "人数": len(chosen)})
        return len(chosen)


class StatusRecord(BaseModel):
    scope_field = None  # the centre's registry
    id_number = pw.CharField(max_length=32, unique=True)
    name = pw.CharField(max_length=50, default="")
    card_status = pw.CharField(max_length=4, default=UNCLEAR)  # 社保卡状态
    employment = pw.CharField(max_length=4, default=UNCLEAR)  # 就业状态
    insurance = pw.CharField(max_length=4, default=UNCLEAR)  # 社保缴纳
    status_date = pw.DateField()  # 状态日期
    updated_at = pw.DateTimeField(default=now)


# --- coverage ---------------------------------------------------------------------------------------
def coverage(year: int, mode: str, submitted: date, card_day: date | None = None) -> tuple[date, date, str]:
    """(起保日期, 终保日期, 全年/半年). Centralized: the whole year. Instant: from the day after the
    submission (新办卡: the day after the card number was generated, not before 1 Jan), to 31 Dec;
    a start from 1 Jul is a half year."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    if mode == CENTRAL:
        return first, last, "全年"
    start = (card_day + timedelta(days=1)) if (mode == NEW_CARD and card_day) else submitted + timedelta(days=1)
    start = max(start, first)
    if start > last:
        raise DomainError(f"起保日期 {start.isoformat()} 已超出{year}年度，不能参保", 409)
    return start, last, fees.period_label(start)


# --- the once-per-year rule ------------------------------------------------------------------------
def holder_of(year: ProtectionYear, person_ids: list) -> dict:
    """{person id: the active Enrollment} of those already insured in the year."""
    if not person_ids:
        return {}
    return {e.person_id: e for e in Enrollment.select().where((Enrollment.year == year.id) & Enrollment.active
                                                              & in_values(Enrollment.person, person_ids))}


def insured_elsewhere_message(enrollment: Enrollment, name: str) -> str:
    if enrollment.org_id is None:
        return f"「{name}」本年度已通过{enrollment.source}参保，同一保障年度只能参保一次"
    org = enrollment.org
    contact = "，".join(x for x in (f"联系人：{org.contact}" if org.contact else "",
                                    f"联系电话：{org.phone}" if org.phone else "") if x)
    return (f"「{name}」本年度已在「{org.name}」参保{f'（{contact}）' if contact else ''}，"
            "同一保障年度只能参保一次")


def lock_type(org: Organization, year: ProtectionYear, ptype: ProtectionType) -> None:
    """The union's type for the year: the first submission fixes it (a unique row, so two first
    submissions at once agree or one is refused)."""
    lock = TypeLock.get_or_none((TypeLock.org == org.id) & (TypeLock.year == year.id))
    if lock is None:
        try:
            with db.atomic():
                TypeLock.create(org=org.id, year=year.id, type=ptype.id)
            return
        except pw.IntegrityError:
            lock = TypeLock.get((TypeLock.org == org.id) & (TypeLock.year == year.id))
    if lock.type_id != ptype.id:
        raise DomainError(f"同一保障年度只能选择一个保障类型。本单位{year.year}年度的保障类型为"
                          f"「{lock.type.name}」", 409)


def locked_type(org: Organization, year: ProtectionYear) -> ProtectionType | None:
    lock = TypeLock.get_or_none((TypeLock.org == org.id) & (TypeLock.year == year.id))
    return lock.type if lock else None


def submit(org: Organization, year: ProtectionYear, channel: str, mode: str, ptype: ProtectionType,
           people: list, account, on: date, card_days: dict | None = None) -> Submission:
    """One submission of `people` (Person rows): coverage and fee parts per person, the type lock,
    the once-per-year rule — all in one transaction; refused as a whole with the reason."""
    if not people:
        raise DomainError("没有可参保的人员", 422)
    if ptype.year_id != year.id:
        raise DomainError("保障类型不属于该保障年度", 422)
    held = holder_of(year, [p.id for p in people])
    if held:
        first = next(p for p in people if p.id in held)
        raise DomainError(insured_elsewhere_message(held[first.id], first.name), 409)
    rows, parts = [], []
    by_period = plans.parts_by_period(org, ptype)
    for p in people:
        start, end, period = coverage(year.year, mode, on, (card_days or {}).get(p.id))
        part = by_period[period]
        parts.append(part)
        rows.append((p, start, end, period, part))
    totals = fees.total(parts)
    try:
        with db.atomic():
            lock_type(org, year, ptype)
            sub = Submission.create(org=org.id, year=year.id, channel=channel, mode=mode, type=ptype.id,
                                    count=len(rows), fee=totals.fee, city=totals.city, district=totals.district,
                                    grassroots=totals.grassroots, submitted_by=account.id if account else None)
            Enrollment.insert_many([{
                "person": p.id, "year": year.id, "org": org.id, "submission": sub.id, "channel": channel,
                "mode": mode, "type": ptype.id, "start": start, "end": end, "period": period, "fee": part.fee,
                "city": part.city, "district": part.district, "grassroots": part.grassroots, "active": True,
                "created_at": now()} for p, start, end, period, part in rows]).execute()
            AuditLog.record("提交参保", sub, to_state=REVIEWING, account=account,
                            detail={"参保通道": channel, "参保类型": mode, "保障类型": ptype.name, "人数": len(rows)})
            figures.year([org.id], year.id)  # 已提交 / 集中参保人数 (the monitor's counters)
    except pw.IntegrityError:
        held = holder_of(year, [p.id for p in people])  # someone else enrolled one of them just now
        if held:
            first = next(p for p in people if p.id in held)
            raise DomainError(insured_elsewhere_message(held[first.id], first.name), 409) from None
        raise
    return sub


def move(sub: Submission, action: str, account, reason: str = "") -> Submission:
    """A workflow step; 退回 / 撤回 / 失败 release the people (their enrollments end)."""
    with db.atomic():
        sub = transition(sub, action, account=account, reason=reason,
                         updates={"updated_at": now(), **({"reason": reason} if action == "return" else {})})
        if sub.status not in ACTIVE:
            Enrollment.update(active=False).where(Enrollment.submission == sub.id).execute()
        figures.year([sub.org_id], sub.year_id)
    return sub


# --- what both channels' screens share -------------------------------------------------------------
def type_choice(org: Organization, year: ProtectionYear, ptype_id: int = 0) -> tuple[list, object, object]:
    """(the year's types, the union's locked type or None, the type shown as chosen): the lock,
    else the one asked for, else the first."""
    types = plans.types_of(year)
    locked = locked_type(org, year)
    chosen = locked or next((t for t in types if t.id == ptype_id), None) or (types[0] if types else None)
    return types, locked, chosen


def picked_type(types: list, locked, ptype_id: int) -> ProtectionType:
    """The type a submission asks for: one of the year's, and the union's lock when it has one."""
    picked = next((t for t in types if t.id == ptype_id), None)
    if picked is None:
        raise DomainError("请选择保障类型", 422)
    if locked and picked.id != locked.id:
        raise DomainError(f"同一保障年度只能选择一个保障类型。本单位已选择「{locked.name}」", 409)
    return picked


def filter_submissions(query, args, modes: list) -> tuple[pw.ModelSelect, dict]:
    """A channel's list of the union's submissions (会员卡参保信息管理 / 社保卡参保信息管理) filtered by
    批次编号, 状态 and 参保类型 from `args`; returns the query and what the filter form shows. The
    dates (提交时间) are the caller's, like every list's."""
    status = normalize(args.get("status"))
    mode = normalize(args.get("mode"))
    number = normalize(args.get("number")).upper()
    if number:
        query = query.where(Submission.district_batch == number)
    if status in STATUSES:
        query = query.where(Submission.status == status)
    if mode in modes:
        query = query.where(Submission.mode == mode)
    return query, {"status_filter": status, "mode_filter": mode, "number": number, "statuses": STATUSES,
                   "modes": modes}
