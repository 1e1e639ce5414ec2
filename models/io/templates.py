"""The pieces every import template shares: the bold header row, columns kept as text (ID and
phone numbers keep every digit), the 数据说明 sheet and the bytes of the workbook."""

import io

TEXT_ROWS = 1000  # template rows formatted as text below the header


def template_sheet(title: str, header: list, width: int | None = None, all_text: bool = False, text_columns=()):
    """(workbook, its first sheet) of an import template: the sheet named `title` with the header
    row (`header_row`); `all_text` keeps every template column as text."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    if all_text:
        text_columns = [get_column_letter(i) for i in range(1, len(header) + 1)]
    header_row(sheet, header, width=width, text_columns=text_columns)
    return workbook, sheet


def header_row(sheet, header: list, width: int | None = None, text_columns=(), text_rows: int = TEXT_ROWS) -> None:
    """The header in bold (columns `width` wide when given); the cells of `text_columns` (column
    letters) formatted as text for `text_rows` rows below it."""
    from openpyxl.styles import Font
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        if width:
            sheet.column_dimensions[cell.column_letter].width = width
    for letter in text_columns:
        sheet.column_dimensions[letter].number_format = "@"
        for row in range(2, text_rows + 2):
            sheet[f"{letter}{row}"].number_format = "@"


def notes_sheet(workbook, rows, widths: tuple | None = (14, 80), bold: bool = False, title: str = "数据说明"):
    """The 数据说明 sheet: 列名 / 说明 and the rows."""
    from openpyxl.styles import Font
    notes = workbook.create_sheet(title)
    notes.append(["列名", "说明"])
    if bold:
        notes["A1"].font = notes["B1"].font = Font(bold=True)
    for row in rows:
        notes.append(list(row))
    if widths:
        notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = widths
    return notes


def workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
