"""批量导入会员: applying the accepted rows of a checked file, in ONE transaction — new people and
memberships by bulk inserts (models/io/bulk.py: COPY on PostgreSQL), changed record fields of the
union's members, the dashboard counters and one 操作日志 row per updated member; and the compact
form the checked rows are staged in (`packed()` / `unpacked()`)."""

import json
import queue
import threading
from datetime import date
from operator import itemgetter

from peewee import chunked

from models import db, figures, is_postgres
from models.audit import AuditLog
from models.base import now
from models.io.bulk import bulk_insert
from models.job_leases import lease_seconds
from models.members.counts import OrgMemberCount, _bump_day
from models.members.member_import_check import RECORD_COLUMNS, persons_by_key
from models.members.people import (
    ENTERPRISE,
    FLEXIBLE,
    HELD,
    NORMAL,
    PENDING,
    Membership,
    Person,
    next_member_numbers,
    review_required,
)
from models.orgs.accounts import Account
from models.orgs.organizations import Enterprise, Organization
from models.rules.text import mask_text

CHANGE_LABELS = {**RECORD_COLUMNS, "enterprise": "关联企业"}


def write(checked: list, org: Organization, params: dict, account: Account | None = None) -> tuple[dict, date]:
    """Write the accepted rows in one transaction (member_import.apply() adds the dashboard
    counters): ({"added", "updated", "unchanged", "pending", "people"}, the day they joined) —
    people: {"added": new membership ids, "unchanged": ids of the members whose rows changed
    nothing} (who is behind the result page's counts)."""
    with db.atomic():
        adder = Adder(org, params)
        adder.add(checked)
        return adder.finish(checked, account)


class Adder:
    """The accepted rows of one file written in the caller's transaction: `add()` inserts the new
    members of a part of the rows (people, then memberships, in bulk) — called once for the whole
    file, or part by part as the file is checked (member_import's background writer) —, then
    `finish()` the changed members, the 操作日志 rows and the monitor's figures, and gives the
    result."""

    def __init__(self, org: Organization, params: dict):
        self.org = org
        self.pending = review_required(org)
        self.stamp = now()
        category = params.get("category", "")
        self.category = category
        self.detail = params.get("category_detail", "") if category == FLEXIBLE else ""
        self.chosen = params.get("enterprise") if category == ENTERPRISE else None
        self.shared = {"org": org.id, "status": PENDING if self.pending else NORMAL, "join_date": self.stamp.date(),
                       "approved_at": None if self.pending else self.stamp, "created_at": self.stamp,
                       "updated_at": self.stamp}
        self.added_ids: list = []

    def add(self, rows: list) -> None:
        """Insert the new members among `rows` (checked rows: the accepted "add" ones)."""
        adds = [r for r in rows if r.get("op") == "add" and not r.get("errors")]
        if not adds:
            return
        stamp = self.stamp
        person_ids = _insert_persons([r for r in adds if "person" in r], stamp)
        reserved = [r.get("_member_no") for r in adds]  # taken by Background.send, already committed
        numbers = iter([] if self.pending else reserved if None not in reserved else next_member_numbers(len(adds)))
        known = _known_copies([r["person_id"] for r in adds if r.get("person_id")])
        category, detail, chosen, pending = self.category, self.detail, self.chosen, self.pending
        new_rows = []
        append = new_rows.append
        for r in adds:
            record = r["record"]
            own = r.get("enterprise")
            person = r.get("person")
            if person is None:  # known to the system: the copies read above
                row = dict(known[r["person_id"]])
                row["person"] = r["person_id"]
            else:
                row = {"person_name": person["name"], "person_gender": person["gender"],
                       "person_birth_date": person["birth_date"] or None,
                       "person": person_ids[(person["id_type"], person["id_number"])]}
            row["member_no"] = None if pending else next(numbers)
            row["mobile"] = record["mobile"]
            row["work_unit"] = record.get("work_unit", "")
            row["tags"] = record.get("tags", "")
            row["category"] = ENTERPRISE if own else category
            row["category_detail"] = "" if own else detail
            row["enterprise"] = own or chosen
            append(row)
        returned = bulk_insert(Membership, new_rows, returning=(Membership.id,), same=self.shared)
        if returned is None:  # an SQLite older than 3.35 has no RETURNING: this run's stamp finds them
            known_ids = set(self.added_ids)
            self.added_ids.extend(i for (i,) in Membership.select(Membership.id).where(
                (Membership.org == self.org.id) & (Membership.created_at == stamp)).tuples() if i not in known_ids)
        else:
            self.added_ids.extend(i for (i,) in returned)

    def finish(self, checked: list, account: Account | None = None) -> tuple[dict, date]:
        """The rest of the write once every new member is added (`add()`): the result of write()."""
        updates, same, unchanged, added = [], [], 0, 0
        for r in checked:
            if r.get("errors"):
                continue
            op = r["op"]
            if op == "add":
                added += 1
            elif op == "update":
                updates.append(r)
            elif op == "same":
                unchanged += 1
                if r.get("membership_id"):
                    same.append(r["membership_id"])
        stamp = self.stamp
        for r in updates:
            values = {k: v for k, (_old, v) in r["changes"].items() if k != "enterprise"}
            if "enterprise" in r["changes"]:
                values.update(enterprise=r["changes"]["enterprise"][1], category=ENTERPRISE, category_detail="")
            Membership.update(updated_at=stamp, **values).where(
                (Membership.id == r["membership_id"]) & Membership.status.in_(HELD)).execute()
        _audit_updates(updates, self.org, account, stamp)
        figures.memberships_added(self.added_ids)  # the monitor's 可参保 (models/stats/tally.py)
        return {"added": added, "updated": len(updates), "unchanged": unchanged, "pending": self.pending,
                "people": {"added": sorted(self.added_ids), "unchanged": sorted(same)}}, stamp.date()


def _audit_updates(updates: list, org: Organization, account: Account | None, stamp) -> None:
    """One 操作日志 row per updated member ("批量导入会员", field: old → new), written in bulk."""
    if not updates:
        return
    names = enterprise_names(updates)
    rows = []
    for r in updates:
        detail = {CHANGE_LABELS[k]: [names.get(old, "") if k == "enterprise" else old,
                                     names.get(new, "") if k == "enterprise" else new]
                  for k, (old, new) in r["changes"].items()}
        rows.append({"at": stamp, "account": account.id if account else None,
                     "account_name": account.username if account else "系统", "org": org.id,
                     "org_name": org.name, "object_type": "Membership", "object_id": r["membership_id"],
                     "action": "批量导入会员", "to_state": "", "reason": "",
                     "detail": mask_text(json.dumps(detail, ensure_ascii=False))})
    bulk_insert(AuditLog, rows)


def _known_copies(person_ids: list) -> dict:
    """{person id: the membership's copies (migration 030)} of people already in the system."""
    out = {}
    for part in chunked(person_ids, 500):
        for pid, name, gender, birth in (Person.select(Person.id, Person.name, Person.gender, Person.birth_date)
                                         .where(Person.id.in_(part)).tuples()):
            out[pid] = {"person_name": name, "person_gender": gender, "person_birth_date": birth}
    return out


def _insert_persons(rows: list, stamp) -> dict:
    """Insert the new people (出生日期 as the checked row's YYYY-MM-DD text: nothing to convert);
    {(id_type, id_number): person id}."""
    people = [{**r["person"], "birth_date": r["person"]["birth_date"] or None, "created_at": stamp} for r in rows]
    returned = bulk_insert(Person, people, returning=(Person.id_type, Person.id_number, Person.id))
    if returned is None:  # an SQLite older than 3.35 has no RETURNING: read the ids back
        found = persons_by_key({(p["id_type"], p["id_number"]) for p in people})
        return {key: pid for key, (pid, _name) in found.items()}
    return {(id_type, number): pid for id_type, number, pid in returned}


def count_new_members(org_id: int, n: int, day: date) -> None:
    """The dashboard counters for n new 正常 members of one union who joined and were approved
    on `day` (what stats.apply_change does one member at a time)."""
    if not n:
        return
    figures.counting([org_id])  # the counters' turn first (models/figures)
    (OrgMemberCount.insert(org=org_id, members=n)
     .on_conflict(conflict_target=[OrgMemberCount.org],
                  update={OrgMemberCount.members: OrgMemberCount.members + n})
     .execute())
    _bump_day(org_id, day, joined=n, activated=n)


def enterprise_names(checked: list) -> dict:
    """{enterprise id: name} of the enterprises named in the changes of updated rows."""
    ids = {v for r in checked if not r.get("errors") and r.get("op") == "update"
           for v in r["changes"].get("enterprise", []) if v}
    if not ids:
        return {}
    return dict(Enterprise.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(ids))).tuples())


# --- staging ------------------------------------------------------------------------------------------
# An accepted row that adds a new person (most rows of most files) is staged as a list of these
# fields, not as its dict: a tenth of the JSON work. Every other row is staged as it is.
_NEW_PERSON = ("row", "id_type", "id_number", "name", "gender", "birth_date", "mobile", "work_unit", "tags",
               "enterprise")


def packed(part: list) -> dict:
    """A checked chunk in the form it is staged (JobChunk): {"new": [[fields of a new person]],
    "rows": [every other row]}; `unpacked()` gives the rows back."""
    new, other = [], []
    for r in part:
        if "person" in r and not r.get("errors"):
            person, record = r["person"], r["record"]
            new.append((r["row"], person["id_type"], person["id_number"], person["name"], person["gender"],
                        person["birth_date"], record["mobile"], record.get("work_unit"), record.get("tags"),
                        r["enterprise"]))
        else:
            other.append(r)
    return {"new": new, "rows": other}


def unpacked(data) -> list:
    """The checked rows of a staged chunk (`packed()`), in file order."""
    if isinstance(data, list):  # staged before chunks were packed
        return data
    rows = data["rows"]
    for number, id_type, id_number, name, gender, birth, mobile, work_unit, tags, enterprise in data["new"]:
        record = {"mobile": mobile}
        if work_unit is not None:
            record["work_unit"] = work_unit
        if tags is not None:
            record["tags"] = tags
        rows.append({"row": number, "id_key": [id_type, id_number], "mobile": mobile, "op": "add", "name": name,
                     "record": record, "enterprise": enterprise,
                     "person": {"id_type": id_type, "id_number": id_number, "name": name, "gender": gender,
                                "birth_date": birth}})
    rows.sort(key=itemgetter("row"))
    return rows


# --- writing while the file is still being checked (PostgreSQL) ----------------------------------------
class Inline:
    """The writes of an import at its end, in one transaction of this thread's connection:
    `send()` does nothing (the rows are written from the checked list at `finish()`)."""

    failed = False

    def __init__(self, adder: Adder):
        self.adder = adder

    def send(self, rows: list) -> None:
        pass

    def finish(self, checked: list, last):
        with db.atomic():
            self.adder.add(checked)
            return last()

    def abort(self) -> None:
        pass


class Background:
    """The writes of an import in ONE transaction of a second connection, made by a thread while
    this one reads and checks the rest of the file: `send(rows)` queues a checked part's new
    members (PostgreSQL inserts and indexes them in its own process meanwhile), `finish(checked,
    last)` waits for them, runs `last()` in the same transaction and commits; `abort()` (or any
    error, raised again by the next send / finish) rolls everything back — nothing is visible
    before the commit, and a killed process's transaction dies with its connection."""

    def __init__(self, adder: Adder):
        self.adder = adder
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._result = None
        self.failed = False  # the writes failed (their error raised here): nothing was applied
        self._thread = threading.Thread(target=self._run, name="member-import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with db.atomic():
                # A process stopped mid-import (not killed: its connection stays open) must not hold
                # this transaction's locks past its lease — the worker resuming the job would wait on
                # them: the server ends a session idle in it that long. While this process lives, the
                # thread is never idle that long (a SELECT 1 while it waits for the next part).
                wait = lease_seconds()
                db.execute_sql(f"SET LOCAL idle_in_transaction_session_timeout = {wait * 1000}")
                # … nor one stopped in the middle of a statement (a COPY is not idle): none lasts a lease
                db.execute_sql(f"SET LOCAL statement_timeout = {wait * 1000}")
                while True:
                    item = self._next(wait / 4)
                    parts = [item]
                    while isinstance(item, list) and not self._queue.empty():  # what queued up meanwhile: one COPY
                        item = self._queue.get()
                        parts.append(item)
                    if item is None:  # abort: nothing more is written
                        raise _Aborted
                    rows = [r for part in parts if isinstance(part, list) for r in part]
                    if rows:
                        self.adder.add(rows)
                    if not isinstance(item, list):
                        self._result = item()
                        break
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 — handed to the importing thread
            self._error = exc
        finally:
            db.close()

    def _next(self, seconds: float):
        while True:
            try:
                return self._queue.get(timeout=seconds)
            except queue.Empty:
                db.execute_sql("SELECT 1")

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self.failed = True
            raise error

    def send(self, rows: list) -> None:
        self._raise()
        if rows:
            self._reserve_numbers(rows)
            self._queue.put(rows)

    def _reserve_numbers(self, rows: list) -> None:
        """会员编号 for a part's new members, taken here in a transaction of their own and committed:
        the city-wide counter row is held for a moment, not by the writer's transaction for the whole
        file (every approval in the city would wait for it, and two imports could deadlock on it). An
        import that then fails leaves its numbers unused, as 同步会员 does."""
        adds = [r for r in rows if r.get("op") == "add" and not r.get("errors") and not r.get("_member_no")]
        if self.adder.pending or not adds:
            return
        with db.atomic():
            for r, number in zip(adds, next_member_numbers(len(adds)), strict=True):
                r["_member_no"] = number

    def finish(self, checked: list, last):
        self._queue.put(last)
        self._thread.join()
        self._raise()
        return self._result

    def abort(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._error = None


class _Aborted(Exception):
    pass


def writer(org: Organization, params: dict):
    """Background on PostgreSQL when this thread holds no transaction (a job); Inline otherwise
    (SQLite has one writer at a time: its staging commits would wait for the writes)."""
    adder = Adder(org, params)
    return Background(adder) if is_postgres() and not db.in_transaction() else Inline(adder)
