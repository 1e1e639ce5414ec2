"""Where files live: STORAGE_DIR (uploads, job results, 下载中心 files) — never under static/."""

import os
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "instance" / "storage"


_configured: dict = {}


def configure(base: str) -> None:
    """create_app records the app's STORAGE_DIR, so job threads of the worker (no app context)
    read and write the same folder as the web process (INSTANCE_PATH/storage by default)."""
    _configured["base"] = base


def storage_dir(sub: str = "jobs") -> Path:
    """STORAGE_DIR/<sub>, created on first use (app config inside a request, else what create_app
    configured, else the environment)."""
    from flask import current_app, has_app_context
    if has_app_context():
        base = current_app.config["STORAGE_DIR"]
    else:
        base = _configured.get("base") or os.environ.get("STORAGE_DIR", str(DEFAULT))
    path = Path(base) / sub
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_file(sub: str, name: str) -> Path:
    """A stored file by its recorded name (never a path: only the last part is used)."""
    return storage_dir(sub) / Path(name).name
