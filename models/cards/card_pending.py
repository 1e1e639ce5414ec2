"""待办会员列表 (spec 30): a grassroots union's members queued for a card (加入待办会员列表 from
卡片信息管理 or 会员信息), each checked (信息校验结果 已通过 / 未通过 with the reasons / 未校验) before
the list is submitted as a card batch (提交办卡, models/cards/card_batches.py).
"""

from datetime import date

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError, now, today
from models.cards.cards import (
    HAS_CARD,
    IN_BATCH,
    INDIVIDUAL,
    ITEM_WAITING,
    NO_CARD,
    QUEUED,
    CardBatch,
    CardBatchItem,
    CardPending,
    progress_of,
)
from models.members.people import NORMAL, Membership, Person
from models.members.roster import id_candidates
from models.orgs.organizations import Organization
from models.rules import cards as rules


def pending_list(org_id: int, id_number: str = "", check: str = ""):
    """The union's 待办会员列表, newest first, with each row's person and member record; filtered by
    证件号码 and 信息校验结果 when given."""
    query = (CardPending.select(CardPending, Person, Membership).join(Person, on=(CardPending.person == Person.id))
             .switch(CardPending).join(Membership, on=(CardPending.membership == Membership.id))
             .where(CardPending.org == org_id))
    if id_number:
        query = query.where(Person.id_number.in_(id_candidates(id_number)))
    if check:
        query = query.where(CardPending.check_state == check)
    return query.order_by(CardPending.id.desc())


def pending_counts(org_id: int) -> dict:
    """{已通过: X, 未通过: Y, 未校验: Z, 全部: N} of the union's 待办会员列表."""
    counts = dict.fromkeys(rules.CHECK_STATES, 0)
    for state, n in (CardPending.select(CardPending.check_state, pw.fn.COUNT(CardPending.id))
                     .where(CardPending.org == org_id).group_by(CardPending.check_state).tuples()):
        counts[state] = n
    counts["全部"] = sum(counts[s] for s in rules.CHECK_STATES)
    return counts


# --- 待办会员列表 ---------------------------------------------------------------------------------
def _applicant(m: Membership, p: Person) -> rules.Applicant:
    return rules.Applicant(name=p.name, id_type=p.id_type, id_number=p.id_number, birth_date=p.birth_date,
                           id_expiry=p.id_expiry, work_unit=m.work_unit, mobile=m.mobile,
                           member_status=m.status)


def _mobile_holders(mobiles: set, person_ids: set) -> dict:
    """{mobile: [(person id, name)]} of the queued and waiting applicants city-wide using one of
    `mobiles`."""
    mobiles = [x for x in mobiles if x]
    holders: dict = {}
    if not mobiles:
        return holders
    queued = (CardPending.select(Membership.mobile, Person.id, Person.name, CardPending.org)
              .join(Membership, on=(CardPending.membership == Membership.id))
              .switch(CardPending).join(Person, on=(CardPending.person == Person.id))
              .where(Membership.mobile.in_(mobiles)).tuples())
    waiting = (CardBatchItem.select(CardBatchItem.mobile, CardBatchItem.person, CardBatchItem.name, CardBatch.org)
               .join(CardBatch).where(CardBatchItem.mobile.in_(mobiles) & (CardBatchItem.state == ITEM_WAITING))
               .tuples())
    for mobile, pid, name, org_id in list(queued) + list(waiting):
        holders.setdefault(mobile, []).append((pid, name, org_id))
    return holders


def run_checks(rows: list, on: date | None = None) -> None:
    """Check CardPending rows and store 已通过 / 未通过 with the reasons."""
    on = on or today()
    if not rows:
        return
    ms = {m.id: m for m in Membership.select(Membership, Person).join(Person)
          .where(Membership.id.in_([r.membership_id for r in rows]))}
    holders = _mobile_holders({m.mobile for m in ms.values()}, {m.person_id for m in ms.values()})
    stamp = now()
    with db.atomic():
        for row in rows:
            m = ms[row.membership_id]
            others = [f"本单位办卡会员（{name}）" if org_id == m.org_id else "其他工会的办卡人员"
                      for pid, name, org_id in holders.get(m.mobile, []) if pid != m.person_id]
            reasons = rules.check_application(_applicant(m, m.person), on, others[0] if others else None)
            state = rules.FAILED if reasons else rules.PASSED
            CardPending.update(check_state=state, check_reason="\n".join(reasons), checked_at=stamp) \
                .where(CardPending.id == row.id).execute()


def add_pending(org: Organization, account, memberships: list) -> tuple[int, list]:
    """加入待办会员列表: returns (number added, [(name, why not)] of the members left out)."""
    skipped, added = [], []
    if not memberships:
        raise DomainError("请先勾选要加入待办会员列表的会员", 422)
    progress = progress_of(memberships)
    with db.atomic():
        for m in memberships:
            why = None
            if m.org_id != org.id:
                why = "不是本工会的会员"
            elif m.status != NORMAL:
                why = f"用户状态为「{m.status}」，只有正常会员可以办卡"
            elif m.category in INDIVIDUAL:
                why = f"{m.category}会员请通过“申工社”个人办卡"
            elif progress[m.id][0] != NO_CARD:
                state, card, number = progress[m.id]
                why = {HAS_CARD: "已办会员卡", QUEUED: "已在待办会员列表中",
                       IN_BATCH: f"已在办卡批次 {number} 中等待开卡"}[state]
            if why:
                skipped.append((m.person.name, why))
                continue
            try:
                with db.atomic():
                    row = CardPending.create(org=org.id, membership=m.id, person=m.person_id, added_by=account)
            except pw.IntegrityError:
                skipped.append((m.person.name, "已在其他工会的待办会员列表中"))
                continue
            added.append(row)
        run_checks(added)
        if added:
            names = {m.id: m.person.name for m in memberships}
            AuditLog.record("加入待办会员列表", org, account=account,
                            detail={"人数": len(added), "会员": "、".join(names[r.membership_id] for r in added[:20])})
    return len(added), skipped


def remove_pending(row: CardPending, account) -> None:
    with db.atomic():
        name = row.person.name
        if CardPending.delete().where(CardPending.id == row.id).execute() != 1:
            raise DomainError("该会员已不在待办会员列表中，请刷新页面", 409)
        AuditLog.record("移除待办会员", row.membership, account=account, detail={"姓名": name})


def change_expiry(row: CardPending, account, raw) -> CardPending:
    """修改证件到期日: the person's ID expiry, then the row is checked again."""
    try:
        expiry = rules.parse_expiry(raw)
    except ValueError as exc:
        raise DomainError(str(exc), 422) from None
    person = row.person
    with db.atomic():
        old = person.id_expiry
        Person.update(id_expiry=expiry).where(Person.id == person.id).execute()
        AuditLog.record("修改证件到期日", row.membership, account=account,
                        detail={"证件到期日": [rules.show_expiry(old), rules.show_expiry(expiry)]})
        run_checks([row])
    return CardPending.get_by_id(row.id)


def check_all(org: Organization) -> int:
    rows = list(CardPending.select().where(CardPending.org == org.id))
    run_checks(rows)
    return len(rows)
