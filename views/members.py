"""会员信息 (read-only list for now): the people behind the dashboard counts, in the account's
scope. The roster issue turns this page into the full 会员信息 screen (add, import, sync …)."""

from datetime import datetime, time, timedelta

from flask import Blueprint, request
from flask_login import current_user

from models import Membership, Organization, Person
from models.members import MEMBER_STATUSES
from views.access import access, render_page, scoped
from views.paging import paginate

bp = Blueprint("members", __name__, url_prefix="/members")
DATE_FILTERS = {"joined_from": "入会日期（起）", "joined_to": "入会日期（止）",
                "approved_from": "激活日期（起）", "approved_to": "激活日期（止）"}


def filtered(args, account):
    query = (scoped(Membership, account).select(Membership, Person, Organization)
             .join(Person).switch(Membership).join(Organization))
    errors, dates = [], {}
    for key, label in DATE_FILTERS.items():
        text = (args.get(key) or "").strip()
        if text:
            try:
                dates[key] = datetime.strptime(text, "%Y-%m-%d").date()
            except ValueError:
                errors.append(f"{label}格式应为 年-月-日")
    if args.get("status"):
        if args["status"] not in MEMBER_STATUSES:
            errors.append("请选择正确的用户状态")
        else:
            query = query.where(Membership.status == args["status"])
    if "joined_from" in dates:
        query = query.where(Membership.join_date >= dates["joined_from"])
    if "joined_to" in dates:
        query = query.where(Membership.join_date <= dates["joined_to"])
    if "approved_from" in dates:
        query = query.where(Membership.approved_at >= datetime.combine(dates["approved_from"], time()))
    if "approved_to" in dates:
        query = query.where(Membership.approved_at < datetime.combine(
            dates["approved_to"] + timedelta(days=1), time()))
    if args.get("name"):
        query = query.where(Person.name == args["name"].strip())
    return query.order_by(Membership.id.desc()), errors


@bp.route("/")
@access()
def index():
    query, errors = filtered(request.args, current_user)
    return render_page("members/index.html", "rows", page=paginate(query), errors=errors,
                       args=request.args, statuses=MEMBER_STATUSES,
                       status=422 if errors else 200)
