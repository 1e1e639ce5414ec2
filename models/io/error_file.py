"""The error file of every import: the rows that failed, each cell as it was uploaded, with the
row of the uploaded file it came from (错误行号) and the reason (错误原因).

One writer, `error_workbook()`, for every import. Its usual form is the upload again — the
template's columns, then 错误行号 and 错误原因 (last, where the operator looks) — so the operator
fixes the rows and uploads this same file (`read_table()` ignores the two added columns).
同步会员's list (`listing=` its title line) puts 错误行号 first under a title line, because that
file must not be mistaken for a roster.
"""

import io
from dataclasses import dataclass, field

from models.io.excel import safe_cell
from models.io.formats import EXCEL_DIGITS, lost_digits
from models.io.tables import ERROR_COLUMN, ROW_COLUMN

SHEET_TITLE = "错误数据"


def error_cell(value):
    """A cell of an error file: the uploaded cell as it came. A number whose last digits were
    lost goes back as that number (a number cell, shown 3.10101E+17), never as digits that
    could pass for an ID number; text is guarded against formulas."""
    if lost_digits(value):
        number = float(str(value).replace(" ", ""))
        if abs(number) >= 10 ** EXCEL_DIGITS:
            return number
    return safe_cell(value)


@dataclass
class FailedRow:
    """One rejected row: its row number in the uploaded file, its cells ({column: value}) and
    its reasons (joined with "；" in the file)."""
    row: int | None
    values: dict
    reasons: list = field(default_factory=list)


def error_workbook(columns: list, failed, header: list | None = None, sheet_title: str = SHEET_TITLE,
                   text_columns=None, reason_column: str = ERROR_COLUMN, listing: str | None = None,
                   widths: dict | None = None) -> bytes:
    """The rows `failed` (FailedRow, or (row, values, reasons) tuples) as xlsx bytes.

    `columns`: the keys of `values` written, in order; `header`: how the file names them (the
    template's header; `columns` when not given). `text_columns`: the columns whose cells are
    formatted as text (ID and phone numbers; all of them when not given). `listing`: the title
    line of a list that is not meant to be uploaded again — 错误行号 first, then the columns and
    `reason_column`. `widths`: {column letter: width}."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    named = [(c, h) for c, h in zip(columns, header or columns, strict=True)
             if c and c not in (ERROR_COLUMN, ROW_COLUMN)]
    columns, header = [c for c, _ in named], [h for _, h in named]
    text = set(columns if text_columns is None else text_columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    names = [ROW_COLUMN] + header + [reason_column if listing else ERROR_COLUMN]
    shown = [None] + columns + [None]
    if not listing:  # the upload again: its own columns first, 错误行号 beside 错误原因
        names, shown = names[1:-1] + [ROW_COLUMN, ERROR_COLUMN], shown[1:-1] + [None, None]
    for i, (name, column) in enumerate(zip(names, shown, strict=True)):
        letter = get_column_letter(i + 1)
        default = 60 if name in (reason_column, ERROR_COLUMN) else 10 if name == ROW_COLUMN else 20
        sheet.column_dimensions[letter].width = (widths or {}).get(letter, default)
        if column in text:
            sheet.column_dimensions[letter].number_format = "@"
    if listing:
        sheet.append([listing])
    bold = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    for item in failed:
        row, values, reasons = (item.row, item.values, item.reasons) if isinstance(item, FailedRow) else item
        cells = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=error_cell(values.get(column, "")))
            if column in text:
                cell.number_format = "@"
            cells.append(cell)
        reason = "；".join(reasons)
        sheet.append([row] + cells + [reason] if listing else cells + [row, reason])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

