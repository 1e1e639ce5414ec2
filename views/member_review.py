"""会员管理 → 会员审核 (new members and identity changes of the unions below, decided by the
superior), 会员转出审核 (transfer requests, decided by the source union or its superior) and
会员审核设置 (a district switches 会员审核 on or off for every union under it)."""

from flask import Blueprint, flash, make_response, redirect, request, url_for
from flask_login import current_user

from models.audit import AuditLog
from models.base import DomainError
from models.members import member_queues, member_review
from models.members.people import MemberChange, Membership, TransferRequest
from models.orgs.organizations import Organization
from views.access import (
    access,
    acting_account,
    back_to_list,
    form_ids,
    int_arg,
    is_fragment_request,
    local_target,
    redirect_to,
    refuse,
    render_page,
    scoped,
)
from views.paging import paginate

bp = Blueprint("member_review", __name__, url_prefix="/members")

# 会员转出审核 decisions: the unions themselves (the 市总工会 and the centre only look).
DECIDING = ("district", "secondary", "grassroots")  # the roles of Account.decides_member_requests
REVIEW_EXPLAINED = "开启后，下级工会新增的会员和已审核会员的证件信息修改须经上级工会审核，审核通过后自动生成会员编号"


def _back(listing: str, default: str | None = None) -> str:
    """Where a decision returns to: the list page it was taken on (`next`, accepted only as
    that list's own path with its filters), else `default` (the list)."""
    return local_target(request.form.get("next"), default or listing, path=listing)


# --- 会员审核 -----------------------------------------------------------------------------------
@bp.route("/approvals")
@access("district", "secondary")
def approvals():
    kind = request.args.get("kind", "")
    kind = kind if kind in member_queues.KINDS else ""
    page = paginate(member_queues.approval_queue(acting_account(), kind))
    return render_page("members/approvals.html", "rows", page=page, rows=member_queues.approval_rows(page.items),
                       kind_filter=kind, kinds=member_queues.KINDS)


def _decided(decide, row):
    """One decision from the list: htmx swaps the row (gone, or back with the refusal next to
    its buttons); without JavaScript, back to the list with a message (or the refusal page)."""
    fragment = is_fragment_request()
    try:
        done = decide()
    except DomainError as exc:
        if not fragment:
            raise
        return render_page("members/approvals.html", "row", status=exc.status, row=row, error=exc.message)
    if fragment:
        return make_response("", 200)
    flash(done, "success")
    return redirect(_back(url_for("member_review.approvals")))


@bp.route("/approvals/<int:member_id>/<any(approve, reject):action>", methods=["POST"])
@access("district", "secondary", objects={"member_id": Membership})
def decide_member(member, action):
    """通过 (会员编号 issued) or 驳回 (须填写原因) of one new member."""
    reason = (request.form.get("reason") or "").strip()
    name = member.person.name

    def decide():
        decided = member_queues.decide_member(member, action, acting_account(), reason)
        return (f"已通过「{name}」的会员审核，会员编号 {decided.member_no}" if decided
                else f"已驳回「{name}」的新会员申请")
    return _decided(decide, member_queues.ApprovalRow("member", member.id, member, member.created_at))


@bp.route("/approvals/changes/<int:change_id>/<any(approve, reject):action>", methods=["POST"])
@access("district", "secondary", objects={"change_id": MemberChange})
def decide_change(change, action):
    """通过 (the new identity applies) or 驳回 (the old one stays) of one 信息修改."""
    reason = (request.form.get("reason") or "").strip()
    row = member_queues.approval_rows([("change", change.id, change.created_at)])[0]

    def decide():
        member_queues.decide_change(change, action, acting_account(), reason)
        return f"已{'通过' if action == 'approve' else '驳回'}「{row.membership.person.name}」的信息修改"
    return _decided(decide, row)


@bp.route("/approvals/batch", methods=["POST"])
@access("district", "secondary")
def approve_batch():
    """批量通过 of the ticked rows (all or nothing)."""
    account = acting_account()
    member_ids, change_ids = form_ids("member"), form_ids("change")
    listing = _back(url_for("member_review.approvals"))
    if not member_ids and not change_ids:
        return back_to_list("请先勾选要审核通过的记录", listing)
    pending = list(scoped(Membership, account).where(Membership.id.in_(member_ids))) if member_ids else []
    changes = list(scoped(MemberChange, account).where(MemberChange.id.in_(change_ids))) if change_ids else []
    if len(pending) != len(member_ids) or len(changes) != len(change_ids):
        return back_to_list("勾选的记录不存在或已被处理，请刷新页面后重试", listing)
    count = member_queues.approve_many(account, pending, changes)
    flash(f"已批量通过 {count} 条审核", "success")
    return redirect_to(listing)


# --- 会员审核设置 -------------------------------------------------------------------------------
@bp.route("/settings", methods=["GET", "POST"])
@access("district")
def settings():
    """会员审核设置: the district switches 会员审核 on or off for every union under it (the
    platform admin picks the district: ?district=<id>)."""
    org = current_user.org
    if current_user.is_admin:
        org = Organization.get_or_none((Organization.id == int_arg(request.values.get("district")))
                                       & (Organization.level == "district"))
        if org is None:
            districts = Organization.select().where(Organization.level == "district").order_by(Organization.id)
            return render_page("members/settings.html", org=None, districts=districts, explained=REVIEW_EXPLAINED)
    if org.level != "district":
        return refuse("会员审核设置由区局（产业）工会设置，本单位不能设置", 403)
    if request.method == "POST":
        wanted = request.form.get("member_review") == "on"
        if member_review.switch_review(org, wanted, acting_account()):
            flash(f"已{member_review.SWITCH[wanted]}会员审核", "success")
        else:
            flash("设置未改变", "success")
        return redirect_to(url_for("member_review.settings", **({"district": org.id} if current_user.is_admin else {})))
    return render_page("members/settings.html", org=org, explained=REVIEW_EXPLAINED,
                       waiting=member_review.waiting_below(org), log=member_review.switch_log(org))


# --- 会员转出审核 -------------------------------------------------------------------------------
@bp.route("/transfers")
@access()
def transfers():
    account = acting_account()
    status = request.args.get("status", member_queues.WAITING)
    status = status if status in member_queues.TRANSFER_STATUSES else ""
    direction = request.args.get("direction", "")
    direction = direction if direction in member_queues.DIRECTIONS else ""
    page = paginate(member_queues.transfer_list(scoped(TransferRequest, account), account, direction, status))
    decides = account.decides_member_requests  # an account that only looks has no union of its own here
    return render_page("members/transfers.html", "rows", page=page, status_filter=status,
                       direction=direction, directions=member_queues.DIRECTIONS if decides else {},
                       statuses=member_queues.TRANSFER_STATUSES, decides=decides,
                       decidable=member_queues.decidable(account, page.items) if decides else set(),
                       can_withdraw=member_queues.can_withdraw)


@bp.route("/transfers/<int:transfer_id>")
@access(objects={"transfer_id": TransferRequest})
def transfer_detail(transfer):
    account = acting_account()
    return render_page("members/transfer_detail.html", t=transfer,
                       can_decide=transfer.status == member_queues.WAITING and account.decides_member_requests
                       and transfer.can_decide(account),
                       can_withdraw=member_queues.can_withdraw(transfer, account),
                       full_numbers=account.sees_full_numbers, log=AuditLog.for_object(transfer))


@bp.route("/transfers/<int:transfer_id>/<any(approve, reject, withdraw):action>", methods=["POST"])
@access(*DECIDING, objects={"transfer_id": TransferRequest})
def decide_transfer(transfer, action):
    """通过 / 驳回 (须填写审核说明) by the source union or its superior; 撤回 by the filer."""
    note = (request.form.get("note") or "").strip()  # 驳回 without one: the workflow refuses
    transfer = member_review.decide_transfer(transfer, action, acting_account(), note)
    flash(f"已{TransferRequest.WORKFLOW.label(action)}：{transfer.person.name}", "success")
    return redirect_to(_back(url_for("member_review.transfers"),
                             url_for("member_review.transfer_detail", transfer_id=transfer.id)))


@bp.route("/transfers/batch", methods=["POST"])
@access(*DECIDING)
def approve_transfers():
    """批量通过 of the ticked transfer requests (all or nothing)."""
    account = acting_account()
    ids = form_ids("transfer")
    listing = _back(url_for("member_review.transfers"))
    if not ids:
        return back_to_list("请先勾选要审核通过的转移申请", listing)
    chosen = list(scoped(TransferRequest, account).where(TransferRequest.id.in_(ids)))
    if len(chosen) != len(ids):
        return back_to_list("勾选的转移申请不存在或已被处理，请刷新页面后重试", listing)
    count = member_queues.approve_transfers(account, chosen)
    flash(f"已批量通过 {count} 条转移申请", "success")
    return redirect_to(listing)
