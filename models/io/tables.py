"""Reading uploaded tables (.xlsx, .xls, .csv) and writing their error files.

Every import uses `read_table()`: the format is told by the file's content, not its name
(xlsx = zip with a workbook, xls = OLE2, anything else must be CSV in UTF-8 with or without BOM,
or GBK/GB18030). Cells come back as stripped strings ('' for empty); dates as YYYY-MM-DD;
numbers without a spurious '.0', as NumericText (a str that remembers it was a number). An
xlsx whose unpacked size is out of proportion is refused (zip bomb). Errors are DomainError with a Chinese message.
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from models.base import DomainError
from models.io.excel import safe_cell

XLSX_MAX_UNPACKED = 400 * 1024 * 1024
XLSX_MAX_RATIO = 150
ERROR_COLUMN = "错误原因"
FORMATS = "Excel（.xlsx、.xls）或 CSV"


class NumericText(str):
    """The text of a cell Excel stored as a number. Excel keeps 15 significant digits, so an
    18-digit ID number typed into a number cell has already lost its last digits: imports
    refuse such ID cells (`value.numeric`)."""
    numeric = True


@dataclass
class Table:
    header: list  # column names as in the file (stripped)
    rows: list  # list of (row number in the file, [cells])
    kind: str  # xlsx / xls / csv


def sniff(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == bytes.fromhex("D0CF11E0A1B11AE1"):
        return "xls"
    return "csv"


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
    header = [h.strip().strip("*").strip() for h in header]  # *姓名 and 姓名* are both 姓名
    missing = [c for c in required if c not in header]
    if missing:
        raise DomainError(f"文件缺少必需的列：{'、'.join(missing)}（请使用下载的模板）", 422)
    return Table(header=header, rows=table_rows, kind=kind)


def records(table: Table):
    """(row number, {column: value}) for each data row."""
    for number, cells in table.rows:
        padded = cells + [""] * (len(table.header) - len(cells))
        yield number, {h: padded[i] for i, h in enumerate(table.header) if h}


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
    if isinstance(value, float):
        return NumericText(int(value) if value.is_integer() else repr(value))
    if isinstance(value, int):
        return NumericText(value)
    return str(value).strip()


def _xlsx(data: bytes):
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
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, list(row)
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


def error_workbook(header: list, failed: list, sheet_title: str = "错误数据") -> bytes:
    """The rows that failed, with their original cells and a 错误原因 column, as xlsx bytes —
    the operator fixes them and uploads this same file again."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    columns = [h for h in header if h and h != ERROR_COLUMN]
    sheet.append(columns + [ERROR_COLUMN])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values, reasons in failed:
        sheet.append([safe_cell(values.get(c, "")) for c in columns] + ["；".join(reasons)])
    for i, _ in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
