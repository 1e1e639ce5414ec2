"""Upload files for the import and compare benchmarks: new people with valid ID numbers that
the generated city does not hold. Written by openpyxl's normal mode, which stores text as shared
strings like Excel does (the write-only mode's inline strings read ~2x slower and would
flatter the import-to-bare-read ratio)."""

from datetime import date, timedelta
from pathlib import Path

from bench.generate import ric

IMPORT_HEADER = ["姓名*", "证件类型(身份证)*", "证件号码*", "手机号码*", "性别*", "所在工会*", "工会编号*",
                 "工作单位/服务平台", "会员标签"]


def new_person(i: int) -> tuple[str, str, str]:
    """(name, ID number, gender) of the i-th new person (area 310115: not in the city)."""
    birth = date(1970, 1, 1) + timedelta(days=i % 12_000)
    seq = i // 12_000
    number = ric(f"310115{birth:%Y%m%d}{seq:03d}")
    return f"新会员{i}", number, "男" if seq % 2 else "女"


def import_file(path: Path, rows: int, union_name: str, union_no: str, offset: int = 0, code: str = "") -> Path:
    """A 批量导入会员 file of `rows` new people; with `code` (an enterprise's 统一社会信用代码) the
    组织机构代码导入会员 file: the same columns and 组织机构代码 = code in every row."""
    from openpyxl import Workbook
    wb = Workbook()
    sheet = wb.active
    sheet.title = "会员导入"
    sheet.append(IMPORT_HEADER + (["组织机构代码*"] if code else []))
    extra = [code] if code else []
    for i in range(offset, offset + rows):
        name, number, gender = new_person(i)
        sheet.append([name, "身份证", number, f"137{i:08d}", gender, union_name, union_no,
                      "基准公司总部运营中心", "", *extra])
    wb.save(path)
    return path


def compare_file(path: Path, existing: list[tuple[str, str]], new: int, offset: int = 0) -> Path:
    """A roster (姓名, 证件号码): `existing` (name, number) pairs, then `new` people not in the city."""
    from openpyxl import Workbook
    wb = Workbook()
    sheet = wb.active
    sheet.title = "会员比对"
    sheet.append(["姓名", "证件号码"])
    for name, number in existing:
        sheet.append([name, number])
    for i in range(offset, offset + new):
        name, number, _ = new_person(i)
        sheet.append([name, number])
    wb.save(path)
    return path


def bare_read(source) -> int:
    """The baseline (the read floor, spec 80): python-calamine reads the file's first sheet and
    gives every row as Python values — a path or the file's bytes; the number of cells."""
    import io

    from python_calamine import load_workbook
    book = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source)
    n = 0
    for row in book.get_sheet_by_index(0).iter_rows():
        n += len(row)
    book.close()
    return n
