"""在职职工互助保障 → 互助保障年度设置 (the centre; 市总工会 reads; the admin may act too): the list of
protection years (1 Jul – 30 Jun), 新建保障年度, and a year's page with three sections saved one at
a time — 收款账户, 参保时间窗口 (集中参保 / 即时参保), 保障项目价格. With htmx a section's form swaps
itself (its fragment, with the message or the refusals); without JavaScript the whole page comes
back (422 with the refusals, or a redirect with the message)."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from models.base import DomainError, FieldErrors
from models.mutual_aid import year_settings, years
from models.mutual_aid.years import AidWindow, AidYear
from models.rules.fees import yuan
from views.access import access, acting_account, is_fragment_request, redirect_to, refuse, render_page

bp = Blueprint("mutual_aid_years", __name__, url_prefix="/mutual-aid/years")

SECTIONS = {
    "account": (year_settings.set_account, "收款账户"),
    "windows": (year_settings.set_windows, "参保时间窗口"),
    "prices": (year_settings.set_prices, "保障项目价格"),
}
REFUSAL = "只有上海市职工保障互助会可以修改互助保障年度设置"


def _listing():
    rows = []
    for aid_year in AidYear.select().order_by(AidYear.year.desc()):
        windows = {w.kind: w for w in AidWindow.select().where(AidWindow.year == aid_year.id)}
        rows.append((aid_year, windows))
    return rows


@bp.route("", methods=["GET", "POST"])
@access("centre", "city")
def index():
    """The years, and 新建保障年度 (the centre)."""
    error = None
    if request.method == "POST":
        if not current_user.acts_for_centre:
            return refuse("只有上海市职工保障互助会可以新建保障年度")
        try:
            created = year_settings.new_year(request.form.get("year"), acting_account())
        except DomainError as exc:
            error = exc.message
        else:
            flash(f"已新建{created}，已按参考数据设置收款账户、参保时间窗口和保障项目价格，请逐项核对", "success")
            return redirect_to(url_for("mutual_aid_years.detail", year_id=created.id))
    return render_page("mutual_aid_years/index.html", rows=_listing(), kinds=years.KINDS, error=error,
                       edit=current_user.acts_for_centre, status=422 if error else 200)


@bp.route("/<int:year_id>", methods=["GET", "POST"])
@access("centre", "city", objects={"year_id": AidYear})
def detail(year):
    """One year's settings; a POST saves one section (`section` = account | windows | prices)."""
    errors, saved, section = {}, {}, None
    if request.method == "POST":
        if not current_user.acts_for_centre:
            return refuse(REFUSAL)
        section = request.form.get("section")
        if section not in SECTIONS:
            abort(400)
        operation, name = SECTIONS[section]
        try:
            changed = operation(year, request.form, acting_account())
        except FieldErrors as exc:
            errors = exc.errors
        else:
            message = f"已保存{name}" if changed else f"{name}没有变化，未作修改"
            if not is_fragment_request():
                flash(message, "success")
                return redirect(url_for("mutual_aid_years.detail", year_id=year.id))
            saved[section] = message
    year = AidYear.get_by_id(year.id)
    windows = {w.kind: w for w in AidWindow.select().where(AidWindow.year == year.id)}
    return render_page("mutual_aid_years/detail.html", section, year=year, windows=windows,
                       window_fields=year_settings.WINDOW_FIELDS, account_fields=year_settings.ACCOUNT_FIELDS,
                       items=years.items_of(year), combo=(year_settings.COMBO_FIELD, year_settings.COMBO_LABEL),
                       form={**year_settings.price_form(year), **(request.form.to_dict() if errors else {})},
                       errors=errors, saved=saved,
                       edit=current_user.acts_for_centre, yuan=yuan, status=422 if errors else 200)
