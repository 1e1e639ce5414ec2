"""Where a member list of a district or of the city reads its rows (issue 19 item 2): the order a page
walks and the scope as the page's statement reads it — shared by 会员信息 (models/members/roster.Pages)
and 卡片信息管理 (views/cards)."""

import peewee as pw

from models import is_postgres
from models.members.people import Membership
from models.orgs.organizations import OrgTree


def list_key(root_id: int | None) -> tuple:
    """The lists' order (by union, newest first within it): membership (org_id, id); a district's
    (root_id) on SQLite by the closure table's union, then id — its page joins the closure table
    (bounded_scope), and SQLite sees the join's order only when it is named on that table (named on
    membership, it sorted the district's rows)."""
    if root_id is None or is_postgres():
        return (Membership.org, Membership.id)
    return (OrgTree.descendant, Membership.id)


CURSOR_NAMES = ("org_id", "id")  # the fetched row's attributes of either key, for the cursor


def bounded_scope(members_in_scope, root_id: int | None, low: int | None = None, high: int | None = None,
                  per_row: bool = False):
    """The memberships in scope whose 所在工会 is between low and high (either may be None). For a
    district (root_id) the bound goes into the closure-table scan, so a deep page starts at its
    cursor's union. On SQLite the district is a join with the closure table, read union by union in
    list_key order: its `IN (subquery)` made SQLite copy the district's list of unions (3,264 in the
    full city) for every statement; PostgreSQL turns that IN into the same nested loop itself. Joins
    after it start from Membership again. `per_row`: the few rows of a name search are read from the
    name index and each checked against the district (in_subtree), not walked."""
    if root_id is not None and not per_row:
        if is_postgres():
            units = OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == root_id)
            units = units.where(OrgTree.descendant >= low) if low is not None else units
            units = units.where(OrgTree.descendant <= high) if high is not None else units
            return Membership.select().where(Membership.org.in_(units))
        query = (Membership.select().join(OrgTree, on=(OrgTree.descendant == Membership.org))
                 .where(OrgTree.ancestor == root_id))
        query = query.where(OrgTree.descendant >= low) if low is not None else query
        query = query.where(OrgTree.descendant <= high) if high is not None else query
        return query.switch(Membership)
    scope = members_in_scope if root_id is None else Membership.select().where(in_subtree(root_id))
    scope = scope.where(Membership.org >= low) if low is not None else scope
    return scope.where(Membership.org <= high) if high is not None else scope


def in_subtree(root_id: int):
    """The membership's union is in root_id's subtree: one closure-table key lookup per row."""
    return pw.fn.EXISTS(OrgTree.select(OrgTree.depth).where(
        (OrgTree.ancestor == root_id) & (OrgTree.descendant == Membership.org)))
