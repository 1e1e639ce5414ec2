"""Where files live: STORAGE_DIR (uploads, job results, 下载中心 files) — never under static/."""

import os
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "instance" / "storage"


def storage_dir(sub: str = "jobs") -> Path:
    """STORAGE_DIR/<sub>, created on first use (app config inside a request, else the env)."""
    from flask import current_app, has_app_context
    base = current_app.config["STORAGE_DIR"] if has_app_context() else os.environ.get("STORAGE_DIR", str(DEFAULT))
    path = Path(base) / sub
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_file(sub: str, name: str) -> Path:
    """A stored file by its recorded name (never a path: only the last part is used)."""
    return storage_dir(sub) / Path(name).name
