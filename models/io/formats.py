"""The formats an upload may have, told by content (xlsx = zip with a workbook, xls = OLE2,
anything else must be CSV in UTF-8 with or without BOM, or GBK/GB18030), and the text of one cell.

Cells come back as stripped strings ('' for empty); dates as YYYY-MM-DD; numbers without a
spurious '.0', as NumericText (a str that remembers it was a number). An xlsx whose unpacked
size is out of proportion is refused (zip bomb). Errors are DomainError with a Chinese message.
`models/io/tables.py` builds tables from these rows.
"""

import csv
import hashlib
import io
import math
import re
import threading
import zipfile
from datetime import date, datetime

from models.base import DomainError

XLSX_MAX_UNPACKED = 400 * 1024 * 1024
XLSX_MAX_RATIO = 150
FORMATS = "Excel（.xlsx、.xls）或 CSV"


class NumericText(str):
    """The text of a cell Excel stored as a number. Excel keeps 15 significant digits, so an
    18-digit ID number typed into a number cell has already lost its last digits: imports
    refuse such ID cells (`value.numeric`, `lost_digits()`). A number of more than 15 digits
    reads as Excel shows it ("3.10101197208221E+17"), never as a plausible 18-digit number."""
    numeric = True


EXCEL_DIGITS = 15  # significant digits a spreadsheet number keeps
_EXPONENT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?[eE]\+?[0-9]+")  # 3.10101E+17, as Excel writes it to a CSV
LOST_DIGITS_MESSAGE = "{label}被保存为数字格式，末尾数字已丢失；请将该列设置为文本格式后重新填写"


def lost_digits(value) -> bool:
    """A cell that held a long number (an ID or card number) as a number: a number cell of more
    than 15 digits, or the exponent form ("3.10101E+17") a CSV saved by a spreadsheet holds —
    its last digits are gone, whatever digits it seems to have. Every import that reads ID or
    card numbers refuses such cells with `lost_digits_message()`; error files write them back as
    they came (`error_cell()`), so a re-upload is refused the same way."""
    if type(value) is str and "e" not in value and "E" not in value:  # most cells: no number, no exponent
        return False
    text = str(value or "").replace(" ", "")
    if _EXPONENT.fullmatch(text):
        return True
    return bool(getattr(value, "numeric", False)) and len(re.sub(r"[^0-9]", "", text)) > EXCEL_DIGITS


def lost_digits_message(label: str = "证件号码") -> str:
    return LOST_DIGITS_MESSAGE.format(label=label)


def sniff(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == bytes.fromhex("D0CF11E0A1B11AE1"):
        return "xls"
    return "csv"


def _text(value) -> str:
    if type(value) is str:  # the common case first: imports read 500,000 cells
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) >= 10 ** EXCEL_DIGITS:
        return NumericText(f"{value:.{EXCEL_DIGITS}G}")  # 3.10101197208221E+17: the digits Excel kept
    if isinstance(value, float):
        return NumericText(int(value) if value.is_integer() else repr(value))
    if isinstance(value, int):
        return NumericText(value)
    return str(value).strip()


def _xlsx(data: bytes, sizes=None, keep: list | None = None):
    """(row number, cells) of the first worksheet of an xlsx, after the zip-bomb guard
    (`_xlsx_guard`)."""
    _xlsx_guard(data)
    return _sheet(data, sizes, keep)


def _xlsx_guard(data: bytes) -> None:
    """The zip-bomb guard of an xlsx: the sizes the archive declares (python-calamine's unzip
    stops at a member's declared size, so a member that lies about it is refused as damaged, not
    unpacked)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile:
        raise DomainError("文件已损坏，无法读取，请重新保存为 Excel 后上传", 422) from None
    if unpacked > XLSX_MAX_UNPACKED or unpacked > XLSX_MAX_RATIO * max(1, len(data)):
        raise DomainError("文件解压后过大，疑似异常文件，已拒绝", 422)


def _xls(data: bytes, sizes=None, keep: list | None = None):
    return _sheet(data, sizes, keep)


# The sheet a pre-check parsed, for the job that reads the same upload next — kept only when that job
# runs in this process (the caller asks `models.job_queue.runs_here()`: the in-memory queues); with
# JOBS_MODE sql or redis the job runs in a worker process (`flask worker`), which parses the file
# itself, and the web process keeps nothing. The pre-check passes a list as `keep` (the parse is
# put in it) and hands it to `keep_for_job` once the file passed: a refused file is never kept and
# evicts nothing. One sheet at most (calamine's compact form, yet ≈ 100 MB for 50,000 rows), keyed
# by the file's content, given once, under a lock. Two uploads at once: the second one's sheet
# replaces the first's — harmless: the first job then finds no sheet for its file and parses the
# file itself, as in a worker process (one parse more, never another file's rows).
_kept: dict = {}
_kept_lock = threading.Lock()


def _content_key(data: bytes) -> tuple:
    return (len(data), hashlib.blake2b(data, digest_size=16).digest())


def keep_for_job(parsed: list) -> None:
    """Keep the sheet a passed pre-check parsed (`parsed`, the list given as `keep`) for its job,
    in place of any other."""
    if parsed:
        with _kept_lock:
            _kept.clear()
            _kept.update(parsed[-1:])


def _sheet_of(data: bytes, keep: list | None):
    key = _content_key(data)
    with _kept_lock:
        kept = _kept.pop(key, None)
    if kept is not None:
        return kept
    from python_calamine import SheetTypeEnum, load_workbook
    try:
        book = load_workbook(io.BytesIO(data))
        first = next((i for i, m in enumerate(book.sheets_metadata) if m.typ == SheetTypeEnum.WorkSheet), 0)
        sheet = book.get_sheet_by_index(first)
        book.close()
    except Exception:  # noqa: BLE001 — any parser failure is a bad file to the operator
        raise DomainError(f"无法读取该文件，请上传{FORMATS}文件", 422) from None
    if keep is not None:
        keep.append((key, sheet))
    return sheet


def _sheet(data: bytes, sizes=None, keep: list | None = None):
    """(row number, cells) of the first worksheet (xlsx or xls), parsed by python-calamine (Rust:
    the whole sheet at once, then a Python list a row as it is iterated). Cells are str ('' for
    an empty or error cell), int, float, bool, date, datetime, time or timedelta — `_text()` makes
    them the text openpyxl / xlrd gave. `sizes(n)` is told the sheet's last row number."""
    sheet = _sheet_of(data, keep)
    end = sheet.end
    if sizes is not None:
        sizes(end[0] + 1 if end else 0)
    return _rows(sheet, sheet.start)


def _rows(sheet, start):
    # iter_rows() starts at the sheet's first row (rows of '' above the data) but at its first
    # used column: the columns before it are put back, so a cell's
    # index is its column in the file, as it was with openpyxl.
    pad = [""] * start[1] if start and start[1] else None
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        yield number, (pad + cells if pad else cells)


def _csv(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover — gb18030 decodes any byte string
        raise DomainError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV", 422)
    if "\x00" in text:
        raise DomainError(f"无法读取该文件，请上传{FORMATS}文件", 422)
    yield from enumerate(csv.reader(io.StringIO(text)), start=1)
