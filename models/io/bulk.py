"""Writing many rows at once, for the imports: `bulk_insert()` (PostgreSQL COPY, SQLite
multi-row INSERT, ids returned), `insert_chunks()` (peewee's insert_many a chunk at a time),
`update_rows()` (each row its own values: PostgreSQL UPDATE … FROM (VALUES …), SQLite one
executemany) and the reads that go with them (`fetch()` plain tuples, `in_batch()` values per IN).
"""

import itertools
import json
import operator
import sqlite3
from datetime import date, datetime

import peewee as pw

from models import db, is_postgres
from models.base import in_values

BATCH = 500  # rows per INSERT / IN (…) — well inside SQLite's variable limit
CHUNK = 1000  # rows per insert_many


def insert_chunks(model, rows: list, size: int = CHUNK) -> None:
    """peewee's insert_many, `size` rows a statement (the model's defaults and conversions)."""
    for i in range(0, len(rows), size):
        model.insert_many(rows[i:i + size]).execute()


def in_batch() -> int:
    """Values per IN (…): 2,000 (a whole chunk); 500 on an SQLite older than 3.32 (999 variables)."""
    return 2000 if is_postgres() or sqlite3.sqlite_version_info >= (3, 32) else 500


def fetch(query) -> list:
    """The rows of a select as plain tuples, without peewee's per-row work (text and integer
    columns only: no conversion is needed)."""
    return db.execute_sql(*query.sql()).fetchall()


def select_among(column, values: list, *fields):
    """`column.model.select(*fields)` of the rows whose `column` is one of `values` (an import's
    50,000 ID numbers or ids). SQLite: the rows reached from json_each of the distinct values —
    `FROM json_each(?) CROSS JOIN <table> WHERE column = value`, each value looked up in the
    column's index once, in the list's order — instead of `IN (SELECT value FROM json_each(?))`,
    for which SQLite first copies and sorts the values into a temporary index (4 × the CPU of a
    lookup of 50,000 numbers not there, a quarter more for numbers found). Joins may follow.
    PostgreSQL: `in_values` (= ANY)."""
    model = column.model
    if is_postgres() or not values:
        return model.select(*fields).where(in_values(column, values))
    if len(set(values)) != len(values):  # one row a value: each value once
        values = list(dict.fromkeys(values))
    listed = pw.SQL(f'json_each({db.param}) AS "listed" CROSS JOIN', [json.dumps(values, ensure_ascii=False)])
    return model.select(*fields).from_(pw.NodeList((listed, model))).where(column == pw.SQL('"listed"."value"'))


def bulk_insert(model, rows: list, size: int = BATCH, returning=(), same: dict | None = None) -> list | None:
    """Insert plain dicts fast — the model's Python defaults filled in, values converted by each
    field. PostgreSQL: COPY (ids taken from the table's sequence first when asked for); SQLite:
    INSERT … VALUES (…), (…) with `size` rows a statement. (peewee's insert_many builds the same
    statement but spends most of a 50,000-row import composing it.) With `returning` fields:
    their values for every inserted row, in no particular order (None where the database
    cannot return them). `same`: values of every row (unless a row names its own), given once."""
    if not rows:
        return [] if returning else None
    if is_postgres() and returning and model._meta.primary_key.name not in rows[0]:
        for row, new_id in zip(rows, _next_ids(model, len(rows)), strict=True):
            row[model._meta.primary_key.name] = new_id
    fields, defaults = _insert_fields(model, rows[0], same)
    constant: set = set()
    columns = _columns(fields, defaults, rows, constant)
    out = _write(model, fields, {k: v for k, v in defaults.items() if k in constant}, columns, len(rows), size,
                 returning)
    if is_postgres() and returning:
        names = [f.name for f in returning]
        return list(map(operator.itemgetter(*names), rows)) if len(names) > 1 else [(row[names[0]],) for row in rows]
    return out


def insert_columns(model, columns: dict, size: int = BATCH, returning=(), same: dict | None = None) -> list | None:
    """bulk_insert() of rows given column by column — {field name: its values, one per row} — so
    an import that checked its file a column at a time never builds a dict per row. `same` and
    the model's defaults fill the other fields (written once into each statement on SQLite)."""
    n = len(next(iter(columns.values()))) if columns else 0
    if any(len(values) != n for values in columns.values()):  # COPY's map() would stop at the shortest
        raise ValueError("insert_columns: columns of different lengths")
    if not n:
        return [] if returning else None
    pk = model._meta.primary_key.name
    if is_postgres() and returning and pk not in columns:
        columns = {pk: _next_ids(model, n), **columns}
    fields, defaults = _insert_fields(model, columns, same)
    out = _write(model, fields, defaults, [columns[f.name] if f.name in columns else [defaults[f.name]] * n
                                           for f in fields], n, size, returning)
    if is_postgres() and returning:
        return list(zip(*[columns[f.name] for f in returning], strict=True))
    return out


def _write(model, fields: list, defaults: dict, columns: list, n: int, size: int, returning) -> list | None:
    """The INSERTs of bulk_insert / insert_columns: `columns` the values of each of `fields` (a
    field in `defaults` holds that value in every row)."""
    if is_postgres():
        _copy(model, fields, defaults, columns, n)
        return None
    # The values every row shares (defaults, `same`) written into the statement as literals: a
    # quarter less of SQLite's work for a wide row (a membership: 23 columns, 5 from the file).
    literals = {}
    for f in fields:
        if f.name in defaults:
            literal = _sqlite_literal(_converted(f, [defaults[f.name]], adapt=True)[0])
            if literal is not None:
                literals[f.name] = literal
    values = _sqlite_values([(f, c) for f, c in zip(fields, columns, strict=True) if f.name not in literals])
    width = len(fields) - len(literals)
    names = ", ".join(f'"{f.column_name}"' for f in fields)
    one = "(" + ", ".join(literals.get(f.name, db.param) for f in fields) + ")"
    tail = ""
    if returning and _sqlite_returning():
        tail = " RETURNING " + ", ".join(f'"{f.column_name}"' for f in returning)
    out = []
    for i in range(0, n, size):
        count = min(size, n - i)
        cursor = db.execute_sql(f'INSERT INTO "{model._meta.table_name}" ({names}) VALUES '
                                + ", ".join([one] * count) + tail, values[i * width:(i + count) * width])
        if tail:
            out.extend(cursor.fetchall())
    return out if tail else None


_PLAIN = frozenset((str, int, type(None)))  # what needs no conversion by a field


def _sqlite_literal(value) -> str | None:
    """A converted value as an SQLite literal (NULL, an integer, a quoted text); None for what
    is better bound (a float, bytes, a boolean, text holding a NUL)."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    if type(value) is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _columns(fields, defaults: dict, rows: list, constant: set | None = None):
    """The rows' values column by column (a sequence per field, in `fields` order; a row missing
    a field takes its default), in C where it can be (itemgetter, zip), not value by value.
    `constant`: a set that gets the names of the fields whose value is their default in every row."""
    names = [f.name for f in fields]
    if len(set(map(len, rows))) == 1 and len(rows[0]) == len(names) - len(defaults):
        present = [n for n in names if n not in defaults]
        try:
            tuples = list(map(operator.itemgetter(*present), rows)) if len(present) > 1 else \
                [(row[present[0]],) for row in rows]
        except KeyError:  # rows of different keys: one at a time
            tuples = None
        if tuples is not None:
            given = dict(zip(present, zip(*tuples, strict=True), strict=True)) if tuples else {}
            columns = [given[n] if n in given else [defaults[n]] * len(rows) for n in names]
            if constant is not None:
                constant.update(defaults)
            return columns
    return [[row[f.name] if f.name in row else defaults[f.name] for row in rows] for f in fields]


def _converted(field, column, adapt: bool = False):
    """A column's values converted by the field (as `_db_value`), then — `adapt`, SQLite — by
    sqlite3's registered adapter (what the driver does with a date). A column of dates, naive
    times or booleans (and NULL) is converted once per distinct value."""
    types = set(map(type, column))
    if types <= _PLAIN:
        return column

    def convert(value):
        if type(value) in _PLAIN:
            return value
        value = field.db_value(value)
        if adapt:
            adapter = sqlite3.adapters.get((type(value), sqlite3.PrepareProtocol))
            if adapter is not None:
                return adapter(value)
        return value
    return _each(column, convert)


# Types whose equal values convert alike (unlike aware times of different zones, or 1.0 and 1.00).
_DISTINCT_SAFE = frozenset((date, datetime, bool))


def _sqlite_values(columns: list) -> list:
    """The flat parameter list of rows × fields for SQLite from [(field, its column)]: each value
    converted by its field and sqlite3's adapter (`_converted`), column by column."""
    columns = [_converted(f, c, adapt=True) for f, c in columns]
    if len(columns) == 1:  # one value a row (the rest literals): the column itself
        return list(columns[0])
    return list(itertools.chain.from_iterable(zip(*columns, strict=True)))


PG_CASTS = {"AUTO": "integer", "BIGAUTO": "bigint", "BOOL": "boolean", "INT": "integer", "BIGINT": "bigint",
            "SMALLINT": "smallint", "DATE": "date", "DATETIME": "timestamp", "FLOAT": "double precision",
            "DECIMAL": "numeric"}  # the rest: text


# PostgreSQL: below this many rows an executemany of UPDATE … WHERE id = %s; above it the temporary
# table (its locks last until the transaction ends, so a transaction of many small updates — a
# request making many roster changes, a test — would fill the server's lock table with them).
TEMP_TABLE_FROM = 2000


def update_rows(model, fields: list, rows: list) -> int:
    """Set `fields` (model fields) of many rows, each to its own values: rows are tuples, the
    fields' values in order and the primary key last. PostgreSQL: the rows COPYed into a
    temporary table, then one UPDATE … FROM it (twice as fast as UPDATE … FROM (VALUES …) pages),
    for more than TEMP_TABLE_FROM rows; otherwise, and on SQLite, one executemany of
    `UPDATE … SET … WHERE id = ?`. (peewee's bulk_update composes a
    CASE per field and row — most of a 50,000-row update's time.) One transaction (a savepoint
    inside the caller's). Returns how many rows were given."""
    if not rows:
        return 0
    table, pk = model._meta.table_name, model._meta.primary_key
    plain = (str, int, bool, type(None))  # what both drivers take as it is
    converted = [row if all(type(v) in plain for v in row) else
                 tuple(_db_value(f, v) for f, v in zip([*fields, pk], row, strict=True)) for row in rows]
    with db.atomic(), pw.__exception_wrapper__:
        cursor = db.cursor()
        if is_postgres() and len(converted) > TEMP_TABLE_FROM:
            names = [f"v{i}" for i in range(len(fields))]
            columns = ", ".join(f"{n} {PG_CASTS.get(f.field_type, 'text')}"
                                for n, f in zip([*names, "k"], [*fields, pk], strict=True))
            cursor.execute(f"CREATE TEMPORARY TABLE update_rows ({columns}) ON COMMIT DROP")
            cursor.copy_expert("COPY update_rows FROM STDIN", _Streamed(
                "\t".join(_copy_text(v) for v in row) + "\n" for row in converted), size=COPY_PIECE)
            assign = ", ".join(f'"{f.column_name}" = v.{n}' for f, n in zip(fields, names, strict=True))
            cursor.execute(f'UPDATE "{table}" AS t SET {assign} FROM update_rows AS v WHERE t."{pk.column_name}" = v.k')
            cursor.execute("DROP TABLE update_rows")
        else:
            mark = db.param
            assign = ", ".join(f'"{f.column_name}" = {mark}' for f in fields)
            cursor.executemany(f'UPDATE "{table}" SET {assign} WHERE "{pk.column_name}" = {mark}', converted)
    return len(rows)


def relaxed_commit() -> None:
    """Inside a transaction whose loss in a server crash is harmless because its checkpoint goes
    with it (an import's staged chunk): PostgreSQL does not wait for the WAL flush at its commit
    (`SET LOCAL synchronous_commit = off`); nothing on SQLite."""
    if is_postgres():
        db.execute_sql("SET LOCAL synchronous_commit = off")


def _copy_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if type(value) is bool:
        return "t" if value else "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _db_value(field, value):
    """field.db_value(value), skipped for text, integers and NULL (nothing to convert)."""
    return value if value is None or type(value) is str or type(value) is int else field.db_value(value)


def _insert_fields(model, first: dict, same: dict | None = None):
    """(the fields to insert, {field name: the value of rows without it}): the model's defaults
    and `same`."""
    same = same or {}
    fields = [f for f in model._meta.sorted_fields
              if not (f.primary_key and f.name not in first and f.name not in same)]
    defaults = {f.name: same[f.name] if f.name in same else f.default() if callable(f.default) else f.default
                for f in fields if f.name not in first}
    return fields, defaults


def _next_ids(model, n: int) -> list:
    """n ids from the table's own sequence (PostgreSQL), so COPY can write them."""
    pk = model._meta.primary_key.column_name
    sequence = db.execute_sql("SELECT pg_get_serial_sequence(%s, %s)", (model._meta.table_name, pk)).fetchone()[0]
    cursor = db.execute_sql("SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, n))
    return [r[0] for r in cursor.fetchall()]


def _copy(model, fields, defaults: dict, columns: list, n: int) -> None:
    """COPY … FROM STDIN (CSV): every value quoted, NULL as an unquoted \\N. Each line is one
    str.format of a line template (in C): the values every row shares written into the template
    once, a column of plain text or integers filled in as it is (the template quotes it), any
    other column as its tokens (`_csv_column`)."""
    template, variable = [], []
    for f, column in zip(fields, columns, strict=True):
        if f.name in defaults:
            token = _csv_token(_converted(f, [defaults[f.name]])[0])
            template.append(token.replace("{", "{{").replace("}", "}}"))
        elif _quotable(column):
            template.append('"{}"')
            variable.append(column)
        else:
            template.append("{}")
            variable.append(_csv_column(f, column))
    line = ",".join(template) + "\n"
    lines = map(line.format, *variable) if variable else itertools.repeat(line, n)
    names = ", ".join(f'"{f.column_name}"' for f in fields)
    sql = f'COPY "{model._meta.table_name}" ({names}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')'
    with pw.__exception_wrapper__:  # driver errors as peewee's (IntegrityError …), as execute_sql does
        db.cursor().copy_expert(sql, _Streamed(lines), size=COPY_PIECE)


def _quotable(column) -> bool:
    """A column of text without a double quote and integers (no NULL, no boolean): each value
    is its CSV token once put between quotes."""
    types = set(map(type, column))
    if not types or not types <= {str, int}:
        return False
    text = "".join(column) if types == {str} else "".join([v for v in column if type(v) is str])
    return '"' not in text


COPY_PIECE = 256 * 1024  # characters per piece of COPY data


class _Streamed:
    """A file-like view of text lines for copy_expert: each read() formats only the lines of
    the next piece, so PostgreSQL inserts (and indexes) the rows already sent while this
    process formats the rest — instead of waiting for the whole text first."""

    def __init__(self, lines):
        self._lines = iter(lines)
        self._per_piece = None  # lines a read() gives

    def read(self, size: int = -1) -> str:
        # whole lines up to about `size` characters: a first batch of lines tells their length
        if self._per_piece is None:
            first = list(itertools.islice(self._lines, 100))
            length = sum(map(len, first)) or 1
            self._per_piece = max(1, 100 * size // length) if size > 0 else None
            if self._per_piece is None:
                return "".join(first) + "".join(self._lines)
            return "".join(first)
        return "".join(itertools.islice(self._lines, self._per_piece))


def _csv_token(value) -> str:
    """One value (converted by its field) in COPY's CSV form: quoted, or \\N for NULL."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        value = "t" if value else "f"
    elif isinstance(value, datetime):
        value = value.isoformat(" ")
    elif isinstance(value, date):
        value = value.isoformat()
    value = str(value)
    return '"' + (value.replace('"', '""') if '"' in value else value) + '"'


def _csv_column(field, column) -> list:
    """A column's CSV tokens (`_csv_token` of each value converted by the field); a column of
    text without a quote, integers and NULL formatted without a call per value."""
    column = _converted(field, column)
    types = set(map(type, column))
    if types == {type(None)}:
        return ["\\N"] * len(column)
    if types <= _PLAIN and (str not in types or '"' not in "".join(v for v in column if type(v) is str)):
        if type(None) not in types:
            return list(map('"{}"'.format, column))
        return ["\\N" if v is None else f'"{v}"' for v in column]
    return _each(column, _csv_token)


def _each(column, fn) -> list:
    """fn of each value — once per distinct value for a column of dates, naive times or booleans
    (and NULL)."""
    kinds = set(map(type, column)) - {type(None)}
    if len(kinds) == 1 and kinds <= _DISTINCT_SAFE:
        distinct = set(column)
        if datetime not in kinds or all(v.tzinfo is None for v in distinct if v is not None):
            mapping = {v: fn(v) for v in distinct}
            return list(map(mapping.__getitem__, column))
    return [fn(v) for v in column]


def _sqlite_returning() -> bool:
    return sqlite3.sqlite_version_info >= (3, 35)


def chunks(values: list, size: int = BATCH):
    """`values` in pieces of `size` (the ids of one IN query)."""
    for i in range(0, len(values), size):
        yield values[i:i + size]
