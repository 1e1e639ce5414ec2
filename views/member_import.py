"""(being built — issue 5)"""

from flask import Blueprint

bp = Blueprint("member_import", __name__, url_prefix="/members")
