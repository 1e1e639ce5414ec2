"""The text of a cell (models/io/formats.py) now that python-calamine parses .xlsx and .xls: calamine
gives floats for every number, dates by the cell's number format, bools — the imports see exactly
the text they saw when openpyxl read the sheet: ID numbers and phone numbers as written, leading
zeros of text cells kept, 1.0 as "1", dates as YYYY-MM-DD, numbers over 15 digits as Excel shows
them (and refused in ID columns). openpyxl (which still writes every template and error file) is
the oracle for .xlsx; .xls files are written by xlwt."""

import io
import struct
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from models.base import DomainError
from models.io.formats import NumericText, _text, _xls, _xlsx, lost_digits
from models.io.tables import read_table

# (value written, number format or None) — the edges of every cell type an import meets
CELLS = [
    ("310101199001011234", "@"),  # an ID number in a text cell
    ("31010119900101123X", None),
    ("00123", "@"),  # leading zeros of a text cell
    ("  张三 ", None),  # spaces around text
    ("1.0", "@"),  # a number typed as text stays that text
    ("", None),
    (13700000001, None),  # a phone number in a number cell
    (13700000001, "0"),
    (123, "000000"),  # shown as 000123: the value is 123
    (1, None),
    (1.0, None),
    (-0.0, None),
    (12.5, None),
    (0.1, "0%"),
    (1 / 3, "0.00"),
    (-7.25, "#,##0.00"),
    (123456789012345, None),  # 15 digits: all kept
    (310101197208221234, None),  # 18 digits in a number cell: Excel kept 15 of them
    (3.10101197208221e17, "@"),
    (1e20, None),
    (2 ** 53, None),
    (1e-7, None),
    (True, None),
    (False, None),
    (date(2024, 1, 31), "yyyy-mm-dd"),
    (date(2024, 1, 31), "yyyy/m/d"),
    (date(2024, 1, 31), 'yyyy"年"m"月"d"日"'),
    (date(2024, 1, 31), "m/d/yy"),
    (date(2024, 1, 31), "d-mmm-yy"),
    (date(2024, 1, 31), "[$-409]yyyy-mm-dd"),
    (date(1900, 1, 1), "yyyy-mm-dd"),
    (date(1900, 2, 28), "yyyy-mm-dd"),
    (date(1900, 3, 1), "yyyy-mm-dd"),
    (date(1970, 1, 1), "yyyy-mm-dd"),
    (datetime(2024, 1, 31, 10, 30), "yyyy-mm-dd hh:mm"),
    (datetime(2024, 1, 31, 23, 59, 59), "yyyy-mm-dd hh:mm:ss"),
    (datetime(2024, 1, 31, 0, 0), "yyyy-mm-dd hh:mm"),
    (time(10, 30), "hh:mm"),
    (timedelta(hours=30, minutes=5), "[h]:mm:ss"),
    (45322, "yyyy-mm-dd"),  # a serial number under a date format is that date
    (45322.5, "yyyy-mm-dd hh:mm"),
]


def xlsx_of(values, epoch=None) -> bytes:
    """One row of the values (the number formats set), saved by openpyxl's normal mode."""
    wb = Workbook()
    if epoch is not None:
        wb.epoch = epoch
    sheet = wb.active
    sheet.append(["值"] * len(values))
    for column, (value, number_format) in enumerate(values, start=1):
        cell = sheet.cell(row=2, column=column, value=value)
        if number_format:
            cell.number_format = number_format
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def as_openpyxl_read_it(data: bytes) -> list:
    """The texts of the sheet's rows as the imports read them before python-calamine."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    return [[_text(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]


def as_read_now(data: bytes, reader=_xlsx) -> list:
    return [[_text(v) for v in cells] for _number, cells in reader(data)]


def described(rows):
    return [[(text, isinstance(text, NumericText)) for text in row] for row in rows]


@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904])
def test_every_cell_reads_as_the_text_openpyxl_gave(epoch):
    cells = CELLS
    if epoch is not None:  # a 1904 workbook holds no date before 1904 (Excel shows ####)
        cells = [(v, f) for v, f in CELLS if not (isinstance(v, date) and v.year < 1904)]
    data = xlsx_of(cells, epoch)
    assert described(as_read_now(data)) == described(as_openpyxl_read_it(data))


def test_the_texts_an_import_relies_on():
    by_index = dict(enumerate(as_read_now(xlsx_of(CELLS))[1]))
    assert by_index[0] == "310101199001011234" and not isinstance(by_index[0], NumericText)
    assert by_index[2] == "00123" and by_index[3] == "张三" and by_index[4] == "1.0"
    assert by_index[6] == by_index[7] == "13700000001" and isinstance(by_index[6], NumericText)
    assert by_index[8] == "123" and by_index[9] == by_index[10] == "1" and by_index[11] == "0"
    assert by_index[12] == "12.5" and by_index[13] == "0.1" and by_index[14] == "0.3333333333333333"
    assert by_index[16] == "123456789012345" and not lost_digits(by_index[16])
    assert by_index[17] == by_index[18] == "3.10101197208221E+17" and lost_digits(by_index[17])
    assert by_index[22] == "True" and by_index[23] == "False"
    assert [by_index[i] for i in range(24, 30)] == ["2024-01-31"] * 6
    assert by_index[34] == "2024-01-31 10:30:00" and by_index[36] == "2024-01-31"
    assert by_index[37] == "10:30:00" and by_index[38] == "1 day, 6:05:00"
    assert by_index[39] == "2024-01-31" and by_index[40] == "2024-01-31 12:00:00"


def test_cells_keep_their_columns_and_rows_keep_their_numbers():
    """A sheet whose data starts at C3 (columns A-B and rows 1-2 empty): the cells are at their
    columns' indexes and the rows carry their numbers in the file, as openpyxl gave them."""
    wb = Workbook()
    sheet = wb.active
    sheet["C3"], sheet["D3"] = "姓名", "证件号码"
    sheet["C5"], sheet["E5"] = "张三", "多出的列"
    buffer = io.BytesIO()
    wb.save(buffer)
    rows = list(_xlsx(buffer.getvalue()))
    assert [n for n, _cells in rows] == [1, 2, 3, 4, 5]
    assert [_text(c) for c in rows[2][1]][:4] == ["", "", "姓名", "证件号码"]
    assert [_text(c) for c in rows[4][1]] == ["", "", "张三", "", "多出的列"]
    table = read_table(buffer.getvalue(), ["姓名"])
    assert table.rows == [(5, ["", "", "张三", "", "多出的列"])]


def test_the_first_worksheet_is_read_even_behind_a_chart_sheet_or_hidden():
    wb = Workbook()
    wb.active.title = "隐藏"
    wb.active.sheet_state = "hidden"
    wb.active.append(["姓名"])
    wb.active.append(["第一张"])
    wb.create_sheet("第二张").append(["姓名"])
    wb.create_chartsheet("图表", 0)
    buffer = io.BytesIO()
    wb.save(buffer)
    assert read_table(buffer.getvalue(), ["姓名"]).rows == [(2, ["第一张"])]


def test_an_error_cell_reads_as_empty():
    """#N/A and #DIV/0! (a formula's cached error): python-calamine gives no text for them — an
    empty cell, refused as missing where the column is required (openpyxl gave "#N/A")."""
    wb = Workbook()
    wb.active.append(["姓名", "证件号码"])
    wb.active.append(["张三", "=1/0"])
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet.replace("<f>1/0</f><v></v>", "<f>1/0</f><v>#DIV/0!</v>").replace(
        '<c r="B2"', '<c r="B2" t="e"').encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    assert read_table(out.getvalue(), ["证件号码"]).rows == [(2, ["张三", ""])]


def test_xls_cells_read_as_their_text():
    import xlwt
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("数据")
    values = ["310101199001011234", "00123", " 张三 ", 13700000001, 1.0, 12.5, 310101197208221234, True,
              date(2024, 1, 31), datetime(2024, 1, 31, 10, 30), 123456789012345]
    for column, value in enumerate(values):
        style = xlwt.XFStyle()
        if isinstance(value, datetime):
            style.num_format_str = "YYYY-MM-DD HH:MM"
        elif isinstance(value, date):
            style.num_format_str = "YYYY-MM-DD"
        sheet.write(0, column, "列")
        sheet.write(1, column, value, style)
    buffer = io.BytesIO()
    book.save(buffer)
    texts = as_read_now(buffer.getvalue(), _xls)[1]
    assert texts == ["310101199001011234", "00123", "张三", "13700000001", "1", "12.5", "3.10101197208221E+17",
                     "True", "2024-01-31", "2024-01-31 10:30:00", "123456789012345"]
    assert [isinstance(t, NumericText) for t in texts] == [False] * 3 + [True] * 4 + [False] * 3 + [True]
    assert lost_digits(texts[6]) and not lost_digits(texts[10])


def test_a_zip_member_larger_than_it_declares_is_refused_not_unpacked():
    """The zip-bomb guard adds up the sizes the archive declares; a sheet that declares 1,000
    bytes and holds more is refused as unreadable (the unzip stops at the declared size)."""
    wb = Workbook()
    for i in range(2000):
        wb.active.append([f"第{i}行", i])
    buffer = io.BytesIO()
    wb.save(buffer)
    data = bytearray(buffer.getvalue())
    real = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml").file_size
    packed = struct.pack("<I", real)
    at = [i for i in range(len(data) - 3) if data[i:i + 4] == packed]
    assert len(at) == 2  # the local header and the central directory
    for i in at:
        data[i:i + 4] = struct.pack("<I", 1000)
    with pytest.raises(DomainError, match="无法读取该文件"):
        read_table(bytes(data), [])
