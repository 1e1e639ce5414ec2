"""会员专享基本保障 settings: 保障年度设置 (centre: years, windows, receiving account, signatures,
credits, special subsidy groups), 保障类型管理 (centre edits; districts and the city read), and
保障金额设置 (district: 基层缴费设置 of each type, only in its window).

Settings are shared by the whole city; the routes that change them are the centre's. The district's
fee-split dialog takes the type as a query argument (`?type=`) and looks it up among the chosen
year's types.
"""

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from models.base import DomainError, FieldErrors, today
from models.enroll import plan_settings, plans, status_import
from models.enroll.plans import Credit, ProtectionType, ProtectionYear, Window
from models.orgs.organizations import ACTIVE, Organization
from models.rules.fees import yuan
from models.rules.text import normalize, parse_moment
from views.access import access, acting_account, form_ids, int_arg, redirect_to, refuse, render_page
from views.uploads import kinds_posted, recent_jobs

bp = Blueprint("plans", __name__, url_prefix="/plans")
MONEY, MONEY_LABELS = plan_settings.MONEY, plan_settings.MONEY_LABELS



def chosen_year() -> ProtectionYear | None:
    """?year=2027, else the year being enrolled: the latest year not after next year."""
    wanted = int_arg(request.args.get("year"))
    if wanted:
        return plans.get_year(wanted)
    return (ProtectionYear.select().where(ProtectionYear.year <= today().year + 1)
            .order_by(ProtectionYear.year.desc()).first())


def _years():
    return list(ProtectionYear.select().order_by(ProtectionYear.year.desc()))


# --- 保障年度设置 (centre) ---------------------------------------------------------------------------
@bp.route("/years", methods=["GET", "POST"])
@access("centre", "city")
def years():
    if request.method == "POST":
        if not current_user.acts_for_centre:
            return refuse("只有市职保中心可以新建保障年度")
        try:
            created = plan_settings.new_year(int_arg(request.form.get("year")), acting_account())
        except DomainError as exc:
            return render_page("plans/years.html", years=_years(), error=exc.message, status=422)
        flash(f"已新建{created.year}年度，并按参考数据设置了保障类型和时间窗口，请逐项核对", "success")
        return redirect_to(url_for("plans.year_detail", year_id=created.id))
    return render_page("plans/years.html", years=_years(), error=None)


@bp.route("/years/<int:year_id>", methods=["GET", "POST"])
@access("centre", "city", objects={"year_id": ProtectionYear})
def year_detail(year):
    """One year: receiving account and signatures, the windows, credits per district."""
    errors = {}
    if request.method == "POST":
        if not current_user.acts_for_centre:
            return refuse("只有市职保中心可以修改保障年度设置")
        section = request.form.get("section")
        if section not in ("account", "windows", "claims", "credit"):
            abort(400)
        try:
            done = _save_section(year, section, errors)
        except DomainError as exc:
            errors[section] = exc.message
        else:
            if done:
                flash(done, "success")
                return redirect(url_for("plans.year_detail", year_id=year.id))
    windows = {w.kind: w for w in Window.select().where(Window.year == year.id)}
    credits = list(Credit.select(Credit, Organization).join(Organization).where(Credit.year == year.id)
                   .order_by(Organization.name))
    districts = list(Organization.select().where((Organization.level == "district")
                                                 & (Organization.status == ACTIVE)).order_by(Organization.name))
    return render_page("plans/year.html", year=year, windows=windows, labels=plans.WINDOWS, credits=credits,
                       districts=districts, errors=errors, form=request.form, edit=current_user.acts_for_centre,
                       status=422 if errors else 200)


def _save_section(year, section: str, errors: dict) -> str | None:
    """One section of the year's form saved: the message to flash, or None when `errors` (the
    windows' own, one per window) stop it; DomainError for the section's one error."""
    form, by = request.form, acting_account()
    if section == "account":
        plan_settings.save_account(year, form, by)
        return "已保存收款账户和告知书落款"
    if section == "claims":
        plan_settings.set_claims_deadline(year, form.get("claims_deadline"), by)
        return f"已保存{year.year}年度的给付申请材料截止日期"
    if section == "credit":
        district, amount = plan_settings.set_credit(year, int_arg(form.get("district")), form.get("amount"),
                                                    form.get("note"), by)
        return f"已保存{district.name}的{year.year}年度抵扣金额 {yuan(amount)}元"
    parsed = {}
    for kind, label in plans.WINDOWS.items():  # errors[kind]: the row's message; errors[kind_at]: its input
        moments = []
        for end, at in ((False, "starts"), (True, "ends")):
            try:
                moments.append(parse_moment(form.get(f"{kind}_{at}", ""), end))
            except ValueError:
                errors[kind], errors[f"{kind}_at"] = f"{label}：时间格式应为 年-月-日 时:分", at
                break
        if kind in errors:
            continue
        parsed[kind] = tuple(moments)
        if parsed[kind][1] < parsed[kind][0]:
            errors[kind], errors[f"{kind}_at"] = f"{label}：结束时间不能早于开始时间", "ends"
    if errors:
        return None
    plan_settings.set_windows(year, parsed, by)
    return "已保存时间窗口"


@bp.route("/special", methods=["GET", "POST"])
@access("centre", "city")
def special():
    """特殊补贴单位: the district / industry unions whose members get the special city subsidy."""
    if request.method == "POST":
        if not current_user.acts_for_centre:
            return refuse("只有市职保中心可以设置特殊补贴单位")
        chosen = set(form_ids("org"))
        if request.form.get("confirmed") != "1":
            # Shown before saving: each district's tick and every split it changes.
            flags = plan_settings.special_flags(chosen)
            changes = plan_settings.split_changes(flags={d.id: flag for d, flag in flags.items()})
            return render_page("plans/split_confirm.html", title="确认保存特殊补贴单位", flags=flags, changes=changes,
                               action=url_for("plans.special"), back=url_for("plans.special"),
                               hidden=[("org", i) for i in sorted(chosen)], rule=plan_settings.REBALANCE_RULE,
                               yuan=yuan)
        changes = plan_settings.set_special(chosen, acting_account())
        told = f"；已调整{len(changes)}项保障金额设置并通知相关区局（产业）工会" if changes else ""
        flash("已保存特殊补贴单位" + told, "success")
        return redirect_to(url_for("plans.special"))
    districts = list(Organization.select().where(Organization.level == "district").order_by(Organization.name))
    return render_page("plans/special.html", districts=districts, rule=plan_settings.REBALANCE_RULE,
                       edit=current_user.acts_for_centre)


# --- 保障类型管理 -----------------------------------------------------------------------------------
@bp.route("/types")
@access("centre", "city", "district")
def types():
    """保障类型管理 (seed 002: read-only in the district's menu)."""
    year = chosen_year()
    return render_page("plans/types.html", year=year, years=_years(), types=plans.types_of(year) if year else [],
                       edit=current_user.acts_for_centre, yuan=yuan)


@bp.route("/years/<int:year_id>/types/new", methods=["GET", "POST"])
@access("centre", objects={"year_id": ProtectionYear})
def new_type(year):
    return _type_form(year, None)


@bp.route("/types/<int:ptype_id>/edit", methods=["GET", "POST"])
@access("centre", objects={"ptype_id": ProtectionType})
def edit_type(ptype):
    return _type_form(ptype.year, ptype)


def _type_form(year, ptype):
    errors, values = {}, {}
    if request.method == "POST":
        try:
            values = plan_settings.type_values(year, ptype, request.form)
        except FieldErrors as exc:
            errors = exc.errors
        else:
            changes = plan_settings.type_changes(ptype, values) if ptype else []
            if changes and request.form.get("confirmed") != "1":
                # The districts' splits follow the new amounts: shown before saving.
                return render_page("plans/split_confirm.html", title=f"确认修改保障类型「{values['name']}」",
                                   flags={}, changes=changes, rule=plan_settings.REBALANCE_RULE, yuan=yuan,
                                   action=url_for("plans.edit_type", ptype_id=ptype.id),
                                   back=url_for("plans.edit_type", ptype_id=ptype.id),
                                   hidden=[(k, request.form.get(k, "")) for k in ("code", "name", "benefits", *MONEY)])
            saved = plan_settings.save_type(year, ptype, values, acting_account())
            flash(f"已保存保障类型「{saved.name}」", "success")
            return redirect_to(url_for("plans.types", year=year.year))
    elif ptype:
        values = {"code": ptype.code, "name": ptype.name, "benefits": ptype.benefits,
                  **{k: getattr(ptype, k) for k in MONEY}}
    shown = {k: (yuan(v) if isinstance(v, int) and k in MONEY else v) for k, v in values.items()}
    if request.method == "POST":
        shown = {k: request.form.get(k, "") for k in ("code", "name", "benefits", *MONEY)}
    return render_page("plans/type_form.html", "form", year=year, ptype=ptype, values=shown, errors=errors,
                       labels=MONEY_LABELS, money=MONEY, status=422 if errors else 200)


# --- 保障金额设置 (district) ------------------------------------------------------------------------
@bp.route("/split")
@access("district")
def split():
    """保障金额设置: 保障类型名称, 参保费用, 市总统一划拨(元/人), 区局默认缴纳(元/人), 基层缴纳(元/人)."""
    district = current_user.org
    year = chosen_year()
    name = normalize(request.args.get("name"))
    rows = []
    special_ = plans.is_special(district)
    for t in plans.types_of(year) if year else []:
        if name and name not in t.name:
            continue
        rows.append((t, plans.split_of(district, t), t.fees.subsidy(False, special_)))
    window = plans.window_state(year, "fee_split", district)
    return render_page("plans/split.html", "rows", year=year, years=_years(), rows=rows, name=name,
                       window=window, yuan=yuan)


def _split_type(year) -> ProtectionType:
    ptype = ProtectionType.get_or_none((ProtectionType.id == int_arg(request.values.get("type")))
                                       & (ProtectionType.year == (year.id if year else 0)))
    if ptype is None:
        abort(404)
    return ptype


@bp.route("/split/edit", methods=["GET", "POST"])
@access("district")
def split_edit():
    """基层缴费设置: 参保费用 and 市总统一划拨 fixed; the district sets the other two parts."""
    district = current_user.org
    year = chosen_year()
    ptype = _split_type(year)
    current = plans.split_of(district, ptype)
    special_ = plans.is_special(district)
    error = None
    values = {"district_part": yuan(current.district_part) if current else "",
              "grassroots_part": yuan(current.grassroots_part) if current else ""}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            plans.save_split(district, ptype, values["district_part"], values["grassroots_part"], acting_account())
        except DomainError as exc:
            error = exc.message
        else:
            flash(f"已保存「{ptype.name}」的保障金额设置", "success")
            return redirect_to(url_for("plans.split", year=year.year))
    window = plans.window_state(year, "fee_split", district)
    y = year.year
    return render_page("plans/split_form.html", "form", year=year, ptype=ptype, values=values, error=error,
                       window=window, city=yuan(ptype.fees.subsidy(False, special_)), fee=yuan(ptype.full_fee),
                       valid_from=current.valid_from if current else plans.day_start(date(y, 1, 1)),
                       valid_to=current.valid_to if current else plans.day_end(date(y, 12, 31)),
                       status=(409 if not window.open else 422) if error else 200)


# --- 社保状态导入 / 个人参保导入 (centre) ---------------------------------------------------------------
@bp.route("/imports", methods=["GET", "POST"])
@access("centre")
def imports():
    """The bureau's status file into the registry, and 申工社 enrollments (both background jobs):
    two upload forms on one page, a refusal shown under its own form."""
    errors = {}
    if request.method == "POST":
        done, errors = kinds_posted(status_import.KINDS, status_import.submit)
        if done:
            return done
    return render_page("plans/imports.html", kinds=status_import.KINDS, errors=errors,
                       history=recent_jobs(*status_import.KINDS), status=422 if errors else 200)
