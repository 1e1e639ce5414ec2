"""The house keeps its shape (issue 17): areas above the shared core, one way down, small rooms,
views that parse → call a model → render. Measured from the source by tests/architecture.py."""

import re

from tests import architecture


def test_no_import_circle_between_files_counting_imports_inside_functions():
    assert architecture.circles() == []


def test_no_module_of_app_models_views_forms_is_over_400_lines():
    assert architecture.long_modules() == {}


def test_views_leave_writes_to_models_and_import_no_other_view():
    """No transaction, AuditLog.record or status assignment in a view; a view imports only the
    web helpers (access, paging, menu, uploads) of other view modules."""
    assert architecture.view_writes() == []


def test_an_import_inside_a_function_says_which_load_order_need_it_breaks():
    silent = []
    for mod, line, target in architecture.inner_imports():
        lines = architecture.modules()[mod].read_text(encoding="utf-8").splitlines()
        here, above = lines[line - 1], lines[line - 2] if line > 1 else ""
        if "#" not in here and not above.strip().startswith("#"):
            silent.append(f"{mod}:{line} → {target}")
    assert silent == []


def test_the_core_imports_no_area():
    """models/ root (database, base, workflow, audit, messages, jobs, storage, mailer, notices),
    io/ and rules/ sit beneath the areas: none of them imports an area package."""
    graph, _ = architecture.graph()
    areas = tuple(f"models.{a}." for a in architecture.AREAS)
    upward = [(m, t) for m, imps in graph.items() if architecture.is_core(m)
              for t, _, _ in imps if t.startswith(areas) or t.startswith("views")]
    assert upward == []


def test_templates_compare_status_words_through_their_constants():
    """`job.status == job.DONE`, never `job.status == '已完成'` (the models carry their words)."""
    literal = re.compile(r"status\s*(==|!=|in|not in)\s*[(\[]?\s*['\"][^'\"]*[\u4e00-\u9fff]")
    found = [f"{path.relative_to(architecture.ROOT)}:{no}"
             for path in sorted((architecture.ROOT / "partials").rglob("*.html"))
             for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if literal.search(line)]
    assert found == []


def test_templates_ask_account_who_may_not_the_role():
    """`current_user.is_district_union`, never `current_user.role == 'district'`."""
    found = [f"{path.relative_to(architecture.ROOT)}:{no}"
             for path in sorted((architecture.ROOT / "partials").rglob("*.html"))
             for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if "current_user.role" in line]
    assert found == []


def test_the_areas_depend_on_each_other_one_way():
    """Between area packages an import runs one way (orgs ← members ← cards ← enroll ← review …):
    an area that must act for another (a member leaves: the 待办会员 row goes) offers hooks or check
    lists the other registers into, never an import back."""
    graph, _ = architecture.graph()

    def room(mod):
        parts = mod.split(".")
        return ".".join(parts[:2]) if parts[0] == "models" and len(parts) > 2 else mod

    pairs = {(room(m), room(t)) for m, imps in graph.items() for t, _, _ in imps if room(m) != room(t)}
    areas = {f"models.{a}" for a in architecture.AREAS}
    both_ways = sorted((a, b) for a, b in pairs if a in areas and b in areas and (b, a) in pairs)
    assert both_ways == []
