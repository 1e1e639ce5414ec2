"""Reading uploaded tables (.xlsx, .xls, .csv): the header checked against the template.

Every import uses `read_table()` or `stream_table()`: the format is told by the file's content,
not its name; an xlsx or xls is parsed by python-calamine (models/io/formats.py: zip-bomb guard
first), a CSV by the csv module; the cells are read as text (NumericText for number cells). The
columns an error file adds (错误原因, 错误行号 — models/io/error_file.py) are ignored, so a fixed
error file goes in again as it is. Errors are DomainError with a Chinese message.

`stream_table()` is the form for big imports: the header at once, the rows as they are iterated
(a Python list a row: the sheet's cells stay in calamine's compact Rust form until then), with the
same text conversion, empty-row skipping and row limit as `read_table()`. calamine parses a
sheet whole before it gives its first row, so a second process parsing while the job checks would
overlap nothing: everything is read in the job's own process.
"""

import itertools
from dataclasses import dataclass, field

from models.base import DomainError
from models.io.formats import (
    EXCEL_DIGITS,
    FORMATS,
    NumericText,
    _csv,
    _sheet_of,
    _text,
    _xls,
    _xlsx,
    _xlsx_guard,
    keep_for_job,
    lost_digits,
    lost_digits_message,
    sniff,
)

ERROR_COLUMN = "错误原因"  # the columns an error file adds: not data when the file comes back
ROW_COLUMN = "错误行号"
ERROR_FILE_COLUMNS = (ERROR_COLUMN, ROW_COLUMN)
__all__ = ["ERROR_COLUMN", "ROW_COLUMN", "EXCEL_DIGITS", "FORMATS", "NumericText", "Table", "TableStream",
           "Columns", "check_table", "lost_digits", "lost_digits_message", "read_columns", "read_table", "records",
           "sniff", "stream_table"]


@dataclass
class Table:
    header: list  # column names as in the file (stripped)
    rows: list  # list of (row number in the file, [cells])
    kind: str  # xlsx / xls / csv


def read_table(data: bytes, required: list, max_rows: int = 100_000) -> Table:
    """Parse the upload and check that the header holds every `required` column."""
    if not data:
        raise DomainError("上传的文件是空的", 422)
    kind = sniff(data)
    reader = {"xlsx": _xlsx, "xls": _xls, "csv": _csv}[kind]
    rows = reader(data)
    header = None
    table_rows = []
    for number, cells in rows:
        try:  # a row of text cells (most rows): stripped in C
            cells = list(map(str.strip, cells))
        except TypeError:  # a number, a date …
            cells = [_text(c) for c in cells]
        if header is None:
            if not any(cells):
                continue
            header = cells
            continue
        if not any(cells):
            continue
        table_rows.append((number, cells))
        if len(table_rows) > max_rows:
            raise DomainError(f"文件超过{max_rows}行，请拆分后分批导入", 422)
    if header is None:
        raise DomainError("文件中没有表头和数据", 422)
    return Table(header=_checked_header(header, required), rows=table_rows, kind=kind)


@dataclass
class Columns:
    """A table read column by column (`read_columns()`): `columns` {column name: its cells, one per
    data row}, `numbers` each data row's number in the file. `rows` is the table as records()
    gives it — [(row number, {column: value})] — built only when asked for (a row's checks that
    word a refusal, an error file)."""
    header: list
    numbers: list
    columns: dict
    kind: str
    _rows: list | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def rows(self) -> list:
        if self._rows is None:
            names = list(self.columns)
            cells = zip(*self.columns.values(), strict=True) if names else iter([()] * len(self.numbers))
            self._rows = [(n, dict(zip(names, values, strict=True))) for n, values in zip(self.numbers, cells,
                                                                                         strict=True)]
        return self._rows


def read_columns(data: bytes, required: list, max_rows: int = 100_000) -> Columns:
    """read_table() column by column: the same header, cells, refusals and skipped empty rows, but
    the sheet's rows are turned into columns in C (zip) and each column's text is stripped in one
    call — no list and no dict a row (what a 50,000-row import spends most of its reading on).
    A sheet whose rows are not all alike (a CSV, cells left of the first used column) is read by
    read_table() and then turned into columns."""
    if not data:
        raise DomainError("上传的文件是空的", 422)
    kind = sniff(data)
    if kind == "csv":
        return _as_columns(read_table(data, required, max_rows=max_rows))
    if kind == "xlsx":
        _xlsx_guard(data)
    sheet = _sheet_of(data, None)
    if sheet.start and sheet.start[1]:
        return _as_columns(read_table(data, required, max_rows=max_rows))
    raw = list(sheet.iter_rows())
    top = next((i for i, cells in enumerate(raw) if any(map(_text, cells))), None)
    if top is None:
        raise DomainError("文件中没有表头和数据", 422)
    header = _checked_header([_text(c) for c in raw[top]], required)
    body = raw[top + 1:]
    if len(set(map(len, body))) > 1 or (body and len(body[0]) != len(header)):
        return _as_columns(read_table(data, required, max_rows=max_rows))
    numbers = range(top + 2, top + 2 + len(body))
    cells = [_stripped(c) for c in zip(*body, strict=True)] if body else [[] for _ in header]
    if all("" in c for c in cells) and body:  # perhaps an empty row: keep the others
        keep = list(map(any, zip(*cells, strict=True)))
        if not all(keep):
            numbers = list(itertools.compress(numbers, keep))
            cells = [list(itertools.compress(c, keep)) for c in cells]
    if len(numbers) > max_rows:
        raise DomainError(f"文件超过{max_rows}行，请拆分后分批导入", 422)
    columns = {h: c for h, c in zip(header, cells, strict=True) if h}
    return Columns(header=header, numbers=list(numbers), columns=columns, kind=kind)


def _stripped(column: tuple) -> list:
    """A column's cells as read_table() gives them: text stripped (in C), other values by _text()."""
    try:
        return list(map(str.strip, column))
    except TypeError:
        return [c.strip() if type(c) is str else _text(c) for c in column]


def _as_columns(table: Table) -> Columns:
    rows = list(records(table))
    names = [h for h in dict.fromkeys(table.header) if h]
    columns = {h: [values[h] for _, values in rows] for h in names}
    return Columns(header=table.header, numbers=[n for n, _ in rows], columns=columns, kind=table.kind, _rows=rows)


def check_table(data: bytes, required: list, max_rows: int = 100_000, keep: bool = False) -> None:
    """read_table()'s refusals (empty, format, zip bomb, the template's columns, the row limit)
    without turning every cell into Python: an xlsx / xls is parsed (python-calamine) and its
    header row read; its rows are counted one by one only when the sheet's dimension says more
    than `max_rows` (empty rows among them do not count). What a pre-check before the job needs.
    `keep`: the job runs in this process — the parsed sheet of a file that passed is kept for it
    (models/io/formats.py)."""
    if not data:
        raise DomainError("上传的文件是空的", 422)
    kind = sniff(data)
    if kind == "csv":
        read_table(data, required, max_rows=max_rows)
        return
    last = []
    parsed = [] if keep else None
    source = {"xlsx": _xlsx, "xls": _xls}[kind](data, sizes=last.append, keep=parsed)
    try:
        _header, header_row = _first_row(source, required)
        if last and last[0] - header_row > max_rows:
            for _ in _data_rows(source, max_rows):
                pass
    finally:
        source.close()
    if keep:
        keep_for_job(parsed)


def _first_row(source, required: list) -> tuple[list, int]:
    """(the checked header, its row number): the first non-empty row of `source`."""
    for number, cells in source:
        cells = [_text(c) for c in cells]
        if any(cells):
            return _checked_header(cells, required), number
    raise DomainError("文件中没有表头和数据", 422)


def _checked_header(header: list, required: list) -> list:
    header = [h.strip().strip("*").strip() for h in header]  # *姓名 and 姓名* are both 姓名
    header = ["" if h in ERROR_FILE_COLUMNS else h for h in header]  # a fixed error file: not data
    missing = [c for c in required if c not in header]
    if missing:
        raise DomainError(f"文件缺少必需的列：{'、'.join(missing)}（请使用下载的模板）", 422)
    return header


# --- streaming ---------------------------------------------------------------------------------
@dataclass
class TableStream:
    """A table read as it is iterated: `header` (checked) at once; iterate `rows` for
    (row number, [cells]) — DomainError from the iteration for a file that turns out bad (too
    many rows). `size_hint`: the rows below the header up to the sheet's last row (xlsx, xls:
    empty rows among them count), the exact count for a CSV (read up front), or None. Close it
    (or use `with`) when the rows are not read to the end."""
    header: list
    kind: str
    rows: object
    size_hint: int | None = None
    _close: object = field(default=None, repr=False)

    def __iter__(self):
        return iter(self.rows)

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stream_table(data: bytes, required: list, max_rows: int = 100_000, keep: list | None = None) -> TableStream:
    """read_table() as a stream (see the module's note). `keep`: a pre-check's list — the parsed
    sheet is put in it, for `formats.keep_for_job` once the file passed (models/io/formats.py)."""
    if not data:
        raise DomainError("上传的文件是空的", 422)
    kind = sniff(data)
    last = []  # the sheet's last row number (xlsx, xls)
    source = _csv(data) if kind == "csv" else {"xlsx": _xlsx, "xls": _xls}[kind](data, sizes=last.append, keep=keep)
    try:
        header, header_row = _first_row(source, required)
    except BaseException:
        source.close()
        raise
    rows = _data_rows(source, max_rows)
    if kind == "csv":  # read up front: the exact count for the progress bar
        rows = list(rows)
        hint = len(rows)
    else:
        hint = max(0, last[0] - header_row) if last else None
    return TableStream(header=header, kind=kind, rows=rows, size_hint=hint, _close=source.close)


def _data_rows(source, max_rows: int):
    count = 0
    for number, cells in source:
        try:  # a row of text cells (most rows): stripped in C
            cells = list(map(str.strip, cells))
        except TypeError:  # a number, a date …: _text() for those (inline for the text cells)
            cells = [c.strip() if type(c) is str else _text(c) for c in cells]
        if not any(cells):
            continue
        count += 1
        if count > max_rows:
            raise DomainError(f"文件超过{max_rows}行，请拆分后分批导入", 422)
        yield number, cells


def records(table: Table):
    """(row number, {column: value}) for each data row."""
    header = table.header
    named = [(i, h) for i, h in enumerate(header) if h]
    every = "" not in header  # every column named: zip (cells past the header dropped)
    for number, cells in table.rows:
        padded = cells + [""] * (len(header) - len(cells)) if len(cells) < len(header) else cells
        yield number, dict(zip(header, padded, strict=False)) if every else {h: padded[i] for i, h in named}
