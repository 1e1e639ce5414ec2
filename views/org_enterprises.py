"""组织管理 → 覆盖企业: 新增 / 修改 / 删除 a grassroots union's enterprises (issue 16 item 11), by the
union itself and its superiors (`Account.manages_enterprises`); the 市总工会 and the centre read
the list (views/orgs.py:enterprises) only. The rules (USCC check digit, one union per enterprise,
not removed while members or cards refer to it) live in models/orgs/enterprises.py."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from forms.orgs import EnterpriseForm
from models.base import DomainError, FieldErrors
from models.orgs import enterprises
from models.orgs.accounts import UNION_ROLES
from models.orgs.organizations import Enterprise, Organization
from views.access import access, acting_account, put_errors, redirect_to, render_page, superior_of

bp = Blueprint("org_enterprises", __name__, url_prefix="/orgs")
NOT_COVERING = "只有未撤销的基层工会可以添加覆盖企业"


def _require(org: Organization):
    """The union itself or a superior (the admin too); @access(*UNION_ROLES) has let in only the roles
    that manage enterprises (`Account.manages_enterprises`)."""
    if not (org.id == current_user.org_id or superior_of(current_user, org.id)):
        raise DomainError("只有本工会及其上级工会可以管理覆盖企业", 403)


def _form(org: Organization, form, title: str, action: str, save, done):
    """The enterprise form: on POST `save()`, then flash `done(result)` and back to the union's
    覆盖企业; refused fields are marked on the form (422)."""
    status = 200
    if request.method == "POST":
        try:
            result = save()
        except FieldErrors as exc:
            put_errors(form, exc.errors)
            status = 422
        else:
            flash(done(result), "success")
            return redirect_to(url_for("orgs.detail", org_id=org.id) + "#enterprises")
    return render_page("orgs/enterprise_form.html", "form", form=form, org=org, status=status, title=title,
                       action=action)


@bp.route("/<int:org_id>/enterprises/new", methods=["GET", "POST"])
@access(*UNION_ROLES, objects={"org_id": Organization})
def new(org):
    """新增覆盖企业 for a grassroots union."""
    _require(org)
    if not enterprises.covers_enterprises(org):
        if request.method == "GET":  # a stale link: back to the organisation, saying why
            flash(NOT_COVERING, "warning")
            return redirect(url_for("orgs.detail", org_id=org.id))
        raise DomainError(NOT_COVERING, 409)
    form = EnterpriseForm()
    return _form(org, form, "新增覆盖企业", url_for("org_enterprises.new", org_id=org.id),
                 lambda: enterprises.add(org, form.name.data, form.uscc.data, acting_account()),
                 lambda enterprise: f"已新增覆盖企业「{enterprise.name}」")


@bp.route("/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
@access(*UNION_ROLES, objects={"enterprise_id": Enterprise})
def edit(enterprise):
    """修改 an enterprise's 企业名称 / 统一社会信用代码."""
    org = enterprise.org
    _require(org)
    form = EnterpriseForm(obj=enterprise) if request.method == "GET" else EnterpriseForm()
    return _form(org, form, "修改覆盖企业", url_for("org_enterprises.edit", enterprise_id=enterprise.id),
                 lambda: enterprises.update(enterprise, form.name.data, form.uscc.data, acting_account()),
                 lambda changes: "修改成功" if changes else "信息未改动")


@bp.route("/enterprises/<int:enterprise_id>/delete", methods=["GET", "POST"])
@access(*UNION_ROLES, objects={"enterprise_id": Enterprise})
def delete(enterprise):
    """删除 an enterprise no member record or card refers to (asked first; refused with the reasons)."""
    org = enterprise.org
    _require(org)
    blockers = enterprises.blockers(enterprise)
    if request.method == "POST":
        try:
            enterprises.remove(enterprise, acting_account())
        except DomainError as exc:
            return render_page("orgs/enterprise_delete.html", enterprise=enterprise, org=org, blockers=blockers,
                               error=exc.message, status=exc.status)
        flash(f"已删除覆盖企业「{enterprise.name}」", "success")
        return redirect_to(url_for("orgs.detail", org_id=org.id) + "#enterprises")
    return render_page("orgs/enterprise_delete.html", enterprise=enterprise, org=org, blockers=blockers, error=None)
