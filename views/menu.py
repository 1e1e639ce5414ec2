"""The left menu, by role, with the manuals' menu names. Entries whose endpoint does not exist
(yet) are not shown, so there are no dead links; later areas add their entries here."""

from flask import current_app, request, url_for

from models.orgs.accounts import AID_UNIT_ROLES, UNION_LINE_ROLES

# (section, [(label, endpoint, roles or None for everyone)])
MENU = [
    ("首页", [("首页", "home.index", UNION_LINE_ROLES), ("消息提醒", "messages.index", None)]),
    ("组织管理", [
        ("修改信息", "orgs.edit_own", None),
        ("组织信息", "orgs.tree", None),
        ("组织列表", "orgs.listing", ("district", "secondary", "city", "centre")),
        ("覆盖企业", "orgs.enterprises", None),
        ("组织审核", "org_requests.index", None),
        ("组织导入", "org_import.upload", ("district",)),
    ]),
    ("会员管理", [
        ("会员信息", "members.index", None),
        ("会员审核", "member_review.approvals", ("district", "secondary")),
        ("会员转出审核", "member_review.transfers", None),
        ("会员审核设置", "member_review.settings", ("district",)),
    ]),
    ("会员服务卡管理", [
        ("卡片信息管理", "cards.index", None),
        ("待办会员列表", "cards.pending", ("grassroots",)),
        ("办卡批次管理", "cards.batches", None),
        ("开卡回盘导入", "cards.returns", ("centre", "district")),
        ("撤销办卡批次审核", "cards.revokes", ("district",)),
    ]),
    ("会员专享基本保障", [
        ("保障年度设置", "plans.years", ("centre", "city")),
        ("保障类型管理", "plans.types", ("centre", "city", "district")),
        ("保障金额设置", "plans.split", ("district",)),
        ("社保状态与个人参保导入", "plans.imports", ("centre",)),
        ("会员卡参保信息管理", "card_enroll.card", ("grassroots",)),
        ("社保卡参保信息管理", "social_enroll.index", ("grassroots",)),
        ("集中参保审核", "enroll_review.central", ("district", "secondary")),
        ("即时参保审核", "enroll_review.instant", ("district", "secondary")),
        ("参保批次管理", "batches.index", ("district", "centre", "city")),
        ("缴费凭证管理", "batches.vouchers", ("district", "centre", "city")),
        ("保障信息查询", "coverage.periods", ("centre", "city", "district", "secondary", "grassroots")),
        ("给付信息查询", "coverage.claims_query", ("centre", "city", "district", "secondary", "grassroots")),
        ("集中参保实时监控画面", "enroll_stats.monitor", ("district", "secondary", "centre", "city")),
        ("集中参保统计", "enroll_stats.index", ("district", "secondary", "centre", "city")),
        ("参保人员名单", "enroll_stats.people", ("centre", "city")),
    ]),
    ("在职职工互助保障", [
        ("互助保障年度设置", "mutual_aid_years.index", ("centre", "city")),
        ("参保编码申请", "mutual_aid_codes.index", AID_UNIT_ROLES),
        ("经办人填报", "mutual_aid_handler.index", (*AID_UNIT_ROLES, "district", "secondary", "centre", "city")),
        ("参保批次管理", "mutual_aid_batches.index", ("grassroots", "enterprise")),
        ("互助保障缴费凭证", "mutual_aid_vouchers.index", ("grassroots", "enterprise")),
        ("专用收据", "mutual_aid_receipts.index", ("grassroots", "enterprise")),
        # A unit without a union sees only this section: its 保障信息查询 (both lines' screen) is here.
        ("保障信息查询", "coverage.periods", ("enterprise",)),
        ("参保编码审核", "mutual_aid_codes.review", ("centre", "city")),
        ("信息变更审核", "mutual_aid_changes.review", ("centre", "city")),
        ("附件审核", "mutual_aid_attachments.review", ("centre", "city")),
        ("互助保障缴费凭证审核", "mutual_aid_vouchers.review", ("centre", "city", "district", "secondary")),
        ("专用收据审核", "mutual_aid_receipts.review", ("centre", "city", "district", "secondary")),
        ("建议清册导入", "mutual_aid_registry.index", ("centre", "city")),
        ("参保批次查询", "mutual_aid_centre.batches", ("centre", "city", "district", "secondary")),
        ("互助保障统计", "mutual_aid_stats.index", ("centre", "city")),
        ("账号找回申请", "account_recovery.review", ("centre", "city")),
    ]),
    ("业务工作台", [("业务工作台", "home.workbench", None)]),
    ("系统管理", [
        ("后台任务", "jobs.index", None),
        ("操作日志", "audit.search", ("admin",)),
        ("快速修复", "admin.index", ("admin",)),
        ("重要通知", "notices.notices", None),
        ("下载中心", "notices.downloads", None),
        ("修改密码", "auth.change_password", None),
    ]),
]


# Screens of a grassroots union's own work that the platform admin (an account of the city) has
# no union for: not in the admin's menu.
NOT_FOR_ADMIN = {"card_enroll.card", "social_enroll.index", "enroll_review.central", "enroll_review.instant",
                 "mutual_aid_codes.index", "mutual_aid_batches.index", "mutual_aid_vouchers.index",
                 "mutual_aid_receipts.index"}


# {endpoint: [the roles of each menu line listing it]} (None: every role of the route)
LISTED: dict[str, list] = {}
for _title, _entries in MENU:
    for _label, _name, _roles in _entries:
        LISTED.setdefault(_name, []).append(_roles)


def may_open(account, endpoint: str) -> bool:
    """The account's role may use the route (its @access roles) and, where the menu lists it,
    the roles of one of its lines; the platform admin has no union for the NOT_FOR_ADMIN screens."""
    view = current_app.view_functions.get(endpoint)
    rule = getattr(view, "_access", None)
    if rule is None:
        return False
    if account.is_admin:
        return endpoint not in NOT_FOR_ADMIN
    role = account.role
    if rule.roles and role not in rule.roles:
        return False
    # A screen listed in two sections (保障信息查询 of both lines) opens when one of its lines admits the role.
    listed = LISTED.get(endpoint)
    return not listed or any(roles is None or role in roles for roles in listed)


def _within(path: str, url: str) -> bool:
    """`path` is the page `url` or a page below it (/members/79 is below /members/)."""
    return path == url or path.startswith(url if url.endswith("/") else url + "/")


def _sections(account) -> list:
    """The menu of the account's role: [(title, [(label, endpoint, url)])] — the same for every
    account of a role, so built once per app and role (the routes and the menu are fixed at start)."""
    key = ("admin" if account.is_admin else account.role, account.is_admin)
    cache = current_app.extensions.setdefault("menu_by_role", {})
    if key not in cache:
        sections = []
        for title, entries in MENU:
            items = [(label, endpoint, url_for(endpoint)) for label, endpoint, roles in entries
                     if endpoint in current_app.view_functions and may_open(account, endpoint)
                     # else the screen is this account's through its line in another section
                     and (roles is None or account.is_admin or account.role in roles)]
            if items:
                sections.append((title, items))
        cache[key] = sections
    return cache[key]


def menu_for(account):
    """The account's menu; the entry of the page shown is marked — on a page below an entry (a
    member's detail, a batch, 集中参保办理 of 会员卡参保信息管理) the closest entry above it."""
    sections = [{"title": title, "items": [{"label": label, "url": url, "endpoint": endpoint,
                                            "active": request.endpoint == endpoint}
                                           for label, endpoint, url in items]}
                for title, items in _sections(account)]
    items = [item for section in sections for item in section["items"]]
    if not any(item["active"] for item in items):
        above = [item for item in items if item["url"] != "/" and _within(request.path, item["url"])]
        if above:
            max(above, key=lambda item: len(item["url"]))["active"] = True
    return sections
