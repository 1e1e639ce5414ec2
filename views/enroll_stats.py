"""集中参保统计 (spec 60, issue 8): 下载集中参保统计表 and 集中参保实时监控画面 for the district and the
secondary unions (their own subtree), and the city-wide views of the centre and 市总工会 — the
集中参保实时监控画面 of the whole city (one group per 区局（产业）工会, issue 19), the 区局汇总 Excel
and 参保人员名单 (paged, masked, with its Excel). Read-only; every screen is a plain GET
that works without JavaScript; the monitor polls itself with htmx and, without JavaScript, with a
<meta http-equiv="refresh"> inside <noscript>.
"""

from functools import wraps

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from models.base import now
from models.enroll import plans
from models.enroll.enrollment import CHANNELS, MODES
from models.orgs.accounts import REVIEWING_ROLES
from models.orgs.organizations import Organization
from models.rules.fees import yuan
from models.stats import enroll_stats
from models.stats import monitor as board
from models.stats.dashboard import dashboard_root
from views.access import XLSX, access, acting_account, int_arg, refuse, render_page, send_download
from views.paging import Page, paginate

bp = Blueprint("enroll_stats", __name__, url_prefix="/enroll-stats")
CITY_WIDE = ("centre", "city")
MONITOR_POLL_SECONDS, MONITOR_REFRESH_SECONDS = 30, 30  # the page says 每30秒自动刷新, with or without JS


def with_year(view):
    """A route called with the protection year asked for by ?year=, or the one being enrolled; a
    year not set up is refused (asked) or explained on the page (none yet)."""
    @wraps(view)
    def wrapped(**kwargs):
        asked = int_arg(request.args.get("year"))
        year = plans.get_year(asked) if asked else plans.central_year()
        if year is None:
            if asked:
                return refuse(f"{asked}年度尚未设置", 404)
            # Not an error of the user's: the page opens and says why there is nothing yet.
            return render_page("enroll_review/no_year.html", title="集中参保统计",
                               message="保障年度尚未设置，暂无集中参保统计（由市职保中心在“保障年度设置”中设置）。")
        return view(year, **kwargs)
    return wrapped


def _years():
    return [y.year for y in plans.ProtectionYear.select(plans.ProtectionYear.year)
            .order_by(plans.ProtectionYear.year.desc())]


def _download(handle, name: str):
    """The temporary file streamed from disk (send_file reads it in chunks)."""
    return send_download(handle, name, XLSX)


@bp.route("/")
@access(*REVIEWING_ROLES, *CITY_WIDE)
@with_year
def index(year):
    """集中参保统计: the downloads and screens of the account's level, for a chosen year."""
    return render_page("enroll_stats/index.html", year=year, years=_years(), city_wide=current_user.sees_whole_city,
                       reviewing=current_user.is_reviewer or current_user.is_admin)


@bp.route("/district.xlsx")
@access(*REVIEWING_ROLES)
@with_year
def district_excel(year):
    """下载集中参保统计表: one row per grassroots union of the account's subtree."""
    handle, _n = enroll_stats.write_unions(current_user.org, year)
    return _download(handle, f"{year.year}年度集中参保统计表_{current_user.org.name}_{now():%Y%m%d%H%M}.xlsx")


# --- 集中参保实时监控画面 --------------------------------------------------------------------------------
@bp.route("/monitor")
@access(*REVIEWING_ROLES, *CITY_WIDE)
@with_year
def monitor(year):
    """集中参保实时监控画面: the subtree's progress by secondary union (a district, a secondary union) or
    the whole city's by 区局（产业）工会 (the centre, 市总工会 — read-only —, the admin), bars and
    numbers. ?pause=1 stops the refreshing (htmx polling and the no-JS reload alike) until 恢复自动刷新."""
    root = dashboard_root(current_user)  # the city root for the city-wide accounts
    numbers = board.monitor(root, year)
    paused = request.args.get("pause") == "1"
    window = plans.window_state(year, "grassroots", root)
    return render_page("enroll_stats/monitor.html", "monitor", board=numbers, total=numbers.total, year=year,
                       years=_years(), window=window, chart=Bars(numbers), states=enroll_stats.STATES, at=now(),
                       poll=MONITOR_POLL_SECONDS, refresh=MONITOR_REFRESH_SECONDS, paused=paused,
                       city_wide=current_user.sees_whole_city)


class Bars:
    """Geometry of the monitor's SVG (viewBox units): per group two bars — unions (已提交 / 退回 /
    未提交 stacked) and people (集中参保人数 over 可参保人数)."""
    label_w, bar_w, row_h, gap, top = 200, 420, 22, 14, 28

    def __init__(self, board):
        self.groups = board.groups
        self.width = self.label_w + self.bar_w + 90
        self.height = self.top + len(self.groups) * (2 * self.row_h + self.gap) + 8

    def y(self, i: int) -> int:
        return self.top + i * (2 * self.row_h + self.gap)

    def union_parts(self, g) -> list:
        """(css class, x, width, count, label) of the stacked union bar."""
        out, x = [], self.label_w
        for cls, n, label in (("bar-submitted", g.submitted, enroll_stats.STATES["submitted"]),
                              ("bar-returned", g.returned, enroll_stats.STATES["returned"]),
                              ("bar-missing", g.not_submitted, enroll_stats.STATES["not_submitted"])):
            w = round(self.bar_w * n / g.unions, 1) if g.unions else 0
            out.append((cls, round(x, 1), w, n, label))
            x += w
        return out

    def people_w(self, g) -> float:
        base = max(g.eligible, g.enrolled, 1)
        return round(self.bar_w * g.enrolled / base, 1)

    def eligible_w(self, g) -> float:
        base = max(g.eligible, g.enrolled, 1)
        return round(self.bar_w * g.eligible / base, 1)


@bp.route("/monitor/unions")
@access(*REVIEWING_ROLES, *CITY_WIDE)
@with_year
def monitor_unions(year):
    """The unions behind a monitor number (?state=submitted|returned|not_submitted&group=id|0): a
    group is a direct child of the monitor's root (a district's secondary union, the city's district)."""
    root = dashboard_root(current_user)
    state = request.args.get("state", "")
    state = state if state in enroll_stats.STATES else ""
    raw_group = request.args.get("group", "")
    group = int_arg(raw_group, default=None)  # absent or malformed: every group
    title = None
    if group:
        child = board.group_of(root, group)
        if child is None:
            abort(404)  # not a group of the account's monitor (another district's, a union further down)
        title = child.name
    elif group == 0:
        title = board.DIRECT
    number = int_arg(request.args.get("page"), default=1, low=1)
    items, total, number = board.monitor_unions(root, year, state, group, number)
    page = Page(items=items, number=number, per_page=board.PER_PAGE, total=total)
    numbers = board.union_numbers(year, [o.id for o in page.items])
    parents = dict(Organization.select(Organization.id, Organization.name)
                   .where(Organization.id.in_([o.parent_id for o in page.items] or [0])).tuples())
    return render_page("enroll_stats/unions.html", "rows", page=page, numbers=numbers, parents=parents, year=year,
                       state=state, state_label=enroll_stats.STATES.get(state, "全部"), group_title=title,
                       group=raw_group)


# --- city-wide ------------------------------------------------------------------------------------------
@bp.route("/city.xlsx")
@access(*CITY_WIDE)
@with_year
def city_excel(year):
    """集中参保区局汇总表: one row per district (centre, 市总工会)."""
    handle, _n = enroll_stats.write_districts(year)
    return _download(handle, f"{year.year}年度集中参保区局汇总表_{now():%Y%m%d%H%M}.xlsx")


def _people_context(year):
    filters = enroll_stats.parse_people_filters(request.args)
    districts = list(Organization.select(Organization.id, Organization.name)
                     .where(Organization.level == "district").order_by(Organization.id))
    types = plans.types_of(year)
    return filters, {"filters": filters, "districts": districts, "types": types, "channels": CHANNELS,
                     "modes": MODES, "year": year, "years": _years(), "args": filters.args()}


@bp.route("/people")
@access(*CITY_WIDE)
@with_year
def people(year):
    """参保人员名单: the insured people of a year, filtered, paged, ID numbers masked."""
    filters, context = _people_context(year)
    page = paginate(enroll_stats.people(year, filters))
    return render_page("enroll_stats/people.html", "rows", page=page, yuan=yuan, **context)


@bp.route("/people.xlsx")
@access(*CITY_WIDE)
@with_year
def people_excel(year):
    """参保人员名单 → 导出: the filtered list; full numbers for the centre, masked for 市总工会."""
    filters = enroll_stats.parse_people_filters(request.args)
    job, handle = enroll_stats.export(year, filters, not current_user.sees_full_numbers, acting_account())
    if job is not None:
        return redirect(url_for("jobs.detail", job_id=job.id))
    return _download(handle, f"{year.year}年度参保人员名单_{now():%Y%m%d%H%M}.xlsx")
