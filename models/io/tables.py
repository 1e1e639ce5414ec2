"""Reading uploaded tables (.xlsx, .xls, .csv): the header checked against the template.

Every import uses `read_table()`: the format is told by the file's content, not its name, and
the cells are read as text (models/io/formats.py: zip-bomb guard, NumericText). The columns an
error file adds (错误原因, 错误行号 — models/io/error_file.py) are ignored, so a fixed error file
goes in again as it is. Errors are DomainError with a Chinese message.

`stream_table()` is the streaming form for big imports: the header at once, the rows as they are
parsed. An xlsx is parsed by openpyxl in a second process (the reader process) that sends the
raw rows through a pipe in batches, so the importing process checks and stages the first rows
while the reader is still parsing the rest (two cores: reading and checking overlap). Everything
after the raw cells (text conversion, header, empty rows, the row limit) happens in the
importing process, exactly as in `read_table()`; the reader's errors (damaged file, zip bomb,
not a workbook) arrive as the same DomainError.
"""

import multiprocessing
from dataclasses import dataclass, field

from models.base import DomainError
from models.io.formats import (
    EXCEL_DIGITS,
    FORMATS,
    NumericText,
    _csv,
    _text,
    _xls,
    _xlsx,
    lost_digits,
    lost_digits_message,
    sniff,
)

ERROR_COLUMN = "错误原因"  # the columns an error file adds: not data when the file comes back
ROW_COLUMN = "错误行号"
ERROR_FILE_COLUMNS = (ERROR_COLUMN, ROW_COLUMN)
__all__ = ["ERROR_COLUMN", "ROW_COLUMN", "EXCEL_DIGITS", "FORMATS", "NumericText", "Table", "TableStream",
           "lost_digits", "lost_digits_message", "read_table", "reader_process_wanted", "records", "sniff",
           "stream_table"]


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


def _checked_header(header: list, required: list) -> list:
    header = [h.strip().strip("*").strip() for h in header]  # *姓名 and 姓名* are both 姓名
    header = ["" if h in ERROR_FILE_COLUMNS else h for h in header]  # a fixed error file: not data
    missing = [c for c in required if c not in header]
    if missing:
        raise DomainError(f"文件缺少必需的列：{'、'.join(missing)}（请使用下载的模板）", 422)
    return header


# --- streaming: the reader process -----------------------------------------------------------
READER_BATCH = 500  # raw rows per message from the reader process


@dataclass
class TableStream:
    """A table read as it is parsed: `header` (checked) at once; iterate `rows` for
    (row number, [cells]) — DomainError from the iteration for a file that turns out bad (too
    many rows, damaged further on). `size_hint`: the data rows the sheet declares (xlsx), or the
    exact count when everything was read up front, or None. Close it (or use `with`) to stop the
    reader process when the rows are not read to the end."""
    header: list
    kind: str
    rows: object
    size_hint: int | None = None
    in_process: bool = True  # False: an xlsx parsed by the reader process
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


def reader_process_wanted() -> bool:
    """IMPORT_READER_PROCESS of the app (default on; off in tests that want one process)."""
    from flask import current_app, has_app_context
    return not has_app_context() or current_app.config.get("IMPORT_READER_PROCESS", True)


def stream_table(data: bytes, required: list, max_rows: int = 100_000, reader_process: bool = True,
                 start_method: str | None = None) -> TableStream:
    """read_table() as a stream (see the module's note). An xlsx is parsed in a reader process
    when `reader_process` (and the platform allows one: a daemonic process may not have
    children); xls and csv are read in this process (they are small and fast to parse)."""
    if not data:
        raise DomainError("上传的文件是空的", 422)
    kind = sniff(data)
    close = None
    hint = None
    if kind == "xlsx" and reader_process and not multiprocessing.current_process().daemon:
        raw = _ReaderProcess(data, start_method)
        close = raw.close
        try:
            hint = raw.size_hint()
        except BaseException:
            raw.close()
            raise
        source = iter(raw)
    else:
        reader_process = False
        source = {"xlsx": _xlsx, "xls": _xls, "csv": _csv}[kind](data)
    try:
        header = None
        for _number, cells in source:
            cells = [_text(c) for c in cells]
            if any(cells):
                header = cells
                break
        if header is None:
            raise DomainError("文件中没有表头和数据", 422)
        header = _checked_header(header, required)
    except BaseException:
        if close:
            close()
        raise
    rows = _data_rows(source, max_rows, close)
    if not reader_process:  # read up front: the exact count for the progress bar
        rows = list(rows)
        hint = len(rows)
    elif hint is not None:
        hint = max(0, hint - 1)
    return TableStream(header=header, kind=kind, rows=rows, size_hint=hint, in_process=not reader_process,
                       _close=close)


def _data_rows(source, max_rows: int, close=None):
    count = 0
    try:
        for number, cells in source:
            cells = [_text(c) for c in cells]
            if not any(cells):
                continue
            count += 1
            if count > max_rows:
                raise DomainError(f"文件超过{max_rows}行，请拆分后分批导入", 422)
            yield number, cells
    finally:
        if close:
            close()


class _ReaderProcess:
    """openpyxl's read-only pass over an xlsx in a child process; iterate for the raw
    (row number, cells) in file order."""

    def __init__(self, data: bytes, start_method: str | None = None):
        methods = multiprocessing.get_all_start_methods()
        method = start_method or ("fork" if "fork" in methods else "spawn")
        context = multiprocessing.get_context(method)
        self._conn, child = context.Pipe(duplex=False)
        # The reading end goes along only to be closed there: a forked child inherits it, and
        # with it open a reader whose importer died would block on a full pipe forever instead
        # of ending with a broken pipe.
        self._process = context.Process(target=_reader_main, args=(data, child, READER_BATCH, self._conn),
                                        name="xlsx-reader", daemon=True)
        self._process.start()
        child.close()  # ours is the reading end only: EOF when the reader ends
        self._first = None

    def _receive(self):
        try:
            kind, payload = self._conn.recv()
        except EOFError:
            self._process.join(5)
            raise RuntimeError(f"xlsx reader process ended unexpectedly (exit code {self._process.exitcode})") \
                from None
        if kind == "error":
            message, status = payload
            raise DomainError(message, status)
        if kind == "crash":
            raise RuntimeError(f"xlsx reader process failed: {payload}")
        return kind, payload

    def size_hint(self) -> int | None:
        """The sheet's declared rows (its dimension), the reader's first message; raises the
        reader's error for a file it cannot open."""
        kind, payload = self._receive()
        assert kind == "size", kind
        return payload

    def __iter__(self):
        while True:
            kind, payload = self._receive()
            if kind == "end":
                return
            yield from payload

    def close(self) -> None:
        if self._process is None:
            return
        self._conn.close()
        if self._process.is_alive():
            self._process.join(0.5)  # done and flushing, or blocked on the closed pipe (ends)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._process = None


def _reader_main(data: bytes, conn, batch: int, importer_end=None) -> None:
    """The reader process: ("size", n), then ("rows", [(number, cells)…]) batches, then
    ("end", None); or ("error", (message, status)) for a DomainError, ("crash", text)
    otherwise. A closed pipe (the importer stopped or died) ends it.

    A pipe holds 64 KiB — less than one batch — so sending from the parsing thread would stall
    the parse whenever the importer is busy checking a chunk; a writer thread sends instead and
    the parse runs up to READER_AHEAD batches ahead."""
    if importer_end is not None:
        importer_end.close()
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the worker's handlers: terminate() ends it
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the importer's to handle
    out = _Writer(conn)
    try:
        rows = _xlsx(data, sizes=lambda n: out.send(("size", n)))
        buffer = []
        for item in rows:
            buffer.append(item)
            if len(buffer) >= batch:
                out.send(("rows", buffer))
                buffer = []
        if buffer:
            out.send(("rows", buffer))
        out.send(("end", None))
    except DomainError as exc:
        out.send(("error", (exc.message, exc.status)))
    except _PipeClosed:
        pass
    except Exception as exc:  # noqa: BLE001 — reported to the importer, which fails the job
        out.send(("crash", type(exc).__name__), quietly=True)
    finally:
        out.close()


READER_AHEAD = 40  # batches (20,000 rows) the parse may run ahead of the importer


class _PipeClosed(Exception):
    pass


class _Writer:
    """Pickles messages in the calling thread, writes them to the pipe from its own thread."""

    def __init__(self, conn):
        import queue
        import threading
        from multiprocessing.reduction import ForkingPickler
        self._dumps = ForkingPickler.dumps
        self._conn = conn
        self._queue = queue.Queue(maxsize=READER_AHEAD)
        self._closed = threading.Event()  # the importer's end is gone
        self._thread = threading.Thread(target=self._run, name="xlsx-reader-writer", daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            blob = self._queue.get()
            if blob is None:
                return
            if self._closed.is_set():
                continue  # drain: the sender learns of it at its next send
            try:
                self._conn.send_bytes(blob)
            except (OSError, EOFError):
                self._closed.set()

    def send(self, message, quietly: bool = False) -> None:
        if self._closed.is_set():
            if quietly:
                return
            raise _PipeClosed
        self._queue.put(bytes(self._dumps(message)))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._conn.close()


def records(table: Table):
    """(row number, {column: value}) for each data row."""
    for number, cells in table.rows:
        padded = cells + [""] * (len(table.header) - len(cells))
        yield number, {h: padded[i] for i, h in enumerate(table.header) if h}
