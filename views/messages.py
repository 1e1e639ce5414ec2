"""消息提醒: the account's messages (its own and its organisation's), unread first."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from models import messages
from models.messages import Message
from views.access import EVERYONE, access, render_page
from views.paging import paginate

bp = Blueprint("messages", __name__, url_prefix="/messages")


@bp.route("/")
@access(*EVERYONE)
def index():
    unread_only = request.args.get("unread") == "1"
    query = messages.unread(current_user) if unread_only else messages.for_account(current_user)
    page = paginate(query)
    read = messages.read_ids(current_user, [m.id for m in page.items])
    return render_page("messages/index.html", "rows", page=page, read=read, unread_only=unread_only)


def _addressed(message: Message) -> Message:
    """A message of the account's organisation addressed to another account is not its."""
    if message.org_id != current_user.org_id or (message.account_id not in (None, current_user.id)):
        abort(404)
    return message


@bp.route("/<int:message_id>")
@access(*EVERYONE, objects={"message_id": Message})
def open_(message):
    """Open a message: mark it read, go to what it is about (or show it)."""
    _addressed(message)
    messages.mark_read(current_user, [message.id])
    if message.link and message.link.startswith("/") and not message.link.startswith("//"):
        return redirect(message.link)
    return render_page("messages/detail.html", message=message)


@bp.route("/read", methods=["POST"])
@access(*EVERYONE)
def mark_all():
    """全部标为已读."""
    n = messages.mark_read(current_user)
    flash(f"已将{n}条消息标为已读" if n else "没有未读消息", "success")
    return redirect(url_for("messages.index"))
