"""The shortcuts that keep an import's CPU low give what the general path gives: the text helpers'
fast paths for plain cells (against their general formulas, on any text), and bulk_insert's
column-wise rows (text with quotes, tabs, newlines and backslashes, NULL, dates, times, booleans,
values every row shares, a first row that leaves a field to its default) read back as written; the
plain member row of 批量导入会员 and the plain roster line of 同步会员 checked as the general checks do."""

import re
import unicodedata
from datetime import date, datetime
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from models.io.bulk import bulk_insert
from models.io.formats import NumericText, lost_digits
from models.members.member_import_check import BIRTH_COLUMN, Checker
from models.members.member_import_plain import plain_rows
from models.members.people import Person
from models.rules.idnumber import check_digit, digits_check_char, normalize_id
from models.rules.member_fields import roster_line, roster_line_checked
from models.rules.text import _WIDE, normalize

# Full-width forms, ideographic and other spaces, tabs, digits, letters, Chinese: where the paths part.
CELL = st.text(alphabet=st.sampled_from(list("0123456789AaXxe E+-.张三（）\t\n\u3000\u00a0\u200b１Ａａ\"\\")),
               max_size=24) | st.text(max_size=24)


@given(CELL)
def test_normalize_is_the_full_formula(text):
    assert normalize(text) == re.sub(r"\s+", " ", text.translate(_WIDE)).strip()


@given(CELL)
def test_normalize_id_is_the_full_formula(text):
    full = re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff]+", "", unicodedata.normalize("NFKC", text)).upper()
    assert normalize_id(text) == full


@given(CELL, st.booleans())
def test_lost_digits_of_text_and_number_cells(text, numeric):
    value = NumericText(text) if numeric else text
    plain = text.replace(" ", "")
    expected = bool(re.fullmatch(r"[+-]?[0-9]+(?:\.[0-9]*)?[eE]\+?[0-9]+", plain)) or (
        numeric and len(re.sub(r"[^0-9]", "", plain)) > 15)
    assert lost_digits(value) is expected


def test_bulk_insert_rows_read_back_as_written(app):
    stamp = datetime(2026, 3, 4, 5, 6, 7, 890)
    names = ['引号"张三"', "制表\t换行\n回车\r斜杠\\", "", "普通"]
    rows = [{"id_number": f"BULK{i:04d}", "name": names[i % 4], "gender": "男" if i % 2 else "女",
             "birth_date": date(1980 + i % 3, 1, 1 + i % 28) if i % 5 else None,
             "population_removed": bool(i % 3), "id_expiry": None}
            for i in range(1200)]
    rows[0] = {k: v for k, v in rows[0].items() if k != "population_removed"}  # the first row leaves it to the default
    written = {r["id_number"]: dict(r) for r in rows}
    returned = bulk_insert(Person, rows, returning=(Person.id_number, Person.id), same={"created_at": stamp})
    ids = dict(returned) if returned is not None else {
        p.id_number: p.id for p in Person.select().where(Person.id_number.startswith("BULK"))}
    assert len(ids) == 1200
    for person in Person.select().where(Person.id.in_(list(ids.values()))):
        row = written[person.id_number]
        assert ids[person.id_number] == person.id
        assert (person.name, person.gender, person.birth_date, person.id_expiry) == (
            row["name"], row["gender"], row["birth_date"], None)
        assert person.population_removed is row.get("population_removed", False)
        assert person.created_at == stamp
        assert person.id_type == "身份证"


def test_bulk_insert_braces_and_shared_values_are_written_as_they_are(app):
    """COPY's lines are a template filled in by str.format (models/io/bulk._copy): braces in a
    value or in a value every row shares, a column of plain text, one with a quote, NULLs."""
    stamp = datetime(2026, 3, 4, 5, 6, 7)
    names = ["{0}", "{}{", "普通", '有"引号"', "}{x}"]
    rows = [{"id_number": f"BRACE{i:03d}", "name": names[i % 5], "gender": "男",
             "birth_date": None if i % 2 else date(1990, 1, 2)} for i in range(20)]
    bulk_insert(Person, rows, same={"created_at": stamp, "id_type": "其他{证件}"})
    got = {p.id_number: p for p in Person.select().where(Person.id_number.startswith("BRACE"))}
    assert len(got) == 20
    for i in range(20):
        person = got[f"BRACE{i:03d}"]
        assert (person.name, person.id_type, person.created_at) == (names[i % 5], "其他{证件}", stamp)
        assert person.birth_date == (None if i % 2 else date(1990, 1, 2))
    plain = [{"id_number": f"PLAIN{i:03d}", "name": f"名{{{i}}}", "gender": "女"} for i in range(5)]
    bulk_insert(Person, plain, same={"created_at": stamp})  # every varying column plain text: quoted by the template
    assert sorted(p.name for p in Person.select().where(Person.id_number.startswith("PLAIN"))) == [
        f"名{{{i}}}" for i in range(5)]


# --- the plain member row (批量导入会员) and the plain roster line (同步会员) -------------------------
def _resident_id(birth: date, seq: int) -> str:
    body = f"310115{birth:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


BIRTHS = st.dates(min_value=date(1890, 1, 1), max_value=date(2030, 12, 31))
NAMES = st.sampled_from(["张 三", "李四·王", "新会员12", "Ａ君", "王\u3000五", "赵六\t", "", "x" * 51]) | CELL
TEXTS = st.sampled_from(["", " ", "  ", "基准公司", " 基准公司 ", "Ｘ公司", "甲" * 101, "农民工", "农民工、困难职工",
                         " 农民工 ", "无此标签", NumericText("12")]) | CELL
VARIANTS = {  # what a cell may hold instead of its plain value
    "姓名": NAMES, "证件类型": st.sampled_from(["居民身份证", "二代身份证", "护照", " 身份证", "其他"]),
    "证件号码": st.sampled_from(["lower", "space", "short", "x", "numeric", "zero", "check"]) | CELL,
    "手机号码": st.sampled_from(["137 1234 5678", "+8613712345678", "12712345678", "1371234567",
                             NumericText("13712345678"), ""]) | CELL,
    "性别": st.sampled_from(["男", "女", " 男", "其他"]), "工作单位/服务平台": TEXTS, "会员标签": TEXTS,
    "出生日期": st.sampled_from(["1990-01-01", "19900101", "x"]),
}


def _id_variant(number: str, how: str) -> str:
    return {"lower": number.lower(), "space": f" {number}", "short": number[:15], "x": number[:17] + "x",
            "numeric": NumericText(number), "zero": "0" + number[1:],
            "check": number[:17] + "10X98765432"[("10X98765432".index(number[17]) + 1) % 11]}.get(how, how)


@settings(max_examples=400)
@given(BIRTHS, st.integers(0, 999), st.data())
def test_a_plain_member_row_is_checked_as_the_general_checks_do(birth, seq, data):
    """A usual row with a few cells changed: where the shortcut answers, it answers as the general
    checks do."""
    org = SimpleNamespace(id=1, name="本工会", union_no="B1", uscc=None)
    checker = Checker(org, on=date(2026, 12, 6))
    number = _resident_id(birth, seq)
    values = {"姓名": "张三", "证件类型": "身份证", "证件号码": number, "手机号码": "13712345678", "性别": "",
              "所在工会": "本工会", "工会编号": "B1", "工作单位/服务平台": "基准公司", "会员标签": ""}
    for column in data.draw(st.lists(st.sampled_from(sorted(VARIANTS)), max_size=3)):
        values[column] = data.draw(VARIANTS[column])
        if column == "证件号码":
            values[column] = _id_variant(number, values[column])
    plain = checker._plain(values)
    if plain is None:
        return  # the general checks run (and explain the row)
    errors = []
    fields, record, id_ok, mobile_ok = checker._general(values, errors)
    assert (errors, id_ok, mobile_ok) == ([], True, True)
    assert plain == (fields, record)
    assert list(plain[1]) == list(record)  # the same keys in the same order (the staged JSON, the changes)


@given(st.sampled_from(["张三"]) | NAMES, BIRTHS, st.integers(0, 999),
       st.sampled_from(["", "", "", "lower", "space", "short", "x", "numeric", "zero", "check"]) | CELL)
def test_a_plain_roster_line_is_checked_as_the_general_checks_do(name, birth, seq, how):
    on = date(2026, 12, 6)
    number = _id_variant(_resident_id(birth, seq), how) if how else _resident_id(birth, seq)
    assert roster_line(name, number, on) == roster_line_checked(name, number, on)


def _row(birth: date, seq: int, data, changes: int) -> dict:
    number = _resident_id(birth, seq)
    values = {"姓名": "张三", "证件类型": "身份证", "证件号码": number, "手机号码": f"137{seq:08d}", "性别": "",
              "所在工会": "本工会", "工会编号": "B1", "工作单位/服务平台": "基准公司", "会员标签": ""}
    for column in data.draw(st.lists(st.sampled_from(sorted(VARIANTS)), max_size=changes)):
        values[column] = data.draw(VARIANTS[column])
        if column == "证件号码":
            values[column] = _id_variant(number, values[column])
    return values


@settings(max_examples=300)
@given(st.lists(st.tuples(BIRTHS, st.integers(0, 999)), min_size=1, max_size=8), st.data())
def test_the_plain_rows_of_a_chunk_are_found_as_row_by_row(people, data):
    """plain_rows (a chunk's columns at once) answers each row as _plain() does, or
    leaves the row to it (None)."""
    checker = Checker(SimpleNamespace(id=1, name="本工会", union_no="B1", uscc=None), on=date(2026, 12, 6))
    rows = [_row(birth, seq, data, data.draw(st.sampled_from([0, 0, 1, 2]))) for birth, seq in people]
    if data.draw(st.booleans()):  # a file without the optional columns
        for values in rows:
            values.pop("工作单位/服务平台", None)
            values.pop("会员标签", None)
    for values, fast in zip(rows, plain_rows(rows, checker.on, BIRTH_COLUMN), strict=True):
        assert fast is None or fast == checker._plain(values)
        if fast is not None:
            assert list(fast[1]) == list(checker._plain(values)[1])


def test_a_chunk_of_usual_rows_is_plain_column_by_column():
    checker = Checker(SimpleNamespace(id=1, name="本工会", union_no="B1", uscc=None), on=date(2026, 12, 6))
    rows = [{"姓名": f"新会员{i}", "证件类型": "身份证" if i % 2 else "",
             "证件号码": _resident_id(date(1990, 1, 1 + i), i), "手机号码": f"137{i:08d}", "性别": "",
             "所在工会": "本工会", "工会编号": "B1", "工作单位/服务平台": "基准公司" if i % 3 else "",
             "会员标签": "农民工" if i % 4 else ""} for i in range(20)]
    fast = plain_rows(rows, checker.on, BIRTH_COLUMN)
    assert None not in fast
    assert fast == [checker._plain(values) for values in rows]
    rows[3]["姓名"], rows[5]["手机号码"] = "张\n三", "13700000005\n13700000006"  # one cell that joins like two
    assert [i for i, p in enumerate(plain_rows(rows, checker.on, BIRTH_COLUMN)) if p is None] == [3, 5]


def test_the_rows_of_a_usual_file_take_the_plain_path():
    checker = Checker(SimpleNamespace(id=1, name="本工会", union_no="B1", uscc=None), on=date(2026, 12, 6))
    number = _resident_id(date(1990, 1, 31), 123)
    values = {"姓名": "张三", "证件类型": "身份证", "证件号码": number, "手机号码": "13712345678", "性别": "",
              "所在工会": "本工会", "工会编号": "B1", "工作单位/服务平台": "基准公司", "会员标签": "农民工"}
    assert checker._plain(values) == ({"name": "张三", "id_type": "身份证", "id_number": number, "gender": "男",
                                       "birth_date": date(1990, 1, 31)},
                                      {"mobile": "13712345678", "work_unit": "基准公司", "tags": "农民工"})


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_check_character_of_matched_digits_is_the_standard_one(body):
    assert digits_check_char(body) == check_digit(body)
