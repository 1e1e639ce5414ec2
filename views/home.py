"""首页 and 业务工作台."""

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user

from models.base import today
from models.mutual_aid import attachment_ops, change_ops, code_ops, receipt_ops, recovery, voucher_ops
from models.mutual_aid.batches import ATTACH_REVIEW, AidBatch
from models.mutual_aid.codes import APPLYING, WAITING, InsuranceCode
from models.mutual_aid.vouchers import R_REVIEW, V_REVIEW, AidReceiptSet, AidVoucher
from models.stats import dashboard
from views.access import EVERYONE, access, public, render_page, scoped
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
# 在职职工互助保障 (seed 004: 业务工作台 → 【在职职工互助保障】 → 参保编码申请): its own group of tiles —
# the unit's screens, then the centre's review queues, each with its waiting count (a link to exactly
# those rows: the queue filtered by the waiting state). The menu's order (views/menu.py).
MUTUAL_AID = [("互助保障年度设置", "mutual_aid_years.index"),
              ("参保编码申请", "mutual_aid_codes.index"), ("经办人填报", "mutual_aid_handler.index"),
              ("参保批次管理", "mutual_aid_batches.index"), ("互助保障缴费凭证", "mutual_aid_vouchers.index"),
              ("专用收据", "mutual_aid_receipts.index"), ("建议清册导入", "mutual_aid_registry.index"),
              ("参保批次查询", "mutual_aid_centre.batches"), ("互助保障统计", "mutual_aid_stats.index")]


def _waiting(account) -> list:
    """(label, endpoint, waiting state, its count) of each centre queue, counted as its list filters."""
    return [
        ("参保编码审核", "mutual_aid_codes.review", APPLYING,
         lambda: code_ops.search(scoped(InsuranceCode, account), APPLYING).count()),
        ("信息变更审核", "mutual_aid_changes.review", WAITING,
         lambda: change_ops.search(change_ops.in_scope(account), WAITING).count()),
        ("附件审核", "mutual_aid_attachments.review", ATTACH_REVIEW,
         lambda: attachment_ops.search(scoped(AidBatch, account), ATTACH_REVIEW).count()),
        ("互助保障缴费凭证审核", "mutual_aid_vouchers.review", V_REVIEW,
         lambda: voucher_ops.search(scoped(AidVoucher, account), V_REVIEW).count()),
        ("专用收据审核", "mutual_aid_receipts.review", R_REVIEW,
         lambda: receipt_ops.search(scoped(AidReceiptSet, account), R_REVIEW).count()),
        ("账号找回申请", "account_recovery.review", recovery.PENDING,
         lambda: recovery.search(recovery.PENDING).count()),
    ]


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
    queues = [{"label": label, "url": url_for(endpoint), "waiting": state, "count": count(),
               "count_url": url_for(endpoint, status=state)}
              for label, endpoint, state, count in _waiting(current_user)
              if endpoint in current_app.view_functions and may_open(current_user, endpoint)]
    return render_page("home/workbench.html", org=org, modules=tiles(WORKBENCH), mutual_aid=tiles(MUTUAL_AID),
                       queues=queues)
