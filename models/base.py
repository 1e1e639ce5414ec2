"""BaseModel, time helpers (Asia/Shanghai), money helpers (integer fen) and DomainError."""

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import peewee as pw

from models import db, is_postgres

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """Current time in Asia/Shanghai, stored naive (all stored datetimes are Shanghai time)."""
    return datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def today() -> date:
    return datetime.now(SHANGHAI).date()


def until_end_of(day: date, column):
    """`column` on or before `day` (a datetime column, the whole day included) — every row when
    `day` is the last day a date can be (9999-12-31 has no next midnight)."""
    if day >= date.max:
        return column.is_null(False) | column.is_null()
    return column < datetime.combine(day + timedelta(days=1), time())


def in_values(column, values: list):
    """column IN (values) with the whole list as ONE parameter, however long (an import's ID
    numbers, the 50,000 ids behind a result page's count): PostgreSQL `= ANY(array)`, SQLite
    `json_each`. peewee's .in_() builds a node per value (a third of an import's checking time)
    and runs into SQLite's variable limit."""
    values = list(values)
    if not values:
        return column.in_([])
    if is_postgres():
        return pw.NodeList((column, pw.SQL(f"= ANY({db.param})", [values])))
    return pw.NodeList((column, pw.SQL(f"IN (SELECT value FROM json_each({db.param}))",
                                       [json.dumps(values, ensure_ascii=False)])))


class DomainError(Exception):
    """A refused action; the message is Chinese and shown to the operator as is."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


class FieldErrors(DomainError):
    """A form's fields refused (422): `message` for the page, `errors` = {field: Chinese reason}."""

    def __init__(self, message: str, errors: dict):
        super().__init__(message, 422)
        self.errors = errors


# Every model class by its name (filled as each class is defined): the core (the 操作日志's
# names, its foreign keys to Account and Organization) finds an area's models here instead of
# importing the area.
MODELS: dict[str, type] = {}


class BaseModel(pw.Model):
    # Field name of the organisation an object belongs to, for scope checks (views/access.py).
    scope_field = "org"

    class Meta:
        database = db
        legacy_table_names = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        MODELS[cls.__name__] = cls

    @classmethod
    def validate_model(cls):
        """When the class is complete: its `DeferredForeignKey`s to a model defined before it are
        bound now (peewee binds them only when the model they name is defined later)."""
        super().validate_model()
        by_name = {name.lower(): model for name, model in MODELS.items()}
        for field in sorted(pw.DeferredForeignKey._unresolved, key=lambda f: f._order):
            target = by_name.get(field.rel_model_name)
            if target is not None and getattr(field, "model", None) is not None and target is not cls:
                field.set_model(target)
                pw.DeferredForeignKey._unresolved.discard(field)


class Prepared:
    """A select that runs with different values on every request, its SQL composed once.

    peewee composes a query's SQL anew each time it runs: 0.6 ms of CPU for an account joined to
    its organisation, fifty times what SQLite then takes to answer it. The load test's profile
    (docs/benchmarks.md) found that composition in every request. `build(*values)` returns the
    query; it is called once per kind of database with placeholder values, and each later call
    puts the real values where the placeholders were. Use it only for a query whose shape does
    not depend on the values (no `in_(list)`, no branch on a value)."""

    _MARK = -7_346_000_001  # placeholder values: -7_346_000_001, -7_346_000_002, …

    def __init__(self, build, arity: int):
        self._build, self._arity, self._compiled = build, arity, {}

    def _prepare(self):
        kind = type(db.obj)
        if kind not in self._compiled:
            marks = [self._MARK - i for i in range(self._arity)]
            query = self._build(*marks)
            sql, params = query.sql()
            slots = [marks.index(p) if type(p) is int and p in marks else None for p in params]
            if {s for s in slots if s is not None} != set(range(self._arity)):
                raise ValueError("Prepared: a value does not appear among the query's parameters")
            self._compiled[kind] = (query, sql, params, slots)
        return self._compiled[kind]

    def _execute(self, values):
        query, sql, params, slots = self._prepare()
        bound = [p if s is None else values[s] for p, s in zip(params, slots, strict=True)]
        return query, db.execute_sql(sql, bound)

    def first(self, *values):
        """The first row as the query would give it (a model with its joined models), or None."""
        query, cursor = self._execute(values)
        return next(iter(query._get_cursor_wrapper(cursor)), None)

    def scalar(self, *values):
        """The first column of the first row (a count, say)."""
        row = self._execute(values)[1].fetchone()
        return row[0] if row else None
