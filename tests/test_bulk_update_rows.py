"""models/io/bulk.update_rows (what registry.match_entries writes with): each row gets its own
values — text with tabs, newlines and backslashes, booleans, dates, NULL — only the rows named
change, and a failure inside the caller's transaction leaves nothing written."""

from datetime import date, datetime

import pytest

from models import db
from models.io import bulk
from models.io.bulk import update_rows
from models.mutual_aid import roster_ops
from models.mutual_aid.batches import TO_CHECK, AidBatch, RosterEntry
from tests.factories.mutual_aid import approved_code, batch_in, person

E = RosterEntry


@pytest.fixture(autouse=True, params=["executemany", "temporary table"])
def path(request, monkeypatch):
    """Both ways of writing (PostgreSQL takes the temporary table above TEMP_TABLE_FROM rows)."""
    if request.param == "temporary table":
        monkeypatch.setattr(bulk, "TEMP_TABLE_FROM", 0)
    return request.param


def test_each_row_gets_its_own_values_and_the_others_stay(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [person(i) for i in range(1, 5)], code.account)
    one, two, three, four = E.select().where(E.batch == batch.id).order_by(E.id)
    fields = [E.name, E.registry_matched, E.birth_date, E.social_code]
    assert update_rows(E, fields, [("制表\t换行\n反斜\\杠", True, date(1970, 1, 31), "SB1", one.id),
                                   ("二", False, date(1980, 2, 29), "", two.id),
                                   ("三", True, three.birth_date, "SB'3\"", three.id)]) == 3
    got = {e.id: (e.name, e.registry_matched, e.birth_date, e.social_code) for e in E.select()}
    assert got[one.id] == ("制表\t换行\n反斜\\杠", True, date(1970, 1, 31), "SB1")
    assert got[two.id] == ("二", False, date(1980, 2, 29), "")
    assert got[three.id] == ("三", True, three.birth_date, "SB'3\"")
    assert got[four.id] == (four.name, four.registry_matched, four.birth_date, four.social_code)
    assert update_rows(E, fields, []) == 0


def test_null_and_datetimes_and_a_rolled_back_transaction(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    at = datetime(2026, 6, 10, 10, 30)
    update_rows(AidBatch, [AidBatch.submitted_at, AidBatch.premium_total], [(at, 12_345_678_901, batch.id)])
    assert (AidBatch.get_by_id(batch.id).submitted_at, AidBatch.get_by_id(batch.id).premium_total) == (
        at, 12_345_678_901)
    update_rows(AidBatch, [AidBatch.submitted_at], [(None, batch.id)])
    assert AidBatch.get_by_id(batch.id).submitted_at is None
    with pytest.raises(RuntimeError), db.atomic():
        update_rows(AidBatch, [AidBatch.reason], [("写了又撤销", batch.id)])
        raise RuntimeError
    assert AidBatch.get_by_id(batch.id).reason == ""
    with db.atomic():  # twice in one transaction (PostgreSQL's temporary table is dropped each time)
        update_rows(AidBatch, [AidBatch.reason], [("一", batch.id)])
        update_rows(AidBatch, [AidBatch.reason], [("二", batch.id)])
    assert AidBatch.get_by_id(batch.id).reason == "二"


def test_many_small_updates_in_one_transaction_do_not_fill_the_lock_table(city, path):
    """A transaction making many small updates (a request changing a roster many times, a test
    doing everything in one transaction) keeps no lock per update: PostgreSQL's lock table is
    shared and small (max_locks_per_transaction × connections) — the temporary table's locks
    would stay until the transaction ends."""
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    if path == "temporary table":
        return  # the large path: one table per call, for big updates only
    def locks() -> int:
        if not bulk.is_postgres():
            return 0
        return db.execute_sql("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()").fetchone()[0]
    with db.atomic():
        update_rows(AidBatch, [AidBatch.reason], [("起", batch.id)])
        before = locks()
        for i in range(300):
            update_rows(AidBatch, [AidBatch.reason], [(f"第{i}次", batch.id)])
        assert locks() - before < 10
    assert AidBatch.get_by_id(batch.id).reason == "第299次"
