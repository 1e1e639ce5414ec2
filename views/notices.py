"""重要通知 and 下载中心: public pages (linked from the login page); the centre publishes,
edits and withdraws notices and files. Files are served from the storage directory."""

import secrets
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from forms.notices import DownloadForm, NoticeForm
from models import db
from models.audit import AuditLog
from models.base import DomainError, now
from models.notices import Download, Notice
from models.storage import stored_file
from views.access import (
    access,
    public,
    render_page,
    send_download,
)
from views.paging import paginate

bp = Blueprint("notices", __name__)
PUBLISHERS = ("centre",)
# Accepted files, told by their first bytes (never by the name).
SIGNATURES = [
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"PK\x03\x04", "application/octet-stream", (".xlsx", ".docx", ".pptx", ".zip")),
    (bytes.fromhex("D0CF11E0A1B11AE1"), "application/octet-stream", (".xls", ".doc", ".ppt")),
]
def is_publisher() -> bool:
    return current_user.is_authenticated and (current_user.is_admin or current_user.role in PUBLISHERS)


def _published_or_publisher(obj):
    if obj is None or (not obj.published and not is_publisher()):
        abort(404)
    return obj


# --- 重要通知 -----------------------------------------------------------------------------------
@bp.route("/notices/")
@public
def notices():
    query = Notice.select().order_by(Notice.pinned.desc(), Notice.published_at.desc(), Notice.id.desc())
    if not is_publisher():
        query = query.where(Notice.published == True)  # noqa: E712
    return render_page("notices/index.html", "rows", page=paginate(query), publisher=is_publisher())


@bp.route("/notices/<int:notice_id>")
@public
def notice(notice_id):
    item = _published_or_publisher(Notice.get_or_none(Notice.id == notice_id))
    return render_page("notices/detail.html", notice=item, publisher=is_publisher())


@bp.route("/notices/new", methods=["GET", "POST"])
@access(*PUBLISHERS)
def notice_new():
    return _notice_form(None)


@bp.route("/notices/<int:notice_id>/edit", methods=["GET", "POST"])
@access(*PUBLISHERS, objects={"notice_id": Notice})
def notice_edit(notice):
    return _notice_form(notice)


def _notice_form(item):
    form = NoticeForm(obj=item) if request.method == "GET" else NoticeForm()
    if request.method == "POST" and form.validate():
        with db.atomic():
            if item is None:
                item = Notice.create(title=form.title.data, body=form.body.data, pinned=form.pinned.data,
                                     org=current_user.org_id, author=current_user.id)
                AuditLog.record("发布通知", item, to_state="已发布")
            else:
                Notice.update(title=form.title.data, body=form.body.data, pinned=form.pinned.data,
                              updated_at=now()).where(Notice.id == item.id).execute()
                AuditLog.record("修改通知", item)
        flash("通知已保存", "success")
        return redirect(url_for("notices.notice", notice_id=item.id))
    return render_page("notices/form.html", form=form, notice=item,
                       status=422 if request.method == "POST" else 200)


@bp.route("/notices/<int:notice_id>/<any(withdraw, publish):action>", methods=["POST"])
@access(*PUBLISHERS, objects={"notice_id": Notice})
def notice_toggle(notice, action):
    """撤回 / 重新发布."""
    _toggle(notice, action == "publish", "通知", {"updated_at": now()})
    flash("已重新发布" if action == "publish" else "已撤回，登录页不再显示", "success")
    return redirect(url_for("notices.notices"))


def _toggle(item, publish: bool, noun: str, extra: dict) -> None:
    """Publish or withdraw a notice or file: a compare-and-set update and its audit row; a
    second click (or a stale page) is refused and writes nothing."""
    model = type(item)
    with db.atomic():
        changed = (model.update(published=publish, **extra)
                   .where((model.id == item.id) & (model.published != publish)).execute())
        if not changed:
            raise DomainError(f"该{noun}已是{'已发布' if publish else '已撤回'}状态", 409)
        AuditLog.record(f"重新发布{noun}" if publish else f"撤回{noun}", item,
                        from_state="已撤回" if publish else "已发布", to_state="已发布" if publish else "已撤回")


# --- 下载中心 -----------------------------------------------------------------------------------
@bp.route("/downloads/")
@public
def downloads():
    query = Download.select().order_by(Download.category, Download.uploaded_at.desc(), Download.id.desc())
    if not is_publisher():
        query = query.where(Download.published == True)  # noqa: E712
    return render_page("notices/downloads.html", "rows", page=paginate(query), publisher=is_publisher())


@bp.route("/downloads/<int:download_id>")
@public
def download(download_id):
    item = _published_or_publisher(Download.get_or_none(Download.id == download_id))
    path = stored_file("downloads", item.stored_name)
    if not path.exists():
        abort(404)
    return send_download(path, item.filename, item.content_type)


def sniff_upload(data: bytes, filename: str):
    """(content type) of an accepted file, or a Chinese reason."""
    suffix = Path(filename).suffix.lower()
    for magic, content_type, suffixes in SIGNATURES:
        if data.startswith(magic):
            if suffix not in suffixes:
                return None, f"文件内容与扩展名“{suffix or '无'}”不符"
            return content_type if suffix != ".pdf" else "application/pdf", None
    return None, "只能上传 PDF、Word、Excel、PowerPoint 或 ZIP 文件"


@bp.route("/downloads/new", methods=["GET", "POST"])
@access(*PUBLISHERS)
def download_new():
    form = DownloadForm()
    error = None
    if request.method == "POST" and form.validate():
        upload = request.files.get("file")
        data = upload.read() if upload and upload.filename else b""
        if not data:
            error = "请选择要上传的文件"
        else:
            content_type, error = sniff_upload(data, upload.filename)
            if not error:
                stored = f"{secrets.token_hex(16)}{Path(upload.filename).suffix.lower()}"
                stored_file("downloads", stored).write_bytes(data)
                with db.atomic():
                    item = Download.create(title=form.title.data, description=form.description.data or "",
                                           category=form.category.data, filename=Path(upload.filename).name[:200],
                                           stored_name=stored, content_type=content_type, size=len(data),
                                           org=current_user.org_id, author=current_user.id)
                    AuditLog.record("上传下载文件", item, to_state="已发布", detail={"文件": item.filename})
                flash("文件已上传到下载中心", "success")
                return redirect(url_for("notices.downloads"))
    return render_page("notices/download_form.html", form=form, error=error,
                       status=422 if request.method == "POST" else 200)


@bp.route("/downloads/<int:download_id>/<any(withdraw, publish):action>", methods=["POST"])
@access(*PUBLISHERS, objects={"download_id": Download})
def download_toggle(download, action):
    _toggle(download, action == "publish", "文件", {})
    flash("已重新发布" if action == "publish" else "已撤回", "success")
    return redirect(url_for("notices.downloads"))
