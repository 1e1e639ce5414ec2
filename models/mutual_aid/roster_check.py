"""清册校验 and 清册提交 (spec 70, seed 004; issue 18 item 6) over the pure rules of
models/rules/mutual_roster.py.

- `report(batch)`: what the check shows — 上传参保人员总数 = 清册未能匹配人员 + 清册匹配的拟参保人数,
  retirees (all must go), rule 1 (在职超龄 on `reference_day`, each kept one ticked 社保尚在缴金 /
  医保享受在职待遇), the name warnings (姓名匹配异常，请人工确认: unresolved ones block the submission),
  rule 2 against last year's count (the code's active people in last protection year's 参保成功
  batches; none → a new unit) and rule 3 over `registry.linked_payers`; both judge the unit's whole
  roster of the protection year (`year_batches`: an instant batch adding three forgotten people is
  judged with the 100 of the centralized batch already submitted, 103 against last year); whether the
  unmatched people are confirmed (人员确认) and which attachments are still missing.
- `run_check` (清册校验): the unit, the window open, the roster editable; a roster with a fault
  (empty, retirees, rule 1, name warnings) moves 清册待校验 → 清册校验不通过 (fail_check, the reasons
  kept as the batch's reason); otherwise an audit row with the outcome.
- `confirm_unmatched` (人员确认, 我已阅读并同意), `tick_over_age` (the rule-1 ticks), `remove_people`
  (移除 an over-age person, or every retiree at once, from the check page).
- `submit` (清册提交 after the 承诺书): re-runs everything on the server and refuses with the failing
  rule's reason; no attachments needed → submit (→ 保障项目待选择), else submit_attachments /
  resubmit_attachments (→ 附件审核中); submitted_at is set in the same transaction.

The unit's actions need the batch's window open (years.window_state, with the code's extension);
the centre's 附件审核 (attachment_ops) may act after the window closed.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

from models import db
from models.audit import AuditLog
from models.base import DomainError, in_values, now
from models.io.bulk import fetch
from models.mutual_aid import batch_ops, registry, roster_ops, years
from models.mutual_aid.batches import ATTACH_FAILED, EDITABLE, INSURED, AidBatch, RosterEntry
from models.mutual_aid.checks import BatchAttachment, RosterConfirmation
from models.mutual_aid.years import AidYear
from models.rules.mutual_roster import (
    RETIRED,
    Check,
    Outcome,
    RosterPerson,
    check_retirees,
    check_rule1,
    is_over_age,
    percent,
    reference_day,
    rules_2_and_3,
)

NOT_MINE = "只能办理本账号的参保批次"
SUBMITTABLE = (*EDITABLE, ATTACH_FAILED)  # 清册提交 (and 重新提交附件 after 附件审核不通过)
EMPTY = "清册中没有参保人员，请先添加参保人员"
AGREE = "请阅读承诺书并勾选“我已阅读并同意”"
WHICH = {"all": "上传参保人员总数", "matched": "清册匹配的拟参保人数", "unmatched": "清册未能匹配人员",
         "retired": "退休人员", "over_age": "在职超龄人员", "over_age_open": "在职超龄未勾选人员",
         "name_warning": "姓名匹配异常人员"}
E = RosterEntry


def name_warning_condition():
    """RosterEntry.name_warning as SQL (to count and list them): no name confirmed, and the 会员库 or
    the 建议清册 knows a name other than the roster's."""
    return (~E.name_confirmed) & (((E.member_name != "") & (E.member_name != E.name))
                                  | ((E.registry_name != "") & (E.registry_name != E.name)))


def active(batch: AidBatch):
    return (E.batch == batch.id) & E.active


@dataclass
class Report:
    batch: AidBatch
    on: date  # the day ages are counted on
    uploaded: int = 0
    matched: int = 0
    unmatched: int = 0
    unmatched_confirmed: bool = True
    retired: int = 0
    retirees: Check = None
    over_age: int = 0  # over-age people on the roster (ticked or not)
    rule1: Check = None
    name_warnings: int = 0
    last: int | None = None  # last year's count; None: a new unit
    earlier: int = 0  # the code's people of the year in its other submitted batches (rules 2 and 3)
    payers: int = 0
    social_codes: list = field(default_factory=list)
    outcome: Outcome | None = None
    kinds: set = field(default_factory=set)  # 附件类型 uploaded

    @property
    def faults(self) -> list[str]:
        """What makes the check fail (清册校验不通过): the roster itself must change."""
        if not self.uploaded:
            return [EMPTY]
        found = [c.reason for c in (self.retirees, self.rule1) if not c.passed]
        if self.name_warnings:
            found.append(f"清册中有{self.name_warnings}名人员姓名匹配异常，请点击“姓名匹配异常，请人工确认”选择正确的姓名")
        return found

    @property
    def needs_attachments(self) -> bool:
        return bool(self.outcome and self.outcome.needs_attachments)

    @property
    def missing_attachment(self) -> str:
        """The refusal when attachments are needed and not all there ("" when fine)."""
        if not self.needs_attachments:
            return ""
        required = self.outcome.required_attachment
        if required not in self.kinds:
            return f"请上传附件：{required}"
        return ""

    @property
    def blockers(self) -> list[str]:
        """Everything that keeps 清册提交 refused."""
        found = list(self.faults)
        if self.uploaded and not self.unmatched_confirmed:
            found.append(f"清册中有{self.unmatched}名清册未能匹配人员，请点击【人员确认】并勾选“我已阅读并同意”")
        if self.uploaded and self.missing_attachment:
            found.append(self.missing_attachment)
        return found

    @property
    def year_total(self) -> int:
        """Rules 2 and 3's count: this batch's people and the year's earlier submitted ones."""
        return self.uploaded + self.earlier

    @property
    def rule_lines(self) -> list[tuple[str, bool, str]]:
        """(规则, 通过 — None: 不适用, 说明) for the result dialog, in Chinese with the ratios."""
        lines = [("退休人员", self.retirees.passed, self.retirees.reason or "清册中没有退休人员"),
                 ("规则一、在职超龄校验", self.rule1.passed, self.rule1.reason or (
                     f"在职超龄人员{self.over_age}人，均已勾选“社保尚在缴金/医保享受在职待遇”" if self.over_age
                     else f"清册中没有在职超龄人员（女性年满55周岁、男性年满60周岁，以{self.on:%Y-%m-%d}计）"))]
        outcome, this = self.outcome, self.year_total
        if outcome is None:
            return lines
        if outcome.rule2 is None:
            lines.append(("规则二、清册增减幅度校验", None, "新参保单位（无上年度参保成功的清册），不适用，"
                                                     "需进行单位社保比例校验"))
        elif outcome.rule2.passed:
            change = percent(Fraction(abs(self.last - this), self.last))
            lines.append(("规则二、清册增减幅度校验", True, f"上年度参保{self.last}人，本年度拟参保{this}人，"
                                                     f"增减幅度为{change}，在±10%以内，通过"))
        else:
            lines.append(("规则二、清册增减幅度校验", False, outcome.rule2.reason))
        if outcome.rule3 is not None:
            text = outcome.rule3.reason
            if outcome.rule3.passed:
                text = (f"拟参保{this}人，关联社保编码缴费人数之和{self.payers}人，参保比例为"
                        f"{percent(Fraction(this, self.payers))}，在75%~100%之间，通过")
            lines.append(("规则三、单位社保人员参保比例校验", outcome.rule3.passed, text))
        if outcome.new_unit:
            lines.append(("新参保单位", False, "新参保单位无论参保比例是否超过75%，均需上传附件："
                                          "《社会保险费缴费申报表》或《单位参加城镇社会保险基本情况》"))
        return lines


def last_year_count(batch: AidBatch) -> int | None:
    """The code's active people in last protection year's 参保成功 batches; None when it has none."""
    previous = AidYear.get_or_none(AidYear.year == batch.year.year - 1)
    if previous is None:
        return None
    done = AidBatch.select(AidBatch.id).where((AidBatch.code == batch.code_id) & (AidBatch.year == previous.id)
                                              & (AidBatch.status == INSURED))
    if not done.exists():
        return None
    return E.select().where(E.batch.in_(done) & E.active).count()


def year_batches(batch: AidBatch) -> list[int]:
    """The code's other batches of the batch's protection year past 清册提交 (submitted_at set; a
    deleted batch is gone). Decision (issue 18, ma-integrate): rules 2 and 3 judge the unit's whole
    roster of the year — this batch's active people plus these batches' — not one batch alone, or
    every instant batch adding a few forgotten people would fail rule 2. A batch withdrawn to
    重新整理清册 keeps its submitted_at and counts; it is judged again, with the others, when it is
    submitted again."""
    return [i for (i,) in AidBatch.select(AidBatch.id).where(
        (AidBatch.code == batch.code_id) & (AidBatch.year == batch.year_id) & (AidBatch.id != batch.id)
        & AidBatch.submitted_at.is_null(False)).tuples()]


def _people(batch: AidBatch) -> list:
    """(id, RosterPerson) of the batch's active people, read as plain rows: peewee's per-row
    conversion (a date parsed per person) was three quarters of a 50,000-person check; a
    birth date is parsed once however many people share it."""
    query = E.select(E.id, E.birth_date, E.gender, E.employment, E.still_paying, E.medical_in_service).where(
        active(batch))
    days: dict = {}

    def day(value) -> date:
        if value not in days:
            days[value] = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return days[value]
    return [(i, RosterPerson(day(birth), gender, status, bool(paying or medical)))
            for i, birth, gender, status, paying, medical in fetch(query)]


def over_age_ids(batch: AidBatch, on: date, unticked: bool = False) -> list[int]:
    return [i for i, p in _people(batch) if is_over_age(p.birth, p.gender, on) and not (unticked and p.ticked)]


def unmatched_digest(batch: AidBatch) -> tuple[int, str]:
    numbers = sorted(n for (n,) in E.select(E.id_number).where(active(batch) & ~E.registry_matched).tuples())
    return len(numbers), hashlib.sha256("\n".join(numbers).encode()).hexdigest()


def report(batch: AidBatch, today: date | None = None, source=None) -> Report:
    """The check's figures and outcome; `source` the 建议清册 to ask (default: the configured one)."""
    on = reference_day(batch.kind, batch.year.year, today or now().date())
    people = [p for _, p in _people(batch)]
    found = Report(batch, on, uploaded=len(people))
    found.matched = E.select().where(active(batch) & E.registry_matched).count()
    found.unmatched = found.uploaded - found.matched
    if found.unmatched:
        held = RosterConfirmation.get_or_none(RosterConfirmation.batch == batch.id)
        found.unmatched_confirmed = held is not None and held.digest == unmatched_digest(batch)[1]
    found.retired = sum(1 for p in people if p.status == RETIRED)
    found.retirees = check_retirees(people)
    found.over_age = sum(1 for p in people if is_over_age(p.birth, p.gender, on))
    found.rule1 = check_rule1(people, on)
    found.name_warnings = E.select().where(active(batch) & name_warning_condition()).count()
    found.kinds = {k for (k,) in BatchAttachment.select(BatchAttachment.kind).distinct()
                   .where(BatchAttachment.batch == batch.id).tuples()}
    if found.uploaded:
        others = year_batches(batch)
        found.earlier = E.select().where(in_values(E.batch, others) & E.active).count() if others else 0
        found.last = last_year_count(batch)
        found.payers, found.social_codes = registry.linked_payers(batch, source, also=others)
        found.outcome = rules_2_and_3(found.last, found.year_total, found.payers, new_unit=found.last is None)
    return found


def people_of(batch: AidBatch, which: str, today: date | None = None):
    """The people behind a count of the report (`WHICH`), as a query."""
    query = E.select().where(active(batch)).order_by(E.id)
    if which == "matched":
        return query.where(E.registry_matched)
    if which == "unmatched":
        return query.where(~E.registry_matched)
    if which == "retired":
        return query.where(E.employment == RETIRED)
    if which == "name_warning":
        return query.where(name_warning_condition())
    if which in ("over_age", "over_age_open"):
        on = reference_day(batch.kind, batch.year.year, today or now().date())
        return query.where(in_values(E.id, over_age_ids(batch, on, unticked=which == "over_age_open") or [0]))
    return query


# --- the unit's operations --------------------------------------------------------------------------
def require_unit(batch: AidBatch, account, at: datetime | None = None, states=EDITABLE) -> None:
    """The batch's own account, the batch in `states`, its window open."""
    if batch.code.account_id != getattr(account, "id", None):
        raise DomainError(NOT_MINE, 403)
    if batch.status not in states:
        raise DomainError(f"当前状态为「{batch.status}」，不能执行此操作", 409)
    years.require_window(batch.year, batch.kind, batch.code, at)


def run_check(batch: AidBatch, account, at: datetime | None = None) -> Report:
    """清册校验: the report; a fault moves the batch to 清册校验不通过."""
    require_unit(batch, account, at)
    found = report(batch, (at or now()).date())
    detail = {"上传参保人员总数": found.uploaded, "清册未能匹配人员": found.unmatched,
              "结果": "；".join(found.faults) or ("需上传附件" if found.needs_attachments else "通过")}
    if found.faults and batch.status != AidBatch.CHECK_FAILED:
        found.batch = batch_ops.move(batch, "fail_check", account, "；".join(found.faults))
        return found
    with db.atomic():
        if batch.status == AidBatch.CHECK_FAILED:  # the reason shown is the latest check's
            AidBatch.update(reason="；".join(found.faults), updated_at=now()).where(AidBatch.id == batch.id).execute()
        AuditLog.record("清册校验", batch, account=account, detail=detail)
    return found


def confirm_unmatched(batch: AidBatch, account, agreed: bool, at: datetime | None = None) -> int:
    """人员确认: the unit confirms the 清册未能匹配人员 (我已阅读并同意); returns how many."""
    require_unit(batch, account, at)
    if not agreed:
        raise DomainError("请勾选“我已阅读并同意”后再确认", 422)
    count, digest = unmatched_digest(batch)
    if not count:
        raise DomainError("清册中没有清册未能匹配人员，无需确认", 409)
    with db.atomic():
        batch_ops.claim(batch)
        RosterConfirmation.insert(batch=batch.id, digest=digest, people=count, confirmed_by=account.id,
                                  confirmed_at=now()).on_conflict(
            conflict_target=[RosterConfirmation.batch],
            update={RosterConfirmation.digest: digest, RosterConfirmation.people: count,
                    RosterConfirmation.confirmed_by: account.id, RosterConfirmation.confirmed_at: now()}).execute()
        AuditLog.record("人员确认", batch, account=account, detail={"清册未能匹配人员": count})
    return count


def tick_over_age(batch: AidBatch, account, shown: list, paying: list, medical: list,
                  at: datetime | None = None) -> int:
    """The rule-1 ticks of the people `shown` (this batch's): 社保尚在缴金 for those in `paying`,
    医保享受在职待遇 for those in `medical`; returns how many people were shown."""
    require_unit(batch, account, at)
    shown = {int(i) for i in shown}
    paying, medical = {int(i) for i in paying} & shown, {int(i) for i in medical} & shown
    if not shown:
        raise DomainError("没有可勾选的在职超龄人员", 422)
    with db.atomic():
        batch_ops.claim(batch)
        mine = active(batch) & in_values(E.id, sorted(shown))
        E.update(still_paying=E.id.in_(sorted(paying) or [0]), medical_in_service=E.id.in_(sorted(medical) or [0])
                 ).where(mine).execute()
        AuditLog.record("在职超龄人员勾选", batch, account=account,
                        detail={"社保尚在缴金": len(paying), "医保享受在职待遇": len(medical), "人数": len(shown)})
    return len(shown)


def remove_people(batch: AidBatch, account, which: str, entry_ids: list | None = None,
                  at: datetime | None = None) -> int:
    """移除 from the check page: over-age people chosen (`over_age`, their ids) or every retiree
    (`retired`); returns how many went."""
    require_unit(batch, account, at)
    if which == "retired":
        ids = [i for (i,) in E.select(E.id).where(active(batch) & (E.employment == RETIRED)).tuples()]
    elif which == "over_age":
        on = reference_day(batch.kind, batch.year.year, (at or now()).date())
        ids = sorted(set(over_age_ids(batch, on)) & {int(i) for i in entry_ids or []})
    else:
        raise DomainError("请选择要移除的人员", 422)
    return roster_ops.remove_entries(batch, ids, account)


def submit(batch: AidBatch, account, agreed: bool, at: datetime | None = None) -> AidBatch:
    """清册提交 (确认提交 under the 承诺书): every check again; → 保障项目待选择, or 附件审核中 with attachments."""
    require_unit(batch, account, at, SUBMITTABLE)
    if not agreed:
        raise DomainError(AGREE, 422)
    # rule 3's payers asked before the transaction (a remote 建议清册 is not waited on while it holds
    # the batch row); a code that appears meanwhile is asked inside
    asked = registry.asked_first(codes=registry.social_codes([batch.id, *year_batches(batch)]))
    with db.atomic():
        # The batch row first (batch_ops.claim, as every roster change takes it), then the re-check
        # inside the same transaction: a person added at this instant is either seen here or refused.
        batch_ops.claim(batch)
        found = report(batch, (at or now()).date(), asked)
        if found.blockers:
            raise DomainError("清册提交失败：" + "；".join(found.blockers), 409)
        if batch.status == ATTACH_FAILED:  # the centre looks again, whatever the rules now say
            action = "resubmit_attachments"
        else:
            action = "submit_attachments" if found.needs_attachments else "submit"
        moved = batch_ops.move(batch, action, account)
        AidBatch.update(submitted_at=at or now()).where(AidBatch.id == batch.id).execute()
        AuditLog.record("承诺书", batch, account=account,
                        detail={"承诺书": "我已阅读并同意", "上传参保人员总数": found.uploaded})
    return AidBatch.get_by_id(moved.id)
