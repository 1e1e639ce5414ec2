"""The shortcuts that keep an import's CPU low give what the general path gives: the text helpers'
fast paths for plain cells (against their general formulas, on any text), and bulk_insert's
column-wise rows (text with quotes, tabs, newlines and backslashes, NULL, dates, times, booleans,
values every row shares, a first row that leaves a field to its default) read back as written."""

import re
import unicodedata
from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from models.io.bulk import bulk_insert
from models.io.formats import NumericText, lost_digits
from models.members.people import Person
from models.rules.idnumber import normalize_id
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
             "has_card": bool(i % 3), "id_expiry": None}
            for i in range(1200)]
    rows[0] = {k: v for k, v in rows[0].items() if k != "has_card"}  # the first row leaves it to the default
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
        assert person.has_card is row.get("has_card", False)
        assert person.created_at == stamp
        assert person.id_type == "身份证"
