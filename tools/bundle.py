"""The offline install bundle (`make bundle`) and its import check (.ci/bundle).

A district union's intranet server usually has no internet, so `pip install -r requirements.txt`
cannot reach PyPI there. `python -m tools.bundle` writes dist/union-platform-<version>.tar.gz
(and the same folder beside it):

    union-platform-<version>/
        app.py models/ views/ forms/ partials/ static/ migrations/ tools/ docs/*.md ...
        requirements.txt requirements-redis.txt
        wheels/            every wheel both files need, for this Python and platform
        install.sh         python3 -m venv .venv + pip install --no-index --find-links wheels
        INSTALL.txt        the steps, also for Windows and for the Redis extra
        BUNDLE-INFO.txt    commit, Python, platform, and each wheel's SHA-256

Wheels are resolved with this machine's pip (its index / mirror settings) into a cache folder
(BUNDLE_CACHE, default ~/.cache/union-platform/wheels); a rerun whose wheels are all cached does
not touch the network. Packages published only as source are built into wheels here, once.

`python -m tools.bundle --check-imports` (run by .ci/bundle with the bundle's own interpreter)
imports every third-party module the app's code names — at module level or inside a function —
so a dependency that requirements.txt lacks fails even when no request reaches its import.

Only the standard library is used: it runs before anything else is installed.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "union-platform"
REQUIREMENTS = ("requirements.txt", "requirements-redis.txt")
# Kept out of the bundle: what only development uses (tests, benchmarks, CI, lint settings, the
# screenshots of the README) — none of it runs on the server, and its packages are not bundled.
EXCLUDED_DIRS = ("tests/", "bench/", ".ci/", "docs/screenshots/")
EXCLUDED_FILES = {".gitignore", "ruff.toml", "requirements-dev.txt", "Makefile", "docs/screenshots.py"}
# The app's own code: what the import check reads.
CODE = ("app.py", "models", "views", "forms", "tools", "migrations")
LOCAL = {"app", "models", "views", "forms", "tools", "migrations"}
# Imported by a dependency rather than by the app's code, but needed all the same: the Redis
# client (huey's RedisHuey, JOBS_MODE=redis) from requirements-redis.txt.
EXTRA_MODULES = {"redis": "requirements-redis.txt"}


# --- what goes in -----------------------------------------------------------------------------
def bundle_files(root: Path = ROOT) -> list[str]:
    """The app's files: git's tracked files as they are in the working tree, minus development."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
    files = []
    for name in sorted(n for n in out.decode().split("\0") if n):
        if name in EXCLUDED_FILES or name.startswith(EXCLUDED_DIRS):
            continue
        if (root / name).is_file():  # a tracked file deleted in the working tree is left out
            files.append(name)
    return files


def version(root: Path = ROOT) -> str:
    """The tag on HEAD, else the date of HEAD's commit and its short hash (+ "-dirty")."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    tag = git("describe", "--tags", "--exact-match")
    if tag.returncode == 0:
        label = tag.stdout.strip()
    else:
        label = git("log", "-1", "--format=%cd-%h", "--date=format:%Y%m%d").stdout.strip()
    if git("status", "--porcelain", "--untracked-files=no").stdout.strip():
        label += "-dirty"
    return label


# --- wheels -----------------------------------------------------------------------------------
def _pip_wheel(requirements: list[Path], target: Path, cache: Path, offline: bool,
               quiet: bool = False) -> bool:
    cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
           "--find-links", str(cache), "--wheel-dir", str(target)]
    if offline:
        cmd.append("--no-index")
    for req in requirements:
        cmd += ["-r", str(req)]
    out = subprocess.DEVNULL if quiet else None
    return subprocess.run(cmd, stdout=out, stderr=out).returncode == 0


def collect_wheels(requirements: list[Path], target: Path, cache: Path) -> list[Path]:
    """Every wheel `requirements` need, copied into `target`; missing ones fetched into `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    if not _pip_wheel(requirements, target, cache, offline=True, quiet=True):
        print(f"== fetching wheels into {cache}", flush=True)
        if not _pip_wheel(requirements, cache, cache, offline=False):
            raise SystemExit("无法获取依赖包（pip wheel 失败，见上方输出）")
        shutil.rmtree(target)  # whatever the failed offline attempt left
        if not _pip_wheel(requirements, target, cache, offline=True):
            raise SystemExit("依赖包已下载，但无法从缓存中离线解析（pip wheel --no-index 失败）")
    wheels = sorted(target.glob("*.whl"))
    if not wheels or len(wheels) != len(list(target.iterdir())):
        raise SystemExit(f"{target} 中应只有 wheel 文件")
    return wheels


# --- the bundle -------------------------------------------------------------------------------
INSTALL_SH = """#!/bin/sh
# Offline install of {name} {version}: needs python{py} (with venv) and nothing from the network.
#   ./install.sh                 the app into ./.venv
#   WITH_REDIS=1 ./install.sh    also the Redis client (JOBS_MODE=redis)
set -eu
cd "$(dirname "$0")"
PYTHON="${{PYTHON:-python3}}"
VENV="${{VENV:-.venv}}"
found=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$found" != "{py}" ]; then
    echo "这些依赖包是为 Python {py} 准备的，$PYTHON 是 Python $found：请用 PYTHON=python{py} ./install.sh" >&2
    exit 1
fi
"$PYTHON" -m venv "$VENV"
set -- -r requirements.txt
if [ "${{WITH_REDIS:-0}}" = "1" ]; then set -- "$@" -r requirements-redis.txt; fi
"$VENV/bin/pip" install --no-index --find-links wheels --disable-pip-version-check "$@"
echo "安装完成。下一步（见 docs/deploy.md）：设置 DATABASE_URL、SECRET_KEY 等环境变量，然后"
echo "  $VENV/bin/flask --app app db upgrade"
echo "  $VENV/bin/flask --app app serve --host 127.0.0.1 --port 5000"
"""

INSTALL_TXT = """{name} {version} — offline install (no internet needed)

Built for Python {py} on {platform_}; install on the same Python and operating system
(the wheels of compiled packages — psycopg2, pillow, lxml … — are for this platform only).

Linux (needs python{py} and its venv module, e.g. Debian: apt-get install python3-venv):
    ./install.sh                      # or: WITH_REDIS=1 ./install.sh for JOBS_MODE=redis
which runs
    python3 -m venv .venv
    .venv/bin/pip install --no-index --find-links wheels -r requirements.txt
    .venv/bin/pip install --no-index --find-links wheels -r requirements-redis.txt   (optional)

Windows (a bundle built on Windows with the same Python):
    py -{py} -m venv .venv
    .venv\\Scripts\\pip install --no-index --find-links wheels -r requirements.txt

Then configure and start as docs/deploy.md describes (database, SECRET_KEY, systemd or a service):
    .venv/bin/flask --app app db upgrade
    .venv/bin/flask --app app serve --host 127.0.0.1 --port 5000

gunicorn is not bundled: the bundle's server is waitress (`flask serve`).
"""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(out: Path, cache: Path, label: str | None = None, root: Path = ROOT) -> Path:
    label = label or version(root)
    folder = out / f"{NAME}-{label}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files = bundle_files(root)
    for name in files:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    for req in REQUIREMENTS:
        if req not in files:
            raise SystemExit(f"{req} 不在 git 中：先 git add {req}")
    wheels = collect_wheels([root / r for r in REQUIREMENTS], folder / "wheels", cache)

    py = "{}.{}".format(*sys.version_info[:2])
    platform_ = f"{platform.system()} {platform.machine()}"
    fields = {"name": NAME, "version": label, "py": py, "platform_": platform_}
    (folder / "install.sh").write_text(INSTALL_SH.format(**fields), encoding="utf-8")
    (folder / "install.sh").chmod(0o755)
    (folder / "INSTALL.txt").write_text(INSTALL_TXT.format(**fields), encoding="utf-8")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                            text=True).stdout.strip()
    info = [f"{NAME} {label}", f"commit {commit}", f"Python {platform.python_version()} "
            f"({sys.implementation.name}), {platform_}", f"{len(files)} files, {len(wheels)} wheels", "",
            "SHA-256 of the wheels:"]
    info += [f"{_sha256(w)}  wheels/{w.name}" for w in wheels]
    (folder / "BUNDLE-INFO.txt").write_text("\n".join(info) + "\n", encoding="utf-8")

    archive = out / f"{NAME}-{label}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname=folder.name)
    size = archive.stat().st_size / 1024 / 1024
    print(f"离线安装包：{archive}（{size:.1f} MB，{len(files)} 个文件，{len(wheels)} 个依赖包）")
    return archive


# --- the import check -------------------------------------------------------------------------
def third_party_imports(root: Path = ROOT) -> dict[str, str]:
    """{module: "file:line"} of every absolute import in the app's code (in functions too) that is
    neither the standard library nor the app's own packages."""
    found: dict[str, str] = {}
    paths = []
    for name in CODE:
        path = root / name
        paths += [path] if path.is_file() else sorted(path.rglob("*.py"))
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for module in names:
                top = module.partition(".")[0]
                if top in LOCAL or top in sys.stdlib_module_names or top == "__future__":
                    continue
                found.setdefault(module, f"{path.relative_to(root)}:{node.lineno}")
    return found


def missing_imports(root: Path = ROOT, extra: dict[str, str] | None = None) -> list[str]:
    """One line per module that does not import in this interpreter, with where it is named."""
    wanted = third_party_imports(root)
    for module, source in (EXTRA_MODULES if extra is None else extra).items():
        wanted.setdefault(module, source)
    missing = []
    for module, where in sorted(wanted.items()):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module}（{where}）: {exc}")
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bundle", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "dist"), help="folder of the bundle (dist/)")
    parser.add_argument("--version", help="label in the name (default: tag, or date-commit)")
    parser.add_argument("--cache", default=os.environ.get("BUNDLE_CACHE") or str(
        Path.home() / ".cache" / NAME / "wheels"), help="wheel cache kept between runs")
    parser.add_argument("--check-imports", action="store_true",
                        help="import every third-party module the app names; fail on any missing")
    args = parser.parse_args(argv)
    if args.check_imports:
        missing = missing_imports()
        for line in missing:
            print(f"缺少依赖：{line}", file=sys.stderr)
        if missing:
            print("这些模块被程序导入，却不在 requirements.txt（或 requirements-redis.txt）中", file=sys.stderr)
            return 1
        print(f"全部 {len(third_party_imports()) + len(EXTRA_MODULES)} 个第三方模块可以导入")
        return 0
    build(Path(args.out), Path(args.cache), args.version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
