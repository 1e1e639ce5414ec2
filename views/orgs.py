"""组织管理: 修改信息 (own organisation), 组织信息 (own organisation and the units below)."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from peewee import IntegrityError

from forms.orgs import OrgEditForm
from models import AuditLog, Enterprise, Organization, db
from models.base import now
from views.access import REVIEWING, access, render_page
from views.paging import paginate

bp = Blueprint("orgs", __name__, url_prefix="/orgs")
EDITABLE = ("name", "uscc", "union_no", "address", "contact", "phone")
LABELS = {"name": "组织名称", "uscc": "统一社会信用代码", "union_no": "工会编号", "address": "单位地址",
          "contact": "联系人", "phone": "联系电话"}
UNIQUE_FIELDS = {"name": "组织名称", "uscc": "统一社会信用代码", "union_no": "工会编号"}


@bp.route("/mine/edit", methods=["GET", "POST"])
@access()
def edit_own():
    org = Organization.get_by_id(current_user.org_id)
    form = OrgEditForm(obj=org) if request.method == "GET" else OrgEditForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            changes = _save(org, form)
            if changes is not None:
                flash("修改成功" if changes else "信息未改动", "success")
                return redirect(url_for("orgs.edit_own"))
    return render_page("orgs/edit.html", "form", form=form, org=org, status=status)


def _save(org: Organization, form: OrgEditForm):
    """Save the form; returns the changes, or None (with form errors) on a uniqueness clash."""
    new = {name: (getattr(form, name).data or None) if name in ("uscc", "union_no")
           else (getattr(form, name).data or "") for name in EDITABLE}
    changes = {LABELS[k]: [getattr(org, k), v] for k, v in new.items() if (getattr(org, k) or "") != (v or "")}
    if not changes:
        return {}
    for name, label in UNIQUE_FIELDS.items():
        if new[name] and Organization.select().where(
                (getattr(Organization, name) == new[name]) & (Organization.id != org.id)).exists():
            getattr(form, name).errors = [f"该{label}已被其他组织使用"]
            return None
    try:
        with db.atomic():
            Organization.update(updated_at=now(), **new).where(Organization.id == org.id).execute()
            AuditLog.record("修改组织信息", org, detail=changes)
    except IntegrityError:
        form.name.errors = ["组织名称、统一社会信用代码或工会编号与其他组织重复，请核对"]
        return None
    return changes


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
                       ancestors=org.ancestors())
