"""同步会员: applying a compare's classes in its one transaction (models/members/member_sync.py reads
and classifies the file) — A and D marked 同步会员 是 / 否, class B joined at once, class C filed as
transfer requests — each class in a few statements for all its rows, and row by row (with each
row's reason) when someone else changed one of its people in the meantime."""

import peewee as pw

from models import db, figures
from models.audit import AuditLog
from models.base import DomainError, in_values, now, today
from models.io.bulk import bulk_insert, chunks, fetch, in_batch
from models.jobs import Job
from models.members import counts, member_review, members, people
from models.members.people import (
    ACTIVE_STATUSES,
    DELETED,
    HELD,
    NORMAL,
    RECORD_FIELDS,
    TRANSFER_IN,
    TRANSFERRED,
    Membership,
    Person,
    TransferRequest,
)
from models.orgs.organizations import Organization
from models.rules.text import mask

BIG_IN = 10_000  # ids of one UPDATE … WHERE id IN (one parameter): 同步会员 and 未同步 of a whole roster
SYNC_REASON = "同步会员"


def _numbers_for(lines: list, org: Organization) -> list:
    """会员编号 for the class-B people (None each where they wait for 会员审核)."""
    if not lines:
        return []
    if people.review_required(org):
        return [None] * len(lines)
    return people.next_member_numbers(len(lines))


# --- applying ------------------------------------------------------------------------------------
def join_directly(person, org: Organization, account, action: str, number: str | None = None,
                   synced: bool | None = None) -> Membership:
    """Class B / transfer-in of a person held by no union: a member of `org` at once (正常,
    会员编号 issued) without a transfer — but where the district reviews new members (会员审核)
    they wait 待审核 like any new member. Counted through members.join() (its savepoint undoes a
    constraint violation: someone else got there first)."""
    if people.review_required(org):
        m = members.join(person.id, org, status=people.PENDING, join_date=today(), synced=synced)
        how = "无组织会员转入，等待上级会员审核"
    else:
        m = members.join(person.id, org, status=NORMAL,
                             member_no=number or people.next_member_numbers(1)[0],
                             join_date=today(), approved_at=now(), synced=synced)
        how = "无组织会员直接转入，无须审核"
    AuditLog.record(action, m, to_state=m.status, account=account,
                    detail={"姓名": person.name, "证件号码": mask(person.id_number), "方式": how})
    return m


def join_all(lines: list, org: Organization, account, numbers: list) -> tuple[list, list]:
    """Class B: join_directly() of every line's person with the 会员编号 `numbers`, all at once:
    ([(row, membership id, person id)], [(row, name, number, reason) of each row refused]). Should
    someone else have taken one of them meanwhile (a unique index refuses the insert), the lines
    are joined one by one (`refusal` says why for each one taken)."""
    if not lines:
        return [], []
    try:
        with db.atomic():
            return _join_all(lines, org, account, numbers), []
    except pw.IntegrityError:
        joined, refused = [], []
        for line, number in zip(lines, numbers, strict=True):
            try:
                m = join_directly(line.person, org, account, "同步会员转入", number, synced=True)
            except pw.IntegrityError:  # another operator got there first
                refused.append((line.row, line.name, line.raw_id, refusal(line.person, org)))
                continue
            joined.append((line.row, m.id, line.person.id))
        return joined, refused


def _join_all(lines: list, org: Organization, account, numbers: list) -> list:
    """join_directly()'s rows for every line in a few statements (memberships, counters, audit log)."""
    pending = numbers[0] is None  # people.review_required(org): they wait for 会员审核
    stamp, day = now(), today()
    status = people.PENDING if pending else NORMAL
    ids = [line.person.id for line in lines]
    found = {}
    for chunk in chunks(ids, in_batch()):
        found.update((row[0], row[1:]) for row in fetch(
            Person.select(Person.id, Person.name, Person.gender, Person.birth_date).where(in_values(Person.id, chunk))))
    bulk_insert(Membership, [{"person": line.person.id, "org": org.id, "status": status, "member_no": number,
                              "join_date": day, "approved_at": None if pending else stamp, "synced": True,
                              **dict(zip(Membership.COPIES, found[line.person.id], strict=True))}
                             for line, number in zip(lines, numbers, strict=True)])
    made = {}
    for chunk in chunks(ids, in_batch()):
        made.update(fetch(Membership.select(Membership.person, Membership.id)
                          .where((Membership.org == org.id) & Membership.status.in_(HELD)
                                 & in_values(Membership.person, chunk))))
    facts = {"org": org.id, "counted": not pending, "join_date": day, "approved": None if pending else stamp.date()}
    counts.apply_changes([(None, facts)] * len(lines))
    how = "无组织会员转入，等待上级会员审核" if pending else "无组织会员直接转入，无须审核"
    bulk_insert(AuditLog, [AuditLog.row("同步会员转入", object_type="Membership", object_id=made[line.person.id],
                                        to_state=status, account=account,
                                        detail={"姓名": line.person.name, "证件号码": mask(line.person.id_number),
                                                "方式": how}) for line in lines])
    return [(line.row, made[line.person.id], line.person.id) for line in lines]


def _previous_orgs(person_ids: list) -> dict:
    """{person id: organisation id of the person's latest former membership} (已转出 / 已删除)."""
    previous = {}
    for chunk in chunks(sorted(person_ids)):
        query = (Membership.select(Membership.person, Membership.org)
                 .where(Membership.person.in_(chunk) & Membership.status.in_((TRANSFERRED, DELETED)))
                 .order_by(Membership.id))
        for person_id, org_id in query.tuples():
            previous[person_id] = org_id
    return previous


def mark_synced(ids: list, synced: bool, stamp) -> None:
    """同步会员 是 / 否 of these memberships; a row already so is not written again (a union
    syncing the same roster again rewrites nothing)."""
    other = Membership.synced.is_null() | (Membership.synced == (not synced))
    for chunk in chunks(ids, BIG_IN):
        Membership.update(synced=synced, updated_at=stamp).where(in_values(Membership.id, chunk) & other).execute()


def apply(plan, org: Organization, account, job: Job, numbers: list | None = None) -> dict:
    """Every effect of a compare's Plan (call inside one transaction). `numbers`: 会员编号 reserved
    for class B (reserved here when not given). Returns the job's result."""
    stamp = now()
    errors = [(line.row, line.name, line.raw_id, line.error) for line in plan.errors]
    # mark_synced writes only the rows whose 同步会员 changes, judged inside this transaction (not
    # by what classify read: another compare of this union may have committed since)
    mark_synced(plan.a, True, stamp)
    mark_synced(plan.d, False, stamp)
    # one count of the monitor's 可参保 for every person moved below (models/figures.py)
    with figures.people([line.person.id for line in plan.b] + [held.person_id for _, held in plan.c]):
        moved = []  # [row, "B", membership id, previous org id] / [row, "C", request id]
        previous = _previous_orgs([line.person.id for line in plan.b])
        if numbers is None:
            numbers = _numbers_for(plan.b, org)
        joined, refused = join_all(plan.b, org, account, numbers)
        errors += refused
        moved += [[row, "B", m_id, previous.get(person_id)] for row, m_id, person_id in joined]
        filed, refused = request_transfers(plan.c, org, account, job)
        errors += refused
        moved += [[row, "C", request_id] for row, request_id, _ in filed]
        targets = [target_id for _, _, target_id in filed]
    # In the uploaded roster: 同步会员 是 once the transfer is approved. The targets filed together
    # were inserted so (`_file_transfers`); only those filed one by one are written again here.
    for chunk in chunks(targets):
        Membership.update(synced=True).where(Membership.id.in_(chunk) & Membership.synced.is_null()).execute()
    joined = sum(1 for x in moved if x[1] == "B")
    by_class = {"A": len(plan.a), "B": joined, "C": len(moved) - joined, "D": len(plan.d),
                "E": len(plan.e), "errors": len(errors)}
    errors.sort()
    summary = (f"共{plan.total}行：A 本单位会员{by_class['A']}人，B 无组织直接转入{by_class['B']}人，"
               f"C 已申请从其他单位转入{by_class['C']}人，D 不在名单内{by_class['D']}人，"
               f"E 未录入系统{by_class['E']}人，错误{by_class['errors']}行。")
    AuditLog.record("同步会员", job, account=account,
                    detail={"工会": org.name, "行数": plan.total, **by_class})
    # Who is behind the counts of A, B and D (membership ids; C: the job's transfer requests).
    behind = {"A": sorted(plan.a), "B": sorted(x[2] for x in moved if x[1] == "B"), "D": sorted(plan.d)}
    return {"summary": summary, "counts": by_class, "rows": plan.total, "failed": len(errors),
            "moved": sorted(moved), "errors": [list(e) for e in errors], "people": behind}


def request_transfers(rows: list, org: Organization, account, job: Job) -> tuple[list, list]:
    """Class C: a transfer request for each (line, HeldRef held by another union), as
    member_review.request_transfer files it, for all rows at once: ([(row, request id, target
    membership id)], [(row, name, number, reason) of each row refused]). The holding
    memberships are read as they are now (not as classified). Call inside the apply's
    transaction; should a transfer of one of them be filed meanwhile (a unique index refuses the
    insert), the rows are filed one by one."""
    sources = {}
    for chunk in chunks([held.id for _, held in rows]):
        sources.update((m.id, m) for m in Membership.select(Membership, Person).join(Person)
                       .where(Membership.id.in_(chunk)))
    mobiles = sorted({m.mobile for m in sources.values() if m.mobile})
    taken = dict(fetch(Membership.select(Membership.mobile, Person.name).join(Person)
                       .where((Membership.org == org.id) & in_values(Membership.mobile, mobiles)
                              & Membership.status.in_(ACTIVE_STATUSES)))) if mobiles else {}
    filed, refused, batch = [], [], []
    for line, held in rows:
        m = sources.get(held.id)
        reason = ("该会员刚被其他操作员办理，请重新同步" if m is None else member_review.transfer_refusal(m, org)
                  or (members.mobile_taken(taken[m.mobile]) if m.mobile in taken else None))
        if reason:
            refused.append((line.row, line.name, line.raw_id, reason))
            continue
        if m.mobile:
            taken[m.mobile] = m.person.name  # the new 转入审核中 membership holds it now
        batch.append((line, m))
    try:
        with db.atomic():
            filed = _file_transfers(batch, org, account, job)
    except pw.IntegrityError:  # filed meanwhile: each row on its own (request_transfer says why)
        for line, m in batch:
            try:  # request_transfer's own savepoint undoes a refused row
                request = member_review.request_transfer(m, org, account, reason=SYNC_REASON, job=job.id)
            except DomainError as exc:
                refused.append((line.row, line.name, line.raw_id, exc.message))
                continue
            filed.append((line.row, request.id, request.target_id))
    return filed, refused


def _file_transfers(batch: list, org: Organization, account, job: Job) -> list:
    """request_transfer's rows for every (line, source membership) of `batch` in a few statements:
    the 转入审核中 memberships here (not counted: no counter moves; 同步会员 是 from the start: they
    are in the uploaded roster), the requests, the audit log."""
    if not batch:
        return []
    bulk_insert(Membership, [{"person": m.person_id, "org": org.id, "status": TRANSFER_IN, "synced": True,
                              **{k: getattr(m, k) for k in RECORD_FIELDS}, "person_name": m.person.name,
                              "person_gender": m.person.gender, "person_birth_date": m.person.birth_date}
                             for _, m in batch])
    persons = [m.person_id for _, m in batch]
    target = dict(fetch(Membership.select(Membership.person, Membership.id)
                        .where((Membership.org == org.id) & (Membership.status == TRANSFER_IN)
                               & in_values(Membership.person, persons))))
    bulk_insert(TransferRequest, [{"person": m.person_id, "source": m.id, "target": target[m.person_id],
                                   "from_org": m.org_id, "to_org": org.id, "filed_by_org": account.org_id,
                                   "filed_by": account.id, "reason": SYNC_REASON, "job": job.id}
                                  for _, m in batch])
    requests = dict(fetch(TransferRequest.select(TransferRequest.source, TransferRequest.id)
                          .where(TransferRequest.job == job.id)))
    bulk_insert(AuditLog, [AuditLog.row("申请会员转移", m, account=account,
                                        detail={"转入单位": org.name, "原因": SYNC_REASON}) for _, m in batch])
    return [(line.row, requests[m.id], target[m.person_id]) for line, m in batch]


def refusal(person, org: Organization) -> str:
    held = people.holding(person.id)
    if held is not None:
        return "该会员已在本工会" if held.org_id == org.id else people.held_elsewhere_message(held)
    return "该会员刚被其他操作员办理，请重新同步"

