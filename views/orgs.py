"""组织管理: 修改信息 (own organisation), 组织信息 / 组织列表 / 覆盖企业, and for superiors:
新增下级组织, 修改, 移动, 撤销, 组织导入, 组织审核 (approving what lower levels submit)."""


from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from peewee import IntegrityError

from forms import choices
from forms.orgs import MoveForm, OrgCreateForm, OrgEditForm, OrgForm, ReasonForm
from models import db, messages
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.orgs import enterprises as enterprise_rules
from models.orgs import org_requests as requests_
from models.orgs.accounts import REVIEWING_ROLES as REVIEWING
from models.orgs.org_import import CREATABLE_TYPES
from models.orgs.org_requests import IDENTITY, OrgRequest
from models.orgs.organizations import ACTIVE, CLOSED, DEFAULT_LEVEL, LEVELS, TYPES, Enterprise, Organization
from models.stats.dashboard import dashboard_root
from views.access import access, redirect_to, render_page, superior_of
from views.paging import paginate

bp = Blueprint("orgs", __name__, url_prefix="/orgs")
EDITABLE = ("name", "uscc", "union_no", "address", "contact", "phone")
LABELS = {"name": "组织名称", "uscc": "统一社会信用代码", "union_no": "工会编号", "address": "单位地址",
          "contact": "联系人", "phone": "联系电话", "type": "工会类型", "level": "层级"}
UNIQUE_FIELDS = {"name": "组织名称", "uscc": "统一社会信用代码", "union_no": "工会编号"}
# Levels whose own changes and creations apply at once; lower levels go through 组织审核.
DIRECT = ("admin", "city", "centre", "district")


def acts_directly(account) -> bool:
    return account.role in DIRECT


def below(org) -> bool:
    """The organisation is strictly below the account's own (or the account is the admin)."""
    return superior_of(current_user, org.id)


def refuse_unless(condition: bool, message: str, status: int = 403):
    if not condition:
        raise DomainError(message, status)


# --- 修改信息 (own organisation) ----------------------------------------------------------------
@bp.route("/mine/edit", methods=["GET", "POST"])
@access(writes=True)
def edit_own():
    org = Organization.get_by_id(current_user.org_id)
    form = OrgEditForm(obj=org) if request.method == "GET" else OrgEditForm()
    status = 200
    waiting = OrgRequest.select().where((OrgRequest.target == org.id)
                                        & (OrgRequest.status == requests_.PENDING)).first()
    if request.method == "POST":
        status = 422
        if form.validate():
            new = _values(form, EDITABLE)
            identity = {k: v for k, v in new.items() if k in IDENTITY and (getattr(org, k) or None) != v}
            if identity and not acts_directly(current_user):
                if waiting is not None:
                    form.name.errors = ["已有待审核的修改申请，请等待上级工会审核或先撤回"]
                    return render_page("orgs/edit.html", "form", form=form, org=org, status=422,
                                       waiting=waiting)
                if _unique_clash(form, identity, org.id):
                    return render_page("orgs/edit.html", "form", form=form, org=org, status=422,
                                       waiting=waiting)
                rest = {k: v for k, v in new.items() if k not in IDENTITY}
                with db.atomic():
                    changes = _save(org, form, rest) or {}
                    requests_.submit(requests_.CHANGE, current_user, identity, target=org)
                    _notify_superior(org, f"「{org.name}」提交了修改信息申请")
                flash("组织名称、统一社会信用代码、工会编号的修改已提交上级工会审核，审核通过后生效"
                      + ("；其他信息已保存" if changes else ""), "success")
                return redirect(url_for("orgs.edit_own"))
            changes = _save(org, form, new)
            if changes is not None:
                flash("修改成功" if changes else "信息未改动", "success")
                return redirect(url_for("orgs.edit_own"))
    return render_page("orgs/edit.html", "form", form=form, org=org, status=status, waiting=waiting)


def _values(form, names) -> dict:
    return {name: (getattr(form, name).data or None) if name in ("uscc", "union_no")
            else (getattr(form, name).data or "") for name in names}


def _unique_clash(form, new: dict, org_id=None) -> bool:
    """Put a field error and return True when a unique value is taken (or claimed by a
    request still waiting)."""
    for name, label in UNIQUE_FIELDS.items():
        value = new.get(name)
        if not value:
            continue
        query = Organization.select().where(getattr(Organization, name) == value)
        if org_id is not None:
            query = query.where(Organization.id != org_id)
        if query.exists():
            getattr(form, name).errors = [f"该{label}已被其他组织使用"]
            return True
        clash = requests_.pending_clash(**{name: value})
        if clash:
            getattr(form, name).errors = [clash]
            return True
    return False


def _save(org: Organization, form, new: dict):
    """Apply `new` to the organisation (audited); the changes, or None on a uniqueness clash."""
    changes = {LABELS[k]: [getattr(org, k), v] for k, v in new.items() if (getattr(org, k) or "") != (v or "")}
    if not changes:
        return {}
    if _unique_clash(form, new, org.id):
        return None
    try:
        with db.atomic():
            Organization.update(updated_at=now(), **new).where(Organization.id == org.id).execute()
            AuditLog.record("修改组织信息", org, detail=changes)
    except IntegrityError:
        form.name.errors = ["组织名称、统一社会信用代码或工会编号与其他组织重复，请核对"]
        return None
    return changes


def _notify_superior(org, title):
    if org.parent_id:
        messages.post(org.parent_id, title, kind="组织审核", link=url_for("orgs.requests"))


# --- 组织信息 / 组织列表 / 覆盖企业 --------------------------------------------------------------
@bp.route("/")
@access()
def tree():
    org = current_user.org
    children = Organization.select().where(Organization.parent == org).order_by(Organization.name)
    q = (request.args.get("q") or "").strip()
    if q:
        children = children.where(Organization.name.contains(q))
    show_children = current_user.role in REVIEWING + ("admin", "city", "centre")
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
    manages = current_user.role in ("district", "secondary", "admin")
    is_below = below(org)
    direct = acts_directly(current_user)
    return {
        "create": manages and not org.is_closed and (is_below or org.id == current_user.org_id),
        "edit": manages and is_below and not org.is_closed,
        "move": direct and manages and is_below and not org.is_closed
        and org.level not in ("city", "centre", "district"),
        "close": direct and manages and is_below and not org.is_closed,
        "accounts": manages and is_below,
        "enterprises": org_enterprises.may_manage(org),
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
    if q:
        query = query.where(Organization.name.contains(q))
    if level in LEVELS:
        query = query.where(Organization.level == level)
    if status in (ACTIVE, CLOSED):
        query = query.where(Organization.status == status)
    page = paginate(query.order_by(Organization.depth, Organization.name), per_page=15)
    return render_page("orgs/listing.html", "rows", page=page, root=root, q=q, level=level,
                       status_filter=status, levels=LEVELS)


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
    writes = current_user.is_admin or current_user.role in org_enterprises.WRITERS
    return render_page("orgs/enterprises.html", "rows", page=page, root=root, q=q, writes=writes,
                       own_covers=writes and enterprise_rules.covers_enterprises(current_user.org))


# --- 新增下级组织 / 修改 --------------------------------------------------------------------------
def _type_choices(parent):
    if parent.level == "grassroots":
        return choices(["分工会/工会小组"])
    types = TYPES if current_user.is_admin else CREATABLE_TYPES
    return choices([("", "请选择")] + [t for t in types if t != "市总工会"])


def _level_for(form) -> str:
    if form.type.data == "联合工会":
        return form.level.data
    return DEFAULT_LEVEL.get(form.type.data, "grassroots")


@bp.route("/<int:org_id>/new", methods=["GET", "POST"])
@access("district", "secondary", objects={"org_id": Organization})
def create(org):
    """新增下级组织 under `org` (a district acts at once; a secondary union's request waits
    for 组织审核)."""
    refuse_unless(below(org) or org.id == current_user.org_id, "只能在本单位或下级组织下新增组织")
    refuse_unless(not org.is_closed, f"「{org.name}」已撤销，不能新增下级组织", 409)
    form = OrgCreateForm()
    form.type.choices = _type_choices(org)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            fields = _values(form, EDITABLE)
            fields["type"] = form.type.data
            fields["level"] = _level_for(form)
            first = _first_enterprise(form, fields["level"])
            if first is not None and not _unique_clash(form, fields):
                if acts_directly(current_user):
                    try:
                        with db.atomic():
                            child = Organization.add(org, **fields)
                            AuditLog.record("新建组织", child, to_state=ACTIVE,
                                            detail={"上级组织": org.name})
                            if first:
                                enterprise_rules.add(child, *first, current_user)
                    except IntegrityError:
                        form.name.errors = ["组织名称、统一社会信用代码或工会编号与其他组织重复，请核对"]
                    except FieldErrors as exc:
                        put_errors(form, exc.errors, "enterprise_")
                    else:
                        flash(f"已新增组织「{child.name}」" + (f"及覆盖企业「{first[0]}」" if first else ""), "success")
                        return redirect_to(url_for("orgs.detail", org_id=child.id))
                else:
                    if first:
                        fields.update(zip(requests_.ENTERPRISE_FIELDS, first, strict=True))
                    with db.atomic():
                        req = requests_.submit(requests_.NEW, current_user, fields, parent=org)
                        _notify_superior(current_user.org,
                                         f"「{current_user.org.name}」申请新建组织「{fields['name']}」")
                    flash("已提交新建组织申请，等待上级工会审核", "success")
                    return redirect_to(url_for("orgs.request_detail", req_id=req.id))
    return render_page("orgs/form.html", "form", form=form, parent=org, org=None, status=status,
                       action=url_for("orgs.create", org_id=org.id), title="新增下级组织")


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@access("district", "secondary", objects={"org_id": Organization})
def edit(org):
    """修改 an organisation below the account's own."""
    if org.id == current_user.org_id:
        return redirect(url_for("orgs.edit_own"))
    refuse_unless(below(org), "只能修改下级组织的信息")
    refuse_unless(not org.is_closed, f"「{org.name}」已撤销，不能修改", 409)
    form = OrgForm(obj=org) if request.method == "GET" else OrgForm()
    form.type.choices = _type_choices(org.parent) if org.parent else choices([org.type])
    if request.method == "GET" and org.type == "联合工会":
        form.level.data = org.level
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            new = _values(form, EDITABLE)
            new["type"] = form.type.data
            new["level"] = _level_for(form)
            if new["level"] != org.level and org.level in ("city", "centre", "district"):
                new["level"] = org.level
            if acts_directly(current_user):
                if _save(org, form, new) is not None:
                    flash("修改成功", "success")
                    return redirect_to(url_for("orgs.detail", org_id=org.id))
            else:
                changed = {k: v for k, v in new.items() if (getattr(org, k) or None) != (v or None)}
                if not changed:
                    flash("信息未改动", "success")
                    return redirect_to(url_for("orgs.detail", org_id=org.id))
                if not _unique_clash(form, changed, org.id):
                    with db.atomic():
                        req = requests_.submit(requests_.CHANGE, current_user, changed, target=org)
                        _notify_superior(current_user.org, f"「{current_user.org.name}」申请修改「{org.name}」的信息")
                    flash("修改申请已提交，等待上级工会审核", "success")
                    return redirect_to(url_for("orgs.request_detail", req_id=req.id))
    return render_page("orgs/form.html", "form", form=form, parent=org.parent, org=org, status=status,
                       action=url_for("orgs.edit", org_id=org.id), title="修改组织信息")


def put_errors(form, errors: dict, prefix: str = "") -> None:
    """A model's FieldErrors on the form's fields (named `prefix` + field)."""
    for name, message in errors.items():
        getattr(form, prefix + name).errors = [message]


def _first_enterprise(form, level: str):
    """新增下级组织's optional first 覆盖企业: () when left empty, (名称, 统一社会信用代码) checked,
    or None with the fields' errors set."""
    name, code = form.enterprise_name.data or "", form.enterprise_uscc.data or ""
    if not name and not code:
        return ()
    if level != "grassroots":
        form.enterprise_name.errors = ["只有基层工会覆盖企业：二级工会不填写覆盖企业"]
        return None
    try:
        return enterprise_rules.check(0, name, code)
    except FieldErrors as exc:
        put_errors(form, exc.errors, "enterprise_")
        return None


# --- 移动 / 撤销 ------------------------------------------------------------------------------
def _find_in_scope(text: str):
    query = dashboard_root(current_user).subtree()
    code = text.upper().replace(" ", "")
    return query.where((Organization.name == text) | (Organization.uscc == code)
                       | (Organization.union_no == code)).first()


@bp.route("/<int:org_id>/move", methods=["GET", "POST"])
@access("district", objects={"org_id": Organization})
def move(org):
    """移动: change the parent of an organisation below the account's own."""
    refuse_unless(below(org), "只能移动下级组织")
    form = MoveForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            target = _find_in_scope(form.target.data)
            if target is None:
                form.target.errors = [f"未找到「{form.target.data}」，或它不在本单位管辖范围内"]
            else:
                old_parent = org.parent
                try:
                    with db.atomic():
                        org.move(target)
                        AuditLog.record("移动组织", org, detail={"上级组织": [old_parent.name, target.name]})
                except DomainError as exc:
                    form.target.errors = [exc.message]
                else:
                    flash(f"已将「{org.name}」移到「{target.name}」之下", "success")
                    return redirect_to(url_for("orgs.detail", org_id=org.id))
    return render_page("orgs/move.html", "form", form=form, org=org, status=status)


@bp.route("/<int:org_id>/close", methods=["GET", "POST"])
@access("district", objects={"org_id": Organization})
def close(org):
    """撤销: refused with the reasons while the organisation has members, open children or
    open business (later areas add their checks)."""
    refuse_unless(below(org), "只能撤销下级组织")
    refuse_unless(not org.is_closed, f"「{org.name}」已撤销", 409)
    form = ReasonForm()
    blockers = org.close_blockers()
    status = 200
    if request.method == "POST":
        status = 422
        if blockers:
            status = 409
        elif form.validate():
            org.close(form.reason.data)
            flash(f"已撤销「{org.name}」，其账号已停用", "success")
            return redirect_to(url_for("orgs.detail", org_id=org.id))
    return render_page("orgs/close.html", "form", form=form, org=org, blockers=blockers, status=status)


# 组织导入 and 组织审核 live in views/org_review.py, 覆盖企业 in views/org_enterprises.py, on this same
# blueprint.
from views import org_enterprises, org_review  # noqa: E402,F401
