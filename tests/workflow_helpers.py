"""Reusable checks for any workflow model (models/workflow.py).

`check_every_pair(model, make_in_state)` drives every (state, action) pair of the model's
transition table — the allowed ones must land in their target state with exactly one audit row;
the forbidden ones must raise a Chinese DomainError naming the state and the action and change
nothing. Later workflows (batches, vouchers, cards …) call it with their own factory.
"""

import threading

import pytest

from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.workflow import transition


def audit_rows(obj):
    return list(AuditLog.select().where((AuditLog.object_type == type(obj).__name__)
                                        & (AuditLog.object_id == obj.id)).order_by(AuditLog.id))


def state_in_db(obj):
    model = type(obj)
    return getattr(model.get_by_id(obj.id), model.WORKFLOW.field)


def check_every_pair(model, make_in_state, account=None, reason="测试原因"):
    """make_in_state(state) → a new saved object of `model` in that state.
    Returns (allowed, forbidden) counts so callers can assert the table was covered."""
    wf = model.WORKFLOW
    allowed = forbidden = 0
    for state in wf.states:
        for action in wf.action_names:
            obj = make_in_state(state)
            assert getattr(obj, wf.field) == state
            before = audit_rows(obj)
            target = wf.transitions.get((state, action))
            if target is None:
                forbidden += 1
                with pytest.raises(DomainError) as refused:
                    transition(obj, action, account=account, reason=reason)
                assert state in refused.value.message, refused.value.message
                assert wf.label(action) in refused.value.message, refused.value.message
                assert state_in_db(obj) == state
                assert audit_rows(obj) == before
                continue
            allowed += 1
            if action in wf.needs_reason:
                for blank in ("", "   "):
                    with pytest.raises(DomainError) as refused:
                        transition(obj, action, account=account, reason=blank)
                    assert "原因" in refused.value.message
                    assert state_in_db(obj) == state
                    assert audit_rows(obj) == before
            moved = transition(obj, action, account=account, reason=reason)
            assert getattr(moved, wf.field) == target
            assert state_in_db(obj) == target
            after = audit_rows(obj)
            assert len(after) == len(before) + 1, (state, action)
            row = after[-1]
            assert (row.action, row.from_state, row.to_state) == (wf.label(action), state, target)
            assert row.reason == reason
            if account is not None:
                assert row.account_id == account.id
                assert row.org_id == account.org_id
    assert allowed == len(wf.transitions)
    return allowed, forbidden


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
