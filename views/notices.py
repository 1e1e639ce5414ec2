"""重要通知 and 下载中心: public pages (linked from the login page); the centre publishes,
edits and withdraws notices and files (models/notices.py). Files are served from the storage directory."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from forms.notices import DownloadForm, NoticeForm
from models import notices as notices_
from models.base import DomainError
from models.notices import Download, Notice
from models.storage import stored_file
from views.access import (
    access,
    acting_account,
    public,
    render_page,
    send_download,
)
from views.paging import paginate

bp = Blueprint("notices", __name__)
PUBLISHERS = ("centre",)


def is_publisher() -> bool:
    return current_user.is_authenticated and current_user.acts_for_centre


def _published_or_publisher(obj):
    if obj is None or (not obj.published and not is_publisher()):
        abort(404)
    return obj


def _listing(model, template: str):
    page = paginate(notices_.listing(model, is_publisher()))
    return render_page(template, "rows", page=page, publisher=is_publisher())


# --- 重要通知 -----------------------------------------------------------------------------------
@bp.route("/notices/")
@public
def notices():
    return _listing(Notice, "notices/index.html")


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
        item = notices_.save_notice(item, form.title.data, form.body.data, form.pinned.data, acting_account())
        flash("通知已保存", "success")
        return redirect(url_for("notices.notice", notice_id=item.id))
    return render_page("notices/form.html", form=form, notice=item,
                       status=422 if request.method == "POST" else 200)


@bp.route("/notices/<int:notice_id>/<any(withdraw, publish):action>", methods=["POST"])
@access(*PUBLISHERS, objects={"notice_id": Notice})
def notice_toggle(notice, action):
    """撤回 / 重新发布."""
    return _toggled(notice, action, "notices.notices", "已撤回，登录页不再显示")


def _toggled(item, action: str, listing: str, withdrawn: str):
    """撤回 / 重新发布 an item, then its list with what happened."""
    (notices_.publish if action == "publish" else notices_.withdraw)(item, by=acting_account())
    flash("已重新发布" if action == "publish" else withdrawn, "success")
    return redirect(url_for(listing))


# --- 下载中心 -----------------------------------------------------------------------------------
@bp.route("/downloads/")
@public
def downloads():
    return _listing(Download, "notices/downloads.html")


@bp.route("/downloads/<int:download_id>")
@public
def download(download_id):
    item = _published_or_publisher(Download.get_or_none(Download.id == download_id))
    path = stored_file("downloads", item.stored_name)
    if not path.exists():
        abort(404)
    return send_download(path, item.filename, item.content_type)


@bp.route("/downloads/new", methods=["GET", "POST"])
@access(*PUBLISHERS)
def download_new():
    form = DownloadForm()
    error = None
    if request.method == "POST" and form.validate():
        upload = request.files.get("file")
        has_file = upload is not None and upload.filename
        try:
            notices_.upload(form.title.data, form.description.data, form.category.data,
                            upload.filename if has_file else "", upload.read() if has_file else b"",
                            acting_account())
        except DomainError as exc:
            error = exc.message
        else:
            flash("文件已上传到下载中心", "success")
            return redirect(url_for("notices.downloads"))
    return render_page("notices/download_form.html", form=form, error=error,
                       status=422 if request.method == "POST" else 200)


@bp.route("/downloads/<int:download_id>/<any(withdraw, publish):action>", methods=["POST"])
@access(*PUBLISHERS, objects={"download_id": Download})
def download_toggle(download, action):
    return _toggled(download, action, "notices.downloads", "已撤回")
