"""Where files live: STORAGE_DIR (uploads, job results, 下载中心 files) — never under static/."""

import os
import re
import secrets
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
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


# --- a file kept between the steps of a form (新增缴费凭证: 计算已选中批次金额 without JavaScript,
# or a refused 保存, must not make the user choose the file again) ---------------------------------
KEPT_DIR = "kept-uploads"
KEPT_HOURS = 24


@dataclass
class Kept:
    token: str
    name: str
    path: Path

    @property
    def data(self) -> bytes:
        return self.path.read_bytes() if self.path.exists() else b""


def keep_upload(owner: str, data: bytes, name: str) -> Kept:
    """Keep `data` under a random token that only `owner` (e.g. "district-5") can open again."""
    token = secrets.token_hex(16)
    path = storage_dir(KEPT_DIR) / f"{owner}-{token}"
    path.write_bytes(data)
    return Kept(token, name, path)


def kept_upload(owner: str, token: str, name: str) -> Kept | None:
    """The file an earlier step kept for `owner`, or None (a token of another owner opens nothing)."""
    if not re.fullmatch(r"[0-9a-f]{32}", token or "") or not re.fullmatch(r"[\w-]+", owner):
        return None
    path = storage_dir(KEPT_DIR) / f"{owner}-{token}"
    return Kept(token, name, path) if path.exists() else None


def purge_kept(hours: int = KEPT_HOURS) -> int:
    """Delete the kept files of forms nobody finished (the hourly sweep); returns how many."""
    gone = 0
    for old in storage_dir(KEPT_DIR).iterdir():
        try:  # a 保存 that just finished (or another sweep) may delete it meanwhile
            if old.stat().st_mtime < time.time() - hours * 3600:
                old.unlink()
                gone += 1
        except FileNotFoundError:
            continue
    return gone


@contextmanager
def new_file(sub: str, content: bytes, ext: str):
    """Write `content` under a new random name in `sub` and give that name; the file goes again
    when the block fails (the row that would have named it was not written)."""
    stored = f"{secrets.token_hex(16)}.{ext}"
    path = stored_file(sub, stored)
    path.write_bytes(content)
    try:
        yield stored
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@contextmanager
def new_files(sub: str, contents: list):
    """new_file for several [(content, ext)]: their names; every one goes again when the block fails."""
    with ExitStack() as stack:
        yield [stack.enter_context(new_file(sub, content, ext)) for content, ext in contents]


# --- one STORAGE_DIR for every server and worker (JOBS_MODE=redis) ---------------------------------
SHARED_MARKER = ".union-shared-storage"


def shared_folder_refusal(base: str) -> str | None:
    """Why `base` cannot be the shared STORAGE_DIR (it does not exist — a share not mounted is
    never replaced by an empty local folder — or this process cannot write in it), or None."""
    path = Path(base)
    if not path.is_dir():
        return f"STORAGE_DIR（{base}）不存在或不是目录：请先挂载所有服务器和工作进程共用的存储目录"
    probe = path / f".write-test-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"STORAGE_DIR（{base}）不可写：{exc.strerror or exc}"
    return None


def shared_marker_refusal(base: str, conn, key: str) -> str | None:
    """Every server and worker of one deployment must see the same STORAGE_DIR. The first to start
    writes a random token in STORAGE_DIR/.union-shared-storage and keeps it in Redis (`conn`, under
    `key`) where all of them look; a later one whose folder holds no token, or another one, is
    refused (None: the folder is the shared one)."""
    marker = Path(base) / SHARED_MARKER
    token = marker.read_text(encoding="utf-8").strip() if marker.exists() else None
    try:
        remembered = conn.get(key)
        if remembered is None:
            if token is None:
                token = _mark(marker)
            conn.set(key, token, nx=True)  # the first of several starting at once wins
            remembered = conn.get(key)
    except Exception as exc:  # noqa: BLE001 — redis' connection errors: the reason, not a traceback
        return f"无法连接 Redis（REDIS_URL）：{exc}"
    remembered = remembered.decode() if isinstance(remembered, bytes) else remembered
    if token is None and marker.exists():  # written by another process starting at the same moment
        token = marker.read_text(encoding="utf-8").strip()  # (it writes the file before Redis)
    if token is None:
        return (f"STORAGE_DIR（{base}）不是其他服务器和工作进程使用的存储目录：其中没有它们写入的标记文件"
                f" {SHARED_MARKER}；请把共用的存储目录挂载到这里（否则上传的文件在别的服务器上“已不存在”）")
    if token != remembered:
        return (f"STORAGE_DIR（{base}）中的标记文件 {SHARED_MARKER} 与其他服务器和工作进程的不同："
                "它们使用的不是同一个存储目录")
    return None


def _mark(marker: Path) -> str:
    """Write a new token into the marker file unless another process just did (a link is atomic:
    of several starting at once on one folder, every one reads the same token)."""
    draft = marker.with_name(f"{marker.name}.{os.getpid()}-{secrets.token_hex(4)}")
    draft.write_text(secrets.token_hex(16), encoding="utf-8")
    try:
        os.link(draft, marker)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return marker.read_text(encoding="utf-8").strip()
