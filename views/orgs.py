"""组织管理: 修改信息 (own organisation), 组织信息 / 组织列表 / 覆盖企业, and for superiors:
新增下级组织, 修改, 移动, 撤销. The writes are models/orgs/org_changes.py's; 组织审核 is
views/org_requests.py, the 覆盖企业 forms views/org_enterprises.py."""


from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from forms import choices
from forms.orgs import MoveForm, OrgCreateForm, OrgEditForm, OrgForm, ReasonForm
from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.orgs import enterprises as enterprise_rules
from models.orgs import org_changes, org_requests
from models.orgs.org_import import CREATABLE_TYPES
from models.orgs.organizations import ACTIVE, CLOSED, LEVELS, TOP_LEVELS, TYPES, Enterprise, Organization
from models.stats.dashboard import dashboard_root
from views.access import access, acting_account, put_errors, redirect_to, render_page, superior_of
from views.paging import paginate

bp = Blueprint("orgs", __name__, url_prefix="/orgs")
EDITABLE = ("name", "uscc", "union_no", "address", "contact", "phone")


def below(org) -> bool:
    """The organisation is strictly below the account's own (or the account is the admin)."""
    return superior_of(current_user, org.id)


def refuse_unless(condition: bool, message: str, status: int = 403):
    if not condition:
        raise DomainError(message, status)


def _values(form, org=None) -> dict:
    """The form's organisation fields (工会类型 and 层级 where the form has them)."""
    values = {name: (getattr(form, name).data or None) if name in ("uscc", "union_no")
              else (getattr(form, name).data or "") for name in EDITABLE}
    if isinstance(form, OrgForm):
        values["type"] = form.type.data
        values["level"] = org_changes.level_of(form.type.data, form.level.data, org)
    return values


def _posted(form, save) -> tuple:
    """(save()'s outcome,) on a POST whose form is valid; () on GET, on an invalid form, and when
    the model refuses fields (FieldErrors, put on the form)."""
    if request.method != "POST" or not form.validate():
        return ()
    try:
        return (save(),)
    except FieldErrors as exc:
        put_errors(form, exc.errors)
        return ()


def _status(form) -> int:
    return 422 if request.method == "POST" else 200


# --- 修改信息 (own organisation) ----------------------------------------------------------------
@bp.route("/mine/edit", methods=["GET", "POST"])
@access(writes=True)
def edit_own():
    org = Organization.get_by_id(current_user.org_id)
    form = OrgEditForm(obj=org) if request.method == "GET" else OrgEditForm()
    waiting = org_requests.waiting_change(org)
    if done := _posted(form, lambda: org_changes.edit_own(org, _values(form), by=acting_account())):
        changes, filed = done[0]
        if filed:
            flash("组织名称、统一社会信用代码、工会编号的修改已提交上级工会审核，审核通过后生效"
                  + ("；其他信息已保存" if changes else ""), "success")
        else:
            flash("修改成功" if changes else "信息未改动", "success")
        return redirect(url_for("orgs.edit_own"))
    return render_page("orgs/edit.html", "form", form=form, org=org, status=_status(form), waiting=waiting)


# --- 组织信息 / 组织列表 / 覆盖企业 --------------------------------------------------------------
@bp.route("/")
@access()
def tree():
    org = current_user.org
    children = Organization.select().where(Organization.parent == org).order_by(Organization.name)
    q = (request.args.get("q") or "").strip()
    if q:
        children = children.where(Organization.name.contains(q))
    # a grassroots union has no list of the organisations below it
    show_children = current_user.is_reviewer or current_user.sees_whole_city
    page = paginate(children, per_page=15) if show_children else None
    return render_page("orgs/tree.html", "children", org=org, page=page, q=q,
                       ancestors=org.ancestors())


@bp.route("/<int:org_id>")
@access(objects={"org_id": Organization})
def detail(org):
    enterprises = Enterprise.select().where(Enterprise.org == org).order_by(Enterprise.name)
    children = Organization.select().where(Organization.parent == org).order_by(Organization.name)
    log = AuditLog.for_object(org).limit(50)
    return render_page("orgs/detail.html", org=org, enterprises=enterprises,
                       children=paginate(children, per_page=15), log=log,
                       ancestors=org.ancestors(), can=_permissions(org))


def _permissions(org) -> dict:
    manages = current_user.is_admin or current_user.is_reviewer  # the admin, a district or secondary union
    is_below = below(org)
    direct = not current_user.needs_org_approval
    return {
        "create": manages and not org.is_closed and (is_below or org.id == current_user.org_id),
        "edit": manages and is_below and not org.is_closed,
        "move": direct and manages and is_below and not org.is_closed and org.level not in TOP_LEVELS,
        "close": direct and manages and is_below and not org.is_closed,
        "accounts": manages and is_below,
        "enterprises": current_user.manages_enterprises and (is_below or org.id == current_user.org_id),
    }


@bp.route("/list")
@access()
def listing():
    """Every organisation of the account's subtree (filters: 单位名称, 层级, 状态)."""
    root = dashboard_root(current_user)
    query = root.subtree()
    q = (request.args.get("q") or "").strip()
    level = request.args.get("level") or ""
    status = request.args.get("status", ACTIVE)
    if status not in (ACTIVE, CLOSED):
        status = "all"  # 全部状态 (also an empty or unknown value: the select then shows what is listed)
    if q:
        query = query.where(Organization.name.contains(q))
    if level in LEVELS:
        query = query.where(Organization.level == level)
    if status != "all":
        query = query.where(Organization.status == status)
    page = paginate(query.order_by(Organization.depth, Organization.name, Organization.id), per_page=15,
                    key=Organization.id)
    return render_page("orgs/listing.html", "rows", page=page, root=root, q=q, level=level,
                       status_filter=status, levels=LEVELS, statuses=(ACTIVE, CLOSED))


@bp.route("/enterprises")
@access()
def enterprises():
    """覆盖企业: the enterprises covered by the unions of the account's subtree."""
    root = dashboard_root(current_user)
    query = (Enterprise.select(Enterprise, Organization).join(Organization)
             .where(Enterprise.org.in_(root.subtree_ids())))
    q = (request.args.get("q") or "").strip()
    if q:
        query = query.where(Enterprise.name.contains(q))
    page = paginate(query.order_by(Enterprise.name), per_page=15)
    # Everything listed is the account's own union or below it: a writing role manages it all.
    writes = current_user.manages_enterprises
    return render_page("orgs/enterprises.html", "rows", page=page, root=root, q=q, writes=writes,
                       own_covers=writes and enterprise_rules.covers_enterprises(current_user.org))


# --- 新增下级组织 / 修改 --------------------------------------------------------------------------
def _type_choices(parent):
    if parent.level == "grassroots":
        return choices(["分工会/工会小组"])
    types = TYPES if current_user.is_admin else CREATABLE_TYPES
    return choices([("", "请选择")] + [t for t in types if t != "市总工会"])


@bp.route("/<int:org_id>/new", methods=["GET", "POST"])
@access("district", "secondary", objects={"org_id": Organization})
def create(org):
    """新增下级组织 under `org` (a district acts at once; a secondary union's request waits
    for 组织审核)."""
    refuse_unless(below(org) or org.id == current_user.org_id, "只能在本单位或下级组织下新增组织")
    refuse_unless(not org.is_closed, f"「{org.name}」已撤销，不能新增下级组织", 409)
    form = OrgCreateForm()
    form.type.choices = _type_choices(org)
    add = org_changes.request_add if current_user.needs_org_approval else org_changes.add
    done = _posted(form, lambda: add(org, _values(form), (form.enterprise_name.data, form.enterprise_uscc.data),
                                     by=acting_account()))
    if done and current_user.needs_org_approval:
        flash("已提交新建组织申请，等待上级工会审核", "success")
        return redirect_to(url_for("org_requests.detail", req_id=done[0].id))
    if done:
        child, first = done[0]
        flash(f"已新增组织「{child.name}」" + (f"及覆盖企业「{first[0]}」" if first else ""), "success")
        return redirect_to(url_for("orgs.detail", org_id=child.id))
    return render_page("orgs/form.html", "form", form=form, parent=org, org=None, status=_status(form),
                       action=url_for("orgs.create", org_id=org.id), title="新增下级组织")


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@access("district", "secondary", objects={"org_id": Organization})
def edit(org):
    """修改 an organisation below the account's own (a district at once; a secondary union's
    change waits for 组织审核)."""
    if org.id == current_user.org_id:
        return redirect(url_for("orgs.edit_own"))
    refuse_unless(below(org), "只能修改下级组织的信息")
    refuse_unless(not org.is_closed, f"「{org.name}」已撤销，不能修改", 409)
    form = OrgForm(obj=org) if request.method == "GET" else OrgForm()
    form.type.choices = _type_choices(org.parent) if org.parent else choices([org.type])
    if request.method == "GET" and org.type == "联合工会":
        form.level.data = org.level
    if current_user.needs_org_approval:
        done = _posted(form, lambda: org_changes.request_edit(org, _values(form, org), by=acting_account()))
        if done and done[0] is None:
            flash("信息未改动", "success")
        elif done:
            flash("修改申请已提交，等待上级工会审核", "success")
            return redirect_to(url_for("org_requests.detail", req_id=done[0].id))
    else:
        done = _posted(form, lambda: org_changes.edit(org, _values(form, org), by=acting_account()))
        if done:
            flash("修改成功", "success")
    if done:
        return redirect_to(url_for("orgs.detail", org_id=org.id))
    return render_page("orgs/form.html", "form", form=form, parent=org.parent, org=org, status=_status(form),
                       action=url_for("orgs.edit", org_id=org.id), title="修改组织信息")


# --- 移动 / 撤销 ------------------------------------------------------------------------------
@bp.route("/<int:org_id>/move", methods=["GET", "POST"])
@access("district", objects={"org_id": Organization})
def move(org):
    """移动: change the parent of an organisation below the account's own."""
    refuse_unless(below(org), "只能移动下级组织")
    form = MoveForm()
    if done := _posted(form, lambda: org_changes.move(org, form.target.data, dashboard_root(current_user),
                                                       by=acting_account())):
        flash(f"已将「{org.name}」移到「{done[0].name}」之下", "success")
        return redirect_to(url_for("orgs.detail", org_id=org.id))
    return render_page("orgs/move.html", "form", form=form, org=org, status=_status(form))


@bp.route("/<int:org_id>/close", methods=["GET", "POST"])
@access("district", objects={"org_id": Organization})
def close(org):
    """撤销: refused with the reasons while the organisation has members, open children or
    open business (later areas add their checks)."""
    refuse_unless(below(org), "只能撤销下级组织")
    refuse_unless(not org.is_closed, f"「{org.name}」已撤销", 409)
    form = ReasonForm()
    blockers = org.close_blockers()
    if blockers:
        status = 409 if request.method == "POST" else 200
    elif _posted(form, lambda: org_changes.close(org, form.reason.data, by=acting_account())):
        flash(f"已撤销「{org.name}」，其账号已停用", "success")
        return redirect_to(url_for("orgs.detail", org_id=org.id))
    else:
        status = _status(form)
    return render_page("orgs/close.html", "form", form=form, org=org, blockers=blockers, status=status)
