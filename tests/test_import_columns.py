"""The column-wise checks of 社保状态导入, 个人参保导入, 给付信息导入, 建议清册导入 and the mutual-aid
roster upload (models/io/columns.py) accept a row only as the row-by-row checks accept it, with the
same fields: any row the column pass takes as plain gives, through the row-by-row check, the same
dict and no reason — and the ordinary rows of a file are taken by the column pass."""

from datetime import date
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from models.enroll import claims, status_import
from models.io.columns import normalized, plain_resident_ids
from models.io.formats import NumericText
from models.mutual_aid import registry_import
from models.mutual_aid.roster_import import COLUMNS, Checker
from models.rules.idnumber import IdError, check_digit, check_resident_id
from models.rules.text import normalize

ON = date(2026, 6, 1)


def resident(region: str, born: date, seq: int) -> str:
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


GOOD = resident("310116", date(1980, 2, 29), 7)
NUMBERS = st.one_of(
    st.builds(resident, st.sampled_from(["310116", "110101", "012345"]),
              st.dates(date(1890, 1, 1), date(2030, 12, 31)), st.integers(0, 999)),
    st.sampled_from([GOOD, GOOD.lower(), GOOD[:-1] + "0", GOOD[:-1] + "X", GOOD[:17] + "x", " " + GOOD,
                     GOOD.replace("3", "３"), GOOD[:15], "310116800229007", "31011619800230007X", "",
                     NumericText("310116800229007"), "A1234567", GOOD + "1", "٣" + GOOD[1:]]),
    st.text(alphabet="0123456789Xx ", min_size=15, max_size=19))
TEXT = (st.sampled_from(["", "张三", "张 三", "张  三", "张\u3000三", "Ａ先生", "李" * 51, "王五\t"])
        | st.text(max_size=6))
DAYS = st.sampled_from(["2026-01-01", "2026/3/1", "20260215", "2026-02-30", "2026-12-31", "2027-01-01", "",
                        "2025-13-01", "２０２６-０１-０１", "2026.5.31"])


SHAPED = st.builds(resident, st.sampled_from(["310116", "012345"]), st.dates(date(1890, 1, 1), date(2030, 12, 31)),
                   st.integers(0, 999)) | st.sampled_from(
    [GOOD, GOOD[:-1] + "0", GOOD[:-1] + "X", "310116198002300071"])


@given(st.lists(NUMBERS, max_size=30) | st.lists(SHAPED, max_size=30))  # mixed cells; a column of 18-digit text
@settings(max_examples=300)
def test_a_plain_resident_id_is_what_check_resident_id_accepts_unchanged(cells):
    for cell, born in zip(cells, plain_resident_ids(cells, ON), strict=True):
        try:
            checked = check_resident_id(cell, ON)
        except IdError:
            assert born is None, cell
            continue
        if born is not None:
            assert (checked.number, checked.birth_date) == (cell, born)
        elif type(cell) is str and cell == checked.number:
            raise AssertionError(f"{cell}: accepted as it stands, yet not plain")


@given(st.lists(TEXT, max_size=12))
def test_normalized_columns(cells):
    assert normalized(cells) == [normalize(c) for c in cells]


STATUS = st.fixed_dictionaries({
    "证件号码": NUMBERS, "姓名": TEXT, "社保卡状态": st.sampled_from(["正常", "挂失", "正常 ", "好", ""]),
    "就业状态": st.sampled_from(["在职", "退休", "死亡", "x"]), "社保缴纳": st.sampled_from(["已缴纳", "未缴纳", " "]),
    "状态日期": DAYS})


@given(st.lists(STATUS, max_size=8))
@settings(max_examples=200)
def test_status_rows_column_wise_as_row_by_row(values):
    plain = status_import._plain_status(values, ON)
    for number, (row, cells) in enumerate(zip(plain, values, strict=True), start=2):
        if row is not None:
            assert status_import._status_row(number, cells, ON, {}) == (row, [])


def test_a_plain_status_file_is_taken_column_wise():
    values = [{"证件号码": resident("310116", date(1970, 1, 1 + i), i), "姓名": f"导入{i}", "社保卡状态": "正常",
               "就业状态": "在职", "社保缴纳": "已缴纳", "状态日期": "2026-05-01"} for i in range(20)]
    assert None not in status_import._plain_status(values, ON)
    plan, checked = status_import.check_status_rows([(2, values[0]), (3, values[0])], ON)
    assert checked[1][1] == ["证件号码与第2行重复"] and len(plan) == 1


YEAR = SimpleNamespace(id=1, year=2026, claims_deadline=None)
YEARS = {2026: YEAR}
TYPES = {(1, "A"): SimpleNamespace(id=7, code="A")}
INDIVIDUAL = st.fixed_dictionaries({
    "证件号码": NUMBERS, "姓名": TEXT, "保障年度": st.sampled_from(["2026", "2026年", "2025", "二〇二六", " 2026"]),
    "保障类型代码": st.sampled_from(["A", "a", "B", "Ａ"]), "起保日期": DAYS, "终保日期": DAYS})


@given(st.lists(INDIVIDUAL, max_size=8))
@settings(max_examples=200)
def test_individual_rows_column_wise_as_row_by_row(values):
    plain = status_import._plain_individual(values, ON, YEARS, TYPES)
    for row, cells in zip(plain, values, strict=True):
        if row is not None:
            assert status_import._individual_row(cells, ON, YEARS, TYPES) == (row, [])


CLAIM = st.fixed_dictionaries({
    "证件号码": NUMBERS, "姓名": TEXT, "保障年度": st.sampled_from(["2026", "2026年", "2025", "26"]),
    "给付日期": DAYS, "给付类型": st.sampled_from(["重大疾病", "住院津贴", "住院", " 意外伤残"]),
    "给付金额(元)": st.sampled_from(["1000.50", "0", "1000000", "1000000.01", "12.345", "１２", "abc", ""]),
    "备注": TEXT | st.just("备" * 201)})


@given(st.lists(CLAIM, max_size=8))
@settings(max_examples=200)
def test_claim_rows_column_wise_as_row_by_row(values):
    plain = claims._plain(values, ON, YEARS)
    for row, cells in zip(plain, values, strict=True):
        if row is not None:
            assert claims._parse(cells, ON, YEARS) == (row, {})


PAYER = st.fixed_dictionaries({
    "单位社保编码": st.sampled_from(["S0000001", "s01", "S-01", "Ｓ01", "S 01", "", "S" * 21, "编码"]),
    "证件号码": NUMBERS, "姓名": TEXT, "职退状态": st.sampled_from(["在职", "退休", "-", "", "离休"])})


@given(st.lists(PAYER, max_size=8))
@settings(max_examples=200)
def test_payer_rows_column_wise_as_row_by_row(values):
    for row, cells in zip(registry_import.plain_payers(values), values, strict=True):
        if row is not None:
            assert registry_import.check_payer(cells) == (row, [])


ROSTER = st.fixed_dictionaries({
    "姓名": TEXT, "证件类型": st.sampled_from(["居民身份证", "身份证", "", "护照", "居民身份证 "]),
    "证件号码": NUMBERS, "性别": st.sampled_from(["", "男", "女", "M"]),
    "出生日期": DAYS | st.sampled_from(["1980-02-29", "1980/2/29"]),
    "是否有社保": st.sampled_from(["", "是", "否", "有"])})


@given(st.lists(ROSTER, max_size=8))
@settings(max_examples=200)
def test_roster_rows_column_wise_as_row_by_row(values):
    rows = list(enumerate(values, start=2))
    for (number, cells), row in zip(rows, Checker(None, on=ON)._plain(rows), strict=True):
        if row is not None:
            assert Checker(None, on=ON)._parse(number, cells) == row


def test_a_plain_roster_row_and_a_repeated_number():
    cells = {"姓名": "张三", "证件类型": "居民身份证", "证件号码": GOOD, "性别": "男", "出生日期": "1980-02-29",
             "是否有社保": "是"}
    assert list(cells) == COLUMNS
    checker = Checker(None, on=ON)
    first, again = checker._plain([(2, cells), (3, cells)])
    assert first["p"] == ["居民身份证", GOOD, "张三", "男", "1980-02-29", True]
    assert checker._first(first) is first and "p" in first
    assert checker._first(again)["errors"] == ["证件号码：与第2行证件号码重复"] and "p" not in again
