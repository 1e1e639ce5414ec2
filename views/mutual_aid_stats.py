"""在职职工互助保障 → 互助保障统计 (issue 18 item 10): a protection year's units, people and premium —
by batch state, by district and by plan item — for the centre and 市总工会 (read-only), with its
Excel; every count opens the units, batches or people behind it — over
models/mutual_aid/aid_stats.py."""

from functools import wraps

from flask import Blueprint, request

from models.base import now
from models.mutual_aid import aid_stats, batch_list
from models.mutual_aid.batches import BATCH_STATES, INSURED
from models.mutual_aid.years import AidYear, get_year
from models.rules.fees import yuan
from models.rules.mutual_fees import CODES, DISCOUNT_LINE
from models.rules.text import mask, normalize
from views.access import XLSX, access, int_arg, refuse, render_page, send_download
from views.paging import paginate

bp = Blueprint("mutual_aid_stats", __name__, url_prefix="/mutual-aid/stats")
CITY_WIDE = ("centre", "city")


def with_year(view):
    """The year asked for by ?year=, else the latest one; a year not set up is refused (asked) or
    explained on the page (none yet)."""
    @wraps(view)
    def wrapped(**kwargs):
        asked = int_arg(request.args.get("year"), high=9999)
        year = get_year(asked) if asked else AidYear.select().order_by(AidYear.year.desc()).first()
        if year is None:
            if asked:
                return refuse(f"{asked}年度互助保障尚未设置", 404)
            return render_page("mutual_aid_stats/no_year.html")
        return view(year, **kwargs)
    return wrapped


def _list_filters(year) -> dict:
    """The 状态 / 区 / 保障项目 of a units or people list (unknown values count as absent)."""
    status = request.args.get("status")
    district = batch_list.parse_filters({"district": request.args.get("district")}, {}).district
    item = normalize(request.args.get("item")).upper()
    return {"status": status if status in BATCH_STATES else INSURED, "district": district,
            "item": item if item in CODES else ""}


@bp.route("/")
@access(*CITY_WIDE)
@with_year
def index(year):
    """互助保障统计: totals, by state, by district, by item; 导出Excel."""
    states = aid_stats.by_state(year)
    return render_page("mutual_aid_stats/index.html", year=year, years=list(batch_list.years()), states=states,
                       insured=states[INSURED], districts=aid_stats.by_district(year), items=aid_stats.item_table(year),
                       codes=CODES, discount_line=DISCOUNT_LINE, yuan=yuan, INSURED=INSURED)


@bp.route("/stats.xlsx")
@access(*CITY_WIDE)
@with_year
def excel(year):
    """导出Excel: the same figures, three sheets."""
    return send_download(aid_stats.write_excel(year), f"{year.year}年度互助保障统计_{now():%Y%m%d%H%M}.xlsx", XLSX,
                         slug=f"mutual-aid-stats-{year.year}")


@bp.route("/units")
@access(*CITY_WIDE)
@with_year
def units(year):
    """The units behind a count (?status=, ?district=)."""
    f = _list_filters(year)
    page = paginate(aid_stats.units(year, f["status"], f["district"]))
    return render_page("mutual_aid_stats/units.html", "rows", page=page, year=year, f=f,
                       district_name=batch_list.district_label(f["district"]))


@bp.route("/people")
@access(*CITY_WIDE)
@with_year
def people(year):
    """The people behind a count (?status=, ?district=, ?item=), ID numbers masked."""
    f = _list_filters(year)
    page = paginate(aid_stats.people(year, f["status"], f["district"], f["item"]))
    return render_page("mutual_aid_stats/people.html", "rows", page=page, year=year, f=f, yuan=yuan,
                       mask=mask,
                       district_name=batch_list.district_label(f["district"]))
