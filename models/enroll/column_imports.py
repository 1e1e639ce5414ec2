"""The usual file of 个人参保导入 and 给付信息导入, checked and written column by column (issue 19
item 3): every cell plain (the cells the row-by-row checks accept as they are, models/io/columns.py),
no key twice, and for 个人参保导入 nobody already insured that year / for 给付信息导入 every person
found under that name with an active enrollment of the year covering the 给付日期 and nothing
recorded before. Such a file is checked a column at a time — each distinct year, type, date and
amount once, the rest by C-level map / set / zip — and its rows go to the database as columns
(`bulk.insert_columns`): no dict, no namedtuple and no model object a row. Any other file returns
None and takes the row-by-row path (status_import.check_individual_rows, claims.check), which
words every refusal; tests/test_column_imports.py holds the two paths to the same writes.
"""

import operator
from datetime import date

import peewee as pw

from models import db
from models.base import in_values, now
from models.enroll.enrollment import INDIVIDUAL, Enrollment, holder_of
from models.enroll.plans import ProtectionType, ProtectionYear
from models.io.bulk import fetch, insert_columns, select_among
from models.io.columns import normalized, plain_resident_ids
from models.members.people import Person
from models.rules.fees import FeeError, fen, period_label
from models.rules.text import normalize, parse_day

_GENDER = {str(d): "男" if d % 2 else "女" for d in range(10)}  # the sequence digit's parity (gender_of)
_DAY_MAX = date.max


def _names(cells: list) -> list | None:
    """normalize()d names cut to 50 characters, None when one is empty."""
    names = normalized(cells)
    if "" in names:
        return None
    return [m[:50] for m in names] if max(map(len, names), default=0) > 50 else names


def _people(table, on: date) -> tuple | None:
    """(rows, columns, 证件号码, births, names) of a file whose every row names a resident ID number
    and a name plainly, or None (the row path words what is wrong)."""
    n = len(table)
    cols = table.columns
    if not n:
        return None
    numbers = cols["证件号码"]
    births = plain_resident_ids(numbers, on)
    names = _names(cols["姓名"]) if None not in births else None
    return None if names is None else (n, cols, numbers, births, names)


# --- 个人参保导入 ------------------------------------------------------------------------------
def individual(table, on: date) -> dict | None:
    """The usual 个人参保导入 file's columns to write ({"numbers", "names", "births", "terms",
    "persons", "same_term", "distinct": each number once}), or None."""
    people = _people(table, on)
    if people is None:
        return None
    n, cols, numbers, births, names = people
    years = {y.year: y for y in ProtectionYear.select()}
    types = {(t.year_id, t.code): t for t in ProtectionType.select()}
    four = [cols["保障年度"], cols["保障类型代码"], cols["起保日期"], cols["终保日期"]]
    if all(len(set(column)) == 1 for column in four):  # the usual file: one term, no tuple a row
        quads, distinct = None, [tuple(column[0] for column in four)]
    else:
        quads = list(zip(*four, strict=True))
        distinct = set(quads)
    term_of = {}
    for quad in distinct:
        term = _term(*quad, years, types)
        if term is None:
            return None
        term_of[quad] = term
    terms = [term_of[distinct[0]]] * n if quads is None else list(map(term_of.__getitem__, quads))
    year_ids = {t[0] for t in term_of.values()}
    keys = numbers if len(year_ids) == 1 else list(zip(numbers, map(operator.itemgetter(0), terms), strict=True))
    if len(set(keys)) != n:  # a person twice in a year: the row path words it
        return None
    persons = dict(fetch(select_among(Person.id_number, numbers, Person.id_number, Person.id)))
    if persons:
        for year_id in year_ids:  # anyone already insured that year: the row path words it (or counts it)
            ids = [persons[num] for num, t in zip(numbers, terms, strict=True) if t[0] == year_id and num in persons]
            if ids and holder_of(ProtectionYear(id=year_id), ids):
                return None
    return {"numbers": numbers, "names": names, "births": births, "terms": terms, "persons": persons,
            "same_term": term_of.popitem()[1] if len(term_of) == 1 else None, "distinct": len(year_ids) == 1}


def _term(year_cell, code_cell, start_cell, end_cell, years: dict, types: dict):
    """(year id, type id, start, end, 全年 / 半年, fee) of a row's four cells when they are plain
    (a set year and its type's code, coverage dates inside the year), else None — as
    status_import._plain_individual and apply_individual read them."""
    text = normalize(year_cell).removesuffix("年")
    try:
        year = years.get(int(text))
    except ValueError:
        return None
    kind = types.get((year.id, normalize(code_cell).upper())) if year is not None else None
    start, end = parse_day(start_cell), parse_day(end_cell)
    if kind is None or start is None or end is None \
            or not date(year.year, 1, 1) <= start <= end <= date(year.year, 12, 31):
        return None
    half = period_label(start) == "半年"
    return year.id, kind.id, start, end, "半年" if half else "全年", kind.half_fee if half else kind.full_fee


def apply_individual(plan: dict) -> int:
    """The people not yet in the system registered, then the enrollments: two inserts of columns."""
    numbers, persons = plan["numbers"], plan["persons"]
    with db.atomic():
        distinct = plan.get("distinct") or len(set(numbers)) == len(numbers)  # each number once
        fresh = range(len(numbers)) if not persons and distinct else \
            list({num: i for i, num in reversed(list(enumerate(numbers))) if num not in persons}.values())
        ids = dict(persons)
        if fresh:
            pick = (lambda column: column) if isinstance(fresh, range) else \
                (lambda column: list(map(column.__getitem__, fresh)))
            new = pick(numbers)
            got = insert_columns(Person, {"id_number": new, "name": pick(plan["names"]),
                                          "gender": list(map(_GENDER.__getitem__, map(operator.itemgetter(16), new))),
                                          "birth_date": _iso_births(pick(plan["births"]))},
                                 returning=(Person.id_number, Person.id), same={"id_type": "身份证"})
            if got is None:  # an SQLite without RETURNING
                got = Person.select(Person.id_number, Person.id).where(
                    in_values(Person.id_number, new) & (Person.id_type == "身份证")).tuples()
            ids.update(got)
        same = {"org": None, "source": INDIVIDUAL, "channel": "会员卡参保", "mode": "即时参保"}
        columns = {"person": list(map(ids.__getitem__, numbers))}
        names = ("year", "type", "start", "end", "period", "fee")
        if plan["same_term"] is not None:
            same.update(zip(names, plan["same_term"], strict=True))
        else:
            columns.update(zip(names, map(list, zip(*plan["terms"], strict=True)), strict=True))
        insert_columns(Enrollment, columns, same=same)
    return len(numbers)


def _iso_births(births: list) -> list:
    """The checked numbers' birth dates (plain_resident_ids: one object a distinct date) as the
    text a date column stores (YYYY-MM-DD), once per distinct date: no date converted a row."""
    iso = {d: d.isoformat() for d in set(births)}
    return list(map(iso.__getitem__, births))


# --- 给付信息导入 ------------------------------------------------------------------------------
def claims(table, on: date, model, claim_types: list, max_amount: int) -> dict | None:
    """The usual 给付信息导入 file's columns to write ({field of `model` — Claim —: its values}), or
    None."""
    people = _people(table, on)
    if people is None or not set(people[1]["给付类型"]) <= set(claim_types):
        return None
    n, cols, numbers, births, names = people
    years = {y.year: y for y in ProtectionYear.select()}
    year_cells, day_cells, amount_cells = cols["保障年度"], cols["给付日期"], cols["给付金额(元)"]
    year_of = {}
    for cell in set(year_cells):
        text = normalize(cell).removesuffix("年")
        year_of[cell] = years.get(int(text)) if text.isascii() and text.isdigit() and len(text) == 4 else None
    day_of = {cell: parse_day(cell) for cell in set(day_cells)}
    amount_of = {cell: _amount(cell, max_amount) for cell in set(amount_cells)}
    if None in year_of.values() or None in amount_of.values() \
            or not all(d is not None and d <= on for d in day_of.values()):
        return None
    notes = normalized(cols["备注"]) if "备注" in cols else [""] * n
    if max(map(len, notes)) > 200:
        return None
    days = list(map(day_of.__getitem__, day_cells))
    kinds = cols["给付类型"]
    amounts = list(map(amount_of.__getitem__, amount_cells))
    if len(set(zip(numbers, days, kinds, amounts, strict=True))) != n:  # a claim twice: the row path words it
        return None
    # the people and each one's active periods in the file's years (one a year at most:
    # enrollment_once_per_year — so one row a person when the file is of one year)
    file_years = sorted({y.id for y in year_of.values()})
    found = fetch(select_among(Person.id_number, numbers, Person.id_number, Person.id, Person.name, Enrollment.year,
                               Enrollment.id, Enrollment.start, Enrollment.org)
                  .join(Enrollment, pw.JOIN.LEFT_OUTER, on=((Enrollment.person == Person.id) & Enrollment.active
                                                            & Enrollment.year.in_(file_years))))
    if not found:
        return None
    nums, people, registered, held_years, eids, starts, orgs = zip(*found, strict=True)
    pid_of = dict(zip(nums, people, strict=True))
    if len(pid_of) < len(set(numbers)) or len(set(people)) != len(pid_of):
        return None  # someone not found, or a number under two kinds of document: the row path
    # the names as registered first: a name equal to the file's normalize()d one is its own
    # normalize() (normalize is idempotent), so most files need no normalize() of 50,000 names
    name_of = dict(zip(nums, registered, strict=True))
    if not all(map(operator.eq, names, map(name_of.__getitem__, numbers))):
        name_of = dict(zip(nums, normalized(list(registered)), strict=True))
        if not all(map(operator.eq, names, map(name_of.__getitem__, numbers))):
            return None
    pids = list(map(pid_of.__getitem__, numbers))
    year_ids = list(map(lambda cell: year_of[cell].id, year_cells)) if len(year_of) > 1 else \
        [next(iter(year_of.values())).id] * n
    day = {v: Enrollment.start.python_value(v) for v in set(starts)}
    held = zip(eids, map(day.__getitem__, starts), orgs, strict=True)
    if len(file_years) == 1:  # by person: no (person, year) pair a row
        period_of = dict(zip(people, held, strict=True))
        periods = list(map(period_of.get, pids)) if None not in held_years else [None]
    else:
        period_of = dict(zip(zip(people, held_years, strict=True), held, strict=True))
        periods = list(map(period_of.get, zip(pids, year_ids, strict=True)))
    if None in periods or not all(map(operator.le, map(operator.itemgetter(1), periods), days)):
        return None
    deadline = {y.id: y.claims_deadline or _DAY_MAX for y in year_of.values()}
    if any(d != _DAY_MAX for d in deadline.values()) and \
            not all(map(operator.le, days, map(deadline.__getitem__, year_ids))):
        return None
    recorded = fetch(select_among(model.person, pids, model.person, model.claim_date, model.claim_type,
                                  model.amount))
    if recorded:  # the unique index's key: (person, 给付日期, 给付类型, amount)
        when = {v: model.claim_date.python_value(v) for v in {r[1] for r in recorded}}
        keys = {(person, when[d], kind, amount) for person, d, kind, amount in recorded}
        if not keys.isdisjoint(zip(pids, days, kinds, amounts, strict=True)):
            return None  # recorded before: the row path counts it
    return {"person": pids, "id_number": numbers, "name": names, "year": year_ids,
            "enrollment": list(map(operator.itemgetter(0), periods)),
            "org": list(map(operator.itemgetter(2), periods)), "claim_date": days, "claim_type": kinds,
            "amount": amounts, "note": notes}


def _amount(cell, max_amount: int):
    try:
        amount = fen(cell)
    except FeeError:
        return None
    return amount if 0 < amount <= max_amount else None


def insert_claims(model, columns: dict, account) -> None:
    """claims()'s columns written (`model`: Claim), the year given once when it is one."""
    same = {"created_by": account.id if account else None, "created_at": now()}
    if len(set(columns["year"])) == 1:
        same["year"] = columns["year"][0]
        columns = {k: v for k, v in columns.items() if k != "year"}
    insert_columns(model, columns, same=same)
