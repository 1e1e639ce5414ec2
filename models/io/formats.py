"""The formats an upload may have, told by content (xlsx = zip with a workbook, xls = OLE2,
anything else must be CSV in UTF-8 with or without BOM, or GBK/GB18030), and the text of one cell.

Cells come back as stripped strings ('' for empty); dates as YYYY-MM-DD; numbers without a
spurious '.0', as NumericText (a str that remembers it was a number). An xlsx whose unpacked
size is out of proportion is refused (zip bomb). Errors are DomainError with a Chinese message.
`models/io/tables.py` builds tables from these rows.
"""

import csv
import io
import math
import re
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


def _xlsx(data: bytes, sizes=None):
    """(row number, cells) of the first sheet; `sizes(n)` is told the sheet's declared number of
    rows (None when it declares none) once the workbook has opened."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile:
        raise DomainError("文件已损坏，无法读取，请重新保存为 Excel 后上传", 422) from None
    if unpacked > XLSX_MAX_UNPACKED or unpacked > XLSX_MAX_RATIO * max(1, len(data)):
        raise DomainError("文件解压后过大，疑似异常文件，已拒绝", 422)
    from openpyxl import load_workbook
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — any parser failure is a bad file to the operator
        raise DomainError(f"无法读取该文件，请上传{FORMATS}文件", 422) from None
    sheet = workbook.worksheets[0]
    if sizes is not None:
        try:
            declared = sheet.max_row
        except Exception:  # noqa: BLE001 — a dimension openpyxl cannot parse: no hint
            declared = None
        sizes(declared)
    yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    workbook.close()


def _xls(data: bytes):
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=data)
    except Exception:  # noqa: BLE001
        raise DomainError(f"无法读取该文件，请上传{FORMATS}文件", 422) from None
    sheet = book.sheet_by_index(0)
    for r in range(sheet.nrows):
        cells = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                cells.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
            else:
                cells.append(cell.value)
        yield r + 1, cells


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
