"""同步会员 / 会员比对 (spec 20, seed 001 A–E) and 从其他工会转入会员到本工会 by Excel.

A grassroots union (or a 临时工会) uploads its whole current roster (姓名, 证件号码). Name AND
ID number must both match a person in the system ("会员姓名和证件号码必须一致方能转入"). Every row
is classified:

- A  in this union (待审核 / 正常)            → 同步会员 = 是;
- B  in the system, held by no union          → joined into this union at once, no approval;
- C  held by another union                    → a transfer-in request (TransferRequest, job=…)
                                                 the source union or its superior decides;
- D  members (正常) of this union not in the file → 同步会员 = 否 (probably left or retired);
- E  not in the system                        → 下载比对结果: a file in the member-import
                                                 template's columns, to upload as 批量导入;
- rows with a bad ID number, an empty name, a different name in the system, a duplicate in the
  file or a person already in a pending transfer are error rows (错误行号 / 姓名 / 证件号码 / 错误信息).

The compare runs as a background job: the file is read and every row checked and classified
first (a few IN queries for the whole file, no query per row), then all effects are applied in
one transaction together with the job's checkpoint — a crash leaves nothing half done and a
restarted job does not apply twice.

The files (templates, 下载比对结果, the error list, 导出结果) are member_sync_files.py; 从其他工会转入会员到本工会
(the same columns and an optional 转入原因, each row on its own) is member_transfer_in.py.
"""

from collections import namedtuple
from dataclasses import dataclass, field

import peewee as pw

from models import db, figures
from models.audit import AuditLog
from models.base import DomainError, in_values, now, today
from models.io import uploads
from models.io.bulk import chunks, fetch, in_batch
from models.io.tables import read_table, records
from models.jobs import Job, bulk_work, job_kind
from models.members import member_review, members, people
from models.members.member_import import TEMPLATE_HEADER
from models.members.member_import import people_query as memberships
from models.members.member_sync_files import COLUMNS, errors_workbook, new_members_workbook
from models.members.people import (
    ACTIVE_STATUSES,
    DELETED,
    ID_CARD,
    NORMAL,
    TRANSFER_IN,
    TRANSFERRED,
    Membership,
    Person,
    TransferRequest,
)
from models.orgs.accounts import Account
from models.orgs.organizations import ACTIVE as ORG_ACTIVE
from models.orgs.organizations import Organization
from models.rules import member_fields
from models.rules.text import mask, normalize
from models.storage import stored_file

KIND = "member_compare"
REASON_COLUMN = "转入原因"
IMPORT_COLUMNS = TEMPLATE_HEADER  # the member-import template (seed 000): the class-E download
MAX_ROWS = 50_000
MAX_TRANSFER_ROWS = 1000
BIG_IN = 10_000  # ids of one UPDATE … WHERE id IN (one parameter): 同步会员 and 未同步 of a whole roster
NOT_FOUND = "未查到该会员信息,请确认该证件号码已录入到系统"  # the manual's wording (seed 001)
NUMERIC_ID = member_fields.NUMERIC_ID_MESSAGE
SYNC_REASON = "同步会员"
TRANSFER_REASON = "从其他工会转入"

# The result page's explanation of each class (seed 001 同步会员 比对结果).
CLASSES = {
    "A": ("本单位且已录入系统的会员", "会员的同步状态为“是”，可在会员信息页面“请选择同步会员状态”筛选查询"),
    "B": ("已录入系统但无组织的会员", "系统会将此类会员自动转入本单位，无须审核"),
    "C": ("已录入系统但在其他单位的会员",
          "需等待上家单位作出转出审核；点击“导出结果”可查看上家单位联系人、联系电话及审核状态"),
    "D": ("系统中已有但不在上传名单内的会员",
          "会员的“同步会员”状态将显示“否”，可进行手动转出操作（点击“查看处理详情”：离职人员转出，退休、死亡可删除）"),
    "E": ("还未录入系统的会员",
          "此类会员应进行“新增”操作：点击“下载比对结果”，补充手机号码后可直接作为会员导入模板上传"),
}
HISTORY_STATUS = {"已完成": "导入成功", "失败": "失败"}  # anything else: 处理中

# Read-only views of what classification needs (plain tuples: a 5,000-row roster loads fast).
PersonRef = namedtuple("PersonRef", "id id_type id_number name")
HeldRef = namedtuple("HeldRef", "id person_id org_id status org_name")  # an active membership



def can_sync(org: Organization) -> bool:
    """同步会员 and 从其他工会转入 are for grassroots unions and 临时工会 (their own roster)."""
    return (org.level == "grassroots" or org.is_temporary) and org.status == ORG_ACTIVE


def file_name(job: Job) -> str:
    """The uploaded file's name (as the operator chose it)."""
    return job.params_data.get("file_name", "")


def history_label(job: Job) -> str:
    """历史导入记录 status: 导入成功 / 处理中 / 失败."""
    return HISTORY_STATUS.get(job.status, "处理中")

# --- reading and checking the rows ---------------------------------------------------------------
@dataclass
class Line:
    row: int  # 错误行号: the row number in the file
    name: str
    raw_id: str  # as typed (for the error list and the E file when it is wrong)
    id_number: str = ""  # normalised
    resident: bool = False  # a valid 身份证 number: look it up as 身份证 only
    gender: str = ""  # from a 身份证 number
    reason: str = ""  # 转入原因
    error: str = ""
    person: PersonRef | None = None  # the person with this number (also when the name differs)


def read_lines(data: bytes, columns=COLUMNS, max_rows: int = MAX_ROWS) -> list[Line]:
    """The file's rows, normalised and checked (no database access)."""
    table = read_table(data, columns[:2], max_rows=max_rows)
    on = today()
    lines, first_row = [], {}
    for number, values in records(table):
        line = _line(number, values, on)
        if not line.error:
            first = first_row.setdefault(line.id_number, number)
            if first != number:
                line.error = f"证件号码与第{first}行重复"
        lines.append(line)
    return lines


def _line(number: int, values: dict, on) -> Line:
    raw = values.get("证件号码", "")
    checked = member_fields.roster_line(values.get("姓名"), raw, on)
    return Line(row=number, name=checked.name, raw_id=str(raw), id_number=checked.id_number,
                resident=checked.resident, gender=checked.gender, error=checked.error,
                reason=normalize(values.get(REASON_COLUMN))[:200])


def find_people(lines: list[Line]) -> None:
    """Attach the matching Person to each line (or an error when the name differs). A valid
    身份证 number is looked up as 身份证; any other number under any ID type."""
    numbers = sorted({line.id_number for line in lines if not line.error})
    found: dict = {}
    for chunk in chunks(numbers, in_batch()):
        query = (Person.select(Person.id, Person.id_type, Person.id_number, Person.name)
                 .where(in_values(Person.id_number, chunk)).order_by(Person.id))
        for row in fetch(query):
            person = PersonRef._make(row)
            found.setdefault(person.id_number, []).append(person)
    for line in lines:
        if line.error:
            continue
        candidates = [p for p in found.get(line.id_number, ())
                      if not line.resident or p.id_type == ID_CARD]
        if not candidates:
            continue
        same = [p for p in candidates if p.name == line.name]
        line.person = (same or candidates)[0]  # kept with the error: the person is in the file
        if not same:
            line.error = f"会员姓名和证件号码不一致（系统中为「{line.person.name}」）"


def held_memberships(person_ids) -> tuple[dict, dict]:
    """({person id: HeldRef held (待审核/正常)}, {person id: HeldRef pending 转入审核中})."""
    held, pending = {}, {}
    for chunk in chunks(sorted(person_ids), in_batch()):
        query = (Membership.select(Membership.id, Membership.person, Membership.org, Membership.status,
                                   Organization.name)
                 .join(Organization)
                 .where(in_values(Membership.person, chunk) & Membership.status.in_(ACTIVE_STATUSES)))
        for row in fetch(query):
            m = HeldRef._make(row)
            (pending if m.status == TRANSFER_IN else held)[m.person_id] = m
    return held, pending


def pending_message(m: HeldRef, org: Organization) -> str:
    if m.org_id == org.id:
        return "该会员正在转入本工会（转入审核中），请等待转出单位审核"
    return f"该会员已有待审核的转移申请（正在转入「{m.org_name}」），请等待审核结果"


# --- classification ------------------------------------------------------------------------------
@dataclass
class Plan:
    a: list = field(default_factory=list)  # (line, HeldRef held here)
    b: list = field(default_factory=list)  # line (person with no union)
    c: list = field(default_factory=list)  # (line, HeldRef held by another union)
    d: list = field(default_factory=list)  # membership ids of members not in the file
    e: list = field(default_factory=list)  # line (not in the system)
    errors: list = field(default_factory=list)  # line (line.error set)
    total: int = 0


def classify(lines: list[Line], org: Organization) -> Plan:
    """Classes A–E and error rows (reads only; a handful of IN queries for the whole file)."""
    plan = Plan(total=len(lines))
    find_people(lines)
    in_file = {line.person.id for line in lines if line.person is not None}
    held, pending = held_memberships(in_file)
    for line in lines:
        if line.error:
            plan.errors.append(line)
            continue
        if line.person is None:
            plan.e.append(line)
            continue
        mine = held.get(line.person.id)
        if mine is not None and mine.org_id == org.id:
            plan.a.append((line, mine))
        elif line.person.id in pending:
            line.error = pending_message(pending[line.person.id], org)
            plan.errors.append(line)
        elif mine is not None:
            plan.c.append((line, mine))
        else:
            plan.b.append(line)
    # D: current members (正常) of this union whose person is not in the file at all (a row
    # with an error for one of them is still "in the file": it is fixed, not moved out).
    plan.d = [m_id for m_id, person_id in
              fetch(Membership.select(Membership.id, Membership.person)
                    .where((Membership.org == org.id) & (Membership.status == NORMAL)))
              if person_id not in in_file]
    return plan


def _numbers_for(lines: list, org: Organization) -> list:
    """会员编号 for the class-B people (None each where they wait for 会员审核)."""
    if not lines:
        return []
    if people.review_required(org):
        return [None] * len(lines)
    return people.next_member_numbers(len(lines))


# --- applying ------------------------------------------------------------------------------------
def join_directly(person: PersonRef, org: Organization, account, action: str, number: str | None = None,
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


def apply(plan: Plan, org: Organization, account, job: Job, numbers: list | None = None) -> dict:
    """Every effect of a compare (call inside one transaction). `numbers`: 会员编号 reserved
    for class B (reserved here when not given). Returns the job's result."""
    stamp = now()
    errors = [(line.row, line.name, line.raw_id, line.error) for line in plan.errors]
    for chunk in chunks([m.id for _, m in plan.a], BIG_IN):
        Membership.update(synced=True, updated_at=stamp).where(in_values(Membership.id, chunk)).execute()
    for chunk in chunks(plan.d, BIG_IN):
        Membership.update(synced=False, updated_at=stamp).where(in_values(Membership.id, chunk)).execute()
    # one count of the monitor's 可参保 for every person moved below (models/figures.py)
    with figures.people([line.person.id for line in plan.b] + [held.person_id for _, held in plan.c]):
        moved = []  # [row, "B", membership id, previous org id] / [row, "C", request id]
        previous = _previous_orgs([line.person.id for line in plan.b])
        if numbers is None:
            numbers = _numbers_for(plan.b, org)
        for line, number in zip(plan.b, numbers, strict=True):
            try:
                m = join_directly(line.person, org, account, "同步会员转入", number, synced=True)
            except pw.IntegrityError:  # another operator got there first
                errors.append((line.row, line.name, line.raw_id, refusal(line.person, org)))
                continue
            moved.append([line.row, "B", m.id, previous.get(line.person.id)])
        # C: the holding memberships as they are now (not as classified), with their people.
        sources = {}
        for chunk in chunks([held.id for _, held in plan.c]):
            sources.update((m.id, m) for m in Membership.select(Membership, Person).join(Person)
                           .where(Membership.id.in_(chunk)))
        targets = []
        for line, held in plan.c:
            try:  # request_transfer's own savepoint undoes a refused row
                request = member_review.request_transfer(sources[held.id], org, account, reason=SYNC_REASON, job=job.id)
            except DomainError as exc:
                errors.append((line.row, line.name, line.raw_id, exc.message))
                continue
            targets.append(request.target_id)
            moved.append([line.row, "C", request.id])
    for chunk in chunks(targets):  # in the uploaded roster: 同步会员 是 once the transfer is approved
        Membership.update(synced=True).where(Membership.id.in_(chunk)).execute()
    joined = sum(1 for x in moved if x[1] == "B")
    counts = {"A": len(plan.a), "B": joined, "C": len(moved) - joined, "D": len(plan.d),
              "E": len(plan.e), "errors": len(errors)}
    errors.sort()
    summary = (f"共{plan.total}行：A 本单位会员{counts['A']}人，B 无组织直接转入{counts['B']}人，"
               f"C 已申请从其他单位转入{counts['C']}人，D 不在名单内{counts['D']}人，"
               f"E 未录入系统{counts['E']}人，错误{counts['errors']}行。")
    AuditLog.record("同步会员", job, account=account,
                    detail={"工会": org.name, "行数": plan.total, **counts})
    # Who is behind the counts of A, B and D (membership ids; C: the job's transfer requests).
    people = {"A": sorted(m.id for _, m in plan.a), "B": sorted(x[2] for x in moved if x[1] == "B"),
              "D": sorted(plan.d)}
    return {"summary": summary, "counts": counts, "rows": plan.total, "failed": len(errors),
            "moved": sorted(moved), "errors": [list(e) for e in errors], "people": people}


def refusal(person: PersonRef, org: Organization) -> str:
    held = people.holding(person.id)
    if held is not None:
        return "该会员已在本工会" if held.org_id == org.id else people.held_elsewhere_message(held)
    return "该会员刚被其他操作员办理，请重新同步"


# --- the job -------------------------------------------------------------------------------------
def people_query(job: Job, cls: str):
    """The people behind one class count of a finished compare: memberships (A, B, D) or the
    job's transfer requests (C, with the person and the source and target memberships);
    None when the job kept no list for the class (a compare from before lists were kept)."""
    if cls == "C":
        source, target = Membership.alias(), Membership.alias()
        return (TransferRequest.select(TransferRequest, Person, Organization, source, target)
                .join(Person, on=(TransferRequest.person == Person.id))
                .switch(TransferRequest).join(Organization, on=(TransferRequest.from_org == Organization.id))
                .switch(TransferRequest).join(source, on=(TransferRequest.source == source.id), attr="source")
                .switch(TransferRequest).join(target, pw.JOIN.LEFT_OUTER, on=(TransferRequest.target == target.id),
                                              attr="target")
                .where(TransferRequest.job == job.id).order_by(TransferRequest.id))
    ids = job.result_data.get("people", {}).get(cls)
    if ids is None:
        return None
    return memberships(job.org_id, ids)


def history(org_id: int):
    """历史导入记录: every compare of the union, newest first."""
    return (Job.select().where((Job.kind == KIND) & (Job.org == org_id))
            .order_by(Job.created_at.desc(), Job.id.desc()))


@job_kind(KIND, "同步会员")
def run_compare(ctx):
    with bulk_work():
        return _run_compare(ctx)


def _run_compare(ctx):
    if ctx.checkpoint.get("applied"):  # restarted after its transaction committed
        return ctx.checkpoint["result"]
    account = Account.get_by_id(ctx.params["account"])
    org = Organization.get_by_id(ctx.params["org"])
    if not can_sync(org):
        raise DomainError("只有基层工会（或临时工会）可以同步会员", 403)
    data = uploads.upload_bytes(ctx.params)
    lines = read_lines(data)
    ctx.save_progress(len(lines) // 2, len(lines))
    plan = classify(lines, org)
    job = ctx.job
    new_file = f"member-compare-new-{job.id}.xlsx"
    stored_file("jobs", new_file).write_bytes(new_members_workbook(plan.e, org))
    # Reserved (and committed) before the transaction: the counter's row lock is not held for
    # the whole apply; numbers of a crashed run are simply never used.
    numbers = _numbers_for(plan.b, org)
    with db.atomic():
        result = apply(plan, org, account, job, numbers)
        result.update(file=new_file, download_name=f"会员比对结果（需新增的会员）-{job.id}.xlsx",
                      file_name=ctx.params.get("file_name", ""))
        if result["errors"]:
            result.update(uploads.result(ctx, len(lines), result["summary"], result["failed"],
                                         error_file=errors_workbook(result["errors"]), prefix="member-compare",
                                         download_name=f"同步会员错误数据-{job.id}.xlsx"))
        ctx.save_progress(len(lines), len(lines), {"applied": True, "result": result})
    return result


def submit(data: bytes, file_name: str, account) -> Job:
    """Store the upload and queue the compare for the account's own union."""
    if not can_sync(account.org):
        raise DomainError("只有基层工会（或临时工会）可以同步会员", 403)
    return uploads.submit(KIND, account, data, file_name, org=account.org_id)

