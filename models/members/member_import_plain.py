"""批量导入会员: the plain rows of a chunk found a column at a time (models/io/columns.py) —
`Checker._plain()` answers one row; `plain_rows()` answers a chunk's rows with one pass over each
column (a search over the joined names and mobiles, set membership for the choices, the ID
numbers by `plain_resident_ids`), leaving every row it does not accept to `_plain()` and the
general checks. tests/test_import_fast_paths.py holds the two to one answer."""

import re
from datetime import date

from models.io.columns import column, plain_resident_ids, plain_texts
from models.members.people import ID_CARD, MEMBER_TAGS
from models.rules import member_fields
from models.rules.text import _NOT_PLAIN

_PLAIN_NAME, _PLAIN_MOBILE = member_fields.PLAIN_NAME, member_fields.PLAIN_MOBILE
RESIDENT_TYPES = frozenset(("", ID_CARD, *member_fields.ID_TYPE_ALIASES))
MEMBER_TAG_SET = frozenset(MEMBER_TAGS)
_TAG_CELLS = MEMBER_TAG_SET | {""}
# A whole column of plain names / mobile numbers joined by a newline (which neither may hold), matched at once.
_PLAIN_NAMES = re.compile(rf"(?:{_PLAIN_NAME.pattern}\n)*{_PLAIN_NAME.pattern}")
_PLAIN_MOBILES = re.compile(rf"(?:{_PLAIN_MOBILE.pattern}\n)*{_PLAIN_MOBILE.pattern}")


def _each_plain(cells: list, whole: re.Pattern, one: re.Pattern) -> list | None:
    """None when every cell is a str `one` matches (one search over the joined column — and no
    cell holding the newline itself), else a flag per cell."""
    if set(map(type, cells)) == {str}:
        joined = "\n".join(cells)
        if joined.count("\n") == len(cells) - 1 and whole.fullmatch(joined):
            return None
    return [type(c) is str and one.fullmatch(c) is not None for c in cells]  # noqa: E721 — not NumericText


def plain_rows(values: list, on: date, birth_column: str) -> list:
    """For each row dict of a chunk: (fields, record) as `Checker._plain()` gives them when every
    cell of the row is plain, else None."""
    numbers = column(values, "证件号码", "")
    births = plain_resident_ids(numbers, on)
    ok = [b is not None for b in births]

    def only(flags) -> None:
        if flags is not None:
            ok[:] = [a and b for a, b in zip(ok, flags, strict=True)]
    names = column(values, "姓名", "")
    only(_each_plain(names, _PLAIN_NAMES, _PLAIN_NAME))
    mobiles = column(values, "手机号码", "")
    only(_each_plain(mobiles, _PLAIN_MOBILES, _PLAIN_MOBILE))
    born_cells = column(values, birth_column, "")
    if any(born_cells):
        only([not c for c in born_cells])
    id_types = column(values, "证件类型", "")
    if not set(id_types) <= RESIDENT_TYPES:
        only([t in RESIDENT_TYPES for t in id_types])
    units = column(values, "工作单位/服务平台", "")
    if not (plain_texts(units) and max(map(len, units)) <= 100):
        only([c == "" or (type(c) is str and c == c.strip() and len(c) <= 100  # noqa: E721
                          and not _NOT_PLAIN.search(c)) for c in units])
    tags = column(values, "会员标签", "")
    if not (set(map(type, tags)) == {str} and set(tags) <= _TAG_CELLS):
        only([c == "" or (type(c) is str and c in MEMBER_TAG_SET) for c in tags])  # noqa: E721
    sexes = column(values, "性别", "")
    out = []
    append = out.append
    for good, number, born, name, mobile, sex, unit, tag in zip(ok, numbers, births, names, mobiles, sexes,
                                                                 units, tags, strict=True):
        if not good:
            append(None)
            continue
        gender = "男" if number[16] in "13579" else "女"
        if sex and sex != gender:
            append(None)
            continue
        record = {"mobile": mobile}
        if unit:
            record["work_unit"] = unit
        if tag:
            record["tags"] = tag
        append(({"name": name, "id_type": ID_CARD, "id_number": number, "gender": gender, "birth_date": born},
                record))
    return out
