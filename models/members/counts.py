"""Maintained member counters for the 首页 dashboard (city scale: 1,000,000 members).

Two small tables, kept exact by every membership change that goes through models/members/members.py
(join, change, move):
- OrgMemberCount(org, members): current members (status 正常) of the organisation itself;
- MemberDay(org, day, joined, activated): current members who joined that day (入会日期), and
  memberships approved (电子会员证激活, member number issued) that day.
A subtree's 会员数 is one row of OrgSubtreeCount (kept from OrgMemberCount by the database, migration 033);
the days are one join with the closure table. `rebuild()` recomputes both from
the memberships (after bulk loads, and as an admin quick fix); tests compare them with direct
counts after random changes.
"""

from datetime import date

import peewee as pw

from models import db, figures, is_postgres
from models.base import BaseModel
from models.members.people import NORMAL, Membership
from models.orgs.organizations import ENTERPRISE_LEVEL, Organization, OrgTree

COUNTED = NORMAL  # 会员数 counts approved members


class OrgMemberCount(BaseModel):
    scope_field = "org"
    org = pw.ForeignKeyField(Organization, primary_key=True, on_delete="CASCADE")
    members = pw.IntegerField(default=0)


class OrgSubtreeCount(BaseModel):
    """OrgMemberCount summed over the organisation's whole subtree, kept by the database (triggers of
    migration 033 on org_member_count and the closure table): a district's 会员数 is one row."""
    scope_field = "org"
    org = pw.ForeignKeyField(Organization, primary_key=True, on_delete="CASCADE")
    members = pw.IntegerField(default=0)


class MemberDay(BaseModel):
    scope_field = "org"
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    day = pw.DateField()
    joined = pw.IntegerField(default=0)
    activated = pw.IntegerField(default=0)

    class Meta:
        primary_key = pw.CompositeKey("org", "day")
        indexes = ((("day", "org"), False),)


def snapshot(m) -> dict | None:
    """What one membership contributes to the counters (None: nothing)."""
    if m is None:
        return None
    return {"org": m.org_id, "counted": m.status == COUNTED, "join_date": m.join_date,
            "approved": m.approved_at.date() if m.approved_at else None}


def apply_change(before: dict | None, after) -> None:
    """Adjust the counters for a membership going from `before` (its snapshot() taken before
    the change, None when new) to `after` (the saved row)."""
    apply_changes([(before, snapshot(after))])


def apply_changes(changes) -> None:
    """apply_change() of many memberships at once: (snapshot before, snapshot after) pairs (None:
    nothing), one write per counter row they move."""
    members, days = {}, {}  # org → n; (org, day) → [joined, activated]
    for before, after in changes:
        for facts, sign in ((before, -1), (after, 1)):
            if not facts:
                continue
            if facts["counted"]:
                members[facts["org"]] = members.get(facts["org"], 0) + sign
                if facts["join_date"]:
                    days.setdefault((facts["org"], facts["join_date"]), [0, 0])[0] += sign
            if facts["approved"]:
                days.setdefault((facts["org"], facts["approved"]), [0, 0])[1] += sign
    if not any(members.values()) and not any(map(any, days.values())):
        return  # nothing moves (a 转入审核中 membership, a change of other fields)
    with db.atomic():
        figures.counting([org for org, n in members.items() if n])  # the counters' turn first (figures)
        for org_id, n in members.items():
            if n:
                (OrgMemberCount.insert(org=org_id, members=n)
                 .on_conflict(conflict_target=[OrgMemberCount.org],
                              update={OrgMemberCount.members: OrgMemberCount.members + n})
                 .execute())
        for (org_id, day), (joined, activated) in days.items():
            if joined or activated:
                _bump_day(org_id, day, joined, activated)


def _bump_day(org_id: int, day: date, joined: int = 0, activated: int = 0) -> None:
    (MemberDay.insert(org=org_id, day=day, joined=joined, activated=activated)
     .on_conflict(conflict_target=[MemberDay.org, MemberDay.day],
                  update={MemberDay.joined: MemberDay.joined + joined,
                          MemberDay.activated: MemberDay.activated + activated})
     .execute())


def rebuild() -> None:
    """Recompute both tables from the memberships in one transaction (set-based SQL, fast
    enough for a million members)."""
    approved_day = (Membership.approved_at.cast("date") if is_postgres()
                    else pw.fn.DATE(Membership.approved_at))
    one, zero = pw.Value(1), pw.Value(0)
    with db.atomic():
        OrgMemberCount.delete().execute()
        MemberDay.delete().execute()
        OrgMemberCount.insert_from(
            Membership.select(Membership.org, pw.fn.COUNT(Membership.id))
            .where(Membership.status == COUNTED).group_by(Membership.org),
            [OrgMemberCount.org, OrgMemberCount.members]).execute()
        joined = (Membership.select(Membership.org.alias("o"), Membership.join_date.alias("d"),
                                    one.alias("j"), zero.alias("a"))
                  .where((Membership.status == COUNTED) & Membership.join_date.is_null(False)))
        activated = (Membership.select(Membership.org.alias("o"), approved_day.alias("d"),
                                       zero.alias("j"), one.alias("a"))
                     .where(Membership.approved_at.is_null(False)))
        both = (joined + activated).alias("u")  # "+" is UNION ALL in peewee
        MemberDay.insert_from(
            pw.Select([both], [both.c.o, both.c.d, pw.fn.SUM(both.c.j), pw.fn.SUM(both.c.a)])
            .group_by(both.c.o, both.c.d),
            [MemberDay.org, MemberDay.day, MemberDay.joined, MemberDay.activated]).execute()
        if not OrgSubtreeCount.table_exists():  # an earlier migration rebuilding before 033
            return
        # the triggers kept the subtree counts through the above; recounted too, so that a rebuild also
        # repairs them
        OrgSubtreeCount.delete().execute()
        OrgSubtreeCount.insert_from(
            OrgMemberCount.select(OrgTree.ancestor, pw.fn.SUM(OrgMemberCount.members))
            .join(OrgTree, on=(OrgTree.descendant == OrgMemberCount.org)).group_by(OrgTree.ancestor),
            [OrgSubtreeCount.org, OrgSubtreeCount.members]).execute()


# --- reading (one subtree join each; no join at all for the root of the whole tree) --------------
def is_whole_tree(root_id: int) -> bool:
    """The root of the only tree (the city): its subtree is every organisation."""
    roots = list(Organization.select(Organization.id).where(
        Organization.parent.is_null() & (Organization.level != ENTERPRISE_LEVEL)).limit(2))
    return len(roots) == 1 and roots[0].id == root_id


def _scoped(query, model, root_id: int, whole: bool | None):
    """Restrict a counter query to the subtree of root_id (nothing to restrict for the city).
    `whole`: is_whole_tree(root_id) when the caller already knows it (None: ask)."""
    if is_whole_tree(root_id) if whole is None else whole:
        return query
    return (query.join(OrgTree, on=(OrgTree.descendant == model.org))
            .where(OrgTree.ancestor == root_id))


def member_total(root_id: int, whole: bool | None = None) -> int:
    """会员数 of root_id's subtree (whole: of every tree — the roots' rows): one row, not one per union."""
    if is_whole_tree(root_id) if whole is None else whole:
        roots = Organization.select(Organization.id).where(Organization.parent.is_null())
        query = OrgSubtreeCount.select(pw.fn.SUM(OrgSubtreeCount.members)).where(OrgSubtreeCount.org.in_(roots))
    else:
        query = OrgSubtreeCount.select(OrgSubtreeCount.members).where(OrgSubtreeCount.org == root_id)
    return query.scalar() or 0


def daily(root_id: int, start: date, end: date, whole: bool | None = None) -> dict:
    """{day: (joined, activated)} for days in [start, end] with any activity."""
    query = (MemberDay.select(MemberDay.day, pw.fn.SUM(MemberDay.joined), pw.fn.SUM(MemberDay.activated))
             .where((MemberDay.day >= start) & (MemberDay.day <= end)))
    query = _scoped(query, MemberDay, root_id, whole).group_by(MemberDay.day)
    out = {}
    for day, j, a in query.tuples():
        if isinstance(day, str):
            day = date.fromisoformat(day)
        if j or a:
            out[day] = (int(j or 0), int(a or 0))
    return out


def joined_after(root_id: int, day: date, whole: bool | None = None) -> int:
    query = MemberDay.select(pw.fn.COALESCE(pw.fn.SUM(MemberDay.joined), 0)).where(MemberDay.day > day)
    return _scoped(query, MemberDay, root_id, whole).scalar() or 0


__all__ = ["OrgMemberCount", "OrgSubtreeCount", "MemberDay", "apply_change", "apply_changes", "snapshot", "rebuild",
           "member_total",
           "daily", "joined_after", "is_whole_tree"]
