"""Maintained figures: the write paths tell the counters when what they count has changed.

The 集中参保实时监控画面 reads counters (models/stats/tally.py) kept in the same transaction as every
change that moves them. The areas that make those changes (orgs, members, cards, enroll, review) sit
below the statistics area and must not import it, so they call these functions of the core, and the
tally registers itself here when it is imported (models/schema.py imports every table). Call them
INSIDE the transaction of the change:

- `people(person_ids)`: a `with` block around a change of memberships, people, cards or registry
  statuses of these people (可参保); around a loop of such changes, one block for all of them;
  `people(person_ids, cards_only=True)` when only their cards change (开卡回盘导入, 更正卡片状态):
  only the people whose 可参保 a card can move are watched (not a 身份证 holder's: always counted);
- `memberships_added(ids)`: memberships inserted in bulk (an import), after the insert;
- `year(org_ids, year_id)`: after submissions / enrollments of these unions changed (已提交, 退回,
  集中参保人数);
- `created(org)`: after a new organisation is inserted with its closure rows (inside
  `creating_many()`: all of them at its end);
- `unions(org_ids)`: after an organisation was closed or changed level (everything it counts
  recomputed from the rows);
- `moving(org_id)`: a `with` block around a move in the tree (its counted subtree changes ancestors);
- `counting(org_ids)`: before the member counters of these unions are written (models/members/counts:
  org_member_count, whose trigger moves every ancestor's org_subtree_count, the city's included). On
  PostgreSQL it takes the monitor counters' turn first — the lock every other path above takes before
  its counters — so that all take the two in one order and two such transactions cannot deadlock.
"""

from contextlib import contextmanager
from contextvars import ContextVar

_hooks: dict = {}
_watched: ContextVar = ContextVar("figures_watched", default=frozenset())
_created: ContextVar = ContextVar("figures_created", default=None)  # inside creating_many()


def register(**hooks) -> None:
    _hooks.update(hooks)


@contextmanager
def people(person_ids, cards_only: bool = False):
    """Inside a block already watching these people (a batch: 同步会员, 批量删除) nothing more is
    done: the outer block's one before / after covers every row. `cards_only`: the block changes
    only these people's cards."""
    ids = sorted({int(i) for i in person_ids if i})
    if cards_only and ids and "card_people" in _hooks:
        ids = _hooks["card_people"](ids)
    outer = _watched.get()
    if not ids or "people_before" not in _hooks or outer.issuperset(ids):
        yield
        return
    before = _hooks["people_before"](ids)
    token = _watched.set(outer | frozenset(ids))
    try:
        yield
    finally:
        _watched.reset(token)
    _hooks["people_after"](ids, before)


def memberships_added(ids) -> None:
    if ids and "memberships_added" in _hooks:
        _hooks["memberships_added"](list(ids))


def year(org_ids, year_id: int) -> None:
    ids = sorted({int(i) for i in org_ids if i})
    if ids and "year" in _hooks:
        _hooks["year"](ids, year_id)


def created(org) -> None:
    """A new organisation (nothing counted below it yet): one more union if it is an open
    grassroots one — counted at once, or at the end of the enclosing creating_many()."""
    if org.level == "grassroots" and org.status == "正常" and "created" in _hooks:
        batch = _created.get()
        if batch is None:
            _hooks["created"]([org.id])
        else:
            batch.append(org.id)


@contextmanager
def creating_many():
    """A `with` block creating many organisations (组织导入): counted together at its end."""
    if _created.get() is not None:
        yield
        return
    token = _created.set([])
    try:
        yield
        ids = _created.get()
    finally:
        _created.reset(token)
    if ids:
        _hooks["created"](ids)


def unions(org_ids) -> None:
    ids = sorted({int(i) for i in org_ids if i})
    if ids and "unions" in _hooks:
        _hooks["unions"](ids)


def counting(org_ids) -> None:
    ids = sorted({int(i) for i in org_ids if i})
    if ids and "counting" in _hooks:
        _hooks["counting"](ids)


@contextmanager
def moving(org_id: int):
    token = _hooks["detach"](org_id) if "detach" in _hooks else None
    yield
    if token is not None:
        _hooks["attach"](org_id, token)
