"""组织管理 → 组织导入: upload → background job (models/orgs/org_import.py) → the job's page with the
result, or an error file to fix and upload again. Same URLs as ever, under /orgs."""

from flask import Blueprint

from models.orgs import org_import
from views.access import access, acting_account, xlsx_response
from views.uploads import upload_page

bp = Blueprint("org_import", __name__, url_prefix="/orgs")


@bp.route("/import", methods=["GET", "POST"])
@access("district")
def upload():
    """组织导入: upload → background job → result (or an error file to fix and re-upload)."""
    return upload_page("org_import/import.html",
                       lambda data, name: org_import.submit(acting_account(), data, name))


@bp.route("/import/template")
@access("district")
def template():
    """下载模板 (组织导入)."""
    return xlsx_response(org_import.template_workbook(), "组织导入模板.xlsx", slug="org-import-template")
