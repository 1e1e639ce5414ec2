"""Write the same rows as .xlsx, .xls and .csv (UTF-8, UTF-8 with BOM, GBK) — the formats every
import accepts — for upload tests."""

import csv
import io

from openpyxl import Workbook

FORMATS = ["xlsx", "xls", "csv-utf8", "csv-bom", "csv-gbk"]


def write(rows: list, fmt: str) -> tuple[bytes, str]:
    """rows: header first. Returns (bytes, file name)."""
    if fmt == "xlsx":
        wb = Workbook(write_only=True)
        sheet = wb.create_sheet("数据")
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue(), "导入.xlsx"
    if fmt == "xls":
        import xlwt
        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("数据")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue(), "导入.xls"
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    encoding = {"csv-utf8": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk"}[fmt]
    return text.getvalue().encode(encoding), "导入.csv"
