"""清册校验's test data (ma-check): rosters written straight in, 建议清册 units and last year's roster,
a protection year whose windows are open now (the screens act at the real time)."""

from datetime import date, timedelta

from models.base import now
from models.mutual_aid.batches import INSURED, TO_CHECK, AidBatch, RosterEntry
from models.mutual_aid.registry import RegistryUnit
from models.mutual_aid.years import CENTRAL, AidWindow
from tests.factories.memberfiles import id_number
from tests.factories.mutual_aid import aid_year, batch_in, code_of


def roster(batch, n: int, start: int = 0, matched: bool = True, social_code: str = "SB001", **fields) -> list:
    """n people on the batch's roster (ID numbers id_number(start) …), by default 在职, matched to the
    建议清册 under `social_code`; `fields` override any column for all of them."""
    rows = [{"batch": batch.id, "year": batch.year_id, "id_number": id_number(start + i), "name": f"参保人{start + i}",
             "imported_name": f"参保人{start + i}", "gender": "男", "birth_date": date(1990, 1, 1),
             "has_social_insurance": True, "employment": "在职" if matched else "-", "registry_matched": matched,
             "social_code": social_code if matched else "", "active": True, **fields} for i in range(n)]
    for chunk in range(0, len(rows), 500):
        RosterEntry.insert_many(rows[chunk:chunk + 500]).execute()
    return list(RosterEntry.select().where(RosterEntry.batch == batch.id).order_by(RosterEntry.id))


def registry_unit(social_code: str, payers: int) -> RegistryUnit:
    return RegistryUnit.create(social_code=social_code, unit_name=f"社保单位{social_code}", payers=payers)


def insured_last_year(code, n: int, year: int = 2025, start: int = 500_000):
    """Last protection year's 参保成功 batch of the code with n people (rule 2's last count)."""
    batch = batch_in(code, INSURED, year=aid_year(year))
    roster(batch, n, start=start)
    return batch


def open_now(year=None):
    """The year's windows moved to be open now (the screens' operations act at the real time)."""
    year = year or aid_year()
    AidWindow.update(starts=now() - timedelta(days=1), ends=now() + timedelta(days=30)).where(
        AidWindow.year == year.id).execute()
    return year


def close_now(year=None):
    year = year or aid_year()
    AidWindow.update(starts=now() - timedelta(days=30), ends=now() - timedelta(days=1)).where(
        AidWindow.year == year.id).execute()
    return year


def batch_of(org):
    """The scope matrix's batch of the organisation: its code's centralized batch (made once)."""
    code = code_of(org)
    year = aid_year()
    held = AidBatch.get_or_none((AidBatch.code == code.id) & (AidBatch.year == year.id) & (AidBatch.kind == CENTRAL))
    return held or batch_in(code, TO_CHECK, year=year)
