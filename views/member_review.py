"""(being built — issue 5)"""

from flask import Blueprint

bp = Blueprint("member_review", __name__, url_prefix="/members")
