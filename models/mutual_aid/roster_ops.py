"""清册人员 operations (spec 70, seed 004): add people to a batch's roster and take them off.

One ID number is insured at most once per protection year across all units: `add_entries` looks
first (`holders`) and refuses naming the holding unit and its handler's contact (seed 004:
"系统提示被XXX单位占用 … 根据系统显示的对方单位经办人联系方式与该单位取得联系"), and the partial
unique index roster_once_per_year catches two units adding the same person at once — its
IntegrityError is answered the same way. The importer (later) uses `holders` to list such rows in
its error file instead of refusing the whole file.
"""

from datetime import date

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, in_values, now, today
from models.mutual_aid.batch_ops import claim
from models.mutual_aid.batches import EDITABLE, ID_TYPES, SOURCES, UPLOADED, AidBatch, RosterEntry
from models.mutual_aid.codes import CodeHandler, InsuranceCode
from models.rules.aid_people import PersonError, clean_person

LOCKED = "当前状态为「{}」，清册不能修改（只有「清册待校验」「清册校验不通过」状态的批次可以修改清册）"


def holders(year_id: int, id_numbers: list) -> dict:
    """{id number: the active RosterEntry holding it in the year}, with its batch and code."""
    if not id_numbers:
        return {}
    query = (RosterEntry.select(RosterEntry, AidBatch, InsuranceCode).join(AidBatch).join(InsuranceCode)
             .where((RosterEntry.year == year_id) & RosterEntry.active
                    & in_values(RosterEntry.id_number, list(id_numbers))))
    return {entry.id_number: entry for entry in query}


def handlers_of(entries) -> dict:
    """{code id: CodeHandler} of the codes holding `entries` (one query; an import's many rows)."""
    ids = list({e.batch.code_id for e in entries})
    return {h.code_id: h for h in CodeHandler.select().where(in_values(CodeHandler.code, ids))} if ids else {}


def holder_message(entry: RosterEntry, name: str, batch: AidBatch, handlers: dict | None = None) -> str:
    """Who holds the person: this batch, or another unit with its handler's contact (`handlers`:
    read before by `handlers_of`, for many rows)."""
    if entry.batch_id == batch.id:
        return f"「{name}」（证件号码{entry.id_number}）已在本批次清册中"
    code = entry.batch.code
    handler = (handlers.get(code.id) if handlers is not None
               else CodeHandler.get_or_none(CodeHandler.code == code.id))
    contact = (f"经办人：{handler.name}，联系电话：{handler.mobile}" if handler
               else f"联系人：{code.contact}，联系电话：{code.phone}")
    return (f"「{name}」（证件号码{entry.id_number}）本保障年度已被「{code.unit_name}」占用（{contact}），"
            "一个证件号码在一个参保年度只能参保一次")


def _refuse_held(batch: AidBatch, people: list) -> None:
    held = holders(batch.year_id, [p.id_number for p in people])
    if held:
        first = next(p for p in people if p.id_number in held)
        raise DomainError(holder_message(held[first.id_number], first.name, batch), 409)


def clean_rows(rows: list, on: date) -> list:
    """Each row's person (dicts with id_type, id_number, name, gender, birth_date, has_social_insurance),
    refused with the row and field named; an ID number twice in the rows is refused too."""
    people, seen = [], {}
    for i, row in enumerate(rows, 1):
        try:
            person = clean_person(row.get("id_type"), row.get("id_number"), row.get("name"), row.get("gender"),
                                  row.get("birth_date"), row.get("has_social_insurance", False),
                                  id_types=ID_TYPES, today=on)
        except PersonError as exc:
            raise FieldErrors(f"第{i}人 {exc.message}", {exc.field: exc.message}) from None
        if person.id_number in seen:
            raise DomainError(f"第{i}人 证件号码{person.id_number}与第{seen[person.id_number]}人重复", 422)
        seen[person.id_number] = i
        people.append(person)
    return people


def entry_rows(batch: AidBatch, people: list, source: str, at) -> list[dict]:
    """The RosterEntry rows of cleaned people joining `batch` (added by `source` at `at`)."""
    return [{"batch": batch.id, "year": batch.year_id, "id_type": p.id_type, "id_number": p.id_number,
             "name": p.name, "imported_name": p.name, "gender": p.gender, "birth_date": p.birth_date,
             "has_social_insurance": p.has_social_insurance, "employment": p.employment, "source": source,
             "active": True, "created_at": at} for p in people]


def add_entries(batch: AidBatch, rows: list, account, source: str = UPLOADED) -> int:
    """添加参保人员: all the rows or none; returns how many were added."""
    if source not in SOURCES:
        raise DomainError("未知的人员来源", 422)
    if batch.status not in EDITABLE:
        raise DomainError(LOCKED.format(batch.status), 409)
    if not rows:
        raise DomainError("没有可添加的参保人员", 422)
    people = clean_rows(rows, today())
    _refuse_held(batch, people)
    at = now()
    try:
        with db.atomic():
            # The batch must still be editable when the rows go in (a submit meanwhile locks it):
            # the row taken first, so a 清册提交 at the same instant waits or refuses us.
            claim(batch)
            RosterEntry.insert_many(entry_rows(batch, people, source, at)).execute()
            AuditLog.record("添加参保人员", batch, account=account, detail={"来源": source, "人数": len(people)})
    except pw.IntegrityError:
        _refuse_held(batch, people)  # another unit took one of them just now
        raise
    return len(people)


def remove_entries(batch: AidBatch, entry_ids: list, account) -> int:
    """移除 / 批量删除: people of this batch while its roster can change."""
    if batch.status not in EDITABLE:
        raise DomainError(LOCKED.format(batch.status), 409)
    ids = [int(i) for i in entry_ids]
    if not ids:
        raise DomainError("请选择要移除的人员", 422)
    with db.atomic():
        claim(batch)
        gone = RosterEntry.delete().where((RosterEntry.batch == batch.id) & in_values(RosterEntry.id, ids)).execute()
        AuditLog.record("移除参保人员", batch, account=account, detail={"人数": gone})
    return gone
