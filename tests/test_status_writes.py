"""No status is set by hand (issue 17): a record's status moves only through the workflow engine
(models/workflow.py: `transition`, `bulk_transition`); a new record starts in its table's initial
state (the field's `default=`). This test reads app.py, models/, views/ and forms/ as source and
finds every status write:

- `<anything>.status = …` and `setattr(…, "status", …)`;
- `.update(…)` / `.create(…)` / `.insert(…)` / `.insert_many(…)` / `.get_or_create(…)` /
  `.replace(…)` with a `status=` keyword or a `{"status": …}` / `{Model.status: …}` inside;
- in models/ and app.py also any other call with a `status=` keyword (a helper passing it on to
  `create`, e.g. `members.join(…, status=…)`) and any `{"status": …}` row (for `insert_many`).

The places below are the only other ones, each named by file and function: NOT_A_RECORD are hits
that are no record's status (an HTTP status, a filter form), CREATED a record inserted in its first
state, NO_WORKFLOW the card status, which docs/architecture.md says needs no table. A new hit, or
one of these gone, fails the test.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITE_CALLS = {"update", "create", "insert", "insert_many", "get_or_create", "replace"}
ENGINE = "models/workflow.py"

# Hits that are not a record's status.
NOT_A_RECORD = {
    ("models/base.py", "DomainError.__init__"): 1,  # the HTTP status of a refusal
    ("models/members/roster.py", "parse_filters"): 1,  # the roster filter form's 用户状态
    ("models/members/roster.py", "selection"): 1,  # Filters(status=ALL): the same filter form
    ("models/stats/enroll_stats.py", "union_rows"): 1,  # a row of a statistics table (shown, not stored)
    ("models/orgs/accounts.py", ""): 1,  # Account.status = the descriptor over is_active (a class attribute)
}

# Status writes of other areas not yet moved into a workflow table (remove each when it moves).
# A record inserted in its first state: no move, so no transition (the workflow tables start there).
CREATED = {
    ("models/cards/card_return.py", "apply_return"): 1,  # the bank's new card, 正常
    ("models/members/member_import_apply.py", "Adder.__init__"): 1,  # imported members 待审核 / 正常
    ("models/members/members.py", "add"): 1,  # members.join(…, status=PENDING)
    ("models/members/member_review.py", "request_transfer"): 1,  # members.join(…, status=TRANSFER_IN)
    ("models/members/member_sync_apply.py", "join_directly"): 2,  # members.join(…, status=PENDING / NORMAL)
    ("models/members/member_sync_apply.py", "_join_all"): 1,  # the same for class B at once (PENDING / NORMAL)
    ("models/members/member_sync_apply.py", "_file_transfers"): 1,  # request_transfer's TRANSFER_IN at once
    ("models/demo.py", "_members"): 1,  # the demo city's members, created 正常
    ("models/mutual_aid/change_ops.py", "change_general"): 1,  # 一般信息变更: takes effect at once, 已生效
}

# 卡片状态 has no workflow table (docs/architecture.md says why): the bank's return file 注销 the card
# a new one replaces, and the admin's 更正卡片状态 may set any state, audited with its reason.
NO_WORKFLOW = {
    ("models/cards/cards.py", "set_card_status"): 1,
    ("models/cards/card_return.py", "apply_return"): 1,
}

def _allowed() -> dict:
    allowed = dict(NOT_A_RECORD)
    for listing in (CREATED, NO_WORKFLOW):
        for key, n in listing.items():
            allowed[key] = allowed.get(key, 0) + n
    return allowed


REVIEW_AREA = ("models/review/", "views/enroll_review.py", "views/batches.py", "forms/review.py")


def _is_status_key(key) -> bool:
    return (isinstance(key, ast.Constant) and key.value == "status") or (
        isinstance(key, ast.Attribute) and key.attr == "status")


def status_writes(source: str, in_models: bool = True) -> list[tuple[str, int, str]]:
    """(enclosing function, line, what) of every status write in `source`."""
    found = []

    def visit(node, where):
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{where}.{child.name}" if where else child.name
            if isinstance(child, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                    found.append((where, child.lineno, ".status ="))
            elif isinstance(child, ast.Call):
                name = child.func.attr if isinstance(child.func, ast.Attribute) else getattr(child.func, "id", "")
                keyword = any(k.arg == "status" for k in child.keywords)
                if name == "setattr" and len(child.args) > 1 and _is_status_key(child.args[1]):
                    found.append((where, child.lineno, "setattr(…, 'status')"))
                elif name in WRITE_CALLS and isinstance(child.func, ast.Attribute) and (keyword or any(
                        isinstance(d, ast.Dict) and any(_is_status_key(k) for k in d.keys if k is not None)
                        for arg in child.args for d in ast.walk(arg))):
                    found.append((where, child.lineno, f".{name}(status…)"))
                elif in_models and keyword:
                    found.append((where, child.lineno, f"{name}(status=…)"))
            elif in_models and isinstance(child, ast.Dict) and any(
                    isinstance(k, ast.Constant) and k.value == "status" for k in child.keys):
                found.append((where, child.lineno, '{"status": …}'))
            visit(child, inner)

    visit(ast.parse(source), "")
    return found


def _sources():
    paths = [ROOT / "app.py"] + sorted(p for d in ("models", "views", "forms") for p in (ROOT / d).rglob("*.py"))
    for path in paths:
        rel = path.relative_to(ROOT).as_posix()
        if rel != ENGINE:
            yield rel, path.read_text(encoding="utf-8")


def _count(entries) -> dict:
    counted: dict = {}
    for key in entries:
        counted[key] = counted.get(key, 0) + 1
    return counted


def test_the_scan_finds_every_form_of_a_status_write():
    source = '''
def hand_moves(batch, rows):
    batch.status = "失败"
    setattr(batch, "status", DONE)
    Batch.update(status=DONE).where(Batch.id == 1).execute()
    Batch.update({Batch.status: DONE}).execute()
    Batch.create(number="CB1", status=DONE)
    Batch.insert_many([{"number": "CB1", "status": DONE}]).execute()
    members.join(person, org, status=PENDING)
    rows.append({"person": 1, "status": NORMAL})
'''
    assert [line for _, line, _ in status_writes(source)] == [3, 4, 5, 6, 7, 8, 8, 9, 10]
    assert status_writes("def ok(batch):\n    return batch.status == DONE and Batch.status.in_([DONE])\n") == []
    assert [what for _, _, what in status_writes(source, in_models=False)] == [
        ".status =", "setattr(…, 'status')", ".update(status…)", ".update(status…)", ".create(status…)",
        ".insert_many(status…)"]


def test_no_status_is_set_outside_the_workflow_engine():
    found = {}
    for rel, source in _sources():
        in_models = rel == "app.py" or rel.startswith("models/")
        for where, line, what in status_writes(source, in_models):
            found.setdefault((rel, where), []).append(f"{rel}:{line} {what}")
    counts = {key: len(hits) for key, hits in found.items()}
    allowed = _allowed()
    unexpected = {key: found[key] for key in counts if counts[key] > allowed.get(key, 0)}
    assert not unexpected, f"a status set by hand — move it through models/workflow.py: {unexpected}"
    stale = {key: n for key, n in allowed.items() if counts.get(key, 0) < n}
    assert not stale, f"these writes are gone: take them off the list in tests/test_status_writes.py: {stale}"


def test_the_review_area_sets_no_status_by_hand():
    assert not [key for key in _allowed() if key[0].startswith(REVIEW_AREA)]
    for rel, source in _sources():
        if rel.startswith(REVIEW_AREA):
            assert status_writes(source, in_models=rel.startswith("models/")) == [], rel
