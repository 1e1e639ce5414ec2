"""建议清册 (the social-insurance side of the mutual-aid roster, spec 70, seed 004; issue 18 item 5).

Where a person's social-insurance name and 职退状态 (在职 / 退休 / -) and a unit's social-insurance
payer count come from:

- **RegistryPayer**: one person as the social-insurance bureau knows them — the social-security
  code (社保编码) of the unit that pays for them, 证件号码, 姓名 (the 社保姓名), 职退状态. One row
  per ID number (an import replaces the person's row).
- **RegistryUnit**: a social-security code and its 缴费人数 (the paying headcount rule 3 divides by).

The centre fills both by import; the same answers can come over HTTP (the status-provider
pattern of models/enroll/status_provider.py). This module only reads them:

- `lookup(id_numbers)` → {证件号码: RegistryPayer};
- `match_entries(batch)`: each roster person gets the 会员库 name (member_name), the 建议清册 name,
  status and social-security code (registry_*, social_code); when the 建议清册 has the person, its
  name replaces the roster's automatically (seed 004: "建议清册中若存在此人，姓名字段会以建议清册中的
  社保姓名为准") — unless the operator confirmed a name (姓名匹配异常，请人工确认) — and its 职退状态 is taken;
- `linked_payers(batch, also)`: rule 3's denominator — "参保清册所关联的所有社保编码的缴费人数之和", the
  social-security codes the roster's matched people are paid under (this batch's and, for rules 2 and
  3 judging the unit's whole roster of the year, its other submitted batches'), their payers summed.
"""

import peewee as pw

from models import db
from models.base import BaseModel, in_values, now
from models.members.people import Person
from models.mutual_aid.batches import IN_SERVICE, UNKNOWN, AidBatch, RosterEntry

CHUNK = 900  # ID numbers per IN (SQLite's variable limit is 999 on old builds)


class RegistryPayer(BaseModel):
    scope_field = None  # the centre's data; units see it only through their roster
    social_code = pw.CharField(max_length=20, index=True)  # 单位社保编码
    id_number = pw.CharField(max_length=32, unique=True)  # 证件号码, normalised
    name = pw.CharField(max_length=50)  # 社保姓名
    employment = pw.CharField(max_length=2, default=IN_SERVICE)  # 职退状态 在职 / 退休 / -
    updated_at = pw.DateTimeField(default=now)


class RegistryUnit(BaseModel):
    scope_field = None
    social_code = pw.CharField(max_length=20, unique=True)  # 单位社保编码
    unit_name = pw.CharField(max_length=100, default="")
    payers = pw.IntegerField(default=0)  # 缴费人数
    updated_at = pw.DateTimeField(default=now)


def _chunks(values: list):
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def lookup(id_numbers) -> dict:
    """{证件号码: RegistryPayer} for those the 建议清册 has."""
    found = {}
    for part in _chunks(sorted(set(id_numbers))):
        for payer in RegistryPayer.select().where(in_values(RegistryPayer.id_number, part)):
            found[payer.id_number] = payer
    return found


def member_names(id_numbers) -> dict:
    """{证件号码: 会员库姓名} (any document type; a number is one person in practice)."""
    found = {}
    for part in _chunks(sorted(set(id_numbers))):
        query = Person.select(Person.id_number, Person.name).where(in_values(Person.id_number, part))
        for id_number, name in query.tuples():
            found[id_number] = name
    return found


def match_entries(batch: AidBatch, entry_ids=None) -> int:
    """Fill the 会员库 and 建议清册 fields of the batch's people (all, or `entry_ids`); returns how
    many rows changed. One transaction; rows are written in bulk."""
    query = RosterEntry.select().where(RosterEntry.batch == batch.id)
    if entry_ids is not None:
        ids = [int(i) for i in entry_ids]
        if not ids:
            return 0
        query = query.where(in_values(RosterEntry.id, ids))
    entries = list(query)
    numbers = [e.id_number for e in entries]
    registry, members = lookup(numbers), member_names(numbers)
    changed = []
    for e in entries:
        before = (e.name, e.member_name, e.registry_name, e.registry_matched, e.social_code, e.employment)
        e.member_name = members.get(e.id_number, "")
        payer = registry.get(e.id_number)
        if payer is not None:
            e.registry_name, e.registry_matched, e.social_code = payer.name, True, payer.social_code
            if not e.name_confirmed:  # the 社保姓名 wins (seed 004), unless the operator picked a name
                e.name = payer.name
            e.employment = payer.employment
        else:
            e.registry_name, e.registry_matched, e.social_code = "", False, ""
            if e.employment != IN_SERVICE:  # 设置在职 / 是否有社保 = 是 stays; otherwise unknown
                e.employment = UNKNOWN
        if before != (e.name, e.member_name, e.registry_name, e.registry_matched, e.social_code, e.employment):
            changed.append(e)
    if changed:
        with db.atomic():
            RosterEntry.bulk_update(changed, fields=[RosterEntry.name, RosterEntry.member_name,
                                                     RosterEntry.registry_name, RosterEntry.registry_matched,
                                                     RosterEntry.social_code, RosterEntry.employment],
                                    batch_size=500)
    return len(changed)


def linked_payers(batch: AidBatch, also=()) -> tuple[int, list]:
    """(缴费人数之和, [社保编码 …]) over the social-security codes of the matched people of the batch and
    of the batches `also` (ids: the unit's other submitted batches of the year, roster_check.year_batches)."""
    batches = [batch.id, *also]
    codes = [c for (c,) in RosterEntry.select(RosterEntry.social_code).distinct()
             .where(in_values(RosterEntry.batch, batches) & RosterEntry.active & (RosterEntry.social_code != ""))
             .tuples()]
    if not codes:
        return 0, []
    total = (RegistryUnit.select(pw.fn.COALESCE(pw.fn.SUM(RegistryUnit.payers), 0))
             .where(in_values(RegistryUnit.social_code, codes)).scalar())
    return int(total or 0), sorted(codes)
