"""BaseModel, time helpers (Asia/Shanghai), money helpers (integer fen) and DomainError."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import peewee as pw

from models import db

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


def yuan(fen: int) -> str:
    """Format integer fen as yuan: 80600 → '806', 650 → '6.5'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    if cents == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")


def in_values(column, values: list):
    """column IN (values) with the whole list as ONE parameter, however long (an import's ID
    numbers, the 50,000 ids behind a result page's count): PostgreSQL `= ANY(array)`, SQLite
    `json_each`. peewee's .in_() builds a node per value (a third of an import's checking time)
    and runs into SQLite's variable limit."""
    import json

    from models import is_postgres
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


class BaseModel(pw.Model):
    # Field name of the organisation an object belongs to, for scope checks (views/access.py).
    scope_field = "org"

    class Meta:
        database = db
        legacy_table_names = False
