"""Access rules, scope and rendering — in one place.

Every route declares its rule with @access(...) (or @public); a test compares the declarations
with app.url_map, so an undeclared route fails. Object-taking routes name their models:
@access("district", objects={"org_id": Organization}) loads the object through get_in_scope()
and passes it to the view as `org` — 404 when it is outside the account's scope.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import wraps
from urllib.parse import quote, urlsplit

from flask import abort, current_app, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from models.base import today, until_end_of
from models.members.people import Membership, Person
from models.orgs.accounts import READ_ONLY_ROLES, ROLES, UNION_LINE_ROLES, Account
from models.orgs.organizations import Organization
from models.rules.text import INT_MAX, bounded_int, normalize

# @access() with no roles: every role of the union line; an enterprise account (企业注册) enters only
# where a route names it (在职职工互助保障, its 消息提醒, 修改密码, 退出) — EVERYONE.
ALL_LOGGED_IN = UNION_LINE_ROLES
EVERYONE = ROLES
# Endpoints an account that must change its one-time password may still reach.
PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout"}
# The 市总工会 account is read-only (spec 05): it may POST only to what concerns its own account —
# its session, its password, its own read marks on 消息提醒 — never to the platform's data.
CITY_MAY_POST = {"auth.logout", "auth.change_password", "messages.mark_all"}
READ_ONLY_REFUSAL = "市总工会账号只能查看，不能修改数据"


@dataclass
class Rule:
    roles: tuple
    objects: dict = field(default_factory=dict)
    public: bool = False
    writes: bool = False  # only a form: the read-only roles are refused it, in their own words
    may: str | None = None  # an Account property the account must also have (operates_grassroots …)


def scope_org_ids(account):
    """Sub-query of the organisation ids in the account's scope, or None for 'everything'."""
    if account.sees_whole_city:
        return None
    if account.is_reviewer:
        return account.org.subtree_ids()
    return Organization.select(Organization.id).where(Organization.id == account.org_id)


def scoped(model, account):
    """model.select() restricted to the account's scope."""
    query = model.select()
    if getattr(model, "own_org_only", False) and not account.is_admin:
        # Addressed to an organisation itself (消息提醒): not visible to its superiors.
        return query.where(getattr(model, model.scope_field) == account.org_id)
    org_ids = scope_org_ids(account)
    if org_ids is None:
        return query
    if model is Person:
        return query.where(Person.id.in_(
            Membership.select(Membership.person).where(Membership.org.in_(org_ids))))
    if model.scope_field is None:
        return query.where(False)
    fields = model.scope_field if isinstance(model.scope_field, tuple) else (model.scope_field,)
    condition = None
    for name in fields:  # an object two organisations share (a transfer) is in both scopes
        clause = getattr(model, name).in_(org_ids)
        condition = clause if condition is None else condition | clause
    return query.where(condition)


def get_in_scope(model, object_id, account=None):
    """The object if it exists and is in the account's scope; otherwise 404."""
    account = account or current_user
    object_id = bounded_int(object_id, 1)
    if object_id is None:
        abort(404)
    obj = scoped(model, account).where(model._meta.primary_key == object_id).first()
    if obj is None:
        abort(404)
    return obj


def read_only(account) -> bool:
    """The account only looks (市总工会): it is shown no write control and may not POST."""
    return account.is_read_only


def superior_of(account, org_id: int) -> bool:
    """The account's organisation is above `org_id` (superiors manage what is below them), or
    the account is the platform admin."""
    return account.is_admin or account.org.is_above(org_id)


def unauthenticated():
    login = url_for("auth.login")
    if request.headers.get("HX-Request"):
        response = make_response("", 401)
        response.headers["HX-Redirect"] = login
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def refuse(message: str, status: int = 403):
    """A Chinese refusal: the whole page, or just the message for an htmx fragment request."""
    return render_error("refused", status, message=message)


def render_error(name: str, status: int, **context):
    template = f"errors/_{name}_body.html" if is_fragment_request() else f"errors/{name}.html"
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def _refused_as_read_only(writes: bool) -> bool:
    """A read-only account asks to change something: any method but GET / HEAD (other than its
    own session, password and read marks), or a page that is only a form (`writes`)."""
    if not read_only(current_user):
        return False
    return writes or (request.method not in ("GET", "HEAD") and request.endpoint not in CITY_MAY_POST)


def access(*roles, objects=None, writes=False, may=None, refusal="您的账号无权使用此功能"):
    """Declare who may use a route, and which URL ids are objects to load in scope.
    writes=True: the page is only a form (修改信息), so the read-only roles may not open it.
    may="operates_grassroots": the account must also have that `Account` property (its
    organisation's condition — open, grassroots …), else `refusal` (403, nothing changed)."""
    if may is not None and not hasattr(Account, may):
        raise ValueError(f"Account has no property {may!r}")
    roles = roles or ALL_LOGGED_IN
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    declared = roles
    if writes:
        roles = tuple(r for r in roles if r not in READ_ONLY_ROLES)

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return unauthenticated()
            if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ALLOWED:
                return redirect(url_for("auth.change_password"))
            role = current_user.role
            if role != "admin" and role not in declared:
                return refuse("您的账号无权使用此功能")
            if _refused_as_read_only(writes):
                return refuse(READ_ONLY_REFUSAL)
            for arg, model in (objects or {}).items():  # 404 outside the scope, before any other refusal
                kwargs[arg.removesuffix("_id")] = get_in_scope(model, kwargs.pop(arg))
            if may is not None and not getattr(current_user, may):
                return refuse(refusal)
            return view(*args, **kwargs)

        wrapped._access = Rule(roles=tuple(roles), objects=dict(objects or {}), writes=writes, may=may)
        return wrapped

    return decorate


def public(view):
    view._access = Rule(roles=(), public=True)
    return view


# --- rendering --------------------------------------------------------------------------------
def is_fragment_request() -> bool:
    """An htmx request that wants a fragment (not a boosted navigation, not a history restore)."""
    h = request.headers
    return (h.get("HX-Request") == "true" and h.get("HX-Boosted") != "true"
            and h.get("HX-History-Restore-Request") != "true")


def render_page(template: str, block: str | None = None, status: int = 200, **context):
    """The whole page, or only `block` for an htmx fragment request. Always Vary: HX-Request."""
    if not isinstance(status, int):  # a template variable named `status` would land here
        raise TypeError(f"render_page status must be an HTTP status code, got {status!r}")
    if block and is_fragment_request():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.headers["Vary"] = "HX-Request"
    return response


def redirect_to(url: str):
    """After a successful POST: a redirect; for a form that htmx posted to swap itself, an
    HX-Redirect so the browser loads the next page whole (its fragment would not be there)."""
    if is_fragment_request():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def put_errors(form, errors: dict) -> None:
    """A model's FieldErrors ({field: Chinese reason}) on the form's fields."""
    for name, message in errors.items():
        getattr(form, name).errors = [message]


MAX_TARGET = 2000


def local_target(target: str | None, default: str, path: str | None = None) -> str:
    """The one "local URL only" check (a `next` field or argument, a Referer): `target` when it is
    a path of this app — no control character (< 32 or 127; urlsplit silently drops a newline, CR or tab
    and the raw value would then break the Location header), no backslash (a browser reads it as a
    slash), no scheme or host, no `//`, not over-long — and its path is `path` (a list returned to
    with its filters) or, without `path`, a page a GET route of the app answers; else `default`."""
    if not target or len(target) > MAX_TARGET or not target.startswith("/") or target.startswith("//"):
        return default
    if any(ord(c) < 32 or ord(c) == 127 or c == "\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("//"):
        return default
    if path is not None:
        return target if parts.path == path else default
    try:
        current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except HTTPException:  # no such page, not a GET page (退出), or a redirect to another form
        return default
    return target


def list_url(listing: str) -> str:
    """The list page a form was sent from — `listing` with the filters and page the user had
    (the Referer, accepted only as that list's own path on this host), else `listing`."""
    referrer = request.referrer or ""
    for scheme in ("http://", "https://"):
        origin = f"{scheme}{request.host}"
        if referrer.startswith(origin + "/"):
            return local_target(referrer[len(origin):], listing, path=urlsplit(listing).path)
    return listing


def back_to_list(message: str, listing: str):
    """A ticked-row action with nothing (or nothing left) ticked: the list again — its filters
    kept — with the reason shown on it, never a separate 操作未完成 page; nothing changed."""
    flash(message, "error")
    return redirect_to(list_url(listing))


def form_ids(name: str, source=None) -> list[int]:
    """The ticked ids of a batch form (or of `source`, e.g. request.args), as sorted unique
    ints; anything that is not a plain (ASCII, database-sized) number is ignored, never a crash."""
    values = (request.form if source is None else source).getlist(name)
    return sorted({n for n in (bounded_int(v, 1) for v in values) if n is not None})


SUBMITTED = (("start", "提交时间（起）"), ("end", "提交时间（止）"))


def submitted_between(query, column, values, prefix: str = "", labels: tuple = SUBMITTED) -> tuple:
    """The 提交时间 range of a list page (?start=&end=, year-month-day, both inclusive) applied to
    `column`; returns (query, {key: typed date text}, [Chinese reasons for what was ignored]).
    `prefix` tells apart two lists on one page (?p_start=…)."""
    shown, errors = {}, []
    for key, label in labels:
        raw = normalize(values.get(prefix + key))
        if not raw:
            continue
        try:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
        except ValueError:
            errors.append(f"{label}格式应为 年-月-日")
            continue
        shown[key] = raw
        if key == "start":
            query = query.where(column >= datetime.combine(day, time()))
        else:
            query = query.where(until_end_of(day, column))
    return query, shown, errors


def acting_account():
    """The signed-in Account itself (not the proxy), for the operations that record who acted."""
    return current_user._get_current_object()


def int_arg(value, default: int | None = 0, low: int = 0, high: int = INT_MAX) -> int | None:
    """A query-string or form number (an id, a year, a page): `default` when it is not a
    whole number within [low, high] — a huge, negative or malformed value counts as absent."""
    number = bounded_int(value, low, high)
    return default if number is None else number


class BoundedIntConverter(IntegerConverter):
    """The app's `<int:…>`: an id in a URL beyond what a database column holds is a 404 (no
    such object), never an overflow. Registered as `int`, so every route is bounded."""

    regex = r"[0-9]+"  # ASCII digits only: /members/９ (full-width) is no id

    def __init__(self, url_map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_disposition(name: str, slug: str | None = None, inline: bool = False) -> str:
    """Content-Disposition of every download: the Chinese name (RFC 5987 filename*) and a readable
    ASCII `filename` for clients that ignore it — `slug`-YYYYMMDD, else the name's ASCII part when
    it has a letter (办卡批次KB2026… → KB2026….xlsx), else export-YYYYMMDD; never an empty one."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,8}", ext):
        stem, ext = name, ""
    suffix = "." + ext.lower() if ext else ""
    plain = "-".join(re.findall(r"[A-Za-z0-9._-]+", stem)).strip("._-")
    if slug:
        fallback = f"{slug}-{today():%Y%m%d}{suffix}"
    elif re.search(r"[A-Za-z]", plain):
        fallback = plain[:80] + suffix
    else:
        fallback = f"export-{today():%Y%m%d}{suffix}"
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def send_download(source, name: str, mimetype: str | None = None, slug: str | None = None):
    """send_file (a path or an open file, streamed) with content_disposition()'s header."""
    response = send_file(source, mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Content-Disposition"] = content_disposition(name, slug)
    return response


def file_response(data: bytes, name: str, mimetype: str, slug: str | None = None, inline: bool = False):
    """A generated file (bytes) with its Chinese name and an ASCII fallback (content_disposition)."""
    response = make_response(data)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = content_disposition(name, slug, inline)
    return response


def xlsx_response(data: bytes, name: str, slug: str | None = None):
    """An Excel download (file_response)."""
    return file_response(data, name, XLSX, slug)


def client_ip() -> str:
    return request.remote_addr or ""
