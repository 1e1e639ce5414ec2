"""参保清册 editing (seed 004 编辑名单, spec 70; issue 18 items 4 and 5): the two list sources, 编辑,
移除 / 批量删除, 设置在职 / 批量设置为在职 and 姓名匹配异常，请人工确认.

- `add_last_year` (获取上年度参保名单): the active people of the same code's 参保成功 batches of the
  previous protection year; `add_members` (获取“会员库”本单位工会会员名单): the 正常 members of the
  code's union(s) (its account's grassroots union and the group units that are unions, with their
  分工会). Both skip — and list, with the reason — people held elsewhere this year (the holding
  unit and its handler's contact, roster_ops.holder_message), people already in this batch, and
  records the roster cannot take; the rest go in at once, then `registry.match_entries` fills the
  会员库 / 建议清册 names (the 社保姓名 replaces the name). Two units taking one person at once: the
  once-per-year index refuses the loser's insert, which is retried without the people just taken.
- `edit_entry` (编辑, non-ID-card people only; 证件类型不可变更), `remove` (移除 / 批量删除: ticked rows
  or all the filtered ones), `set_in_service` (设置在职: "-" people become 在职 with 是否有社保 = 是,
  seed 004 FAQ), `confirm_names` (the operator picks one of the known names).

Every change is one transaction, audited, and refused in Chinese outside 清册待校验 / 清册校验不通过
or outside the batch's window.
"""

from dataclasses import dataclass, field
from datetime import date

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, in_values, now, today
from models.members.people import ID_CARD, NORMAL, Membership, Person
from models.mutual_aid import registry, roster_list, years
from models.mutual_aid.batch_ops import claim
from models.mutual_aid.batches import (
    EDITABLE,
    ID_TYPES,
    IN_SERVICE,
    INSURED,
    LAST_YEAR,
    MEMBER_DB,
    RESIDENT_ID,
    UNKNOWN,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.codes import CodeUnit
from models.mutual_aid.roster_ops import LOCKED, entry_rows, holder_message, holders
from models.mutual_aid.years import AidYear
from models.orgs.organizations import Organization, OrgTree
from models.rules.aid_people import PersonError, clean_person
from models.rules.text import mask

NO_UNION = ("本单位不是工会组织，“会员库”中没有本单位的工会会员名单，"
            "请通过“上传本地参保名单文件”或“获取上年度参保名单”添加参保人员")
RETRIES = 3


@dataclass
class Added:
    """What an add did: how many came in, and each skipped person with the reason."""
    added: int = 0
    skipped: list = field(default_factory=list)


def require_editable(batch: AidBatch) -> None:
    """The roster can change: 清册待校验 / 清册校验不通过, and the batch's window (集中参保 / 即时参保,
    with the code's extension) is open."""
    if batch.status not in EDITABLE:
        raise DomainError(LOCKED.format(batch.status), 409)
    state = years.window_state(batch.year, batch.kind, batch.code)
    if not state.open:
        raise DomainError(f"清册只能在办理期间修改：{state.reason}", 409)


def _still_editable(batch: AidBatch) -> None:
    """Inside the transaction, first: the batch is still in the state the page showed (a 清册提交 or a
    批次删除 meanwhile refuses the change), and its row is taken (batch_ops.claim) so a 清册提交 at the
    same instant re-checks after this change or refuses it."""
    claim(batch)


def _label(name: str, id_number: str) -> str:
    return f"「{name}」（证件号码{mask(id_number)}）"


def _clean(rows: list, on: date) -> tuple[list, list]:
    """(people, skipped reasons): a row the roster cannot take is skipped, not the whole list."""
    people, skipped, seen = [], [], set()
    for row in rows:
        try:
            person = clean_person(row["id_type"], row["id_number"], row["name"], row.get("gender"),
                                  row.get("birth_date"), row.get("has_social_insurance", False),
                                  id_types=ID_TYPES, today=on)
        except PersonError as exc:
            skipped.append(f"{_label(row['name'], row['id_number'] or '')}{exc.message}")
            continue
        if person.id_number not in seen:
            seen.add(person.id_number)
            people.append(person)
    return people, skipped


def _add_skipping(batch: AidBatch, rows: list, account, source: str) -> Added:
    require_editable(batch)
    people, skipped = _clean(rows, today())
    for _attempt in range(RETRIES):
        held = holders(batch.year_id, [p.id_number for p in people])
        taken = [holder_message(held[p.id_number], p.name, batch).replace(p.id_number, mask(p.id_number))
                 for p in people if p.id_number in held]
        keep = [p for p in people if p.id_number not in held]
        if not keep:
            return Added(0, skipped + taken)
        at = now()
        asked = registry.asked_first([p.id_number for p in keep])  # not inside the transaction
        try:
            with db.atomic():
                _still_editable(batch)
                RosterEntry.insert_many(entry_rows(batch, keep, source, at)).execute()
                ids = [i for (i,) in RosterEntry.select(RosterEntry.id).where(
                    (RosterEntry.batch == batch.id) & in_values(RosterEntry.id_number, [p.id_number for p in keep]))
                    .tuples()]
                registry.match_entries(batch, ids, asked)
                AuditLog.record("添加参保人员", batch, account=account,
                                detail={"来源": source, "人数": len(keep), "跳过": len(skipped) + len(taken)})
        except pw.IntegrityError:
            continue  # another unit took one of them just now: look again
        return Added(len(keep), skipped + taken)
    raise DomainError("添加参保人员时名单被其他单位同时修改，请稍后重试", 409)


# --- the two list sources -----------------------------------------------------------------------
def last_year_rows(batch: AidBatch) -> list:
    """The active people of this code's 参保成功 batches of the previous protection year."""
    last = AidYear.get_or_none(AidYear.year == batch.year.year - 1)
    if last is None:
        return []
    query = (RosterEntry.select().join(AidBatch)
             .where((AidBatch.code == batch.code_id) & (AidBatch.year == last.id) & (AidBatch.status == INSURED)
                    & RosterEntry.active)
             .order_by(RosterEntry.id))
    return [{"id_type": e.id_type, "id_number": e.id_number, "name": e.name, "gender": e.gender,
             "birth_date": e.birth_date, "has_social_insurance": e.has_social_insurance} for e in query]


def add_last_year(batch: AidBatch, account) -> Added:
    """获取上年度参保名单."""
    require_editable(batch)
    rows = last_year_rows(batch)
    if not rows:
        raise DomainError(f"本参保编码{batch.year.year - 1}年度没有参保成功的参保名单", 409)
    return _add_skipping(batch, rows, account, LAST_YEAR)


def union_orgs(batch: AidBatch) -> list:
    """The unions whose 会员库 members are this code's: the account's grassroots union and the
    code's group units that are grassroots unions (by 统一社会信用代码 or name)."""
    code = batch.code
    units = list(CodeUnit.select().where(CodeUnit.code == code.id))
    names, usccs = [u.name for u in units], [u.uscc for u in units if u.uscc]
    query = Organization.select().where((Organization.level == "grassroots") & (
        (Organization.id == (code.org_id or 0)) | Organization.name.in_(names or [""])
        | Organization.uscc.in_(usccs or [""])))
    return list(query.order_by(Organization.id))


def member_rows(orgs: list) -> list:
    """The 正常 members of the unions (with their 分工会), as roster rows."""
    below = OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor.in_([o.id for o in orgs]))
    query = (Person.select(Person.id_type, Person.id_number, Person.name, Person.gender, Person.birth_date)
             .join(Membership).where(Membership.org.in_(below) & (Membership.status == NORMAL)
                                     & ~Person.population_removed)
             .order_by(Membership.id))
    # A 身份证 says the birth date and gender itself (a 会员库 record that disagrees is not copied).
    return [{"id_type": RESIDENT_ID, "id_number": n, "name": name} if t == ID_CARD else
            {"id_type": t, "id_number": n, "name": name, "gender": g, "birth_date": b}
            for t, n, name, g, b in query.tuples()]


def add_members(batch: AidBatch, account) -> Added:
    """获取“会员库”本单位工会会员名单 (a union unit only)."""
    require_editable(batch)
    orgs = union_orgs(batch)
    if not orgs:
        raise DomainError(NO_UNION, 409)
    rows = member_rows(orgs)
    if not rows:
        raise DomainError("“会员库”中本单位没有状态为“正常”的工会会员", 409)
    return _add_skipping(batch, rows, account, MEMBER_DB)


# --- 编辑, 移除, 设置在职, 姓名确认 ------------------------------------------------------------------
def _entry_of(batch: AidBatch, entry_id) -> RosterEntry:
    entry = RosterEntry.get_or_none((RosterEntry.id == entry_id) & (RosterEntry.batch == batch.id))
    if entry is None:
        raise DomainError("该人员不在本批次清册中", 404)
    return entry


def edit_entry(batch: AidBatch, entry: RosterEntry, values: dict, account) -> RosterEntry:
    """编辑 a non-ID-card person's 姓名, 性别, 出生日期 (证件类型 and 证件号码 stay)."""
    require_editable(batch)
    entry = _entry_of(batch, entry.id)
    if entry.id_type == RESIDENT_ID:
        raise DomainError("证件类型为居民身份证的人员不能编辑（编辑仅限非身份证类型）", 409)
    if values.get("id_type") not in (None, entry.id_type):
        raise DomainError("证件类型不可变更", 422)
    try:
        person = clean_person(entry.id_type, entry.id_number, values.get("name"), values.get("gender"),
                              values.get("birth_date"), entry.has_social_insurance, id_types=ID_TYPES, today=today())
    except PersonError as exc:
        raise FieldErrors(exc.message, {exc.field: exc.message}) from None
    before = {"姓名": entry.name, "性别": entry.gender, "出生日期": f"{entry.birth_date}"}
    asked = registry.asked_first([entry.id_number])  # not inside the transaction
    with db.atomic():
        _still_editable(batch)
        RosterEntry.update(name=person.name, imported_name=person.name, gender=person.gender,
                           birth_date=person.birth_date, name_confirmed=False).where(
            RosterEntry.id == entry.id).execute()
        registry.match_entries(batch, [entry.id], asked)
        AuditLog.record("编辑参保人员", batch, account=account, detail={
            "证件号码": mask(entry.id_number), "修改前": before,
            "修改后": {"姓名": person.name, "性别": person.gender, "出生日期": f"{person.birth_date}"}})
    return RosterEntry.get_by_id(entry.id)


def _chosen(batch: AidBatch, entry_ids, filters, what: str) -> list:
    """The ticked ids of this (still editable) batch, or (filters given, ids None) all the filtered
    people's; none chosen: 请选择要{what}的人员."""
    require_editable(batch)
    if entry_ids is None:
        ids = [e.id for e in roster_list.people(batch, roster_list.clean_filters(filters or {}))
               .select(RosterEntry.id)]
    else:
        ids = [int(i) for i in entry_ids]
    if not ids:
        raise DomainError(f"请选择要{what}的人员", 422)
    return ids


def remove(batch: AidBatch, account, entry_ids=None, filters=None) -> int:
    """移除 / 批量删除: the ticked people, or all those the filters show (e.g. 是否超龄 = 超龄)."""
    ids = _chosen(batch, entry_ids, filters, "移除")
    with db.atomic():
        _still_editable(batch)
        gone = RosterEntry.delete().where((RosterEntry.batch == batch.id) & in_values(RosterEntry.id, ids)).execute()
        AuditLog.record("移除参保人员", batch, account=account,
                        detail={"人数": gone, **({"筛选条件": roster_list.clean_filters(filters)} if filters else {})})
    return gone


def set_in_service(batch: AidBatch, account, entry_ids=None, filters=None) -> int:
    """设置在职 / 批量设置为在职: the chosen people whose 职退状态 is "-" become 在职 and 是否有社保 = 是
    (the unit confirms they are in service and pay social insurance; they may take A0)."""
    ids = _chosen(batch, entry_ids, filters, "设置在职")
    with db.atomic():
        _still_editable(batch)
        n = (RosterEntry.update(employment=IN_SERVICE, has_social_insurance=True)
             .where((RosterEntry.batch == batch.id) & in_values(RosterEntry.id, ids)
                    & (RosterEntry.employment == UNKNOWN)).execute())
        if n == 0:
            raise DomainError("所选人员中没有职退状态为“-”的人员（只有职退状态为“-”的人员可以设置在职）", 409)
        AuditLog.record("设置在职", batch, account=account, detail={"人数": n})
    return n


def confirm_names(batch: AidBatch, choices: dict, account) -> int:
    """姓名匹配异常，请人工确认 → 确认: {entry id: the name picked among its candidates}."""
    require_editable(batch)
    if not choices:
        raise DomainError("请为每位人员选择正确的姓名", 422)
    entries = list(RosterEntry.select().where((RosterEntry.batch == batch.id)
                                              & in_values(RosterEntry.id, [int(i) for i in choices])))
    if len(entries) != len(choices):
        raise DomainError("所选人员不在本批次清册中，请刷新页面后重试", 404)
    changes = []
    for entry in entries:
        name = (choices.get(entry.id) or choices.get(str(entry.id)) or "").strip()
        allowed = [n for _source, n in roster_list.candidates(entry)]
        if name not in allowed:
            raise DomainError(f"{_label(entry.name, entry.id_number)}的姓名只能从{'、'.join(allowed)}中选择", 422)
        changes.append({"证件号码": mask(entry.id_number), "原姓名": entry.name, "确认姓名": name})
        entry.name, entry.name_confirmed = name, True
    with db.atomic():
        _still_editable(batch)
        RosterEntry.bulk_update(entries, fields=[RosterEntry.name, RosterEntry.name_confirmed], batch_size=500)
        AuditLog.record("姓名确认", batch, account=account, detail={"人数": len(entries), "人员": changes[:50]})
    return len(entries)
