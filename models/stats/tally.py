"""The counters behind the 集中参保实时监控画面 (issue 19 item 1): what the monitor shows, kept per
organisation for its whole subtree, so that a screen reads one row per organisation it shows —
never the memberships, enrollments or submissions.

What a grassroots union contributes (only while it is open — 正常, level grassroots — everything of a
closed union drops out, as on the screen):
- `UnionTally.unions`: 1 (基层工会数);
- `EligibleTally(day).people`: its 可参保 memberships (models/stats/monitor.py) by the day they
  become eligible — `ALWAYS` for ID type 身份证, else the day the person's 正常 card counts from
  (`cards.channel_card`: a card known today counts tomorrow). A reader adds the rows up to today,
  so the figure moves at midnight without a write; an organisation has one row more per distinct
  card day of its members without a 身份证 (few), never one per member;
- `YearTally(year)`: `submitted` / `returned` (0 or 1: the union's state, models/stats/enroll_stats)
  and `enrolled` (active centralized enrollments).
Each row of an organisation holds the sum over its subtree (the closure table, itself included).

Kept in the transaction of every change (through models/figures.py, which the areas call):
memberships and people by before/after snapshots of the people concerned (join, change, move, the
roster's deletes, identity changes, cards, registry statuses, imports); submissions and
enrollments by recounting the union's year under a lock (submit, 撤回 / 退回 / 恢复 / 逾期未缴费,
the district and centre batch steps); organisations by recounting them (新建, 撤销, level
changes) or by moving their subtree's rows (移动). On PostgreSQL every write first locks the tree
root's UnionTally row: the writers of these counters take their turn (short: the counters are
written last in each transaction) and a recount sees every committed change.

`rebuild()` recomputes everything from the rows (after bulk loads, the benchmark city, as an
admin quick fix); tests compare the counters with direct counts after random changes.
"""

from collections import defaultdict
from datetime import date

import peewee as pw

from models import db, figures, is_postgres
from models.base import BaseModel, in_values
from models.cards.cards import CARD_NORMAL, Card
from models.enroll.enrollment import ACTIVE, CENTRAL, NOT_ELIGIBLE, RETURNED, Enrollment, StatusRecord, Submission
from models.enroll.plans import ProtectionYear
from models.members.people import ID_CARD, NORMAL, Membership, Person
from models.orgs.organizations import ACTIVE as ORG_ACTIVE
from models.orgs.organizations import Organization, OrgTree

ALWAYS = date(1900, 1, 1)  # the day of the 身份证 holders: eligible whatever the date
CHUNK = 500


class UnionTally(BaseModel):
    org = pw.ForeignKeyField(Organization, primary_key=True, on_delete="CASCADE")
    unions = pw.IntegerField(default=0)


class EligibleTally(BaseModel):
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    day = pw.DateField()
    people = pw.IntegerField(default=0)

    class Meta:
        primary_key = pw.CompositeKey("org", "day")


class YearTally(BaseModel):
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    year = pw.ForeignKeyField(ProtectionYear, on_delete="CASCADE")
    submitted = pw.IntegerField(default=0)
    returned = pw.IntegerField(default=0)
    enrolled = pw.IntegerField(default=0)

    class Meta:
        primary_key = pw.CompositeKey("org", "year")


MEASURES = ("submitted", "returned", "enrolled")

# The monitor finds the non-grassroots children of the organisation it shows without reading its
# grassroots unions, and its list reads the unions under one organisation in id order (migrations
# 023, 037).
Organization.add_index(Organization.index(Organization.parent, Organization.level, Organization.id,
                                          name="organization_parent_level_id"))


# --- the facts, counted from the rows ----------------------------------------------------------------
def _day(value) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def counted(org_ids=None) -> set:
    """The open grassroots unions among org_ids (all of them when None)."""
    query = Organization.select(Organization.id).where((Organization.level == "grassroots")
                                                      & (Organization.status == ORG_ACTIVE))
    if org_ids is not None:
        query = query.where(in_values(Organization.id, org_ids))
    return {i for (i,) in query.tuples()}


def eligible_rows(where) -> pw.ModelSelect:
    """(membership, union, since) of the 可参保 memberships of open grassroots unions matching
    `where`: since = ALWAYS for ID type 身份证, else the first day a 正常 card of the person counts
    (`cards.channel_card`), NULL (not eligible) without one."""
    first_card = (Card.select(pw.fn.MIN(Card.eligible_from))
                  .where((Card.person == Person.id) & (Card.status == CARD_NORMAL)))
    since = pw.Case(None, [(Person.id_type == ID_CARD, ALWAYS)], first_card)
    return (Membership.select(Membership.id, Membership.org, since.alias("since"))
            .join(Person, on=(Person.id == Membership.person))
            .switch(Membership)
            .join(Organization, on=(Organization.id == Membership.org))
            .switch(Membership)
            .join(StatusRecord, pw.JOIN.LEFT_OUTER, on=(StatusRecord.id_number == Person.id_number))
            .where(where & (Membership.status == NORMAL) & (Person.population_removed == False)  # noqa: E712
                   & (Organization.level == "grassroots") & (Organization.status == ORG_ACTIVE)
                   & (StatusRecord.id.is_null() | StatusRecord.employment.not_in(NOT_ELIGIBLE))))


def _eligible(where) -> dict:
    """{(union, day): people} of eligible_rows(where), grouped in the database."""
    inner = eligible_rows(where).alias("e")
    query = (Membership.select(inner.c.org_id, inner.c.since, pw.fn.COUNT(pw.SQL("*")))
             .from_(inner).where(inner.c.since.is_null(False)).group_by(inner.c.org_id, inner.c.since))
    out = defaultdict(int)
    for org_id, since, n in query.tuples():
        out[(org_id, _day(since))] += n
    return dict(out)


def _years(org_ids, year_id: int | None = None) -> dict:
    """{(union, year): [submitted, returned, enrolled]} of org_ids (every union when None)."""
    def scoped(query, model):
        if org_ids is not None:
            query = query.where(in_values(model.org, org_ids))
        return query.where(model.year == year_id) if year_id else query
    central = scoped(Submission.select(Submission.org, Submission.year), Submission).where(Submission.mode == CENTRAL)
    active = set(central.where(Submission.status.in_(ACTIVE)).distinct().tuples())
    latest = scoped(Submission.select(pw.fn.MAX(Submission.id)), Submission).where(
        Submission.mode == CENTRAL).group_by(Submission.org, Submission.year)
    out = {key: [1, 0, 0] for key in active}
    for key in (Submission.select(Submission.org, Submission.year)
                .where(Submission.id.in_(latest) & (Submission.status == RETURNED)).tuples()):
        if key not in active:
            out[key] = [0, 1, 0]
    for org_id, year, n in scoped(Enrollment.select(Enrollment.org, Enrollment.year, pw.fn.COUNT(Enrollment.id)),
                                  Enrollment).where(Enrollment.active & (Enrollment.mode == CENTRAL)
                                                    & Enrollment.org.is_null(False)).group_by(
                                                        Enrollment.org, Enrollment.year).tuples():
        out.setdefault((org_id, year), [0, 0, 0])[2] = n
    return out


# --- the stored rows -----------------------------------------------------------------------------------
def _stored(org_ids: list, parts: tuple, year_id: int | None = None) -> tuple[dict, dict, dict]:
    """What org_ids themselves contribute as the counters hold it: each one's row minus its children's."""
    children = dict(Organization.select(Organization.id, Organization.parent)
                    .where(in_values(Organization.parent, org_ids)).tuples())
    ids = list(org_ids) + list(children)
    sign = {i: 1 for i in org_ids}
    owner = {i: i for i in org_ids}
    for child, parent in children.items():
        sign[child], owner[child] = -1, parent
    units, eligible, years = defaultdict(int), defaultdict(int), defaultdict(lambda: [0, 0, 0])
    if "units" in parts:
        for org_id, n in UnionTally.select(UnionTally.org, UnionTally.unions).where(
                in_values(UnionTally.org, ids)).tuples():
            units[owner[org_id]] += sign[org_id] * n
    if "eligible" in parts:
        for org_id, day, n in EligibleTally.select(EligibleTally.org, EligibleTally.day, EligibleTally.people).where(
                in_values(EligibleTally.org, ids)).tuples():
            eligible[(owner[org_id], _day(day))] += sign[org_id] * n
    if "years" in parts:
        query = YearTally.select(YearTally.org, YearTally.year, *[getattr(YearTally, m) for m in MEASURES]).where(
            in_values(YearTally.org, ids))
        for org_id, year, *numbers in (query.where(YearTally.year == year_id) if year_id else query).tuples():
            row = years[(owner[org_id], year)]
            for i, n in enumerate(numbers):
                row[i] += sign[org_id] * n
    return units, eligible, years


def own_numbers(org_ids: list, year_id: int) -> tuple[dict, dict]:
    """What org_ids themselves hold (the monitor's list of unions): ({(org, day): 可参保 people},
    {(org, year): [submitted, returned, enrolled]}) — each one's rows minus its children's."""
    children = list(Organization.select(Organization.id, Organization.parent)
                    .where(in_values(Organization.parent, org_ids)).tuples())
    ids = sorted(set(org_ids) | {c for c, _p in children})
    eligible, years = defaultdict(int), defaultdict(lambda: [0, 0, 0])
    for org_id, day, n in EligibleTally.select(EligibleTally.org, EligibleTally.day, EligibleTally.people).where(
            in_values(EligibleTally.org, ids)).tuples():
        eligible[(org_id, _day(day))] += n
    for org_id, *numbers in YearTally.select(YearTally.org, *[getattr(YearTally, m) for m in MEASURES]).where(
            in_values(YearTally.org, ids) & (YearTally.year == year_id)).tuples():
        years[(org_id, year_id)] = list(numbers)
    own_e = {k: n for k, n in eligible.items() if k[0] in org_ids}
    own_y = {k: list(v) for k, v in years.items() if k[0] in org_ids}
    for child, parent in children:  # a page may hold a union and its 分工会: each keeps its own rows
        for (org_id, day), n in eligible.items():
            if org_id == child:
                own_e[(parent, day)] = own_e.get((parent, day), 0) - n
        if (child, year_id) in years:
            own_y[(parent, year_id)] = [a - b for a, b in zip(own_y.get((parent, year_id), [0, 0, 0]),
                                                              years[(child, year_id)], strict=True)]
    return own_e, own_y


def _ancestors(org_ids) -> dict:
    """{organisation: [(its ancestors' depth, id) …, itself included]}."""
    out = defaultdict(list)
    query = (OrgTree.select(OrgTree.descendant, OrgTree.ancestor, Organization.depth)
             .join(Organization, on=(Organization.id == OrgTree.ancestor))
             .where(in_values(OrgTree.descendant, list(org_ids))))
    for descendant, ancestor, depth in db.execute_sql(*query.sql()).fetchall():  # plain integers: no peewee rows
        out[descendant].append((depth, ancestor))
    return out


def _lock(org_ids, ups: dict | None = None) -> None:
    """PostgreSQL: take the turn of the counters' writers (the tree roots' UnionTally rows)."""
    if not is_postgres() or not org_ids:
        return
    ups = _ancestors(org_ids) if ups is None else ups
    _lock_roots(sorted({a for rows in ups.values() for depth, a in rows if depth == 0}))


def _lock_roots(roots: list) -> None:
    if roots:
        UnionTally.insert_many([{"org": r} for r in roots]).on_conflict_ignore().execute()
        list(UnionTally.select(UnionTally.org).where(UnionTally.org.in_(roots)).order_by(UnionTally.org).for_update())


# --- writing ---------------------------------------------------------------------------------------
def _upsert(model, rows: list, keys: list, measures: tuple) -> None:
    """Add `measures` of rows (dicts of the same fields) to the stored rows of their `keys`, inserting
    the missing ones: INSERT … ON CONFLICT DO UPDATE, CHUNK rows a statement written once (peewee's
    insert_many composes every value — most of a 5,000-union 组织导入's counting)."""
    if not rows:
        return
    table, names = model._meta.table_name, list(rows[0])
    fields = [model._meta.fields[n] for n in names]
    dates = [isinstance(f, pw.DateField) and not is_postgres() for f in fields]  # SQLite: as text, like peewee
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    conflict = ", ".join(f'"{model._meta.fields[k].column_name}"' for k in keys)
    update = ", ".join(f'"{m}" = "{table}"."{m}" + excluded."{m}"' for m in measures)
    one = "(" + ", ".join([db.param] * len(names)) + ")"
    for i in range(0, len(rows), CHUNK):
        part = rows[i:i + CHUNK]
        values = [_day(v).isoformat() if text and v is not None else v
                  for row in part for v, text in zip((row[n] for n in names), dates, strict=True)]
        db.execute_sql(f'INSERT INTO "{table}" ({columns}) VALUES {", ".join([one] * len(part))} '
                       f"ON CONFLICT ({conflict}) DO UPDATE SET {update}", values)


def _apply(units: dict, eligible: dict, years: dict, lock: bool = True) -> None:
    """Add the changes of the given organisations' own contributions to them and every ancestor."""
    units = {k: v for k, v in units.items() if v}
    eligible = {k: v for k, v in eligible.items() if v}
    years = {k: v for k, v in years.items() if any(v)}
    leaves = set(units) | {k[0] for k in eligible} | {k[0] for k in years}
    if not leaves:
        return
    ups = _ancestors(leaves)
    if lock:
        _lock(leaves, ups)
    depth = {a: d for rows in ups.values() for d, a in rows}
    u_sum, e_sum, y_sum = defaultdict(int), defaultdict(int), defaultdict(lambda: [0, 0, 0])
    for leaf, n in units.items():
        for _, a in ups[leaf]:
            u_sum[a] += n
    for (leaf, day), n in eligible.items():
        for _, a in ups[leaf]:
            e_sum[(a, day)] += n
    for (leaf, year), numbers in years.items():
        for _, a in ups[leaf]:
            row = y_sum[(a, year)]
            for i, n in enumerate(numbers):
                row[i] += n
    order = lambda key: (depth.get(key[0] if isinstance(key, tuple) else key, 0), key)  # noqa: E731
    _upsert(UnionTally, [{"org": a, "unions": n} for a, n in sorted(u_sum.items(), key=lambda i: order(i[0])) if n],
            ["org"], ("unions",))
    _upsert(EligibleTally, [{"org": a, "day": day, "people": n}
                            for (a, day), n in sorted(e_sum.items(), key=lambda i: order(i[0])) if n],
            ["org", "day"], ("people",))
    _upsert(YearTally, [{"org": a, "year": y, **dict(zip(MEASURES, v, strict=True))}
                        for (a, y), v in sorted(y_sum.items(), key=lambda i: order(i[0])) if any(v)],
            ["org", "year"], MEASURES)


def _minus(fresh: dict, stored: dict, width: int = 0) -> dict:
    out = {}
    for key in set(fresh) | set(stored):
        if width:
            f, s = fresh.get(key, [0] * width), stored.get(key, [0] * width)
            out[key] = [a - b for a, b in zip(f, s, strict=True)]
        else:
            out[key] = fresh.get(key, 0) - stored.get(key, 0)
    return out


# --- the hooks the write paths call (models/figures.py) ----------------------------------------------
def people_before(person_ids: list) -> dict:
    """{(union, day): people} of these people's eligible memberships (grouped in the database: a
    return file moves 50,000 people)."""
    return _eligible(in_values(Membership.person, person_ids))


def card_people(person_ids: list) -> list:
    """The people among person_ids whose 可参保 a card can move (eligible_rows): those whose ID type
    is not 身份证 — a 身份证 holder counts from ALWAYS, card or not. Read inside the change's
    transaction, so a concurrent change of ID type is seen as the before / after snapshots see it."""
    return sorted(i for (i,) in Person.select(Person.id).where(in_values(Person.id, person_ids)
                                                              & (Person.id_type != ID_CARD)).tuples())


def people_after(person_ids: list, before: dict) -> None:
    _apply({}, _minus(people_before(person_ids), before), {})


def memberships_added(ids: list) -> None:
    _apply({}, _eligible(in_values(Membership.id, ids)), {})


def recount_year(org_ids: list, year_id: int) -> None:
    _lock(org_ids)
    fresh = _years(counted(org_ids), year_id)
    _units, _eligible_, stored = _stored(org_ids, ("years",), year_id)
    _apply({}, {}, _minus(fresh, stored, 3), lock=False)


def recount_unions(org_ids: list) -> None:
    _lock(org_ids)
    open_ = counted(org_ids)
    units, eligible, years = _stored(org_ids, ("units", "eligible", "years"))
    fresh_e = _eligible(in_values(Membership.org, list(open_))) if open_ else {}
    fresh_y = _years(list(open_)) if open_ else {}
    _apply(_minus({u: 1 for u in open_}, units), _minus(fresh_e, eligible), _minus(fresh_y, years, 3), lock=False)


def created(org_ids: list) -> None:
    """New open unions: +1 for each ancestor (itself included), summed in SQL, upserted in _apply()'s order."""
    new, ups = in_values(OrgTree.descendant, list(org_ids)), OrgTree.select(OrgTree.ancestor).join(
        Organization, on=(Organization.id == OrgTree.ancestor))
    if is_postgres():
        _lock_roots([a for (a,) in ups.where(new & (Organization.depth == 0)).distinct().order_by(OrgTree.ancestor)
                     .tuples()])
    UnionTally.insert_from(ups.select_extend(pw.fn.COUNT(OrgTree.descendant)).where(new).group_by(
        Organization.depth, OrgTree.ancestor).order_by(Organization.depth, OrgTree.ancestor), [
        UnionTally.org, UnionTally.unions]).on_conflict(conflict_target=[UnionTally.org], update={
            UnionTally.unions: UnionTally.unions + pw.EXCLUDED.unions}).execute()


def _subtree_rows(org_id: int) -> tuple:
    return (UnionTally.select(UnionTally.unions).where(UnionTally.org == org_id).scalar() or 0,
            list(EligibleTally.select(EligibleTally.day, EligibleTally.people)
                 .where(EligibleTally.org == org_id).tuples()),
            list(YearTally.select(YearTally.year, *[getattr(YearTally, m) for m in MEASURES])
                 .where(YearTally.org == org_id).tuples()))


def _shift(org_id: int, rows: tuple, sign: int) -> None:
    """Add (sign 1) or take away (-1) an organisation's subtree rows at its strict ancestors."""
    ancestors = [a for _, a in _ancestors([org_id])[org_id] if a != org_id]
    if not ancestors:
        return
    unions, days, years = rows
    # the rows are written as if they were the ancestors' own: _apply adds them once per ancestor's chain,
    # so give them to the nearest ancestor only (its ancestors follow through _apply)
    parent = Organization.select(Organization.parent).where(Organization.id == org_id).scalar()
    _apply({parent: sign * unions}, {(parent, _day(d)): sign * n for d, n in days},
           {(parent, y): [sign * n for n in numbers] for y, *numbers in years})


def detach(org_id: int) -> tuple:
    rows = _subtree_rows(org_id)
    _shift(org_id, rows, -1)
    return rows


def attach(org_id: int, rows: tuple) -> None:
    _shift(org_id, rows, 1)


figures.register(people_before=people_before, people_after=people_after, card_people=card_people,
                 memberships_added=memberships_added,
                 year=recount_year, unions=recount_unions, created=created, detach=detach, attach=attach,
                 counting=_lock)


# --- rebuild ----------------------------------------------------------------------------------------
def rebuild() -> None:
    """Recompute the three tables from the rows, in one transaction (set-based, a few grouped
    queries over the city)."""
    with db.atomic():
        for model in (UnionTally, EligibleTally, YearTally):
            model.delete().execute()
        open_ = counted()
        if not open_:
            return
        years = {k: v for k, v in _years(None).items() if k[0] in open_}
        _apply({u: 1 for u in open_}, _eligible(Membership.org.is_null(False)), years, lock=False)


__all__ = ["UnionTally", "EligibleTally", "YearTally", "ALWAYS", "counted", "eligible_rows", "own_numbers", "rebuild"]
