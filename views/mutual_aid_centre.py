"""在职职工互助保障 → 参保批次查询 (issue 18 item 10): the mutual-aid batches of every unit for the
centre (and 市总工会, read-only), of their subtree's units for the district and secondary unions
(read-only; a batch outside the subtree is not listed) — over models/mutual_aid/batch_list.py.
Each row links to the batch's page (/mutual-aid/batches/<id>, the roster read-only); the counts
per state at the top open the batches behind them."""

from flask import Blueprint, request
from flask_login import current_user

from models.mutual_aid import batch_list
from models.mutual_aid.batches import BATCH_STATES, AidBatch
from models.mutual_aid.years import KINDS
from models.rules.fees import yuan
from views.access import access, int_arg, render_page, scoped
from views.paging import Page

bp = Blueprint("mutual_aid_centre", __name__, url_prefix="/mutual-aid/centre")
SEES_BATCHES = ("centre", "city", "district", "secondary")
PER_PAGE = 15


def batch_url(batch_id: int) -> str:
    """The batch's own page (the roster, read-only for the centre's side), built by the roster screens."""
    return f"/mutual-aid/batches/{batch_id}"


@bp.route("/batches")
@access(*SEES_BATCHES)
def batches():
    """参保批次查询: the filtered batches (newest first), 人数 and 保费合计 per batch, counts per state."""
    years = batch_list.years()
    f = batch_list.parse_filters(request.args, years)
    base = scoped(AidBatch, current_user)
    counts = batch_list.state_counts(base, f)
    # the list's total is a count per state already read (no second count over the year's batches)
    total = counts[f.state] if f.state else sum(counts.values())
    number = min(int_arg(request.args.get("page"), default=1, low=1), max(1, -(-total // PER_PAGE)))
    page = Page(items=list(batch_list.batches(base, f, number, PER_PAGE)), number=number,
                per_page=PER_PAGE, total=total)
    return render_page("mutual_aid_centre/batches.html", "rows", page=page, f=f, years=list(years), counts=counts,
                       people=batch_list.people_counts([b.id for b in page.items]),
                       districts=batch_list.districts(current_user), no_union=batch_list.NO_UNION,
                       no_union_label=batch_list.NO_UNION_LABEL, states=BATCH_STATES, kinds=KINDS, yuan=yuan,
                       batch_url=batch_url)
