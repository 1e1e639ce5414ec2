"""The member counters and the monitor's counters are taken in one order by every writer
(models/figures.counting): a member change waits for the monitor counters' turn BEFORE it touches
a counter — so an import finishing in one union and a member approved in another union of the same
city cannot each hold what the other waits for (PostgreSQL; on SQLite the database's one writer
already orders them)."""

import threading
import time
from datetime import date

import psycopg2

from models import db, is_postgres
from models.members import counts
from models.members.counts import OrgSubtreeCount
from models.stats import tally
from tests import factories
from tests.conftest import DB_URL


def subtree_members(org_id: int) -> int:
    row = OrgSubtreeCount.get_or_none(OrgSubtreeCount.org == org_id)
    return row.members if row else 0


def test_a_member_count_change_waits_for_the_counters_turn_before_touching_a_counter(committed):
    city = factories.make_city()
    root = city.orgs["city"].id
    x, y = city.orgs["grassroots1"].id, city.orgs["direct1"].id
    before = subtree_members(root)
    holding, release, done = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def importer():  # an import's last transaction: the counters' turn, then (later) its counts
        try:
            with db.atomic():
                tally._lock([x])
                db.execute_sql("UPDATE organization SET phone = phone WHERE id = %s" if is_postgres() else
                               "UPDATE organization SET phone = phone WHERE id = ?", (x,))  # a write: SQLite's lock
                holding.set()
                release.wait(10)
                counts.apply_changes([(None, {"org": x, "counted": True, "join_date": None, "approved": None})])
        except Exception as exc:  # noqa: BLE001 — shown in the assertion
            errors.append(repr(exc))
        finally:
            db.close()

    def approval():  # a member approved in another union of the city
        try:
            holding.wait(10)
            with db.atomic():
                counts.apply_changes([(None, {"org": y, "counted": True, "join_date": date(2026, 1, 5),
                                              "approved": None})])
            done.set()
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            db.close()

    threads = [threading.Thread(target=importer), threading.Thread(target=approval)]
    for t in threads:
        t.start()
    assert holding.wait(10)
    time.sleep(0.5)
    assert not done.is_set()  # the approval waits for the importer's turn
    if is_postgres():  # … and while it waits it holds no counter: the city's subtree row is free
        probe = psycopg2.connect(DB_URL)
        try:
            with probe.cursor() as cursor:
                cursor.execute("SELECT members FROM org_subtree_count WHERE org_id = %s FOR UPDATE NOWAIT", (root,))
            probe.rollback()
        finally:
            probe.close()
    release.set()
    for t in threads:
        t.join(20)
    assert errors == [] and done.is_set()
    assert subtree_members(root) == before + 2  # both counted, once each


def test_concurrent_count_changes_in_many_unions_all_land(committed):
    """Eight writers at once over four unions of one city: no deadlock, every change counted."""
    city = factories.make_city()
    root = city.orgs["city"].id
    unions = [city.orgs[k].id for k in ("grassroots1", "direct1", "grassroots2", "direct2")]
    before = subtree_members(root)
    errors, barrier = [], threading.Barrier(8)

    def writer(i):
        try:
            barrier.wait(10)
            for _ in range(5):
                with db.atomic():
                    if i % 2:  # half of them as an import does: the turn first, explicitly
                        tally._lock([unions[i % len(unions)]])
                    counts.apply_changes([(None, {"org": unions[(i + j) % len(unions)], "counted": True,
                                                  "join_date": None, "approved": None}) for j in range(2)])
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            db.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert subtree_members(root) == before + 8 * 5 * 2
