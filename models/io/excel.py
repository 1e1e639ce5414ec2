"""Excel writing helpers shared by every export.

`export_row` is how an export writes a row as an office worker opens it: dates and times as
real date cells with a date format (LibreOffice and Excel sort and filter them as dates), text
as text (ID and phone numbers keep every digit) and formula-safe, numbers as numbers. Error
files of imports are not exports: they carry each cell as it was uploaded.
"""

from datetime import date, datetime

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
TEXT_FORMAT = "@"


def safe_cell(value):
    """Escape text that a spreadsheet would run as a formula (formula injection): text starting
    with = + - @ (or a tab / carriage return) followed by something. A lone "-" (the lists' "none")
    runs nothing and stays as it is; numbers are numbers, never text to escape."""
    if isinstance(value, str) and len(value) > 1 and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_cell(sheet, value, text: bool = True):
    """A write-only cell for `value`: a date / datetime (naive, Shanghai wall clock) with its date
    format, text formula-safe and (with `text`) formatted as text, anything else as it is."""
    from openpyxl.cell import WriteOnlyCell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    else:
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        if text and isinstance(value, str):
            cell.number_format = TEXT_FORMAT
    return cell


def export_row(sheet, values, text: bool = True) -> list:
    """The cells of one exported row (sheet.append(export_row(sheet, values)))."""
    return [export_cell(sheet, value, text) for value in values]
