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
first (the union's own roster in one query, the other rows by a few IN queries for the whole file,
no query per row), then all effects are applied (member_sync_apply.py: each class in a few
statements) in one transaction together with the job's checkpoint — a crash leaves nothing half
done and a restarted job does not apply twice.

The files (templates, 下载比对结果, the error list, 导出结果) are member_sync_files.py; 从其他工会转入会员到本工会
(the same columns and an optional 转入原因, each row on its own) is member_transfer_in.py.
"""

import json
from collections import namedtuple
from dataclasses import dataclass, field
from itertools import repeat

import peewee as pw

from models import db
from models.base import DomainError, in_values, today
from models.io import uploads
from models.io.bulk import chunks, fetch, in_batch, relaxed_commit
from models.io.columns import gender_of, plain_resident_ids
from models.io.tables import read_columns
from models.jobs import Job, bulk_work, job_kind
from models.members.member_import import TEMPLATE_HEADER
from models.members.member_import import people_query as memberships
from models.members.member_sync_apply import _numbers_for, apply
from models.members.member_sync_files import COLUMNS, errors_workbook, new_members_file
from models.members.people import (
    ACTIVE_STATUSES,
    ID_CARD,
    NORMAL,
    PENDING,
    TRANSFER_IN,
    Membership,
    Person,
    TransferRequest,
)
from models.orgs.accounts import Account
from models.orgs.organizations import ACTIVE as ORG_ACTIVE
from models.orgs.organizations import Organization
from models.rules import member_fields
from models.rules.text import normalize
from models.storage import stored_file

KIND = "member_compare"
REASON_COLUMN = "转入原因"
IMPORT_COLUMNS = TEMPLATE_HEADER  # the member-import template (seed 000): the class-E download
MAX_ROWS = 50_000
MAX_TRANSFER_ROWS = 1000
NOT_FOUND = "未查到该会员信息,请确认该证件号码已录入到系统"  # the manual's wording (seed 001)
NUMERIC_ID = member_fields.NUMERIC_ID_MESSAGE
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
@dataclass(slots=True)
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
    here: tuple | None = None  # own_roster()'s row when the person is on this union's roster


def read_lines(data: bytes, columns=COLUMNS, max_rows: int = MAX_ROWS) -> list[Line]:
    """The file's rows, normalised and checked (no database access). Read column by column
    (`read_columns`): the ID numbers that are valid 身份证 numbers as typed are found a whole column
    at a time (`plain_resident_ids`), and a row whose name is plain too is taken as it is (what
    member_fields.roster_line() gives for it); any other row goes through roster_line(), which
    normalises it or says what is wrong."""
    table = read_columns(data, columns[:2], max_rows=max_rows)
    on = today()
    names, raws = table.columns["姓名"], table.columns["证件号码"]
    reasons = table.columns.get(REASON_COLUMN)
    births = plain_resident_ids(raws, on)
    plain_name = member_fields.PLAIN_NAME.fullmatch
    if (reasons is None and None not in births and set(map(type, names)) == {str}
            and all(map(plain_name, names)) and len(set(raws)) == len(raws)):
        # the usual roster: every row plain, no number twice — its lines made a column at a time
        return list(map(Line, table.numbers, names, raws, raws, repeat(True), map(gender_of, raws)))
    check = member_fields.roster_line
    lines, first_row = [], {}
    for i, (number, name, raw, born) in enumerate(zip(table.numbers, names, raws, births, strict=True)):
        reason = normalize(reasons[i])[:200] if reasons is not None else ""
        if born is not None and type(name) is str and plain_name(name):  # noqa: E721 — not NumericText
            line = Line(number, name, raw, raw, True, gender_of(raw), reason)
        else:
            checked = check(name, raw, on)
            line = Line(number, checked.name, str(raw), checked.id_number, checked.resident, checked.gender, reason,
                        checked.error)
        if not line.error:
            first = first_row.setdefault(line.id_number, number)
            if first != number:
                line.error = f"证件号码与第{first}行重复"
        lines.append(line)
    return lines


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


PENDING_HERE = "该会员正在转入本工会（转入审核中），请等待转出单位审核"


def pending_message(m: HeldRef, org: Organization) -> str:
    if m.org_id == org.id:
        return PENDING_HERE
    return f"该会员已有待审核的转移申请（正在转入「{m.org_name}」），请等待审核结果"


# --- classification ------------------------------------------------------------------------------
@dataclass
class Plan:
    a: list = field(default_factory=list)  # membership ids (held here)
    b: list = field(default_factory=list)  # line (person with no union)
    c: list = field(default_factory=list)  # (line, HeldRef held by another union)
    d: list = field(default_factory=list)  # membership ids of members not in the file
    e: list = field(default_factory=list)  # line (not in the system)
    errors: list = field(default_factory=list)  # line (line.error set)
    total: int = 0


def classify(lines: list[Line], org: Organization) -> Plan:
    """Classes A–E and error rows (reads only). The union's own roster is read once (one query,
    whatever its size): a 身份证 line of one of its people is classified from it (A, or a transfer
    into this union still waiting); the other lines are looked up by number (`find_people`, a few
    IN queries for the whole file) with their people's memberships."""
    plan = Plan(total=len(lines))
    here, normal = own_roster(org.id)
    rest, in_file = [], set()  # in_file: the people of the file (also of a row with an error)
    for line in lines:
        if line.error:
            continue
        row = here.get(line.id_number) if line.resident else None
        if row is None:
            rest.append(line)
            continue
        line.here = row  # (membership id, person id, status, name)
        in_file.add(row[1])
        if row[3] != line.name:
            line.error = f"会员姓名和证件号码不一致（系统中为「{row[3]}」）"
    find_people(rest)
    in_file.update(line.person.id for line in rest if line.person is not None)
    held, pending = held_memberships({line.person.id for line in rest if line.person is not None})
    for line in lines:
        if line.error:
            plan.errors.append(line)
            continue
        row = line.here
        if row is not None:  # a person of this union's roster
            if row[2] == TRANSFER_IN:
                line.error = PENDING_HERE
                plan.errors.append(line)
            else:
                plan.a.append(row[0])
            continue
        if line.person is None:
            plan.e.append(line)
            continue
        mine = held.get(line.person.id)
        if mine is not None and mine.org_id == org.id:
            plan.a.append(mine.id)
        elif line.person.id in pending:
            line.error = pending_message(pending[line.person.id], org)
            plan.errors.append(line)
        elif mine is not None:
            plan.c.append((line, mine))
        else:
            plan.b.append(line)
    # D: current members (正常) of this union whose person is not in the file at all (a row
    # with an error for one of them is still "in the file": it is fixed, not moved out).
    plan.d = [m_id for person_id, m_id in normal.items() if person_id not in in_file]
    return plan


def own_roster(org_id: int) -> tuple[dict, dict]:
    """The union's roster in one query: ({身份证 number: (membership id, person id, status, name)}
    of its memberships 待审核 / 正常 / 转入审核中 — a held one before a transfer into it — and
    {person id: membership id} of its members 正常 (any ID type). (Status and ID type come as
    small numbers: 50,000 rows of them as text would cost a fifth of the read.)"""
    here, normal, waiting = {}, {}, []
    state = pw.Case(Membership.status, [(NORMAL, 1), (TRANSFER_IN, 2)], 0)
    resident = pw.Case(None, [(Person.id_type == ID_CARD, 1)], 0)
    query = (Membership.select(Membership.id, Membership.person, state, Person.name, Person.id_number, resident)
             .join(Person, on=(Person.id == Membership.person))
             .where((Membership.org == org_id) & Membership.status.in_(ACTIVE_STATUSES)))
    statuses = (PENDING, NORMAL, TRANSFER_IN)
    for m_id, person_id, code, name, number, is_resident in fetch(query):
        if code == 1:
            normal[person_id] = m_id
        if not is_resident:
            continue
        if code == 2:
            waiting.append((number, (m_id, person_id, TRANSFER_IN, name)))
        else:
            here[number] = (m_id, person_id, statuses[code], name)
    for number, row in waiting:
        here.setdefault(number, row)
    return here, normal


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
    # 下载比对结果 (class E) is not built here: its rows are kept (a small JSON file) and the
    # member-import workbook is made from them when it is first downloaded (member_sync_files.new_members_file):
    # an openpyxl template of 2,000 formatted cells costs ≈ 25 ms before its first row, in every
    # compare with a class-E row, downloaded or not. Without class-E rows there is nothing to keep.
    new_file = f"member-compare-new-{job.id}.xlsx" if plan.e else None
    rows_file = f"member-compare-new-{job.id}.json" if plan.e else None
    if rows_file:  # there before the result that names it commits; no workbook of an earlier run left
        stored_file("jobs", new_file).unlink(missing_ok=True)
        stored_file("jobs", rows_file).write_text(json.dumps(
            [[line.name, line.resident, line.id_number, line.gender] for line in plan.e], ensure_ascii=False))
    # Reserved (and committed) before the transaction: the counter's row lock is not held for
    # the whole apply; numbers of a crashed run are simply never used.
    numbers = _numbers_for(plan.b, org)
    with db.atomic():
        relaxed_commit()  # a crash loses the apply and its checkpoint together: the job runs again
        result = apply(plan, org, account, job, numbers)
        result.update(file=new_file, rows_file=rows_file,
                      download_name=f"会员比对结果（需新增的会员）-{job.id}.xlsx",
                      file_name=ctx.params.get("file_name", ""))
        if result["errors"]:
            result.update(uploads.result(ctx, len(lines), result["summary"], result["failed"],
                                         error_file=errors_workbook(result["errors"]), prefix="member-compare",
                                         download_name=f"同步会员错误数据-{job.id}.xlsx"))
        ctx.save_progress(len(lines), len(lines), {"applied": True, "result": result})
    return result


uploads.deferred_file(KIND, "file")(new_members_file)  # 下载比对结果, made on its first download


def submit(data: bytes, file_name: str, account) -> Job:
    """Store the upload and queue the compare for the account's own union."""
    if not can_sync(account.org):
        raise DomainError("只有基层工会（或临时工会）可以同步会员", 403)
    return uploads.submit(KIND, account, data, file_name, org=account.org_id)

