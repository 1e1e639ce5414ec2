"""The floor under an import's ratio to the bare read (spec 80: ≤ 3): what no implementation of
the same import on the same schema can go below, measured in the same run.

An xlsx is parsed whole by python-calamine before its first row can be checked (no streaming
reader), and every row an import adds must be written, with its indexes and constraints, in the
apply's one transaction. So an import takes at least

    the parse of the file (calamine, no row turned into Python)
  + the writes of its rows by the database's fastest path and no application code:
    the rows the import added, read back and written again as they are — SQLite: INSERT … VALUES
    of the stored values, as many rows a statement as its variables allow; PostgreSQL: COPY of the
    server's own text of them —
    in one transaction, rolled back (the city is left as it was).

The row prints both and (parse + writes) ÷ the bare read: when that is above 3 on its own, no
import of that file on that schema meets the ratio on this machine. Only the inserts are counted
(an import's UPDATEs, reads and checks come on top), so the floor is a lower bound.
"""

import io
import time

from models import db, is_postgres


def parse_seconds(data: bytes) -> float:
    """python-calamine's parse of the first sheet alone (no row turned into Python values)."""
    from python_calamine import load_workbook
    start = time.perf_counter()
    book = load_workbook(io.BytesIO(data))
    book.get_sheet_by_index(0)
    book.close()
    return time.perf_counter() - start


def capture(tables: list) -> list:
    """[(model, where SQL, params)] → the rows now in those tables that match, as each database
    stores them (call it while an import's rows are still there)."""
    out = []
    for model, where, params in tables:
        table = model._meta.table_name
        select = f'SELECT * FROM "{table}" WHERE {where} ORDER BY 1'
        if is_postgres():
            cursor = db.cursor()
            text = io.StringIO()
            cursor.copy_expert(f"COPY ({cursor.mogrify(select, params).decode()}) TO STDOUT", text)
            out.append((table, text.getvalue()))
        else:
            out.append((table, db.execute_sql(select.replace("%s", "?"), params).fetchall()))
    return out


def write_seconds(captured: list) -> float:
    """Write `capture()`'s rows back (after the import was undone) in one transaction, rolled back:
    the seconds of the writes alone (SQLite's statements and parameters made before the clock
    starts). PostgreSQL's tables are vacuumed afterwards (the rolled-back rows would otherwise weigh
    on the next run)."""
    statements = [] if is_postgres() else [s for table, rows in captured if rows for s in _sqlite_inserts(table, rows)]
    with db.atomic() as txn:
        start = time.perf_counter()
        if is_postgres():
            for table, text in captured:
                db.cursor().copy_expert(f'COPY "{table}" FROM STDIN', io.StringIO(text))
        else:
            cursor = db.connection().cursor()
            for sql, params in statements:
                cursor.execute(sql, params)
        seconds = time.perf_counter() - start
        txn.rollback()
    vacuum(table for table, _data in captured)
    return seconds


def _sqlite_inserts(table: str, rows: list) -> list:
    """(INSERT … VALUES (…), (…), parameters) with as many rows a statement as SQLite's 32,766
    variables allow: faster than executemany of a row at a time (and what bulk_insert does)."""
    width = len(rows[0])
    per = max(1, 32_766 // width)
    one = "(" + ", ".join("?" * width) + ")"
    return [(f'INSERT INTO "{table}" VALUES {", ".join([one] * len(rows[i:i + per]))}',
             [v for row in rows[i:i + per] for v in row]) for i in range(0, len(rows), per)]


def update_seconds(sql: str, params: list, tables: tuple = ("membership",)) -> float:
    """One raw UPDATE (an import whose writes are updates: 同步会员) timed in a transaction, rolled back."""
    with db.atomic() as txn:
        start = time.perf_counter()
        db.execute_sql(sql if is_postgres() else sql.replace("%s", "?"), params)
        seconds = time.perf_counter() - start
        txn.rollback()
    vacuum(tables)
    return seconds


def vacuum(tables) -> None:
    if is_postgres():
        for table in dict.fromkeys(tables):
            db.execute_sql(f'VACUUM ANALYZE "{table}"')


def row(b, members: int, read_ms: float, parse: float, writes: float) -> None:
    """The floor's row under an import's row: its parse and writes, and (parse + writes) ÷ the read."""
    floor = (parse + writes) * 1000
    b.row(f"  floor: calamine parse {parse * 1000:.0f} ms + its rows written raw {writes * 1000:.0f} ms "
          "(bench/floor.py: no import of this file can go below it)", members, (floor, floor), "",
          floor / read_ms)
