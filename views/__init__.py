"""Blueprints (one per menu area) and the request hooks every page shares."""

import time

from flask import flash, request, session
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf

from models import db
from models.base import DomainError
from models.messages import unread_count
from views import (
    account_recovery,
    accounts,
    admin,
    audit,
    auth,
    batches,
    card_enroll,
    cards,
    coverage,
    enroll_review,
    enroll_stats,
    enterprise_register,
    home,
    jobs,
    member_import,
    member_review,
    member_sync,
    members,
    messages,
    mutual_aid_attachments,
    mutual_aid_batches,
    mutual_aid_centre,
    mutual_aid_changes,
    mutual_aid_check,
    mutual_aid_codes,
    mutual_aid_handler,
    mutual_aid_items,
    mutual_aid_receipts,
    mutual_aid_registry,
    mutual_aid_roster,
    mutual_aid_stats,
    mutual_aid_upload,
    mutual_aid_vouchers,
    mutual_aid_years,
    notices,
    org_enterprises,
    org_import,
    org_requests,
    orgs,
    plans,
    social_enroll,
)
from views.access import BoundedIntConverter, public, refuse, render_error, unauthenticated
from views.menu import may_open, menu_for

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; object-src 'none'; base-uri 'self'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Upload pages whose files are larger than UPLOAD_MAX_MB: {endpoint: the setting of their limit (MB)}.
LARGE_UPLOADS = {"mutual_aid_registry.index": "REGISTRY_UPLOAD_MAX_MB"}
# Files fetched beside a page: they do not touch the session (see idle_timeout).
FILE_ENDPOINTS = ("static", "favicon")


def _unread() -> int:
    """消息提醒 badge: counted only when the layout is rendered (not for fragments)."""
    return unread_count(current_user) if current_user.is_authenticated else 0


def register(app):
    app.url_map.converters["int"] = BoundedIntConverter  # before the routes are added
    for module in (auth, home, orgs, org_requests, org_enterprises, org_import, accounts, members, member_import,
                   member_sync, member_review, cards, plans, card_enroll, social_enroll, enroll_review, batches,
                   coverage, enroll_stats, mutual_aid_codes, mutual_aid_batches, mutual_aid_roster, mutual_aid_items,
                   mutual_aid_years, mutual_aid_check, mutual_aid_attachments, mutual_aid_vouchers, mutual_aid_receipts,
                   mutual_aid_upload, mutual_aid_registry, messages, notices, audit, jobs, admin, mutual_aid_changes,
                   account_recovery, mutual_aid_handler, enterprise_register, mutual_aid_centre, mutual_aid_stats):
        app.register_blueprint(module.bp)

    def larger_upload():
        """A POST to a LARGE_UPLOADS page by an account that may use it reads up to that page's
        limit (before CSRF reads the form: this hook runs first); everyone else, UPLOAD_MAX_MB."""
        setting = LARGE_UPLOADS.get(request.endpoint)
        if setting and request.method == "POST" and current_user.is_authenticated \
                and may_open(current_user, request.endpoint):
            request.max_content_length = app.config[setting] * 1024 * 1024
    app.before_request_funcs.setdefault(None, []).insert(0, larger_upload)

    @app.route("/favicon.ico")
    @public
    def favicon():
        """Browsers ask for /favicon.ico before (and besides) the page's <link rel=icon>."""
        return app.send_static_file("favicon.ico")

    @app.before_request
    def open_db():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def close_db(_exc):
        if not db.is_closed() and not db.in_transaction():
            db.close()

    @app.before_request
    def refuse_nul():
        """A NUL byte has no place in a URL, a form or an uploaded file's name (PostgreSQL
        refuses it in any text)."""
        files = [(key, upload.filename or "") for key, upload in request.files.items(multi=True)]
        for pairs in (request.args.items(multi=True), request.form.items(multi=True), files):
            if any("\x00" in key or "\x00" in value for key, value in pairs):
                return refuse("提交的内容含有无效字符（NUL），请检查后重新提交", 400)
        return None

    @app.before_request
    def session_limits():
        """The idle timeout, and the absolute lifetime of a login (SESSION_MAX_HOURS) however
        active it is. Both times are in the signed cookie, so a copy of it expires as well."""
        if request.endpoint in FILE_ENDPOINTS or not current_user.is_authenticated:
            return None
        nowts = int(time.time())
        hours = app.config["SESSION_MAX_HOURS"]
        message = None
        if nowts - session.get("login_at", 0) > hours * 3600:
            message = f"登录已超过{hours}小时，请重新登录"
        elif nowts - session.get("seen", 0) > app.config["SESSION_IDLE_MINUTES"] * 60:
            message = "登录已超时，请重新登录"
        if message:
            logout_user()
            session.clear()
            flash(message, "warning")
            return unauthenticated()
        session["seen"] = nowts
        session.permanent = True
        return None

    @app.after_request
    def headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def layout_context():
        menu = menu_for(current_user) if current_user.is_authenticated else []
        return {"menu": menu, "csrf_token": generate_csrf, "unread_messages": _unread,
                "may_open": lambda endpoint: current_user.is_authenticated and may_open(current_user, endpoint)}

    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return refuse("页面已过期或缺少安全校验码（CSRF），请刷新页面后重新提交。", 400)

    @app.errorhandler(DomainError)
    def domain_error(exc):
        return refuse(exc.message, exc.status)

    @app.errorhandler(404)
    def not_found(_exc):
        return render_error("404", 404)

    @app.errorhandler(405)
    def not_allowed(_exc):
        return refuse("不支持的请求方式", 405)

    @app.errorhandler(413)
    def too_large(_exc):
        limit = request.max_content_length  # LARGE_UPLOADS's or MAX_CONTENT_LENGTH
        limit = app.config["MAX_CONTENT_LENGTH"] or 0 if limit is None else limit
        size = f"{limit // (1024 * 1024)}MB" if limit >= 1024 * 1024 else f"{limit // 1024}KB"
        return refuse(f"上传的文件或提交的内容过大（不能超过{size}）", 413)

    @app.errorhandler(500)
    def server_error(_exc):
        return render_error("500", 500)
