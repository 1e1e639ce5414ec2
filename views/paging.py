"""Pagination with the manuals' text: 显示第 1 到第 15 条记录，总共 N 条记录."""

from dataclasses import dataclass

import peewee as pw
from flask import request, url_for

from models.rules.text import INT_MAX, bounded_int
from views.access import int_arg


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.per_page)

    @property
    def summary(self) -> str:
        return f"显示第 {self.first} 到第 {self.last} 条记录，总共 {self.total} 条记录"

    def url(self, number: int) -> str:
        return page_url(getattr(self, "param", "page"), number)

    # what partials/_pager.html shows (a KeysetPage answers them from its cursors)
    @property
    def position(self) -> str:
        return f"第 {self.number} / {self.pages} 页"

    @property
    def prev_url(self) -> str | None:
        return self.url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.number + 1) if self.number < self.pages else None

    first_url = last_url = None  # 首页 / 末页: only where pages are found by a cursor


def page_url(param: str, number: int) -> str:
    """This page's URL with `param` set to `number`, the other query values kept — but not a query
    name that url_for would take as its own option (_method, _external, _anchor, _scheme) or as a
    part of the path (the route's own arguments): those are dropped, never a 500 or a changed link."""
    view_args = request.view_args or {}
    args = {k: v for k, v in request.args.to_dict().items() if not k.startswith("_") and k not in view_args}
    args[param] = number
    return url_for(request.endpoint, **view_args, **args)


def paginate(query, per_page: int = 15, key=None) -> Page:
    """Page `number` of the query, with its total. `key` (the model's id, covered by the index that
    gives the order) pages deep pages by a deferred join: the OFFSET skips over index entries alone
    and only the page's own rows are read, so page 100 costs what page 1 does."""
    number = int_arg(request.args.get("page"), default=1, low=1)
    total = query.count()
    pages = max(1, -(-total // per_page))
    number = min(number, pages)
    if key is not None and number > 1:
        items = list(query.where(key.in_(query.select(key).paginate(number, per_page))))
    else:
        items = list(query.paginate(number, per_page))
    return Page(items=items, number=number, per_page=per_page, total=total)


# --- keyset paging (issue 19): a page reads its rows, not the scope -----------------------------
CAP = 1000  # a filtered total of a district / the city is counted up to this: "总共超过 1000 条记录"


def list_scope(account) -> dict:
    """How wide a member list of the account is: {"wide": False} for one union (exact totals);
    for a district or secondary union its root (counters over the closure table), for the whole
    city root_id None."""
    if account.sees_whole_city:
        return {"wide": True, "root_id": None}
    if account.is_reviewer:
        return {"wide": True, "root_id": account.org_id}
    return {"wide": False}


@dataclass
class KeysetPage(Page):
    """A page found by a cursor (the key of the row before or after it) rather than an offset.
    `number` counts from the first page, or from the last when negative (-1 末页, -2 倒数第 2 页) —
    what a capped total leaves, as the position of the last page is then unknown. `exact` False:
    `total` is more than CAP (it was counted up to CAP + 1); None: `total` is a lower bound (the
    matches among the part of the scope read — roster.Pages.sampled_total)."""
    exact: bool | None = True
    newer: str | None = None  # the cursor of the first row (上一页 reads before it)
    older: str | None = None  # the cursor of the last row (下一页 reads after it)
    has_prev: bool = False
    has_next: bool = False
    note: str = ""  # after the summary: why a capped list shows only part of its matches

    @property
    def first(self) -> int:
        if not self.items:
            return 0
        return (abs(self.number) - 1) * self.per_page + 1  # from the end when number < 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def summary(self) -> str:
        if self.exact is None:  # a lower bound: never below what this page shows
            total = f"至少 {max(self.total, self.last)} "
        else:
            total = f" {self.total} " if self.exact else f"超过 {CAP} "
        start = "显示倒数第" if self.number < 0 else "显示第"
        return f"{start} {self.first} 到第 {self.last} 条记录，总共{total}条记录{self.note}"

    @property
    def position(self) -> str:
        if self.exact:
            return f"第 {self.number} / {self.pages} 页"
        if self.number < 0:
            return "末页" if self.number == -1 else f"倒数第 {-self.number} 页"
        return f"第 {self.number} 页"

    @property
    def prev_url(self) -> str | None:
        if not self.has_prev:
            return None
        return self.first_url if self.number == 2 else _cursor_url(self.number - 1, before=self.newer)

    @property
    def next_url(self) -> str | None:
        return _cursor_url(self.number + 1, after=self.older) if self.has_next else None

    @property
    def first_url(self) -> str | None:
        return _cursor_url(1) if self.has_prev else None

    @property
    def last_url(self) -> str | None:
        return _cursor_url(self.pages if self.exact else -1, last="1") if self.has_next else None


CURSOR_ARGS = ("after", "before", "last", "page")


def _cursor_url(number: int, **cursor) -> str:
    """This list's URL (filters kept) at page `number` with the cursor given (after / before / last)."""
    view_args = request.view_args or {}
    args = {k: v for k, v in request.args.to_dict().items()
            if not k.startswith("_") and k not in view_args and k not in CURSOR_ARGS}
    args.update({k: v for k, v in cursor.items() if v})
    if number != 1:
        args["page"] = number
    return url_for(request.endpoint, **view_args, **args)


def _key(text: str | None, width: int) -> tuple | None:
    """A cursor from the query string ("12.3456": org id, row id), or None when malformed."""
    values = tuple(bounded_int(p, 0, INT_MAX) for p in (text or "").split("."))
    return values if len(values) == width and None not in values else None


def keyset(narrow, key: tuple, total, per_page: int = 15, offset_rows: int | None = None,
           fetch=None, bounded=None, names: tuple | None = None) -> KeysetPage:
    """Page `narrow` (a query of the rows' key columns, filtered and scoped, not ordered) in the
    order of `key` descending (e.g. (Membership.org, Membership.id): by union, newest first).
    The query string says where: nothing = the first page; after=<key> the page after a row;
    before=<key> the page before one; last=1 the last page (read in reverse); ?page=N alone (a
    typed link) by offset, at most `offset_rows` rows deep (None: any). `total()` answers
    (count, exact). A page reads per_page + 1 rows in index order: nothing reads the scope.
    `fetch(ids)`: the page's rows from the sub-query of their ids, in `key` order descending, in
    the same statement (the items are then those rows; else the key tuples). `bounded(low, high)`:
    `narrow` with the first key column between the two (so that the scope itself starts at the
    cursor, not only the rows). `total()` may answer exact None: the count is a lower bound (shown
    "至少 N", paged as a capped one). `names`: the fetched rows' attributes holding the key (default the
    key columns' names — a key column of a joined table has its value under another name there)."""
    args = request.args
    count, exact = total()
    pages = max(1, -(-count // per_page))
    number = bounded_int(args.get("page"), -INT_MAX, INT_MAX) or 1
    if exact and number < 0:
        number = max(1, pages + 1 + number)
    number = min(number, pages) if exact else number
    after, before = _key(args.get("after"), len(key)), _key(args.get("before"), len(key))
    row = pw.Tuple(*key)
    last = args.get("last") == "1"
    if last or before is not None:  # read backwards: the rows just before the cursor (or the end)
        size = per_page
        if last:
            number = pages if exact else -1
            size = count - (pages - 1) * per_page if exact else per_page
        if not last and bounded is not None:
            narrow = bounded(before[0], None)
        query = narrow if last else narrow.where(row > pw.Tuple(*before))
        rows = _rows(query.order_by(*[k.asc() for k in key]).limit(size + 1), key, fetch, ascending=True)[::-1]
        items = rows[-size:] if len(rows) > size else rows
        has_prev, has_next = len(rows) > size, not last
    else:
        if after is not None and bounded is not None:
            narrow = bounded(None, after[0])
        query = narrow if after is None else narrow.where(row < pw.Tuple(*after))
        query = query.order_by(*[k.desc() for k in key])
        if after is None and number > 1:
            if offset_rows is not None:
                number = max(1, min(number, offset_rows // per_page + 1))
            query = query.offset((number - 1) * per_page)
        elif after is None:
            number = 1
        rows = _rows(query.limit(per_page + 1), key, fetch)
        items = rows[:per_page]
        has_prev, has_next = after is not None or number > 1, len(rows) > per_page
    if exact is None and not items and not has_prev:  # a lower bound, and nothing at all matches
        count, exact, number = 0, True, 1
    if exact is None and items and number > 0:  # a lower bound covers the rows up to here (and one more)
        count = max(count, (number - 1) * per_page + len(items) + int(has_next))
    page = KeysetPage(items=items, number=number, per_page=per_page, total=count, exact=exact,
                      has_prev=has_prev and bool(items), has_next=has_next and bool(items))
    if items:
        names = names or tuple(k.column_name for k in key)
        page.newer, page.older = _cursor(items[0], names, fetch), _cursor(items[-1], names, fetch)
    return page


def _rows(query, key: tuple, fetch, ascending: bool = False) -> list:
    """The page's key tuples in the query's order, or with `fetch` the rows themselves (which
    come in key order descending: put back in the query's order here)."""
    if fetch is None:
        return list(query.tuples())
    rows = list(fetch(query.select(key[-1])))
    return rows[::-1] if ascending else rows


def _cursor(item, names: tuple, fetch) -> str:
    values = (getattr(item, name) for name in names) if fetch is not None else item
    return ".".join(str(v) for v in values)
