"""在职职工互助保障 → 参保批次 → 保障项目选择 (seed 004 集中参保操作流程 （四）, 即时参保操作流程 4):
tick the items (the year's fee table: 保费一览表 with 待遇), 生成保费信息, 提交确认保费, 保费详细 (each
person's premium, paged, and the Excel file) — over models/mutual_aid/premium_ops.py.

The unit that owns the batch's insurance code acts; the centre, the 市总工会 and the unions above
the unit look (read-only: no form is shown, and the operations refuse them).
"""

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from models.audit import AuditLog
from models.base import DomainError
from models.mutual_aid import premium_ops, years
from models.mutual_aid.batches import AWAIT_VOUCHER, CHOOSE_ITEMS, AidBatch
from models.mutual_aid.roster_list import next_steps
from models.orgs.accounts import AID_UNIT_ROLES, ROLES
from models.rules import mutual_fees
from models.rules.fees import yuan
from views.access import access, acting_account, int_arg, redirect_to, render_page, xlsx_response
from views.paging import paginate

bp = Blueprint("mutual_aid_items", __name__, url_prefix="/mutual-aid/batches")

UNIT_ROLES = tuple(r for r in AID_UNIT_ROLES if r in ROLES)  # grassroots (and 企业 once it exists)
LOOKING_ROLES = UNIT_ROLES + ("centre", "city", "district", "secondary")


def _page(batch, error=None, status=200, ticked=None):
    mine = batch.code.account_id == current_user.id
    locked = premium_ops.central_items(batch)
    chosen = premium_ops.chosen_items(batch)
    cover = premium_ops.coverage_row(batch)
    window = years.window_state(batch.year, batch.kind, batch.code)
    prices = {i.code: i for i in years.items_of(batch.year)}
    half = cover.half if cover else _half_now(batch)
    ticked = ticked if ticked is not None else (locked or chosen)
    return render_page(
        "mutual_aid_items/items.html", status=status, batch=batch, mine=mine, locked=locked, ticked=set(ticked),
        chosen=chosen, cover=cover, window=window, items=mutual_fees.ITEMS, codes=mutual_fees.CODES,
        prices=prices, lines=mutual_fees.LINES, half=half, year=batch.year, error=error,
        can_choose=mine and batch.status == CHOOSE_ITEMS and window.open and not current_user.is_read_only,
        totals=premium_ops.item_totals(batch) if cover and chosen else [],
        people=sum(premium_ops.class_counts(batch).values()), deadline=premium_ops.payment_deadline(batch),
        waiting=premium_ops.waiting_notes(batch, cover),
        combo=batch.year.basic_combo_fee, log=AuditLog.for_object(batch).limit(30), CHOOSE_ITEMS=CHOOSE_ITEMS,
        AWAIT_VOUCHER=AWAIT_VOUCHER, next_steps=next_steps)


def _half_now(batch) -> bool | None:
    """半年 / 全年 before 生成保费信息 (None when the start is not known yet)."""
    try:
        start, _ = premium_ops.coverage_dates(batch)
    except DomainError:
        return None
    return start.month <= 6 and batch.kind == years.INSTANT


@bp.route("/<int:batch_id>/items", methods=["GET", "POST"])
@access(*LOOKING_ROLES, objects={"batch_id": AidBatch})
def items(batch):
    """保障项目选择: GET the page; POST action=generate (生成保费信息, with the ticked items) or
    action=confirm (提交确认保费, with the total the page showed)."""
    if request.method == "GET":
        return _page(batch)
    action = request.form.get("action")
    ticked = [code[:8] for code in request.form.getlist("items")[:len(mutual_fees.CODES) * 2]]  # bounded echo
    try:
        if action == "generate":
            batch = premium_ops.generate(batch, ticked, acting_account())
            flash(f"保费信息已生成：{yuan(batch.premium_total)}元，请核对后点击【提交确认保费】",
                  "success")
        elif action == "confirm":
            shown = int_arg(request.form.get("total"), default=None)
            batch = premium_ops.confirm(batch, acting_account(), shown if shown is not None else -1)
            flash("保费已确认，请于15天内将保费汇至收款账户并上传缴费凭证", "success")
        else:
            raise DomainError("请选择操作：生成保费信息或提交确认保费", 422)
    except DomainError as exc:
        return _page(AidBatch.get_by_id(batch.id), error=exc.message, status=exc.status,
                     ticked=ticked if action == "generate" else None)
    return redirect_to(url_for("mutual_aid_items.items", batch_id=batch.id))


@bp.route("/<int:batch_id>/premiums")
@access(*LOOKING_ROLES, objects={"batch_id": AidBatch})
def premiums(batch):
    """保费详细: each person's premium (paged) and the totals by item."""
    item = request.args.get("item", "")
    item = item if item in mutual_fees.ITEMS or item == mutual_fees.DISCOUNT_LINE else ""
    page = paginate(premium_ops.people_paying(batch, item) if item else premium_ops.people_query(batch))
    masked = not current_user.sees_full_numbers
    start = page.first or 1
    rows = list(premium_ops.detail_rows(batch, page.items, masked))
    for i, row in enumerate(rows):
        row[0] = start + i
    return render_page("mutual_aid_items/premiums.html", "rows", batch=batch, page=page, rows=rows,
                       columns=premium_ops.DETAIL_COLUMNS, totals=premium_ops.item_totals(batch), item=item,
                       cover=premium_ops.coverage_row(batch), next_steps=next_steps)


@bp.route("/<int:batch_id>/premiums.xlsx")
@access(*LOOKING_ROLES, objects={"batch_id": AidBatch})
def premiums_xlsx(batch):
    """保费详细 as Excel (ID numbers masked for the read-only 市总工会)."""
    data = premium_ops.premium_workbook(batch, masked=not current_user.sees_full_numbers)
    return xlsx_response(data, f"保费详细_{batch.code.code or batch.id}_{batch.year.year}年度{batch.kind}.xlsx",
                         slug=f"premiums-{batch.id}")
