"""Whole columns of an upload checked at once (issue 19 item 3): the imports find their plain rows
— the cells that the row-by-row checks would accept as they are — with C-level operations over
each column (map, set membership, one search over a joined column), and send only the other rows
through the row-by-row checks, which word every refusal. A plain row's result is the one the
row-by-row check gives (tests/test_import_columns.py holds the two to the same answer).
"""

import functools
import operator
from datetime import date
from itertools import repeat

from models.rules.idnumber import digits_check_char
from models.rules.text import _NOT_PLAIN, normalize


def column(values: list, name: str, missing=None) -> list:
    """The cells of column `name` of row dicts (`missing` where a row lacks it)."""
    try:
        return list(map(operator.itemgetter(name), values))
    except KeyError:
        return [v.get(name, missing) for v in values]


@functools.lru_cache(maxsize=65536)
def _day(digits: str):
    """The date of 8 ASCII digits YYYYMMDD, None when there is no such day."""
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def plain_resident_ids(cells: list, today: date) -> list:
    """For each cell: its birth date when it is a 居民身份证 number `check_resident_id` accepts as
    it stands (a str of 18 ASCII characters, digits and a final digit or X, region not starting
    with 0, a real birth date from 1900 to `today`, the right check character), else None (the
    full check then normalises it or words the refusal). The check character is 2 · int(17
    digits, base 13) mod 11: 13 ≡ 2 (mod 11), so the base-13 value weighs digit i by 2^(16-i)
    mod 11, as GB 11643 does (its weights are 2^(17-i) mod 11) — int() does the sum in C. A
    column of such cells (the usual file) is checked a whole column at a time."""
    if not cells:
        return []
    if set(map(type, cells)) != {str} or set(map(len, cells)) != {18} or not "".join(cells).isascii():
        return [_one_resident_id(c, today) for c in cells]
    bodies = [c[:17] for c in cells]
    if not "".join(bodies).isdigit():
        return [_one_resident_id(c, today) for c in cells]
    first, last = "19000101", f"{today:%Y%m%d}"
    births = [c[6:14] for c in cells]
    day_of = {b: _day(b) if first <= b <= last else None for b in set(births)}
    days = list(map(day_of.__getitem__, births))
    right = list(map(operator.eq, map(digits_check_char, bodies), map(operator.itemgetter(17), cells)))
    regions = list(map(operator.ne, map(operator.itemgetter(0), cells), repeat("0")))
    if all(right) and all(regions):  # the usual column: every number right
        return days
    return [d if ok and region else None for d, ok, region in zip(days, right, regions, strict=True)]


def _one_resident_id(cell, today: date):
    """plain_resident_ids of one cell."""
    if (type(cell) is str and len(cell) == 18 and cell.isascii() and cell[0] != "0"
            and (body := cell[:17]).isdigit()
            and digits_check_char(body) == cell[17]
            and "19000101" <= (born := cell[6:14]) <= f"{today:%Y%m%d}"):
        return _day(born)
    return None


def gender_of(number: str) -> str:
    """男 / 女 from a checked 18-character number's sequence digit."""
    return "男" if int(number[16]) % 2 else "女"


def plain_texts(cells: list) -> bool:
    """True when `normalize()` leaves every cell (str, stripped) as it is: one search over the
    column joined by a character normalize never changes."""
    if set(map(type, cells)) != {str}:
        return False
    joined = "\x00".join(cells)
    return _NOT_PLAIN.search(joined) is None and all(map(operator.eq, cells, map(str.strip, cells)))


def normalized(cells: list) -> list:
    """normalize() of each cell — the column as it is when it is plain (`plain_texts`)."""
    return cells if plain_texts(cells) else list(map(normalize, cells))
