"""Reusable checks for any workflow model (models/workflow.py).

`check_every_pair(model, make_in_state)` drives every (state, action) pair of the model's
transition table — the allowed ones must land in their target state with exactly one audit row;
the forbidden ones must raise a Chinese DomainError naming the state and the action and change
nothing. Later workflows (batches, vouchers, cards …) call it with their own factory.
`bulk=True` drives the bulk form (`bulk_transition`) over two objects per pair instead: both move
with one audit row each, or — refused — neither does. `check_bulk_stale_refused` is the bulk form
of a stale page: one object moved meanwhile, none of them moves.
"""

import threading

import pytest

from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.workflow import bulk_transition, transition


def audit_rows(obj):
    return list(AuditLog.select().where((AuditLog.object_type == type(obj).__name__)
                                        & (AuditLog.object_id == obj.id)).order_by(AuditLog.id))


def state_in_db(obj):
    model = type(obj)
    return getattr(model.get_by_id(obj.id), model.WORKFLOW.field)


def _move(bulk, objs, action, account, reason):
    """The move under test: `transition` of the one object, or `bulk_transition` of them all."""
    if bulk:
        return bulk_transition(type(objs[0]), objs, action, account=account, reason=reason)
    return transition(objs[0], action, account=account, reason=reason)


def _unchanged(objs, state, before):
    assert [state_in_db(obj) for obj in objs] == [state] * len(objs)
    assert [audit_rows(obj) for obj in objs] == before


def check_every_pair(model, make_in_state, account=None, reason="测试原因", bulk=False):
    """make_in_state(state) → a new saved object of `model` in that state.
    Returns (allowed, forbidden) counts so callers can assert the table was covered."""
    wf = model.WORKFLOW
    allowed = forbidden = 0
    for state in wf.states:
        for action in wf.action_names:
            objs = [make_in_state(state) for _ in range(2 if bulk else 1)]
            assert all(getattr(obj, wf.field) == state for obj in objs)
            before = [audit_rows(obj) for obj in objs]
            target = wf.transitions.get((state, action))
            if target is None:
                forbidden += 1
                with pytest.raises(DomainError) as refused:
                    _move(bulk, objs, action, account, reason)
                assert state in refused.value.message, refused.value.message
                assert wf.label(action) in refused.value.message, refused.value.message
                _unchanged(objs, state, before)
                continue
            allowed += 1
            if action in wf.needs_reason:
                for blank in ("", "   "):
                    with pytest.raises(DomainError) as refused:
                        _move(bulk, objs, action, account, blank)
                    assert "原因" in refused.value.message
                    _unchanged(objs, state, before)
            moved = _move(bulk, objs, action, account, reason)
            if bulk:
                assert moved == len(objs)
            else:
                assert getattr(moved, wf.field) == target
            for obj, earlier in zip(objs, before, strict=True):
                assert state_in_db(obj) == target
                after = audit_rows(obj)
                assert len(after) == len(earlier) + 1, (state, action)
                row = after[-1]
                assert (row.action, row.from_state, row.to_state) == (wf.label(action), state, target)
                assert row.reason == reason
                if account is not None:
                    assert row.account_id == account.id
                    assert row.org_id == account.org_id
    assert allowed == len(wf.transitions)
    return allowed, forbidden


def check_bulk_stale_refused(objs, action, moved_by_other_to, reason="测试原因"):
    """A bulk move over a page loaded before someone else moved one of its objects is refused as
    a whole: the others stay where they were, and no audit row is written."""
    model = type(objs[0])
    wf = model.WORKFLOW
    states = [getattr(obj, wf.field) for obj in objs]
    model.update({getattr(model, wf.field): moved_by_other_to}).where(
        model._meta.primary_key == objs[0].id).execute()
    before = [audit_rows(obj) for obj in objs]
    with pytest.raises(DomainError) as refused:
        bulk_transition(model, objs, action, reason=reason)
    assert "已被他人修改" in refused.value.message
    assert [state_in_db(obj) for obj in objs] == [moved_by_other_to] + states[1:]
    assert [audit_rows(obj) for obj in objs] == before


def check_stale_object_refused(obj, action, moved_by_other_to):
    """An operator acting on a page loaded before someone else moved the object is refused."""
    model = type(obj)
    wf = model.WORKFLOW
    model.update({getattr(model, wf.field): moved_by_other_to}).where(
        model._meta.primary_key == obj.id).execute()
    before = audit_rows(obj)
    with pytest.raises(DomainError) as refused:
        transition(obj, action, reason="测试原因")
    assert "已被他人修改" in refused.value.message
    assert state_in_db(obj) == moved_by_other_to
    assert audit_rows(obj) == before


def race_transition(model, obj_id, action, threads=2, reason="测试原因"):
    """`threads` threads load the same committed object and fire `action` together.
    Returns the outcomes ("ok" or the refusal message)."""
    barrier = threading.Barrier(threads)
    outcomes = [None] * threads

    def run(i):
        try:
            obj = model.get_by_id(obj_id)
            barrier.wait()
            transition(obj, action, reason=reason)
            outcomes[i] = "ok"
        except DomainError as exc:
            outcomes[i] = exc.message
        except Exception as exc:  # noqa: BLE001 — surfaced in the assertion message
            outcomes[i] = f"error: {exc!r}"
        finally:
            db.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return outcomes
