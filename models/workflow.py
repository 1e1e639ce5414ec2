"""State machines as data.

Each workflow model declares `WORKFLOW = Workflow(field, {(from_state, action): to_state}, ...)`.
`transition(obj, action, ...)` does a compare-and-set UPDATE … WHERE id=? AND <field>=? inside
one transaction, writes the audit row, and raises DomainError (Chinese) when the move is not
allowed or another operator got there first. `bulk_transition(model, objs, action, ...)` moves many
objects the same way in one UPDATE … WHERE id IN (…) AND <field>=?, one audit row each, all or
nothing. No status field is set anywhere else (tests/test_status_writes.py).
"""

from dataclasses import dataclass, field

from models import db
from models.audit import AuditLog
from models.base import DomainError, in_values

STALE = "该记录的状态已被他人修改，请刷新页面后重试"


@dataclass
class Workflow:
    field: str
    transitions: dict  # {(from_state, action): to_state}
    actions: dict = field(default_factory=dict)  # action → Chinese label (按钮文字)
    # Actions that need a reason (退回 etc.).
    needs_reason: frozenset = frozenset()

    @property
    def states(self) -> list:
        seen = []
        for (src, _), dst in self.transitions.items():
            for s in (src, dst):
                if s not in seen:
                    seen.append(s)
        return seen

    @property
    def action_names(self) -> list:
        seen = []
        for _, action in self.transitions:
            if action not in seen:
                seen.append(action)
        return seen

    def allowed(self, state: str) -> list:
        return [a for (s, a) in self.transitions if s == state]

    def label(self, action: str) -> str:
        return self.actions.get(action, action)

    def refusal(self, state: str, action: str) -> str | None:
        """Why `action` cannot be taken in `state` (Chinese), or None when it can."""
        if (state, action) in self.transitions:
            return None
        return f"当前状态为「{state}」，不能执行「{self.label(action)}」"


def transition(obj, action: str, account=None, reason: str = "", updates: dict | None = None,
               detail=None, stale: str = STALE):
    """Move `obj` by `action`; returns the refreshed object. Raises DomainError when refused, and
    `stale` when another operator moved it first."""
    model = type(obj)
    wf: Workflow = model.WORKFLOW
    column = getattr(model, wf.field)
    current = getattr(obj, wf.field)
    refused = wf.refusal(current, action)
    if refused:
        raise DomainError(refused)
    target = wf.transitions[(current, action)]
    if action in wf.needs_reason and not (reason or "").strip():
        raise DomainError(f"「{wf.label(action)}」须填写原因", 422)
    values = {column: target}
    for name, value in (updates or {}).items():
        values[getattr(model, name)] = value
    with db.atomic():
        changed = (model.update(values)
                   .where((model._meta.primary_key == obj._pk) & (column == current))
                   .execute())
        if changed != 1:
            raise DomainError(stale)
        AuditLog.record(wf.label(action), obj, from_state=current, to_state=target,
                        reason=reason, account=account, detail=detail)
    return model.get_by_id(obj._pk)


def bulk_transition(model, objs: list, action: str, account=None, reason: str = "", updates: dict | None = None,
                    detail=None, where=None, stale: str = STALE, status: int = 409) -> int:
    """Move every object of `objs` by `action` at once: per state they were loaded in, one
    UPDATE … WHERE id IN (…) AND <field> = <that state> (AND `where`, an extra condition the rows
    must still meet), and one audit row per object (the same fields `transition()` writes).
    Refused as a whole — nothing changes — when the table does not allow the move (the workflow's
    `refusal`), when a reason is needed and missing, or when fewer rows moved than were given
    (another operator got there first: `stale`, with `status`). Returns how many moved."""
    wf: Workflow = model.WORKFLOW
    column = getattr(model, wf.field)
    objs = list({obj._pk: obj for obj in objs}.values())  # an object given twice moves (and is logged) once
    by_state: dict = {}
    for obj in objs:
        by_state.setdefault(getattr(obj, wf.field), []).append(obj)
    for current in by_state:
        refused = wf.refusal(current, action)
        if refused:
            raise DomainError(refused)
    if objs and action in wf.needs_reason and not (reason or "").strip():
        raise DomainError(f"「{wf.label(action)}」须填写原因", 422)
    rows = []
    with db.atomic():
        for current, group in by_state.items():
            target = wf.transitions[(current, action)]
            values = {column: target}
            for name, value in (updates or {}).items():
                values[getattr(model, name)] = value
            ids = [obj._pk for obj in group]
            query = model.update(values).where(in_values(model._meta.primary_key, ids) & (column == current))
            if where is not None:
                query = query.where(where)
            if query.execute() != len(ids):
                raise DomainError(stale, status)
            rows += [AuditLog.row(wf.label(action), obj, from_state=current, to_state=target, reason=reason,
                                  account=account, detail=detail) for obj in group]
        if rows:
            AuditLog.insert_many(rows).execute()
    return len(objs)
