"""批量导入会员 / 组织机构代码导入会员: the template's columns, reading the file and checking its rows.

The rows are read as the file is parsed (`stream_rows`, chunks of CHUNK rows) and checked by a
`Checker` for one union: the fields (members.check_identity / check_record and
models/rules/member_fields.py), duplicates in the file across chunks, then the chunk against the
database in a few IN queries (the person, who holds them, the union's mobiles). Checked rows are
JSON-ready dicts: what apply() needs for an accepted row, the cells and reasons for a refused one.
"""

from collections import namedtuple
from datetime import date
from itertools import chain
from types import SimpleNamespace

import peewee as pw

from models.base import DomainError, in_values, now
from models.io.bulk import fetch, in_batch
from models.io.tables import lost_digits, stream_table
from models.members.member_import_plain import MEMBER_TAG_SET, RESIDENT_TYPES, plain_rows
from models.members.members import check_identity, check_record
from models.members.people import (
    ACTIVE_STATUSES,
    ENTERPRISE,
    ID_CARD,
    TRANSFER_IN,
    Membership,
    Person,
    held_elsewhere_message,
)
from models.orgs.organizations import Enterprise, Organization
from models.rules import member_fields
from models.rules.idnumber import digits_check_char
from models.rules.text import _NOT_PLAIN, compact, mask, normalize

# The template's columns (seed 000) by their short names; TEMPLATE_HEADER as the file shows them.
COLUMNS = ["姓名", "证件类型", "证件号码", "手机号码", "性别", "所在工会", "工会编号", "工作单位/服务平台", "会员标签"]
REQUIRED = COLUMNS[:7]
TEMPLATE_HEADER = ["姓名*", "证件类型(身份证)*", "证件号码*", "手机号码*", "性别*", "所在工会*", "工会编号*",
                   "工作单位/服务平台", "会员标签"]
CODE_COLUMN = "组织机构代码"  # 组织机构代码导入会员: the enterprise's 统一社会信用代码
BIRTH_COLUMN = "出生日期"  # optional, for ID types other than 身份证
# Other spellings of the headers (the manual's own, the roster export, older templates).
ALIASES = {"证件类型(身份证)": "证件类型", "有效证件类型": "证件类型", "移动电话": "手机号码", "手机": "手机号码",
           "工作单位": "工作单位/服务平台", "统一社会信用代码": CODE_COLUMN, "身份证号码": "证件号码"}
MAX_ROWS = 60_000  # the page promises 50,000
CHUNK = 1_000  # rows checked and staged per transaction (small: the last chunk is checked after the file is read)
NUMERIC_ID_MESSAGE = member_fields.NUMERIC_ID_MESSAGE
FIELD_COLUMN = {"name": "姓名", "id_type": "证件类型", "id_number": "证件号码", "gender": "性别",
                "birth_date": BIRTH_COLUMN, "mobile": "手机号码", "work_unit": "工作单位/服务平台",
                "tags": "会员标签"}
RECORD_COLUMNS = {"mobile": "手机号码", "work_unit": "工作单位/服务平台", "tags": "会员标签"}


def enterprises_of(org: Organization):
    """The enterprises the union covers (关联企业类, 组织机构代码导入会员)."""
    return Enterprise.select().where(Enterprise.org == org.id).order_by(Enterprise.name, Enterprise.id)


# --- reading the file --------------------------------------------------------------------------------
def canonical(name: str) -> str:
    text = normalize(name).strip("*＊ ").replace("（", "(").replace("）", ")")
    return ALIASES.get(text, text)


def stream_rows(data: bytes, by_code: bool = False, max_rows: int = MAX_ROWS):
    """The file's rows with the columns under their short names: (header, chunks, size hint,
    close) — chunks yields lists of up to CHUNK (row number, {column: cell}) as the file is
    parsed (DomainError naming the missing columns for a wrong template at once; for a file that
    turns out bad further on, and for one without data rows, from the iteration); close() stops
    the stream."""
    table = stream_table(data, [], max_rows=max_rows)
    try:
        header = [canonical(h) for h in table.header]
        required = REQUIRED + ([CODE_COLUMN] if by_code else [])
        missing = [c for c in required if c not in header]
        if missing:
            template = "组织机构代码导入会员模板" if by_code else "会员导入模板"
            raise DomainError(f"文件缺少必需的列：{'、'.join(missing)}（请使用下载的{template}）", 422)
    except BaseException:
        table.close()
        raise
    return header, _chunked(table, header), table.size_hint, table.close


def _chunked(table, header: list):
    named = [(i, h) for i, h in enumerate(header) if h]
    width = len(header)
    every = "" not in header  # every column named: a row's dict is zip(header, cells) (cells past the header dropped)
    chunk = []
    any_rows = False
    for number, cells in table.rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        chunk.append((number, dict(zip(header, cells, strict=False)) if every else {h: cells[i] for i, h in named}))
        if len(chunk) >= CHUNK:
            any_rows = True
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    elif not any_rows:
        raise DomainError("文件中没有会员数据（请从第二行开始填写会员信息）", 422)


# --- checking rows ------------------------------------------------------------------------------------
def _fail(errors: list, values: dict, column: str, reason: str, value=None) -> None:
    errors.append([column, str(values.get(column, "") if value is None else value), reason])


class Checker:
    """Checks rows for one union in file order; remembers the first row of each ID number and
    mobile in the file (in-file duplicates) across chunks."""

    def __init__(self, org: Organization, by_code: bool = False, on: date | None = None):
        self.org = org
        self.by_code = by_code
        self.on = on or now().date()
        self.first_id: dict = {}
        self.first_mobile: dict = {}
        self._mobiles = None
        self.codes = {compact(c).upper() for c in (org.union_no, org.uscc) if c}
        self.enterprises = ({e.uscc: e.id for e in enterprises_of(org)} if by_code else {})
        self._union_problems: dict = {}  # (所在工会, 工会编号) as in the file → its problems: the same in most rows
        self._codes: dict = {}  # 组织机构代码 as in the file → (enterprise id, reason)
        self._births: dict = {}  # YYYYMMDD of a valid 身份证 number → the date

    def remember(self, checked: list) -> None:
        """Rebuild the in-file duplicate maps from rows checked earlier (a resumed job)."""
        for row in checked:
            if row.get("id_key"):
                self.first_id.setdefault(tuple(row["id_key"]), row["row"])
            if row.get("mobile"):
                self.first_mobile.setdefault(row["mobile"], row["row"])

    def union_mobiles(self) -> dict:
        """{mobile: (membership id, name)} of the union's current members, read once."""
        if self._mobiles is None:
            query = (Membership.select(Membership.mobile, Membership.id, Person.name).join(Person)
                     .where((Membership.org == self.org.id) & Membership.status.in_(ACTIVE_STATUSES)
                            & (Membership.mobile != "")))
            self._mobiles = {mobile: (mid, name) for mobile, mid, name in fetch(query)}
        return self._mobiles

    def check(self, rows) -> list:
        """rows: [(row number, {column: cell})] → checked rows (JSON-ready dicts)."""
        rows = list(rows)
        # one search for the whole chunk: most files hold no invisible control character
        clean = not member_fields.any_controls(chain.from_iterable(values.values() for _n, values in rows))
        parse = self._parse
        if clean:  # the plain rows found column by column; _plain() / the general checks for the rest
            plain = plain_rows([values for _n, values in rows], self.on, BIRTH_COLUMN)
            parsed = [parse(number, values, True, p) for (number, values), p in zip(rows, plain, strict=True)]
        else:
            parsed = [parse(number, values, clean) for number, values in rows]
        self._against_database(parsed)
        return [self._finish(p) for p in parsed]

    # one row, no database
    def _parse(self, number: int, values: dict, clean: bool = False, plain=None) -> dict:
        errors = []
        if not clean:
            values = member_fields.without_controls(values)
        if plain is None:
            plain = self._plain(values)
        if plain is not None:  # the common row: every check passed, the same fields
            fields, record = plain
            id_ok = mobile_ok = True
        else:
            fields, record, id_ok, mobile_ok = self._general(values, errors)
        union_key = (values.get("所在工会"), values.get("工会编号"))
        union_problems = self._union_problems.get(union_key)
        if union_problems is None:
            union_problems = self._union_problems[union_key] = member_fields.union_problems(
                values, self.org.name, self.codes, self.org.union_no or self.org.uscc or "")
        for column, reason in union_problems:
            _fail(errors, values, column, reason)
        enterprise = None
        if self.by_code:
            raw = values.get(CODE_COLUMN)
            known = self._codes.get(raw) if type(raw) is str else None  # noqa: E721 — not NumericText
            if known is None:
                known = member_fields.enterprise_code(raw, self.enterprises, CODE_COLUMN)
                if type(raw) is str:  # noqa: E721
                    self._codes[raw] = known
            enterprise, reason = known
            if reason:
                _fail(errors, values, CODE_COLUMN, reason)
        row = {"row": number, "values": values, "errors": errors,
               "fields": fields, "record": record, "enterprise": enterprise, "id_key": None,
               "mobile": None}
        if id_ok:
            key = (fields["id_type"], fields["id_number"])
            first = self.first_id.setdefault(key, number)
            row["id_key"] = list(key)
            if first != number:
                _fail(errors, values, "证件号码", f"与第{first}行证件号码重复", mask(fields["id_number"]))
        if mobile_ok:
            first = self.first_mobile.setdefault(record["mobile"], number)
            row["mobile"] = record["mobile"]
            if first != number:
                _fail(errors, values, "手机号码", f"手机号码与第{first}行重复（手机号码不要重复）")
        return row

    def _plain(self, values: dict):
        """(fields, record) of a row whose identity and record cells are plain — a valid 18-digit
        身份证 number typed as text, a name without spaces or full-width letters, 性别 empty or the number's,
        a mobile number as it is stored, plain 工作单位, one 会员标签 or none, no 出生日期 — exactly
        what check_identity() / check_record() give for it (tests/test_import_fast_paths.py);
        None for any other row (the general checks explain it)."""
        number = values.get("证件号码")
        if type(number) is not str or not member_fields.PLAIN_ID.fullmatch(number):  # noqa: E721 — not NumericText
            return None
        name = values.get("姓名")
        if type(name) is not str or not member_fields.PLAIN_NAME.fullmatch(name) or values.get(BIRTH_COLUMN):  # noqa: E721
            return None
        if values.get("证件类型", "") not in RESIDENT_TYPES:
            return None
        mobile = values.get("手机号码")
        if type(mobile) is not str or not member_fields.PLAIN_MOBILE.fullmatch(mobile):  # noqa: E721
            return None
        born = self._births.get(number[6:14])
        if born is None:
            try:
                born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            except ValueError:
                return None
            if born.year < 1900 or born > self.on:
                return None
            self._births[number[6:14]] = born
        if number[17] != digits_check_char(number[:17]):
            return None
        gender = "男" if number[16] in "13579" else "女"
        if values.get("性别", "") not in ("", gender):
            return None
        record = {"mobile": mobile}
        work_unit = values.get("工作单位/服务平台", "")
        if work_unit:
            if type(work_unit) is not str or _NOT_PLAIN.search(work_unit):  # noqa: E721
                return None
            work_unit = work_unit.strip()
            if len(work_unit) > 100:
                return None
            if work_unit:
                record["work_unit"] = work_unit
        tags = values.get("会员标签", "")
        if tags:
            if type(tags) is not str:  # noqa: E721
                return None
            tags = tags.strip()
            if tags and tags not in MEMBER_TAG_SET:
                return None
            if tags:
                record["tags"] = tags
        return {"name": name, "id_type": ID_CARD, "id_number": number, "gender": gender, "birth_date": born}, record

    def _general(self, values: dict, errors: list):
        """(fields, record, ID number accepted, mobile accepted) of any row by the member form's
        checks, each problem added to `errors`."""
        raw_id = values.get("证件号码", "")
        id_type = values.get("证件类型", "")
        identity = {"name": values.get("姓名"), "id_type": member_fields.id_type(id_type),
                    "id_number": raw_id, "gender": values.get("性别")}
        has_birth = bool(values.get(BIRTH_COLUMN))
        if has_birth:
            identity["birth_date"] = values.get(BIRTH_COLUMN)
        fields, problems = check_identity(identity, on=self.on)
        if lost_digits(raw_id):
            problems["id_number"] = NUMERIC_ID_MESSAGE
        if fields.get("id_type") != ID_CARD and not has_birth:
            problems.pop("birth_date", None)  # the template has no 出生日期: add it later
        for key, reason in problems.items():
            _fail(errors, values, FIELD_COLUMN[key], reason)
        record_values = {"mobile": values.get("手机号码")}
        for key in ("work_unit", "tags"):
            if values.get(RECORD_COLUMNS[key], "").strip():
                record_values[key] = values.get(RECORD_COLUMNS[key])
        record, record_problems = check_record(record_values, partial=True)
        for key, reason in record_problems.items():
            _fail(errors, values, FIELD_COLUMN[key], reason)
        id_ok = bool("id_number" not in problems and "id_type" not in problems and fields.get("id_number"))
        return fields, record, id_ok, "mobile" not in record_problems

    # the rows against what the database holds: a few IN queries per chunk, none per row
    def _against_database(self, parsed: list) -> None:
        keyed = [p for p in parsed if p["id_key"]]
        found = _lookup({tuple(p["id_key"]) for p in keyed})
        orgs = _orgs({held.org for _p, held, _t in found.values() if held and held.org != self.org.id}
                     | {pending.org for _p, _h, pending in found.values() if pending})
        mobiles = self.union_mobiles()
        for p in keyed:
            p["op"] = "add"
            person, holder, waiting = found.get(tuple(p["id_key"]), (None, None, None))
            mine = None
            if person is not None:
                person_id, person_name = person
                p["person_id"] = person_id
                if person_name != p["fields"]["name"]:
                    p["errors"].append(["姓名", p["fields"]["name"],
                                        f"姓名与系统中该证件号码登记的姓名「{person_name}」不一致"
                                        "（会员姓名和证件号码必须一致）"])
                if holder is not None and holder.org != self.org.id:
                    p["errors"].append(["证件号码", mask(p["id_key"][1]),
                                        held_elsewhere_message(SimpleNamespace(org=orgs[holder.org]))])
                elif holder is not None:
                    mine = holder
                elif waiting is not None:
                    where = "本工会" if waiting.org == self.org.id else f"「{orgs[waiting.org].name}」"
                    p["errors"].append(["证件号码", mask(p["id_key"][1]),
                                        f"该会员正在转入{where}（转入审核中），请等待审核结果"])
            mobile = p["mobile"]
            if mobile and mobile in mobiles and mobiles[mobile][0] != (mine.id if mine else None):
                p["errors"].append(["手机号码", mobile,
                                    f"手机号码已被本工会会员「{mobiles[mobile][1]}」使用（手机号码不要重复）"])
            if mine is not None:
                p["op"] = "update"
                p["membership_id"] = mine.id
                p["changes"] = self._changes(mine, p)

    def _changes(self, m, p: dict) -> dict:
        changes = {k: [getattr(m, k), v] for k, v in p["record"].items() if getattr(m, k) != v}
        if p["enterprise"] and (m.enterprise != p["enterprise"] or m.category != ENTERPRISE):
            changes["enterprise"] = [m.enterprise, p["enterprise"]]
        return changes

    def _finish(self, p: dict) -> dict:
        """The staged form: what apply() needs for an accepted row; the cells and reasons for a
        rejected one."""
        base = {"row": p["row"], "id_key": p["id_key"], "mobile": p["mobile"]}
        if p["errors"]:
            return {**base, "errors": p["errors"], "values": {k: str(v) for k, v in p["values"].items()},
                    "name": normalize(p["values"].get("姓名"))}
        if p["op"] == "update" and not p["changes"]:  # 未变化: the member it names, for the result's list
            return {**base, "op": "same", "membership_id": p["membership_id"]}
        fields = p["fields"]
        out = {**base, "op": p["op"], "name": fields["name"], "record": p["record"],
               "enterprise": p["enterprise"]}
        if p["op"] == "update":
            out.update(membership_id=p["membership_id"], changes=p["changes"])
        elif p.get("person_id"):
            out["person_id"] = p["person_id"]
        else:
            out["person"] = {"id_type": fields["id_type"], "id_number": fields["id_number"],
                             "name": fields["name"], "gender": fields["gender"],
                             "birth_date": fields["birth_date"].isoformat() if fields.get("birth_date") else None}
        return out


def persons_by_key(keys) -> dict:
    """{(id_type, id_number): (person id, name)} for the keys that exist."""
    return {key: person for key, (person, _held, _pending) in _lookup(keys).items()}


_MEMBER_COLUMNS = (Membership.id, Membership.org, Membership.status, Membership.mobile, Membership.work_unit,
                   Membership.tags, Membership.enterprise, Membership.category)
_Member = namedtuple("_Member", [f.name for f in _MEMBER_COLUMNS])


def _lookup(keys) -> dict:
    """{(id_type, id_number): ((person id, name), membership holding them (待审核 / 正常) or None,
    转入审核中 membership or None)} for the keys that exist — one query per ID type and IN_BATCH
    numbers (the (id_type, id_number) index), memberships as light namedtuples."""
    by_type: dict = {}
    for id_type, number in keys:
        by_type.setdefault(id_type, []).append(number)
    found = {}
    on = (Membership.person == Person.id) & Membership.status.in_(ACTIVE_STATUSES)
    for id_type, numbers in by_type.items():
        for i in range(0, len(numbers), in_batch()):
            query = (Person.select(Person.id_number, Person.id, Person.name, *_MEMBER_COLUMNS)
                     .join(Membership, pw.JOIN.LEFT_OUTER, on=on)
                     .where((Person.id_type == id_type) & in_values(Person.id_number, numbers[i:i + in_batch()])))
            for number, pid, name, *member in fetch(query):
                _person, held, pending = found.get((id_type, number), ((pid, name), None, None))
                if member[0] is not None:
                    m = _Member._make(member)
                    if m.status == TRANSFER_IN:
                        pending = m
                    else:
                        held = m
                found[(id_type, number)] = ((pid, name), held, pending)
    return found


def people_query(org_id: int, ids: list):
    """The memberships of one union among `ids`, with their people, oldest first."""
    return (Membership.select(Membership, Person).join(Person)
            .where((Membership.org == org_id) & in_values(Membership.id, [int(i) for i in ids]))
            .order_by(Membership.id))


def _orgs(ids) -> dict:
    return {o.id: o for o in Organization.select().where(Organization.id.in_(list(ids)))} if ids else {}


def validate_rows(org: Organization, rows, by_code: bool = False) -> list:
    """Check rows [(row number, {column: cell})] of one file for `org` (reads only)."""
    return Checker(org, by_code).check(rows)
