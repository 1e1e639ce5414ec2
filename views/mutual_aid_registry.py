"""在职职工互助保障 → 建议清册导入 (the centre; 市总工会 reads): the social-insurance bureau's 建议清册
into the registry tables (models/mutual_aid/registry_import.py) — 缴费人员 (单位社保编码, 证件号码,
姓名, 职退状态) and 社保单位 (单位社保编码, 单位名称, 缴费人数), each a background job with a template,
progress on the job's page and an error file — and what the tables hold now."""

from flask import Blueprint, abort, request

from models.mutual_aid import registry, registry_import
from models.mutual_aid.registry import RegistryPayer, RegistryUnit, current_source
from models.rules.text import normalize
from views.access import access, render_page, xlsx_response
from views.paging import paginate
from views.uploads import kinds_posted, recent_jobs

bp = Blueprint("mutual_aid_registry", __name__, url_prefix="/mutual-aid/registry")


@bp.route("", methods=["GET", "POST"])
@access("centre", "city")
def index():
    """The two upload forms (a refusal shown under its own form), the counts held and 导入记录."""
    errors = {}
    if request.method == "POST":
        done, errors = kinds_posted(registry_import.KINDS, registry_import.submit)
        if done:
            return done
    return render_page("mutual_aid_registry/index.html", kinds=registry_import.KINDS, errors=errors,
                       payers=RegistryPayer.select().count(), units=RegistryUnit.select().count(),
                       source=current_source().name, history=recent_jobs(*registry_import.KINDS),
                       status=422 if errors else 200)


@bp.route("/template")
@access("centre", "city")
def template():
    """下载模板 of one of the two files (?kind=)."""
    kind = request.args.get("kind", "")
    if kind not in registry_import.KINDS:
        abort(404)
    return xlsx_response(registry_import.template_workbook(kind), registry_import.TEMPLATE_NAMES[kind],
                         kind.replace("_", "-") + "-template")


LISTS = {"payers": ("建议清册缴费人员", registry.search_payers), "units": ("社保单位", registry.search_units)}


@bp.route("/list")
@access("centre", "city")
def listing():
    """The rows behind the page's counts (?which=payers|units), searched by 证件号码 / 单位社保编码
    (units: or 单位名称); ID numbers masked."""
    which = request.args.get("which", "payers")
    if which not in LISTS:
        abort(404)
    text = normalize(request.args.get("q"))[:100]
    title, search = LISTS[which]
    return render_page("mutual_aid_registry/list.html", "rows", page=paginate(search(text), per_page=20),
                       which=which, title=title, q=text)
