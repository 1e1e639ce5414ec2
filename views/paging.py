"""Pagination with the manuals' text: 显示第 1 到第 15 条记录，总共 N 条记录."""

from dataclasses import dataclass

from flask import request, url_for

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


def page_url(param: str, number: int) -> str:
    """This page's URL with `param` set to `number`, the other query values kept — but not a query
    name that url_for would take as its own option (_method, _external, _anchor, _scheme) or as a
    part of the path (the route's own arguments): those are dropped, never a 500 or a changed link."""
    view_args = request.view_args or {}
    args = {k: v for k, v in request.args.to_dict().items() if not k.startswith("_") and k not in view_args}
    args[param] = number
    return url_for(request.endpoint, **view_args, **args)


def paginate(query, per_page: int = 15) -> Page:
    number = int_arg(request.args.get("page"), default=1, low=1)
    total = query.count()
    pages = max(1, -(-total // per_page))
    number = min(number, pages)
    items = list(query.paginate(number, per_page))
    return Page(items=items, number=number, per_page=per_page, total=total)
