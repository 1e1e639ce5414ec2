"""Where files live: STORAGE_DIR (uploads, job results, 下载中心 files) — never under static/."""

import os
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "instance" / "storage"


_configured: dict = {}


def configure(base: str, upload_retention_days: int = 30) -> None:
    """create_app records the app's STORAGE_DIR (and UPLOAD_RETENTION_DAYS), so job threads of
    the worker (no app context) read and write the same folder as the web process
    (INSTANCE_PATH/storage by default)."""
    _configured["base"] = base
    _configured["upload_retention_days"] = upload_retention_days


def upload_retention_days() -> int:
    """Days an uploaded file is kept after its job ended (app config, else what create_app set)."""
    from flask import current_app, has_app_context
    if has_app_context():
        return int(current_app.config.get("UPLOAD_RETENTION_DAYS", 30))
    return int(_configured.get("upload_retention_days", 30))


# Where the job kinds keep their uploads (组织导入 and 同步会员 in the jobs folder, the others in
# uploads); an upload's name is random, so it names no other file.
UPLOAD_DIRS = ("uploads", "jobs")


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
