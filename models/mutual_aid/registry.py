"""建议清册 (the social-insurance side of the mutual-aid roster, spec 70, seed 004; issue 18 item 5).

Where a person's social-insurance name and 职退状态 (在职 / 退休 / -) and a unit's social-insurance
payer count come from:

- **RegistryPayer**: one person as the social-insurance bureau knows them — the social-security
  code (社保编码) of the unit that pays for them, 证件号码, 姓名 (the 社保姓名), 职退状态. One row
  per ID number (an import replaces the person's row).
- **RegistryUnit**: a social-security code and its 缴费人数 (the paying headcount rule 3 divides by).

The centre fills both by import; the same answers can come over HTTP (the status-provider
pattern of models/enroll/status_provider.py). This module only reads them:

- `lookup(id_numbers)` → {证件号码: Payer} from the configured source (`source_from_config`: the
  tables, or AID_REGISTRY_URL);
- `match_entries(batch)`: each roster person gets the 会员库 name (member_name), the 建议清册 name,
  status and social-security code (registry_*, social_code); when the 建议清册 has the person, its
  name replaces the roster's automatically (seed 004: "建议清册中若存在此人，姓名字段会以建议清册中的
  社保姓名为准") — unless the operator confirmed a name (姓名匹配异常，请人工确认) — and its 职退状态 is taken;
- `linked_payers(batch, also)`: rule 3's denominator — "参保清册所关联的所有社保编码的缴费人数之和", the
  social-security codes the roster's matched people are paid under (this batch's and, for rules 2 and
  3 judging the unit's whole roster of the year, its other submitted batches'), their payers summed.
"""


import peewee as pw
from flask import current_app, has_app_context

from models import db
from models.base import BaseModel, in_values, now
from models.io.bulk import fetch, update_rows
from models.io.http_json import config_value
from models.members.people import Person
from models.mutual_aid.batches import IN_SERVICE, UNKNOWN, AidBatch, RosterEntry
from models.mutual_aid.registry_source import HttpRegistry, Payer, RegistrySource, Remembered

CHUNK = 5_000  # ID numbers per IN (one parameter however many: models/base.in_values)


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


class LocalRegistry(RegistrySource):
    """The tables 建议清册导入 fills (one IN query per batch of numbers or codes)."""

    name = "local"

    def payers_batch(self, id_numbers: list) -> dict:
        query = (RegistryPayer.select(RegistryPayer.id_number, RegistryPayer.social_code, RegistryPayer.name,
                                      RegistryPayer.employment)
                 .where(in_values(RegistryPayer.id_number, id_numbers)))
        return {number: Payer(code, name, employment) for number, code, name, employment in fetch(query)}

    def units_batch(self, social_codes: list) -> dict:
        query = (RegistryUnit.select(RegistryUnit.social_code, RegistryUnit.payers)
                 .where(in_values(RegistryUnit.social_code, social_codes)))
        return {code: int(payers or 0) for code, payers in fetch(query)}


def source_from_config(config=None) -> RegistrySource:
    """The 建议清册 the settings name (a Flask app's config, a dict, or None: the environment):
    AID_REGISTRY_URL set → the remote endpoint (AID_REGISTRY_TIMEOUT seconds, AID_REGISTRY_BATCH
    numbers a request, AID_REGISTRY_AUTH header); otherwise the local tables."""
    url = str(config_value(config, "AID_REGISTRY_URL", "")).strip()
    if not url:
        return LocalRegistry()
    return HttpRegistry.from_config(config, url, 1000)


def current_source() -> RegistrySource:
    """The configured source (the app's settings inside a request or job, else the environment)."""
    return source_from_config(current_app.config if has_app_context() else None)


def lookup(id_numbers, source: RegistrySource | None = None) -> dict:
    """{证件号码: Payer} for those the 建议清册 has."""
    return (source or current_source()).payers(id_numbers)


def member_names(id_numbers) -> dict:
    """{证件号码: 会员库姓名} (any document type; a number is one person in practice)."""
    found = {}
    for part in _chunks(sorted(set(id_numbers))):
        found.update(fetch(Person.select(Person.id_number, Person.name).where(in_values(Person.id_number, part))))
    return found


def matched(name: str, employment: str, payer: Payer | None, member_name: str, confirmed: bool = False) -> dict:
    """The 会员库 and 建议清册 fields of one roster person (the rule both match_entries and the
    roster import apply): the 建议清册's 社保姓名 replaces the name (unless the operator `confirmed`
    a name) and its 职退状态 is taken; a person it does not have keeps 在职 (是否有社保 = 是 /
    设置在职), otherwise "-"."""
    if payer is not None:
        return {"name": name if confirmed else payer.name, "member_name": member_name, "registry_name": payer.name,
                "registry_matched": True, "social_code": payer.social_code, "employment": payer.employment}
    return {"name": name, "member_name": member_name, "registry_name": "", "registry_matched": False,
            "social_code": "", "employment": IN_SERVICE if employment == IN_SERVICE else UNKNOWN}


MATCHED_FIELDS = ("name", "member_name", "registry_name", "registry_matched", "social_code", "employment")


def match_entries(batch: AidBatch, entry_ids=None, source: RegistrySource | None = None) -> int:
    """Fill the 会员库 and 建议清册 fields of the batch's people (all, or `entry_ids`); returns how
    many rows changed. The 建议清册 (the configured source) is asked first — a remote that fails
    raises its Chinese reason and nothing is written; then one transaction writing only the rows
    that changed, each its own values (models/io/bulk.update_rows: one executemany on SQLite,
    UPDATE … FROM (VALUES …) on PostgreSQL)."""
    E = RosterEntry
    query = (E.select(E.id, E.id_number, E.name_confirmed, *(getattr(E, f) for f in MATCHED_FIELDS))
             .where(E.batch == batch.id))
    if entry_ids is not None:
        ids = [int(i) for i in entry_ids]
        if not ids:
            return 0
        query = query.where(in_values(E.id, ids))
    rows = fetch(query)  # plain tuples: 50,000 model instances cost more than the matching
    numbers = [r[1] for r in rows]
    registry, members = lookup(numbers, source), member_names(numbers)
    changed = []
    for entry_id, number, confirmed, name, *was in rows:
        was[2] = bool(was[2])  # registry_matched: 0 / 1 on SQLite
        found = matched(name, was[-1], registry.get(number), members.get(number, ""), bool(confirmed))
        values = tuple(found[f] for f in MATCHED_FIELDS)
        if values != (name, *was):
            changed.append((*values, entry_id))
    if changed:
        with db.atomic():
            update_rows(E, [getattr(E, f) for f in MATCHED_FIELDS], changed)
    return len(changed)


def social_codes(batch_ids: list) -> list:
    """The 单位社保编码 of the active matched people of these batches (rule 3's codes)."""
    return sorted(c for (c,) in RosterEntry.select(RosterEntry.social_code).distinct()
                  .where(in_values(RosterEntry.batch, batch_ids) & RosterEntry.active
                         & (RosterEntry.social_code != "")).tuples())


def linked_payers(batch: AidBatch, source: RegistrySource | None = None, also=()) -> tuple[int, list]:
    """(缴费人数之和, [社保编码 …]) over the social-security codes of the matched people of the batch and
    of the batches `also` (ids: the unit's other submitted batches of the year, roster_check.year_batches)
    — rule 3's denominator, the payers asked of the configured 建议清册."""
    codes = social_codes([batch.id, *also])
    if not codes:
        return 0, []
    payers = (source or current_source()).unit_payers(codes)
    return sum(payers.values()), codes


def asked_first(id_numbers=(), codes=(), source: RegistrySource | None = None) -> Remembered:
    """The configured 建议清册 with these ID numbers and social-security codes already asked: call it
    before a transaction and pass it in, so a remote 建议清册 (AID_REGISTRY_URL) is never waited on
    while the transaction holds the batch row."""
    remembered = Remembered(source or current_source())
    if id_numbers:
        remembered.payers(id_numbers)
    if codes:
        remembered.unit_payers(codes)
    return remembered


def search_payers(text: str = ""):
    """建议清册 payers for the centre's list: all, or those of one 证件号码 / 单位社保编码 (exact)."""
    query = RegistryPayer.select().order_by(RegistryPayer.social_code, RegistryPayer.id_number)
    text = (text or "").strip().upper()
    if text:
        query = query.where((RegistryPayer.id_number == text) | (RegistryPayer.social_code == text))
    return query


def search_units(text: str = ""):
    """社保单位 for the centre's list: all, or one 单位社保编码 (exact) / names containing the text."""
    query = RegistryUnit.select().order_by(RegistryUnit.social_code)
    text = (text or "").strip()
    if text:
        query = query.where((RegistryUnit.social_code == text.upper()) | RegistryUnit.unit_name.contains(text))
    return query
