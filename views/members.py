"""会员管理 → 会员信息: the roster list (search, 可能已达退休年龄, batch selection across pages),
新增会员 / 编辑, 详情 (full numbers, 操作日志), 删除, 转出 / 批量转出会员, 导出会员.

Adding, editing, deleting and transferring are for the member's own grassroots union (or a
临时工会); superiors see the list and details read-only and may export. The dashboard links here
with status, joined_from/joined_to and approved_from/approved_to.
"""

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user

from forms.members import DELETE_ONLY, DeleteForm, MemberForm, TransferForm
from models.audit import AuditLog
from models.base import DomainError, today
from models.cards import cards
from models.members import member_review, members, roster, wide_lists
from models.members.people import (
    HELD,
    LABELS,
    MEMBER_STATUSES,
    NORMAL,
    PENDING,
    WAITING,
    MemberChange,
    Membership,
    TransferRequest,
)
from views.access import (
    XLSX,
    access,
    back_to_list,
    form_ids,
    redirect_to,
    refuse,
    render_page,
    scoped,
    send_download,
)
from views.paging import CAP, keyset, list_scope

bp = Blueprint("members", __name__, url_prefix="/members")
SENT = "已提交转移申请，等待转出审核"


@bp.app_template_filter("mask_mobile")
def _mask_mobile(number):
    return roster.mask_mobile(number)


# --- who may change the roster ------------------------------------------------------------------
def refusal(m: Membership | None, what: str) -> str | None:
    """Why the current account may not `what` (编辑 / 删除 / 转出) this member, or None: a grassroots
    union (or a 临时工会) keeps its own roster (Account.keeps_roster); everyone above only looks."""
    if not current_user.keeps_roster:
        return f"只有会员所在的基层工会可以{what}会员（上级工会只能查看）"
    if m is not None and m.org_id != current_user.org_id:
        return f"只有会员所在的工会可以{what}该会员"
    if m is not None and m.status not in HELD:
        return f"用户状态为「{m.status}」的会员不能{what}"
    return None


def _refused(m: Membership, what: str):
    """The refusal of one member's 编辑 / 删除 / 转出: a warning on the detail page for a GET, the
    refusal page for a POST; None when the account may."""
    reason = refusal(m, what)
    if not reason:
        return None
    if request.method == "GET":
        flash(reason, "warning")
        return redirect(url_for("members.detail", member_id=m.id))
    return refuse(reason)


# The list buttons (seed 001) that open other screens, before and after 转出 / 批量转出会员.
ADD_BUTTONS = [("新增会员", "members.new"), ("批量导入会员", "member_import.upload"),
               ("组织机构代码导入会员", "member_import.by_code")]
SYNC_BUTTONS = [("从其他工会转入会员到本工会", "member_sync.transfer_in"), ("同步会员", "member_sync.sync")]


def _links(buttons) -> list:
    """(label, url) of the buttons whose screen exists (no dead buttons while areas are built)."""
    return [(label, url_for(endpoint)) for label, endpoint in buttons if endpoint in current_app.view_functions]


# --- 会员信息 list --------------------------------------------------------------------------------
@bp.route("/")
@access()
def index():
    filters = roster.parse_filters(request.args)
    pages = roster.Pages(scoped(Membership, current_user), filters, cap=CAP, **list_scope(current_user))
    page = keyset(pages.narrow, pages.KEY, lambda: pages.total(CAP), offset_rows=CAP if pages.wide else None,
                  fetch=pages.rows, bounded=pages.bounded, names=wide_lists.CURSOR_NAMES)
    page.note = pages.note
    manage = current_user.keeps_roster
    args = filters.args()
    links = _links(ADD_BUTTONS) if manage else []
    later_links = (_links(SYNC_BUTTONS) if manage else []) + [("导出会员", url_for("members.export", **args))]
    on = today()
    return render_page("members/index.html", "rows", page=page, filters=filters, args=args,
                       held=cards.holders([m.person_id for m in page.items]),
                       statuses=MEMBER_STATUSES, sync_choices=list(roster.SYNC_CHOICES), manage=manage,
                       many_unions=current_user.sees_many_unions, links=links, later_links=later_links,
                       flag=lambda p: roster.flag(p, on), status=422 if filters.errors else 200)


# --- 新增会员 / 编辑 ------------------------------------------------------------------------------
def _render_form(form, member, error=None, status=200):
    action = url_for("members.edit", member_id=member.id) if member else url_for("members.new")
    return render_page("members/form.html", "form", form=form, member=member, error=error,
                       action=action, title="编辑会员" if member else "新增会员", status=status)


def _checked(form):
    """(person_fields, record) or None after putting every error next to its field."""
    form.validate()
    person_fields, errors = members.check_identity(form.identity_values())
    record, record_errors = members.check_record(form.record_values())
    form.add_errors({**errors, **record_errors})
    if form.errors:
        return None
    return person_fields, record


@bp.route("/new", methods=["GET", "POST"])
@access()
def new():
    """新增会员: one member into the account's own grassroots union (or 临时工会)."""
    if not current_user.keeps_roster:
        return refuse("只有基层工会（或临时工会）可以新增会员，请由会员所在的基层工会办理")
    form = MemberForm()
    if request.method == "GET":
        return _render_form(form, None)
    checked = _checked(form)
    if checked is None:
        return _render_form(form, None, status=422)
    try:
        m = members.add(current_user.org, current_user._get_current_object(), *checked)
    except DomainError as exc:
        return _render_form(form, None, error=exc.message, status=422)
    if m.status == PENDING:
        flash(f"已新增会员「{m.person.name}」，等待上级工会会员审核，审核通过后自动生成会员编号", "success")
    else:
        flash(f"已新增会员「{m.person.name}」，会员编号 {m.member_no}", "success")
    return redirect_to(url_for("members.detail", member_id=m.id))


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@access(objects={"member_id": Membership})
def edit(member):
    """编辑: record fields at once; identity fields of an approved member wait for 会员审核
    where the district reviews members (信息修改状态 待审核)."""
    refused = _refused(member, "编辑")
    if refused:
        return refused
    if request.method == "GET":
        form = MemberForm(data=_form_data(member))
        return _render_form(form, member)
    form = MemberForm()
    checked = _checked(form)
    if checked is None:
        return _render_form(form, member, status=422)
    try:
        member, message = members.update(member, current_user._get_current_object(), *checked)
    except DomainError as exc:
        return _render_form(form, member, error=exc.message, status=422)
    flash(message, "success")
    return redirect_to(url_for("members.detail", member_id=member.id))


def _form_data(m: Membership) -> dict:
    p = m.person
    return {"name": p.name, "id_type": p.id_type, "id_number": p.id_number, "gender": p.gender,
            "birth_date": p.birth_date.isoformat() if p.birth_date else "",
            "id_expiry": p.id_expiry.isoformat() if p.id_expiry else "",
            "tags": [t for t in m.tags.split("、") if t],
            **{k: getattr(m, k) for k in ("mobile", "address", "education", "household", "skill_level",
                                          "union_post", "work_unit")}}


# --- 详情 ---------------------------------------------------------------------------------------
@bp.route("/<int:member_id>")
@access(objects={"member_id": Membership})
def detail(member):
    pending = (MemberChange.select().where((MemberChange.membership == member.id)
                                           & (MemberChange.status == WAITING)).first())
    transfers = (TransferRequest.select()
                 .where((TransferRequest.source == member.id) | (TransferRequest.target == member.id))
                 .order_by(TransferRequest.id.desc()))
    own = refusal(member, "编辑") is None
    card_state, card, card_batch = cards.progress_of([member])[member.id]
    return render_page("members/detail.html", m=member, p=member.person, pending=pending,
                       labels=LABELS, transfers=transfers, log=AuditLog.for_object(member).limit(50),
                       retirement_flag=roster.flag(member.person, today()), own=own,
                       full_numbers=current_user.sees_full_numbers, card_state=card_state, card=card,
                       card_batch=card_batch, has_card=card_state == cards.HAS_CARD,
                       card_apply=own and card_state == cards.NO_CARD and member.status == NORMAL
                       and member.category not in cards.INDIVIDUAL and current_user.operates_grassroots)


# --- 删除 ---------------------------------------------------------------------------------------
@bp.route("/<int:member_id>/delete", methods=["GET", "POST"])
@access(objects={"member_id": Membership})
def delete(member):
    """删除 (soft): reason 退休 / 犯罪 / 死亡 only."""
    refused = _refused(member, "删除")
    if refused:
        return refused
    form = DeleteForm()
    action = url_for("members.delete", member_id=member.id)
    if request.method == "POST":
        error = _delete(form, members.delete, member)
        if error is None:
            flash(f"已删除会员「{member.person.name}」（{form.reason.data}）", "success")
            return redirect_to(url_for("members.index"))
        return _render_delete(form, [member], 1, action, {}, error or None, 422)
    return _render_delete(form, [member], 1, action, {})


def _delete(form, operation, chosen) -> str | None:
    """删除 once the form is valid (`operation`: one member, or the batch all or nothing); the
    refusal to show ("" for a field error), or None when done."""
    if not form.validate():
        return ""
    try:
        operation(chosen, current_user._get_current_object(), form.reason.data)
    except DomainError as exc:
        return exc.message
    return None


def _render_delete(form, chosen, total, action, carried, error=None, status=200):
    return render_page("members/delete.html", "form", form=form, chosen=chosen, total=total,
                       action=action, carried=carried, error=error, status=status,
                       temporary=roster.temporary_union(current_user.org), delete_only=DELETE_ONLY)


@bp.route("/delete", methods=["POST"])
@access()
def batch_delete():
    """删除 the ticked members (or every member matching the filter): all or nothing."""
    ticked = _Ticked("删除", "members.batch_delete", _render_delete, DeleteForm)
    if ticked.response:
        return ticked.response
    chosen = list(ticked.query)
    error = _delete(ticked.form, members.delete_many, chosen)
    if error is None:
        flash(f"已删除 {len(chosen)} 名会员（{ticked.form.reason.data}）", "success")
        return redirect_to(url_for("members.index"))
    return ticked.page(ticked.form, error or None, 422)


class _Ticked:
    """The members a batch form (删除 / 转出) chose, re-checked against the scope. `response`: the
    refusal (not this account's roster, nothing ticked) or the first step (the form with the first
    15 of them, `page()`); None once the form is submitted."""

    def __init__(self, what: str, endpoint: str, render, form_class):
        self.render, self.action, self.response = render, url_for(endpoint), None
        reason = refusal(None, what)
        if reason:
            self.response = refuse(reason)
            return
        self.query, self.carried = _batch_selection()
        self.total = self.query.count()
        if self.total == 0:
            self.response = back_to_list(f"请先勾选要{what}的会员", url_for("members.index"))
            return
        self.form = form_class()
        if request.form.get("submitted") != "1":
            self.response = self.page(self.form)

    def page(self, form, error=None, status=200):
        return self.render(form, list(self.query.limit(15)), self.total, self.action, self.carried, error, status)


def _batch_selection():
    """The members a batch form chose, re-checked against the scope; and the hidden inputs
    that carry the choice to the next step. all_matching=1 recomputes the list's filter."""
    scope = scoped(Membership, current_user)
    if request.form.get("all_matching") == "1":
        filters = roster.parse_filters(request.form)
        query = roster.selection(scope, current_user.org_id, all_matching=filters)
        carried = {"all_matching": ["1"], **{k: [v] for k, v in filters.args().items()}}
    else:
        ids = form_ids("ids")
        query = roster.selection(scope, current_user.org_id, ids=ids)
        carried = {"ids": [str(m.id) for m in query]}
    return query, carried


# --- 转出 / 批量转出会员 --------------------------------------------------------------------------
def _render_transfer(form, chosen, total, action, carried, error=None, status=200):
    return render_page("members/transfer.html", "form", form=form, chosen=chosen, total=total,
                       action=action, carried=carried, error=error, status=status,
                       temporary=roster.temporary_union(current_user.org))


def _transfer(form, chosen) -> str | None:
    """File the transfers (all or nothing); the refusal to show, or None when done."""
    temporary = roster.temporary_union(current_user.org)
    if request.form.get("use_temporary") == "1" and temporary is not None:
        form.destination.data = temporary.name
        form.reason.data = form.reason.data or "已离职"  # the one-click choice is for leavers
    if not form.validate():
        return ""
    destination = member_review.find_destination(form.destination.data)
    if destination is None:
        form.destination.errors = [f"未找到「{form.destination.data}」，请核对转入工会的名称或工会编号"]
        return ""
    try:
        member_review.request_transfers(chosen, destination, current_user._get_current_object(), form.reason.data)
    except DomainError as exc:
        return exc.message
    return None


@bp.route("/<int:member_id>/transfer", methods=["GET", "POST"])
@access(objects={"member_id": Membership})
def transfer(member):
    """转出: a transfer request to another union (or the district's 临时工会), decided by this
    union or its superior (会员转出审核)."""
    refused = _refused(member, "转出")
    if refused:
        return refused
    form = TransferForm()
    action = url_for("members.transfer", member_id=member.id)
    if request.method == "GET":
        return _render_transfer(form, [member], 1, action, {})
    error = _transfer(form, [member])
    if error is None:
        flash(SENT, "success")
        return redirect_to(url_for("members.index"))
    return _render_transfer(form, [member], 1, action, {}, error or None, 422)


@bp.route("/transfer", methods=["POST"])
@access()
def batch_transfer():
    """转出 / 批量转出会员 of the ticked members (or all matching the filter): all or nothing."""
    ticked = _Ticked("转出", "members.batch_transfer", _render_transfer, TransferForm)
    if ticked.response:
        return ticked.response
    error = _transfer(ticked.form, list(ticked.query))
    if error is None:
        flash(SENT, "success")
        return redirect_to(url_for("members.index"))
    return ticked.page(ticked.form, error or None, 422)


# --- 导出会员 -----------------------------------------------------------------------------------
@bp.route("/export")
@access()
def export():
    """导出会员: the filtered roster as Excel, written to a temporary file and streamed from
    disk; numbers masked for the read-only 市总工会 account."""
    filters = roster.parse_filters(request.args)
    if filters.errors:
        return refuse("；".join(filters.errors), 422)
    handle, _count = roster.export(scoped(Membership, current_user), filters,
                                   masked=not current_user.sees_full_numbers)
    return send_download(handle, "会员信息.xlsx", XLSX, slug="members")
