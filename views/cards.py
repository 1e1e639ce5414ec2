"""会员服务卡管理: 卡片信息管理, 待办会员列表, 办卡批次管理 (导出报送银行, 撤销办卡批次),
开卡回盘导入 (the bank's return file) and 撤销办卡批次审核 (district).

The grassroots union queues its members (卡片信息管理 → 加入待办会员列表, or 会员信息's batch bar)
and submits the checked list as a card batch (提交办卡); the centre or the district exports the
batch for the bank and imports the bank's return file. Every refusal comes from models/cards/
(cards, card_pending, card_batches, card_return) as a Chinese DomainError; views only pick the page
or the fragment.
"""

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from models.base import DomainError
from models.cards import card_batches, card_pending, card_return, cards
from models.cards.card_batches import CardRevokeRequest
from models.cards.cards import CardBatch, CardPending
from models.jobs import Job
from models.members import roster, wide_lists
from models.members.people import Membership, Person
from models.rules import cards as rules
from models.rules.idnumber import normalize_id
from models.rules.text import normalize
from views import access as web
from views.access import access, acting_account, is_fragment_request, redirect_to, refuse, render_page, scoped
from views.paging import CAP, keyset, list_scope, paginate
from views.uploads import file_names, job_progress, recent_jobs, upload_page

bp = Blueprint("cards", __name__, url_prefix="/cards")
NOT_APPLYING = "只有基层工会可以为本单位会员办理会员服务卡（上级工会只能查看）"
# The grassroots union keeps the 待办会员列表 of its own members and submits card batches.
APPLYING = {"may": "operates_grassroots", "refusal": NOT_APPLYING}

_attachment = web.xlsx_response


# --- 卡片信息管理 ---------------------------------------------------------------------------------
def _card_filters(values) -> dict:
    f = {"name": normalize(values.get("name")), "id_number": normalize_id(values.get("id_number")),
         "state": normalize(values.get("state")), "errors": []}
    if f["state"] and f["state"] not in cards.CARD_PROGRESS:
        f["errors"].append("请选择正确的办卡状态")
        f["state"] = ""
    return f


def _card_query(account, f: dict, cap: int | None = None):
    return cards.card_list(scoped(Membership, account), f["name"], f["id_number"], f["state"], cap=cap)


@bp.route("/")
@access()
def index():
    """卡片信息管理: the union's members inside enterprises with their 办卡状态, card number
    (masked), 卡片状态 and 开卡日期; a grassroots union ticks 未办卡 members to 加入待办会员列表."""
    f = _card_filters(request.args)
    scope = list_scope(current_user)
    cap = CAP if scope["wide"] else None

    per_row = bool(f["name"])  # a name: its few rows from the name index, each checked against the scope
    key = wide_lists.list_key(None if per_row else scope.get("root_id"))

    def bounded(low=None, high=None):  # the scope from the cursor's union on (wide_lists.bounded_scope)
        members = wide_lists.bounded_scope(scoped(Membership, current_user), scope.get("root_id"), low, high, per_row)
        return cards.card_list(members, f["name"], f["id_number"], f["state"], cap=cap,
                               root_id=scope.get("root_id"), common=window).select(*key)
    window = cards.common_name(f["name"], cap)
    narrow = bounded()
    page = keyset(narrow, key, lambda: cards.list_total(narrow, cap, window), offset_rows=cap,
                  fetch=cards.with_people, bounded=bounded, names=wide_lists.CURSOR_NAMES)
    if window and not page.exact:
        page.note = roster.window_note(f["name"])
    args = {k: f[k] for k in ("name", "id_number", "state") if f[k]}
    return render_page("cards/index.html", "rows", page=page, f=f, args=args, progress=cards.progress_of(page.items),
                       states=cards.CARD_PROGRESS, apply=current_user.operates_grassroots,
                       many_unions=current_user.sees_many_unions, hint=cards.INDIVIDUAL_HINT,
                       status=422 if f["errors"] else 200)


@bp.route("/pending/add", methods=["POST"])
@access("grassroots", **APPLYING)
def add_pending():
    """加入待办会员列表: the ticked members (ids), or every member matching the filter
    (all_matching), from 卡片信息管理 or 会员信息."""
    account = acting_account()
    if request.form.get("all_matching"):
        if request.form.get("from") == "roster":
            query = roster.roster(scoped(Membership, account), roster.parse_filters(request.form))
        else:
            ids = _card_query(account, _card_filters(request.form)).select(Membership.id)
            query = Membership.select(Membership, Person).join(Person).where(Membership.id.in_(ids))
        members = list(query.where(Membership.org == account.org_id))
    else:
        ids = web.form_ids("ids")
        if not ids:
            listing = url_for("members.index") if request.form.get("from") == "roster" else url_for("cards.index")
            return web.back_to_list("请先勾选要加入待办会员列表的会员", listing)
        members = list(scoped(Membership, account).select(Membership, Person).join(Person)
                       .where(Membership.id.in_(ids)))
    try:
        added, skipped = card_pending.add_pending(account.org, account, members)
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    flash(f"已加入待办会员列表 {added} 人" + (f"；{len(skipped)} 人未加入：" + "；".join(
        f"{n}（{why}）" for n, why in skipped[:10]) + ("……" if len(skipped) > 10 else "") if skipped else ""),
        "success" if added else "warning")
    return redirect_to(url_for("cards.pending"))


# --- 待办会员列表 ---------------------------------------------------------------------------------
def _pending_filters(values) -> dict:
    f = {"id_number": normalize_id(values.get("id_number")), "check": normalize(values.get("check")), "errors": []}
    if f["check"] in ("", "全部"):
        f["check"] = ""
    elif f["check"] not in rules.CHECK_STATES:
        f["errors"].append("请选择正确的信息校验状态")
        f["check"] = ""
    return f


def _pending_context(org, f: dict) -> dict:
    page = paginate(card_pending.pending_list(org.id, f["id_number"], f["check"]))
    return {"page": page, "f": f, "counts": card_pending.pending_counts(org.id), "org": org,
            "states": rules.CHECK_STATES, "show_expiry": rules.show_expiry, "hint": cards.INDIVIDUAL_HINT,
            "refused_text": cards.SUBMIT_REFUSED}


@bp.route("/pending")
@access("grassroots")
def pending():
    """待办会员列表 with the header 待办会员 N 人; 校验通过 X 人; 未通过 Y 人."""
    f = _pending_filters(request.args)
    return render_page("cards/pending.html", "rows", status=422 if f["errors"] else 200,
                       **_pending_context(current_user.org, f))


def _own_row(row: CardPending):
    if row.org_id != current_user.org_id:
        abort(404)
    if not current_user.operates_grassroots:
        abort(403)


@bp.route("/pending/<int:row_id>")
@access("grassroots", objects={"row_id": CardPending})
def pending_detail(row):
    """查看详情: the member and each check with its result."""
    _own_row(row)
    m, p = row.membership, row.person
    return render_page("cards/pending_detail.html", row=row, m=m, p=p, show_expiry=rules.show_expiry,
                       han=rules.han_count(m.work_unit))


def _row_fragment(row, status=200, error=None, editing=False):
    """The row (or its inline 修改证件到期日 form) and, out of band, the header counts."""
    row = card_pending.pending_list(row.org_id).where(CardPending.id == row.id).get()
    context = {"r": row, "error": error, "show_expiry": rules.show_expiry,
               "counts": card_pending.pending_counts(row.org_id), "refused_text": cards.SUBMIT_REFUSED}
    body = render_block("cards/pending.html", "edit_row" if editing else "row", **context)
    if not editing:
        body += render_block("cards/pending.html", "counts_oob", **context)
    response = make_response(body, status)
    response.headers["Vary"] = "HX-Request"
    return response


@bp.route("/pending/<int:row_id>/expiry", methods=["GET", "POST"])
@access("grassroots", objects={"row_id": CardPending})
def expiry(row):
    """修改证件到期日: inline in the row with htmx; a plain form page without JavaScript."""
    _own_row(row)
    fragment = is_fragment_request()
    if request.method == "GET":
        if fragment:
            return _row_fragment(row, editing=True)
        return render_page("cards/expiry.html", row=row, value=rules.show_expiry(row.person.id_expiry),
                           error=None)
    raw = request.form.get("id_expiry", "")
    try:
        row = card_pending.change_expiry(row, acting_account(), raw)
    except DomainError as exc:
        if fragment:
            return _row_fragment(row, status=exc.status, error=exc.message, editing=True)
        return render_page("cards/expiry.html", status=exc.status, row=row, value=raw, error=exc.message)
    if fragment:
        return _row_fragment(row)
    flash(f"已修改「{row.person.name}」的证件到期日，信息校验结果：{row.check_state}", "success")
    return redirect(url_for("cards.pending"))


@bp.route("/pending/<int:row_id>/remove", methods=["POST"])
@access("grassroots", objects={"row_id": CardPending})
def remove(row):
    """移除 one member from the 待办会员列表."""
    _own_row(row)
    name = row.person.name
    try:
        card_pending.remove_pending(row, acting_account())
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    if is_fragment_request():
        return render_page("cards/pending.html", "counts_oob", counts=card_pending.pending_counts(current_user.org_id),
                           refused_text=cards.SUBMIT_REFUSED)
    flash(f"已将「{name}」移出待办会员列表", "success")
    return redirect(url_for("cards.pending"))


@bp.route("/pending/check", methods=["POST"])
@access("grassroots", **APPLYING)
def check():
    """重新校验 every row of the list."""
    n = card_pending.check_all(current_user.org)
    flash(f"已重新校验 {n} 名待办会员", "success")
    return redirect_to(url_for("cards.pending"))


@bp.route("/pending/submit", methods=["POST"])
@access("grassroots", **APPLYING)
def submit():
    """提交办卡: refused until every row passed."""
    try:
        batch = card_batches.submit_batch(current_user.org, acting_account())
    except DomainError as exc:  # not every row passed, or the list is empty: said on the list
        return render_page("cards/pending.html", "rows", status=exc.status, error=exc.message,
                           **_pending_context(current_user.org, _pending_filters({})))
    flash(f"已提交办卡，批次编号 {batch.number}，共 {batch.count} 人，等待报送银行", "success")
    return redirect_to(url_for("cards.batch_detail", batch_id=batch.id))


# --- 办卡批次管理 ---------------------------------------------------------------------------------
def _batch_filters(values) -> dict:
    f = {"number": normalize(values.get("number")).upper(), "status": normalize(values.get("status")),
         "errors": []}
    if f["status"] and f["status"] not in cards.BATCH_STATUSES:
        f["errors"].append("请选择正确的批次状态")
        f["status"] = ""
    return f


@bp.route("/batches")
@access()
def batches():
    """办卡批次管理: 批次编号, 所属工会, 办卡人数, 提交时间, 状态 …"""
    f = _batch_filters(request.args)
    query = card_batches.batch_list(scoped(CardBatch, current_user), f["number"], f["status"])
    query, dates, errors = web.submitted_between(query, CardBatch.submitted_at, request.args)
    f.update(start=dates.get("start", ""), end=dates.get("end", ""))
    f["errors"] += errors
    page = paginate(query)
    return render_page("cards/batches.html", "rows", page=page, f=f, statuses=cards.BATCH_STATUSES,
                       waiting=card_batches.waiting_revokes([b.id for b in page.items]),
                       sends=current_user.sends_card_batches,
                       apply=current_user.operates_grassroots, status=422 if f["errors"] else 200)


@bp.route("/batches/<int:batch_id>")
@access(objects={"batch_id": CardBatch})
def batch_detail(batch):
    requests_ = card_batches.revoke_requests(batch)
    waiting = any(r.status == card_batches.PENDING_REVOKE for r in requests_)
    page = paginate(card_batches.batch_items(batch), per_page=50)
    card_batches.with_cards(batch, page.items)
    return render_page("cards/batch_detail.html", batch=batch, page=page,
                       requests=requests_, waiting=waiting, opened=card_batches.opened_count(batch),
                       may_send=card_batches.may_send(current_user, batch),
                       may_revoke=current_user.org_id == batch.org_id and batch.status == cards.TO_SEND
                       and not waiting and current_user.operates_grassroots, show_expiry=rules.show_expiry)


@bp.route("/batches/<int:batch_id>/export", methods=["POST"])
@access("centre", "district", objects={"batch_id": CardBatch})
def export(batch):
    """导出报送银行: the Excel for the bank; the batch becomes 已报送银行."""
    try:
        batch, data = card_batches.export_for_bank(batch, acting_account())
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    return _attachment(data, f"办卡批次{batch.number}.xlsx")


@bp.route("/batches/<int:batch_id>/bank-file")
@access("centre", "district", objects={"batch_id": CardBatch})
def bank_file(batch):
    """下载报送文件 again (a batch already sent to the bank)."""
    if batch.status not in (cards.SENT, cards.OPENED):
        flash(f"批次状态为「{batch.status}」，还没有报送文件：请先导出报送银行", "warning")
        return redirect(url_for("cards.batch_detail", batch_id=batch.id))
    if not card_batches.may_send(current_user, batch):
        return refuse("只有市职保中心或该批次所属区局（产业）工会可以下载报送文件")
    return _attachment(card_batches.bank_workbook(batch), f"办卡批次{batch.number}.xlsx")


@bp.route("/batches/<int:batch_id>/unreturned", methods=["POST"])
@access("centre", "district", objects={"batch_id": CardBatch})
def unreturned(batch):
    """开卡失败: the ticked people of a batch sent to the bank got no card."""
    if not web.form_ids("item"):
        return web.back_to_list("请勾选开卡失败的人员", url_for("cards.batch_detail", batch_id=batch.id))
    try:
        n = card_batches.mark_unreturned(batch, web.form_ids("item"), acting_account(), request.form.get("reason", ""))
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    flash(f"已标记{n}人开卡失败，他们可重新加入待办会员列表", "success")
    return redirect_to(url_for("cards.batch_detail", batch_id=batch.id))


@bp.route("/batches/<int:batch_id>/revoke", methods=["GET", "POST"])
@access("grassroots", objects={"batch_id": CardBatch}, **APPLYING)
def revoke(batch):
    """撤销办卡批次: the grassroots union asks its district to revoke a batch still 待报送."""
    reason = request.form.get("reason", "")
    if request.method == "GET":
        return render_page("cards/revoke.html", "form", batch=batch, error=None, reason="")
    try:
        card_batches.request_revoke(batch, acting_account(), reason)
    except DomainError as exc:
        return render_page("cards/revoke.html", "form", status=exc.status, batch=batch, error=exc.message,
                           reason=reason)
    flash(f"已提交撤销办卡批次 {batch.number} 的申请，等待区局（产业）工会审核", "success")
    return redirect_to(url_for("cards.batch_detail", batch_id=batch.id))


# --- 撤销办卡批次审核 -------------------------------------------------------------------------------
@bp.route("/revokes")
@access("district", "grassroots")
def revokes():
    """撤销办卡批次审核 (district: decide; grassroots: its own requests)."""
    state = normalize(request.args.get("status", card_batches.PENDING_REVOKE))
    state = state if state in card_batches.REVOKE_STATUSES else ""
    page = paginate(card_batches.revoke_list(scoped(CardRevokeRequest, current_user), state))
    return render_page("cards/revokes.html", "rows", page=page, state=state, states=card_batches.REVOKE_STATUSES,
                       # may_decide_revoke without a query per row: a listed request is in scope, so
                       # one not of the district's own union is below it
                       decides=lambda r: current_user.is_admin or (current_user.is_district_union
                                                                   and r.org_id != current_user.org_id))


@bp.route("/revokes/<int:req_id>/<any(approve, reject):action>", methods=["POST"])
@access("district", objects={"req_id": CardRevokeRequest})
def decide(req, action):
    """通过 (the batch is 已撤销, its people back on the 待办会员列表) or 驳回 (须填写审核说明)."""
    note = request.form.get("note", "")
    try:
        card_batches.decide_revoke(req, action, acting_account(), note)
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    flash(f"已{'通过' if action == 'approve' else '驳回'}办卡批次 {req.batch.number} 的撤销申请", "success")
    return redirect_to(url_for("cards.revokes"))


# --- 开卡回盘导入 ---------------------------------------------------------------------------------
@bp.route("/returns", methods=["GET", "POST"])
@access("centre", "district")
def returns():
    """开卡回盘导入: the bank's return file (证件号码, 卡号, 开卡日期)."""
    history = recent_jobs(card_return.KIND)
    return upload_page("cards/returns.html", lambda data, name: card_return.submit(acting_account(), data, name),
                       "cards.return_result", "请选择要导入的开卡回盘文件", history=history, names=file_names(history))


@bp.route("/returns/template")
@access("centre", "district")
def return_template():
    return _attachment(card_return.return_template(), "开卡回盘导入模板.xlsx")


@bp.route("/returns/<int:job_id>")
@access("centre", "district", objects={"job_id": Job})
def return_result(job):
    """The import's progress, then 开卡 N 人 and every rejected row with its reason."""
    if job.kind != card_return.KIND:
        return redirect(url_for("jobs.detail", job_id=job.id))
    return job_progress(job, "cards/return_result.html", "result", data=job.result_data)
