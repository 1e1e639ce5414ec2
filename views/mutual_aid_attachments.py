"""在职职工互助保障 → 附件审核 (the centre's queue of the batches whose 附件 wait for it; read-only for
市总工会): filters 状态, 单位名称, 参保编码, 保障年度; each batch opens its check page
(views/mutual_aid_check.py), where the centre opens the files and decides (附件审核通过 / 附件审核不通过)."""

from flask import Blueprint, request
from flask_login import current_user

from models.mutual_aid import attachment_ops
from models.mutual_aid.batches import ATTACH_REVIEW, AidBatch
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.years import AidYear
from models.rules.text import normalize
from views.access import access, int_arg, render_page, scoped
from views.paging import paginate

bp = Blueprint("mutual_aid_attachments", __name__, url_prefix="/mutual-aid/attachments")


@bp.route("/")
@access("centre", "city")
def review():
    """附件审核: the batches with attachments for the centre (default: 附件审核中 and 附件审核不通过)."""
    f = {"status": normalize(request.args.get("status")), "name": normalize(request.args.get("name"))[:100],
         "code": normalize(request.args.get("code"))[:20],
         "year": int_arg(request.args.get("year"), default=None, low=2000, high=2200)}
    query = scoped(AidBatch, current_user).select_extend(InsuranceCode, AidYear)
    query = attachment_ops.search(query, f["status"], f["name"], f["code"], f["year"])
    years = [y for (y,) in AidYear.select(AidYear.year).order_by(AidYear.year.desc()).tuples()]
    return render_page("mutual_aid_check/review.html", "rows", page=paginate(query), f=f,
                       states=attachment_ops.QUEUE_STATES, years=years,
                       attach_review=ATTACH_REVIEW)
