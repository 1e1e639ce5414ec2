"""首页 and 业务工作台."""

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user

from models.base import today
from models.stats import dashboard
from views.access import EVERYONE, access, public, render_page
from views.menu import may_open

bp = Blueprint("home", __name__)

# Modules of the 业务工作台 (member-service-card system); later areas add their endpoints.
WORKBENCH = [
    ("卡片信息管理", "cards.index"), ("待办会员列表", "cards.pending"), ("办卡批次管理", "cards.batches"),
    ("撤销办卡批次审核", "cards.revokes"),
    ("会员卡参保信息管理", "card_enroll.card"), ("社保卡参保信息管理", "social_enroll.index"),
    ("保障信息查询", "coverage.periods"),
    ("集中参保审核", "enroll_review.central"), ("即时参保审核", "enroll_review.instant"),
    ("参保批次管理", "batches.index"), ("缴费凭证管理", "batches.vouchers"), ("保障类型管理", "plans.types"),
    ("保障金额设置", "plans.split"), ("给付信息查询", "coverage.claims_query"),
]
# 在职职工互助保障 (seed 004: 业务工作台 → 【在职职工互助保障】 → 参保编码申请): its own group of tiles.
MUTUAL_AID = [("参保编码申请", "mutual_aid_codes.index"), ("经办人填报", "mutual_aid_handler.index"),
              ("参保编码审核", "mutual_aid_codes.review")]


@bp.route("/")
@public
def root():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@access(*EVERYONE)
def index():
    """首页: the four counts and the 入会人数统计图 of the account's subtree. An enterprise account
    (企业注册) has no union and so no 首页: its start page is 参保编码申请."""
    if current_user.is_enterprise_unit:
        return redirect(url_for("mutual_aid_codes.index"))
    org = current_user.org
    root = dashboard.dashboard_root(current_user)
    period = dashboard.parse_period(request.args, today())
    counts, chart = dashboard.build(root, period)
    return render_page("home/index.html", "dashboard", org=org, root=root,
                       ancestors=org.ancestors(), period=period, tabs=dashboard.TABS,
                       counts=counts, chart=chart,
                       status=422 if period.errors else 200)


@bp.route("/workbench")
@access()
def workbench():
    org = current_user.org
    # Only the modules this account may open (the roles of the menu and of the route itself).
    def tiles(entries):
        return [(label, url_for(endpoint)) for label, endpoint in entries
                if endpoint in current_app.view_functions and may_open(current_user, endpoint)]
    return render_page("home/workbench.html", org=org, modules=tiles(WORKBENCH), mutual_aid=tiles(MUTUAL_AID))
