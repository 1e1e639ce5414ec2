"""The house's shape, measured from the code (issue 17).

Reads app.py, models/, views/ and forms/ as Python source (nothing is imported) and answers:
which module imports which (imports inside functions counted too), the import circles between
files, the modules over the size limit, and the writes that a view must leave to a model.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "views", "forms")
MAX_LINES = 400
# Views may import these other views: the shared helpers of the web layer.
VIEW_HELPERS = {"views.access", "views.paging", "views.menu", "views.uploads"}
# The area packages of models/ (menu names); everything else under models/ is the shared core.
AREAS = ("orgs", "members", "cards", "enroll", "review", "stats", "mutual_aid")
TOP = {"models.schema", "models.demo"}  # above every area: the table list and the demo city


def is_core(mod: str) -> bool:
    return (mod.startswith("models") and mod not in TOP and not mod.startswith("models.demo")
            and not any(mod.startswith(f"models.{a}.") or mod == f"models.{a}" for a in AREAS))


def modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(mod: str, path: Path, known: dict[str, Path]):
    """(target module, line, inside a function?) for every import of a project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found = []

    def visit(node, in_func):
        for child in ast.iter_child_nodes(node):
            inner = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _resolve(alias.name, known)
                    if target:
                        found.append((target, child.lineno, in_func))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    target = _resolve(f"{base}.{alias.name}", known) or _resolve(base, known)
                    if target:
                        found.append((target, child.lineno, in_func))
            visit(child, inner)

    visit(tree, False)
    return [(t, line, f) for t, line, f in found if t != mod]


def graph():
    known = modules()
    return {mod: imports(mod, path, known) for mod, path in known.items()}, known


def circles(edges=None):
    """Strongly connected groups of more than one module (Tarjan)."""
    if edges is None:
        g, _ = graph()
        edges = {m: sorted({t for t, _, _ in imps}) for m, imps in g.items()}
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    import sys

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def long_modules():
    return {
        mod: n
        for mod, path in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }


_STATUS_SET = re.compile(r"\.status\s*=(?!=)")


def view_writes():
    """(module, line, what) for each write a view does itself instead of calling a model."""
    found = []
    known = modules()
    for mod, path in known.items():
        if not mod.startswith("views."):
            continue
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "atomic":
                found.append((mod, node.lineno, "transaction"))
            if (isinstance(node, ast.Attribute) and node.attr == "record"
                    and getattr(node.value, "id", "") == "AuditLog"):
                found.append((mod, node.lineno, "AuditLog.record"))
        for no, line in enumerate(text.splitlines(), 1):
            if _STATUS_SET.search(line):
                found.append((mod, no, ".status ="))
        for target, line, _ in imports(mod, path, known):
            if target.startswith("views.") and target not in VIEW_HELPERS and target != "views":
                found.append((mod, line, f"imports {target}"))
    return found


def inner_imports():
    g, _ = graph()
    return [(m, line, t) for m, imps in g.items() for t, line, inside in imps if inside]


if __name__ == "__main__":
    cs = circles()
    print("circles:", len(cs))
    for c in cs:
        print("  ", " ↔ ".join(c))
    lm = long_modules()
    print("modules over", MAX_LINES, ":", len(lm), lm)
    vw = view_writes()
    kinds = {}
    for _, _, what in vw:
        k = what.split()[0] if what.startswith("imports") else what
        kinds[k] = kinds.get(k, 0) + 1
    print("view writes:", len(vw), kinds)
    print("imports inside functions:", len(inner_imports()))
