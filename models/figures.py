"""Maintained figures: the write paths tell the counters when what they count has changed.

The 集中参保实时监控画面 reads counters (models/stats/tally.py) kept in the same transaction as every
change that moves them. The areas that make those changes (orgs, members, cards, enroll, review) sit
below the statistics area and must not import it, so they call these functions of the core, and the
tally registers itself here when it is imported (models/schema.py imports every table). Call them
INSIDE the transaction of the change:

- `people(person_ids)`: a `with` block around a change of memberships, people, cards or registry
  statuses of these people (可参保);
- `memberships_added(ids)`: memberships inserted in bulk (an import), after the insert;
- `year(org_ids, year_id)`: after submissions / enrollments of these unions changed (已提交, 退回,
  集中参保人数);
- `unions(org_ids)`: after an organisation was created, closed or changed level (everything it counts
  recomputed from the rows);
- `moving(org_id)`: a `with` block around a move in the tree (its counted subtree changes ancestors).
"""

from contextlib import contextmanager

_hooks: dict = {}


def register(**hooks) -> None:
    _hooks.update(hooks)


@contextmanager
def people(person_ids):
    ids = sorted({int(i) for i in person_ids if i})
    before = _hooks["people_before"](ids) if ids and "people_before" in _hooks else None
    yield
    if before is not None:
        _hooks["people_after"](ids, before)


def memberships_added(ids) -> None:
    if ids and "memberships_added" in _hooks:
        _hooks["memberships_added"](list(ids))


def year(org_ids, year_id: int) -> None:
    ids = sorted({int(i) for i in org_ids if i})
    if ids and "year" in _hooks:
        _hooks["year"](ids, year_id)


def unions(org_ids) -> None:
    ids = sorted({int(i) for i in org_ids if i})
    if ids and "unions" in _hooks:
        _hooks["unions"](ids)


@contextmanager
def moving(org_id: int):
    token = _hooks["detach"](org_id) if "detach" in _hooks else None
    yield
    if token is not None:
        _hooks["attach"](org_id, token)
