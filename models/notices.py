"""重要通知 and 下载中心: published by the centre, readable without logging in (the login page
links to them). Files live in the storage directory, never under static/. The centre publishes
(发布, 修改, 撤回, 重新发布, 上传); each is one transaction with its audit row."""

import secrets
from pathlib import Path

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now
from models.storage import stored_file

PUBLISHED, WITHDRAWN = "已发布", "已撤回"
# Accepted files, told by their first bytes (never by the name).
SIGNATURES = [
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"PK\x03\x04", "application/octet-stream", (".xlsx", ".docx", ".pptx", ".zip")),
    (bytes.fromhex("D0CF11E0A1B11AE1"), "application/octet-stream", (".xls", ".doc", ".ppt")),
]


class Notice(BaseModel):
    scope_field = None  # public once published; managed by the centre (city-wide scope)
    title = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    published = pw.BooleanField(default=True, index=True)
    pinned = pw.BooleanField(default=False)  # 置顶
    org = pw.DeferredForeignKey("Organization", null=True, on_delete="SET NULL")  # publisher
    author = pw.DeferredForeignKey("Account", null=True, on_delete="SET NULL")
    published_at = pw.DateTimeField(default=now, index=True)
    updated_at = pw.DateTimeField(default=now)


class Download(BaseModel):
    scope_field = None
    title = pw.CharField(max_length=200)
    description = pw.CharField(max_length=500, default="")
    category = pw.CharField(max_length=20, default="操作说明")  # 操作说明 / 模板 / 其他
    filename = pw.CharField(max_length=200)  # the name the user downloads
    stored_name = pw.CharField(max_length=100, unique=True)  # file in STORAGE_DIR/downloads
    content_type = pw.CharField(max_length=100)
    size = pw.IntegerField()
    published = pw.BooleanField(default=True, index=True)
    org = pw.DeferredForeignKey("Organization", null=True, on_delete="SET NULL")
    author = pw.DeferredForeignKey("Account", null=True, on_delete="SET NULL")
    uploaded_at = pw.DateTimeField(default=now, index=True)


# What each kind is called in its refusals and log rows, and what else a publish / withdraw sets.
NOUNS = {Notice: "通知", Download: "文件"}


def _touched(model) -> dict:
    return {"updated_at": now()} if model is Notice else {}


def listing(model, publisher: bool):
    """重要通知 (pinned first, newest first) or 下载中心 (by category, newest first); the
    withdrawn ones only for the publisher."""
    if model is Notice:
        order = (Notice.pinned.desc(), Notice.published_at.desc(), Notice.id.desc())
    else:
        order = (Download.category, Download.uploaded_at.desc(), Download.id.desc())
    query = model.select().order_by(*order)
    return query if publisher else query.where(model.published == True)  # noqa: E712


def latest(limit: int):
    """The newest published notices, pinned first (the login page)."""
    return list(Notice.select().where(Notice.published == True)  # noqa: E712
                .order_by(Notice.pinned.desc(), Notice.published_at.desc()).limit(limit))


def save_notice(notice: Notice | None, title: str, body: str, pinned: bool, by) -> Notice:
    """发布通知 (`notice` None: a new one, published at once) or 修改通知."""
    with db.atomic():
        if notice is None:
            notice = Notice.create(title=title, body=body, pinned=pinned, org=by.org_id, author=by.id)
            AuditLog.record("发布通知", notice, to_state=PUBLISHED, account=by)
        else:
            Notice.update(title=title, body=body, pinned=pinned, updated_at=now()).where(
                Notice.id == notice.id).execute()
            AuditLog.record("修改通知", notice, account=by)
    return notice


def publish(item, by=None) -> None:
    """重新发布 a withdrawn notice or file."""
    _set_published(item, True, by)


def withdraw(item, by=None) -> None:
    """撤回 a notice (no longer on the login page) or a file (no longer in 下载中心)."""
    _set_published(item, False, by)


def _set_published(item, published: bool, by) -> None:
    """A compare-and-set update and its audit row; a second click (or a stale page) is refused
    and writes nothing."""
    model, noun = type(item), NOUNS[type(item)]
    with db.atomic():
        changed = (model.update(published=published, **_touched(model))
                   .where((model.id == item.id) & (model.published != published)).execute())
        if not changed:
            raise DomainError(f"该{noun}已是{PUBLISHED if published else WITHDRAWN}状态", 409)
        AuditLog.record(f"重新发布{noun}" if published else f"撤回{noun}", item, account=by,
                        from_state=WITHDRAWN if published else PUBLISHED,
                        to_state=PUBLISHED if published else WITHDRAWN)


def sniff(data: bytes, filename: str) -> str:
    """The content type of an accepted file; a refused one raises DomainError with the reason."""
    suffix = Path(filename).suffix.lower()
    for magic, content_type, suffixes in SIGNATURES:
        if data.startswith(magic):
            if suffix not in suffixes:
                raise DomainError(f"文件内容与扩展名“{suffix or '无'}”不符", 422)
            return content_type if suffix != ".pdf" else "application/pdf"
    raise DomainError("只能上传 PDF、Word、Excel、PowerPoint 或 ZIP 文件", 422)


def upload(title: str, description: str, category: str, filename: str, data: bytes, by) -> Download:
    """上传文件 to 下载中心: checked by its first bytes, stored under a random name, published."""
    if not data:
        raise DomainError("请选择要上传的文件", 422)
    content_type = sniff(data, filename)
    stored = f"{secrets.token_hex(16)}{Path(filename).suffix.lower()}"
    stored_file("downloads", stored).write_bytes(data)
    with db.atomic():
        item = Download.create(title=title, description=description or "", category=category,
                               filename=Path(filename).name[:200], stored_name=stored,
                               content_type=content_type, size=len(data), org=by.org_id, author=by.id)
        AuditLog.record("上传下载文件", item, to_state=PUBLISHED, detail={"文件": item.filename}, account=by)
    return item
