"""社保卡参保 — the social-security-card channel (spec 50, seed 002; issue 9).

Who is offered: the union's 正常 members with ID type 身份证, not in the member-card channel today
(`cards.card_channel_people`: a card opened or imported today leaves its holder here until tomorrow),
not insured in the year (any union, channel or 申工社). The screen says in one line who is not
shown and why (already insured, holding a card, another ID type).

Routing of each offered person from the last verification (`SocialCheck`, filled by the
background job 获取社保卡和就业状态 through the status provider), re-evaluated on every view:
- 就业状态 退休 / 死亡 → excluded (退休人数 / 死亡人数);
- 社保卡状态 not 正常 (封存, 挂失, 锁定, 注销, 不明确) or never checked → ③ 待校验 (cannot be submitted);
- 正常 and 就业状态 不明确, not confirmed → ② 参保待确认名单;
- 正常 and (在职 or confirmed in 参保待确认名单) → ④ 待提交.
Each count is a set of person ids, so a count and the list behind it never disagree.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import peewee as pw
from flask import current_app, has_app_context

from models import db
from models.base import BaseModel, DomainError, in_values, now, today
from models.cards.cards import Card, card_channel_people
from models.enroll import enrollment, plans, status_provider
from models.enroll.enrollment import (
    CARD_OK,
    CENTRAL,
    DEAD,
    INSTANT,
    RETIRED,
    SOCIAL_CHANNEL,
    UNCLEAR,
    Confirmation,
    Submission,
    holder_of,
)
from models.enroll.plans import ProtectionYear
from models.jobs import QUEUED, RUNNING, Job, job_kind
from models.members.people import ID_CARD, NORMAL, Membership, Person
from models.orgs.organizations import Organization

ABNORMAL_HINT = "社保卡状态异常，无法通过社保卡参保，请进行工会会员服务卡参保"
COUNTS = [("retired", "退休人数"), ("dead", "死亡人数"), ("pending", "待确认人数"), ("verify", "待校验人数")]
LABELS = dict(COUNTS) | {"ready": "待提交人员", "submitted": "集中参保已提交人数", "confirmed": "已确认人员"}
TABS = {"verify": "③ 待校验", "ready": "④ 待提交"}
KINDS = {"central": CENTRAL, "instant": INSTANT}
VERIFY_JOB = "social_verify"  # the job kind of 获取社保卡和就业状态


class SocialCheck(BaseModel):
    """The last answer of the status provider for a person (获取社保卡和就业状态) and when."""
    scope_field = None
    person = pw.ForeignKeyField(Person, unique=True, on_delete="CASCADE")
    card_status = pw.CharField(max_length=4, default=UNCLEAR)
    employment = pw.CharField(max_length=4, default=UNCLEAR)
    insurance = pw.CharField(max_length=4, default=UNCLEAR)
    status_date = pw.DateField(null=True)
    reason = pw.CharField(max_length=200, default="")  # why 不明确 (interface down, unknown number…)
    checked_at = pw.DateTimeField(default=now)
    job = pw.ForeignKeyField(Job, null=True, on_delete="SET NULL")


class SocialConfirm(Confirmation):
    """参保待确认名单 → 确认 (social-security channel): irreversible; the person joins 待提交."""

    class Meta:
        options = {}


@dataclass
class Screen:
    year: ProtectionYear
    sets: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)  # person id → SocialCheck
    hidden: dict = field(default_factory=dict)  # why people are not shown: {reason: count}

    def count(self, key: str) -> int:
        return len(self.sets[key])


def route(check: "SocialCheck | None", confirmed: bool) -> str:
    """The routing table (spec 50): 'retired', 'dead', 'verify', 'pending' or 'ready'."""
    if check is not None and check.employment == RETIRED:
        return "retired"
    if check is not None and check.employment == DEAD:
        return "dead"
    if check is None or check.card_status != CARD_OK:
        return "verify"
    if check.employment == UNCLEAR and not confirmed:
        return "pending"
    return "ready"


def screen(org: Organization, year: ProtectionYear, on: date | None = None) -> Screen:
    """The screen as it stands on `on` (today)."""
    on = on or today()
    members = list(Membership.select(Membership.person, Person.id_type).join(Person)
                   .where((Membership.org == org.id) & (Membership.status == NORMAL)
                          & (Person.population_removed == False)).tuples())  # noqa: E712
    ids = [pid for pid, _ in members]
    carded = {r[0] for r in card_channel_people(on).where(in_values(Card.person, ids))
              .tuples()} if ids else set()
    insured = holder_of(year, ids)
    s = Screen(year=year, sets={key: set() for key, _ in COUNTS} | {"ready": set(), "submitted": set()})
    s.hidden = {"本年度已参保": 0, "已办理工会会员服务卡": 0, "证件类型不是身份证": 0}
    offered = []
    for pid, id_type in members:
        held = insured.get(pid)
        if held is not None:
            s.hidden["本年度已参保"] += 1
            if held.org_id == org.id and held.channel == SOCIAL_CHANNEL and held.mode == CENTRAL:
                s.sets["submitted"].add(pid)
        elif pid in carded:
            s.hidden["已办理工会会员服务卡"] += 1
        elif id_type != ID_CARD:
            s.hidden["证件类型不是身份证"] += 1
        else:
            offered.append(pid)
    s.checks = {c.person_id: c for c in SocialCheck.select().where(in_values(SocialCheck.person, offered))} \
        if offered else {}
    confirmed = SocialConfirm.people(org, year)
    s.sets["confirmed"] = confirmed
    for pid in offered:
        s.sets[route(s.checks.get(pid), pid in confirmed)].add(pid)
    return s


def hidden_line(s: Screen) -> str:
    """The one line explaining who is not shown (seed 002 FAQ 3)."""
    parts = [f"{reason}{n}人" for reason, n in s.hidden.items() if n]
    text = "仅显示没有工会会员服务卡且证件类型是身份证、本年度尚未参保的会员"
    return text + ("；未显示：" + "，".join(parts) + "。" if parts else "。")


def people(ids) -> pw.ModelSelect:
    return (Person.select(Person, Membership).join(Membership, on=(Membership.person == Person.id))
            .where(Person.id.in_(sorted(ids) or [0]) & (Membership.status == NORMAL)).order_by(Person.id))


# --- 参保待确认名单 -----------------------------------------------------------------------------------
def confirm(org: Organization, year: ProtectionYear, person_ids: list | None, account) -> int:
    return SocialConfirm.record(org, year, screen(org, year).sets["pending"], person_ids, account,
                                "社保卡参保待确认名单确认", "参保待确认名单中没有可确认的人员（可能已被确认，请刷新）")


# --- submitting ---------------------------------------------------------------------------------------
def submit(org: Organization, year: ProtectionYear, kind: str, ptype, person_ids: list, account, on: date):
    """⑤ 提交至上级审核: only people ticked in ④ 待提交 (a forged id of ③ 待校验 or of another union
    is refused, naming why)."""
    mode = KINDS[kind]
    plans.require_window(year, "grassroots" if mode == CENTRAL else "instant", org)
    if not person_ids:
        raise DomainError("请在【待提交】中勾选要参保的人员!", 422)
    s = screen(org, year)
    outside = [pid for pid in person_ids if pid not in s.sets["ready"]]
    if outside:
        person = Person.get_or_none(Person.id == outside[0])
        where = next((LABELS[k] for k in ("verify", "pending", "retired", "dead") if outside[0] in s.sets[k]), None)
        name = f"「{person.name}」" if person and where else "所选人员"
        reason = f"在{where}中" if where else "不在本单位的待提交名单中（可能已参保或已提交）"
        raise DomainError(f"{name}{reason}，不能提交；只能提交【待提交】中的人员", 409)
    persons = list(Person.select().where(Person.id.in_(sorted(person_ids))).order_by(Person.id))
    return enrollment.submit(org, year, SOCIAL_CHANNEL, mode, ptype, persons, account, on)


def submissions(org: Organization):
    return (Submission.select().where((Submission.org == org.id) & (Submission.channel == SOCIAL_CHANNEL))
            .order_by(Submission.id.desc()))


# --- 获取社保卡和就业状态 (background verification) ---------------------------------------------------
def running_check(org: Organization) -> Job | None:
    return (Job.select().where((Job.org == org.id) & (Job.kind == VERIFY_JOB)
                               & Job.status.in_((QUEUED, RUNNING)))
            .order_by(Job.id.desc()).first())


def latest_check(org: Organization) -> Job | None:
    """The union's verification to show on the screen: one still running, or the last one if it
    finished in the last 10 minutes (its summary)."""
    job = (Job.select().where((Job.org == org.id) & (Job.kind == VERIFY_JOB))
           .order_by(Job.id.desc()).first())
    if job is None or (job.finished and (job.finished_at or job.created_at) < now() - timedelta(minutes=10)):
        return None
    return job


def start_check(org: Organization, year: ProtectionYear, account) -> tuple[Job, bool]:
    """(the job, started now?) — a second click while one runs returns the running job."""
    running = running_check(org)
    if running is not None:
        return running, False
    targets = sorted(screen(org, year).sets["verify"])
    if not targets:
        raise DomainError("没有待校验的人员", 409)
    job = Job.submit(VERIFY_JOB, {"org": org.id, "year": year.id, "people": targets}, account=account)
    # A job still queued shows how many it will check (the worker sets it again when it starts).
    Job.update(progress_total=len(targets)).where((Job.id == job.id) & (Job.progress_total == 0)).execute()
    return Job.get_by_id(job.id), True


def save_results(results: dict, by_number: dict, job_id: int | None) -> None:
    """Upsert one batch of provider answers (person by ID number) into SocialCheck."""
    stamp = now()
    rows = []
    for number, r in results.items():
        pid = by_number.get(number)
        if pid is None:
            continue
        rows.append({"person": pid, "card_status": r.card_status, "employment": r.employment,
                     "insurance": r.insurance, "status_date": r.status_date, "reason": (r.reason or "")[:200],
                     "checked_at": stamp, "job": job_id})
    if not rows:
        return
    with db.atomic():
        SocialCheck.delete().where(SocialCheck.person.in_([r["person"] for r in rows])).execute()
        SocialCheck.insert_many(rows).execute()


@job_kind(VERIFY_JOB, "获取社保卡和就业状态")
def verify_job(ctx):
    """Asks the status provider about the people who were 待校验 when the job started, batch by
    batch; each batch's answers and the checkpoint are saved together, so a job interrupted by
    a restart resumes after the last saved batch (nothing asked twice, nothing lost)."""
    people_ids = ctx.params["people"]
    provider = status_provider.provider_from_config(current_app.config if has_app_context() else None)
    size = max(1, int(getattr(provider, "batch_size", 500)))
    start = int(ctx.checkpoint.get("next", 0))
    ctx.save_progress(start, len(people_ids))
    numbers = dict(Person.select(Person.id, Person.id_number).where(Person.id.in_(people_ids)).tuples())
    failed = 0
    for i in range(start, len(people_ids), size):
        chunk = [pid for pid in people_ids[i:i + size] if pid in numbers]
        by_number = {numbers[pid]: pid for pid in chunk}
        results = provider.lookup(list(by_number))
        failed += sum(1 for r in results.values() if not r.ok)
        with db.atomic():
            save_results(results, by_number, ctx.job.id)
            ctx.save_progress(min(i + size, len(people_ids)), checkpoint={"next": i + size})
    summary = f"已获取{len(people_ids)}人的社保卡和就业状态"
    if failed:
        summary += f"，其中{failed}人查询失败（不明确），可稍后重新获取"
    return {"checked": len(people_ids), "failed": failed, "summary": summary}
