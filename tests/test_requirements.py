"""Runtime and development requirements, and the offline bundle's import check (tools/bundle.py).

.ci/bundle proves the bundle installs with no index and serves /login; these tests keep the
rule it rests on checkable in the ordinary suite: whatever the app's code imports comes with
requirements.txt (directly or as a dependency of a line there), and the development tools do not.
"""
import re
import subprocess
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from tools import bundle

ROOT = Path(__file__).resolve().parent.parent
DEV_TOOLS = {"pytest", "pytest-xdist", "playwright", "hypothesis", "locust", "ruff", "time-machine",
             "beautifulsoup4", "xlwt"}


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _listed(filename: str) -> set[str]:
    names = set()
    for line in (ROOT / filename).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(_canon(Requirement(line).name))
    return names


def _with_dependencies(names: set[str]) -> set[str]:
    """The distributions pip installs for `names` on this Python (markers evaluated, no extras)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_canon(req.name))
    return seen


def test_every_module_the_app_imports_comes_with_the_runtime_requirements():
    runtime = _with_dependencies(_listed("requirements.txt") | _listed("requirements-redis.txt"))
    providers = metadata.packages_distributions()
    imported = bundle.third_party_imports(ROOT)
    assert {"flask", "peewee", "python_calamine", "pypdf", "captcha.image"} <= set(imported)  # lazy ones too
    lacking = {}
    for module, where in imported.items():
        dists = {_canon(d) for d in providers.get(module.partition(".")[0], [])}
        if not dists & runtime:
            lacking[module] = (where, sorted(dists))
    assert lacking == {}


def test_development_tools_are_not_runtime_requirements():
    runtime, dev = _listed("requirements.txt"), _listed("requirements-dev.txt")
    assert DEV_TOOLS & runtime == set()
    assert DEV_TOOLS <= dev
    dev_lines = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    assert "-r requirements.txt" in dev_lines  # `make test` installs the runtime with the tools
    assert _listed("requirements-redis.txt") == {"redis"}


def test_the_import_check_finds_a_module_missing_from_this_interpreter(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "app.py").write_text("import json\nfrom models import base\nimport flask.json\n")
    (tmp_path / "models" / "x.py").write_text(
        "from . import y\n\ndef later():\n    import union_platform_absent_pkg\n    return 1\n")
    found = bundle.third_party_imports(tmp_path)
    assert found == {"flask.json": "app.py:3", "union_platform_absent_pkg": "models/x.py:4"}
    missing = bundle.missing_imports(tmp_path, extra={})
    assert len(missing) == 1 and missing[0].startswith("union_platform_absent_pkg（models/x.py:4）")


def test_the_bundle_holds_the_app_not_the_development_files():
    files = bundle.bundle_files(ROOT)
    for needed in ("app.py", "requirements.txt", "requirements-redis.txt", "tools/bundle.py",
                   "partials/layout.html", "migrations/001_initial.py", "docs/deploy.md"):
        assert needed in files
    tracked = subprocess.run(["git", "ls-files", "migrations", "partials", "static"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout.split()
    assert tracked and set(tracked) <= set(files)  # every migration, template and asset goes
    assert not [f for f in files if f.startswith(("tests/", "bench/", ".ci/"))]
    assert "requirements-dev.txt" not in files
