"""批量导入 / 组织机构代码导入会员: members of one grassroots union from an Excel/CSV file.

The template (seed 000) has nine columns; 组织机构代码导入会员 adds a tenth, the 统一社会信用代码 of
one of the union's covered enterprises. The background job (spec 05):

1. reads the file (`stream_table`: xlsx / xls / csv by content, zip-bomb guard, no formulas) —
   an xlsx is parsed in a reader process and its rows arrive while it parses the rest;
2. checks the rows in chunks of CHUNK rows as they arrive (reading and checking overlap on two
   cores); each chunk's checked rows go to the staging table (JobChunk) in the same
   transaction as the job's checkpoint, so a killed job resumes after its last chunk (the
   reader starts again; the in-file duplicate maps are rebuilt from the staged chunks);
3. applies every accepted row in ONE transaction — new people and memberships by bulk inserts,
   changed record fields of this union's members, the dashboard counters, the audit row and the
   checkpoint "applied" — so a crash leaves nothing and a resumed job never applies twice;
4. returns the result: 新增 / 更新 / 未变化 / 未导入, the rejected rows with row number, column,
   value and reason, and an Excel of the rejected rows that can be fixed and uploaded again.

Identity fields never change by import; a person in another union is not moved (the row says
where they are and points to 转入); a rejected row changes nothing.
"""

import io
import json
import re
from collections import namedtuple
from datetime import date, datetime
from types import SimpleNamespace

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError, in_values, now
from models.io.excel import safe_cell
from models.io.tables import ERROR_COLUMN, error_cell, lost_digits, lost_digits_message, stream_table
from models.jobs import JobChunk, bulk_work, job_kind
from models.members.counts import OrgMemberCount, _bump_day
from models.members.members import check_identity, check_record
from models.members.people import (
    ACTIVE_STATUSES,
    CATEGORIES,
    ENTERPRISE,
    FLEXIBLE,
    FLEXIBLE_KINDS,
    HELD,
    ID_CARD,
    ID_TYPES,
    MEMBER_TAGS,
    NORMAL,
    PENDING,
    TRANSFER_IN,
    Membership,
    Person,
    held_elsewhere_message,
    next_member_numbers,
    review_required,
)
from models.orgs.accounts import Account
from models.orgs.organizations import CLOSED, Enterprise, Organization
from models.rules.text import compact, mask, normalize
from models.storage import stored_file

KIND = "member_import"
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
ID_TYPE_ALIASES = {"居民身份证": ID_CARD, "二代身份证": ID_CARD}
MAX_ROWS = 60_000  # the page promises 50,000
PROMISED_ROWS = 50_000
CHUNK = 1_000  # rows checked and staged per transaction (small: the last chunk is checked after the file is read)
SHOWN = 200  # rejected rows (and changes) listed on the result page; all of them in the file
BATCH = 500  # rows per INSERT / IN (…) — well inside SQLite's variable limit

NUMERIC_ID_MESSAGE = lost_digits_message("证件号码")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # invisible; PostgreSQL refuses NUL
_FIELD_COLUMN = {"name": "姓名", "id_type": "证件类型", "id_number": "证件号码", "gender": "性别",
                 "birth_date": BIRTH_COLUMN, "mobile": "手机号码", "work_unit": "工作单位/服务平台",
                 "tags": "会员标签"}
_RECORD_COLUMNS = {"mobile": "手机号码", "work_unit": "工作单位/服务平台", "tags": "会员标签"}
CHANGE_LABELS = {**_RECORD_COLUMNS, "enterprise": "关联企业"}


# --- who may import -------------------------------------------------------------------------------
def import_refusal(org: Organization) -> str | None:
    """Why `org` may not import members (None: it may). Only a grassroots union (or a 临时工会)
    has members of its own."""
    if org.status == CLOSED:
        return "本工会已撤销，不能导入会员"
    if org.level == "grassroots" or org.is_temporary:
        return None
    return (f"只有基层工会（或临时工会）可以导入会员：{org.level_label}没有直属会员，"
            "请由所属基层工会登录后导入")


def enterprises_of(org: Organization):
    """The enterprises the union covers (关联企业类, 组织机构代码导入会员)."""
    return Enterprise.select().where(Enterprise.org == org.id).order_by(Enterprise.name, Enterprise.id)


def category_label(params: dict) -> str:
    category = params.get("category", "")
    if category == FLEXIBLE and params.get("category_detail"):
        return f"{FLEXIBLE}（{params['category_detail']}）"
    if params.get("enterprise_name"):
        return f"{ENTERPRISE}（{params['enterprise_name']}）"
    return category


# --- the template ----------------------------------------------------------------------------------
def explanation(org: Organization, by_code: bool = False) -> list:
    """(column, 说明) rows of the 数据说明 sheet."""
    code = org.union_no or org.uscc
    rows = [
        ("姓名*", "必填。与证件上的姓名一致；已登记在系统中的人员，姓名须与登记的一致（会员姓名和证件号码必须一致）"),
        ("证件类型(身份证)*", "可选：" + "、".join(ID_TYPES) + "。不填视为身份证；非身份证类型请选择对应证件或其他"),
        ("证件号码*", "必填。身份证为18位（15位老号码会自动转换为18位），末位X大写。本列已设为文本格式，"
                  "请勿改为数字格式，否则末尾数字会丢失"),
        ("手机号码*", "必填，11位手机号码。手机号码不要重复（同一文件内、本工会会员之间都不能重复）"),
        ("性别*", "男 或 女。身份证按号码核对，须与号码一致；其他证件必填"),
        ("所在工会*", f"必填，填写本工会名称：{org.name}"),
        ("工会编号*", f"必填，填写本工会的工会编号：{code}" if code else "必填（本工会尚未登记工会编号，可填“无”）"),
        ("工作单位/服务平台", "选填。工作单位详细地址请填写超过6个汉字且少于20个汉字（如果要办理工会会员卡，请必填）"),
        ("会员标签", "选填，可选：" + "、".join(MEMBER_TAGS) + "。多个标签用“、”分隔"),
    ]
    if by_code:
        rows.append((CODE_COLUMN + "*", "必填。本工会覆盖企业的统一社会信用代码（见“本工会覆盖企业”表），"
                                       "该行会员关联到这家企业（关联企业类）"))
    rows += [
        ("", ""),
        ("注意事项", "请从第二行开始填写会员信息，每次最多50000行；支持 .xlsx、.xls 和 CSV（UTF-8 或 GBK）"),
        ("", "本功能可批量导入新增会员和批量修改会员信息（手机号码、工作单位/服务平台、会员标签）；"
             "姓名、证件号码不会被导入修改"),
        ("", "已在其它工会注册的会员,请使用会员转入功能（从其他工会转入会员到本工会）"),
        ("", "新增会员，会员审核通过后自动生成会员编号"),
        ("", "非身份证证件可在最后增加“出生日期”列（如 1990-01-31），也可导入后在编辑会员中补充"),
    ]
    return rows


def template_workbook(org: Organization, by_code: bool = False) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = Workbook()
    sheet = wb.active
    sheet.title = "会员信息"
    header = TEMPLATE_HEADER + ([CODE_COLUMN + "*"] if by_code else [])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 20
    last = PROMISED_ROWS + 1
    text_columns = ["C", "D"] + (["J"] if by_code else [])  # 证件号码, 手机号码 (and the code) as text
    for letter in text_columns:
        sheet.column_dimensions[letter].number_format = "@"
        for row in range(2, 1002):
            sheet[f"{letter}{row}"].number_format = "@"
    lists = [("B", ID_TYPES, True), ("E", ["男", "女"], True),
             ("I", MEMBER_TAGS, False)]  # several tags may be typed, so no error box for I
    for letter, choices, strict in lists:
        rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                              showErrorMessage=strict)
        if strict:
            rule.error = "请从下拉列表中选择"
        sheet.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{last}")
    notes = wb.create_sheet("数据说明")
    notes.append(["列名", "说明"])
    notes["A1"].font = notes["B1"].font = Font(bold=True)
    for row in explanation(org, by_code):
        notes.append(list(row))
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 100
    if by_code:
        covered = wb.create_sheet("本工会覆盖企业")
        covered.append(["企业名称", "统一社会信用代码"])
        for enterprise in enterprises_of(org):
            covered.append([safe_cell(enterprise.name), enterprise.uscc])
        covered.column_dimensions["A"].width = 40
        covered.column_dimensions["B"].width = 24
        count = covered.max_row
        if count > 1:
            rule = DataValidation(type="list", formula1=f"'本工会覆盖企业'!$B$2:$B${count}", allow_blank=True)
            sheet.add_data_validation(rule)
            rule.add(f"J2:J{last}")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- reading the file --------------------------------------------------------------------------------
def canonical(name: str) -> str:
    text = normalize(name).strip("*＊ ").replace("（", "(").replace("）", ")")
    return ALIASES.get(text, text)


def stream_rows(data: bytes, by_code: bool = False, reader_process: bool = True):
    """The file's rows with the columns under their short names: (header, chunks, size hint,
    close) — chunks yields lists of up to CHUNK (row number, {column: cell}) as the file is
    parsed (DomainError naming the missing columns for a wrong template at once; for a file that
    turns out bad further on, and for one without data rows, from the iteration); close() stops
    the reader."""
    table = stream_table(data, [], max_rows=MAX_ROWS, reader_process=reader_process)
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
    chunk = []
    any_rows = False
    for number, cells in table.rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        chunk.append((number, {h: cells[i] for i, h in named}))
        if len(chunk) >= CHUNK:
            any_rows = True
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    elif not any_rows:
        raise DomainError("文件中没有会员数据（请从第二行开始填写会员信息）", 422)


# --- checking rows ------------------------------------------------------------------------------------
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
        self.union_name = normalize(org.name)
        self.enterprises = ({e.uscc: e.id for e in enterprises_of(org)} if by_code else {})

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
            self._mobiles = {mobile: (mid, name) for mobile, mid, name in _fetch(query)}
        return self._mobiles

    def check(self, rows) -> list:
        """rows: [(row number, {column: cell})] → checked rows (JSON-ready dicts)."""
        parsed = [self._parse(number, values) for number, values in rows]
        self._against_database(parsed)
        return [self._finish(p) for p in parsed]

    # one row, no database
    def _parse(self, number: int, values: dict) -> dict:
        errors = []
        if _CONTROL.search("".join(values.values())):
            values = {k: _CONTROL.sub("", v) if _CONTROL.search(v) else v for k, v in values.items()}

        def fail(column, reason, value=None):
            errors.append([column, str(values.get(column, "") if value is None else value), reason])

        raw_id = values.get("证件号码", "")
        id_type = values.get("证件类型", "")
        identity = {"name": values.get("姓名"), "id_type": ID_TYPE_ALIASES.get(id_type.strip(), id_type),
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
            fail(_FIELD_COLUMN[key], reason)
        record_values = {"mobile": values.get("手机号码")}
        for key in ("work_unit", "tags"):
            if values.get(_RECORD_COLUMNS[key], "").strip():
                record_values[key] = values.get(_RECORD_COLUMNS[key])
        record, record_problems = check_record(record_values, partial=True)
        for key, reason in record_problems.items():
            fail(_FIELD_COLUMN[key], reason)
        union_name = normalize(values.get("所在工会"))
        if not union_name:
            fail("所在工会", f"请填写所在工会（本工会「{self.org.name}」）")
        elif union_name != self.union_name:
            fail("所在工会", f"所在工会须为本工会「{self.org.name}」")
        union_code = compact(values.get("工会编号")).upper()
        shown_code = self.org.union_no or self.org.uscc or ""
        if not union_code:
            fail("工会编号", f"请填写工会编号（本工会为 {shown_code}）" if shown_code else "请填写工会编号")
        elif self.codes and union_code not in self.codes:
            fail("工会编号", f"工会编号须为本工会的工会编号 {shown_code}")
        enterprise = None
        if self.by_code:
            code = compact(values.get(CODE_COLUMN)).upper()
            if lost_digits(values.get(CODE_COLUMN)):
                fail(CODE_COLUMN, lost_digits_message(CODE_COLUMN))
            elif not code:
                fail(CODE_COLUMN, "请填写组织机构代码（本工会覆盖企业的统一社会信用代码）")
            elif code not in self.enterprises:
                fail(CODE_COLUMN, f"组织机构代码「{code}」不是本工会覆盖的企业")
            else:
                enterprise = self.enterprises[code]
        row = {"row": number, "values": values, "errors": errors,
               "fields": fields, "record": record, "enterprise": enterprise, "id_key": None,
               "mobile": None}
        if "id_number" not in problems and "id_type" not in problems and fields.get("id_number"):
            key = (fields["id_type"], fields["id_number"])
            first = self.first_id.setdefault(key, number)
            row["id_key"] = list(key)
            if first != number:
                fail("证件号码", f"与第{first}行证件号码重复", mask(fields["id_number"]))
        if "mobile" not in record_problems:
            first = self.first_mobile.setdefault(record["mobile"], number)
            row["mobile"] = record["mobile"]
            if first != number:
                fail("手机号码", f"手机号码与第{first}行重复（手机号码不要重复）")
        return row

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


def _persons_by_key(keys) -> dict:
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
        for i in range(0, len(numbers), _in_batch()):
            query = (Person.select(Person.id_number, Person.id, Person.name, *_MEMBER_COLUMNS)
                     .join(Membership, pw.JOIN.LEFT_OUTER, on=on)
                     .where((Person.id_type == id_type) & in_values(Person.id_number, numbers[i:i + _in_batch()])))
            for number, pid, name, *member in _fetch(query):
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


def _in_batch() -> int:
    """Values per IN (…): 2,000 (a whole chunk); 500 on an SQLite older than 3.32 (999 variables)."""
    import sqlite3

    from models import is_postgres
    return 2000 if is_postgres() or sqlite3.sqlite_version_info >= (3, 32) else 500


def _fetch(query) -> list:
    """The rows of a select as plain tuples, without peewee's per-row work (text and integer
    columns only: no conversion is needed)."""
    return db.execute_sql(*query.sql()).fetchall()


def _orgs(ids) -> dict:
    return {o.id: o for o in Organization.select().where(Organization.id.in_(list(ids)))} if ids else {}


def validate_rows(org: Organization, rows, by_code: bool = False) -> list:
    """Check rows [(row number, {column: cell})] of one file for `org` (reads only)."""
    return Checker(org, by_code).check(rows)


# --- applying ------------------------------------------------------------------------------------------
def apply(checked: list, org: Organization, params: dict, account: Account | None = None) -> dict:
    """Write the accepted rows in one transaction: {"added", "updated", "unchanged", "pending",
    "people"} — people: {"added": new membership ids, "unchanged": ids of the members whose
    rows changed nothing} (who is behind the result page's counts)."""
    adds = [r for r in checked if not r.get("errors") and r["op"] == "add"]
    updates = [r for r in checked if not r.get("errors") and r["op"] == "update"]
    same = [r["membership_id"] for r in checked
            if not r.get("errors") and r["op"] == "same" and r.get("membership_id")]
    unchanged = sum(1 for r in checked if not r.get("errors") and r["op"] == "same")
    pending = review_required(org)
    stamp = now()
    with db.atomic():
        person_ids = _insert_persons([r for r in adds if "person" in r], stamp)
        numbers = iter(next_member_numbers(len(adds)) if adds and not pending else [])
        category = params.get("category", "")
        detail = params.get("category_detail", "") if category == FLEXIBLE else ""
        chosen = params.get("enterprise") if category == ENTERPRISE else None
        new_rows = []
        for r in adds:
            person = r.get("person_id") or person_ids[(r["person"]["id_type"], r["person"]["id_number"])]
            enterprise = r.get("enterprise") or chosen
            new_rows.append({
                "person": person, "org": org.id, "status": PENDING if pending else NORMAL,
                "member_no": None if pending else next(numbers), "join_date": stamp.date(),
                "approved_at": None if pending else stamp, "created_at": stamp, "updated_at": stamp,
                "mobile": r["record"]["mobile"], "work_unit": r["record"].get("work_unit", ""),
                "tags": r["record"].get("tags", ""),
                "category": ENTERPRISE if r.get("enterprise") else category,
                "category_detail": "" if r.get("enterprise") else detail, "enterprise": enterprise,
            })
        returned = bulk_insert(Membership, new_rows, returning=(Membership.id,))
        if returned is None:  # an SQLite older than 3.35 has no RETURNING: this run's stamp finds them
            added_ids = [i for (i,) in Membership.select(Membership.id).where(
                (Membership.org == org.id) & (Membership.created_at == stamp)).tuples()]
        else:
            added_ids = [i for (i,) in returned]
        for r in updates:
            values = {k: v for k, (_old, v) in r["changes"].items() if k != "enterprise"}
            if "enterprise" in r["changes"]:
                values.update(enterprise=r["changes"]["enterprise"][1], category=ENTERPRISE, category_detail="")
            Membership.update(updated_at=stamp, **values).where(
                (Membership.id == r["membership_id"]) & Membership.status.in_(HELD)).execute()
        if not pending:
            count_new_members(org.id, len(adds), stamp.date())
        _audit_updates(updates, org, account, stamp)
    return {"added": len(adds), "updated": len(updates), "unchanged": unchanged, "pending": pending,
            "people": {"added": sorted(added_ids), "unchanged": sorted(same)}}


def _audit_updates(updates: list, org: Organization, account: Account | None, stamp) -> None:
    """One 操作日志 row per updated member ("批量导入会员", field: old → new), written in bulk."""
    if not updates:
        return
    from models.rules.text import mask_text
    names = _enterprise_names(updates)
    rows = []
    for r in updates:
        detail = {CHANGE_LABELS[k]: [names.get(old, "") if k == "enterprise" else old,
                                     names.get(new, "") if k == "enterprise" else new]
                  for k, (old, new) in r["changes"].items()}
        rows.append({"at": stamp, "account": account.id if account else None,
                     "account_name": account.username if account else "系统", "org": org.id,
                     "org_name": org.name, "object_type": "Membership", "object_id": r["membership_id"],
                     "action": "批量导入会员", "to_state": "", "reason": "",
                     "detail": mask_text(json.dumps(detail, ensure_ascii=False))})
    bulk_insert(AuditLog, rows)


def _insert_persons(rows: list, stamp) -> dict:
    """Insert the new people; {(id_type, id_number): person id}."""
    people = [{**r["person"], "birth_date": date.fromisoformat(r["person"]["birth_date"])
               if r["person"]["birth_date"] else None, "created_at": stamp} for r in rows]
    returned = bulk_insert(Person, people, returning=(Person.id_type, Person.id_number, Person.id))
    if returned is None:  # an SQLite older than 3.35 has no RETURNING: read the ids back
        found = _persons_by_key({(p["id_type"], p["id_number"]) for p in people})
        return {key: pid for key, (pid, _name) in found.items()}
    return {(id_type, number): pid for id_type, number, pid in returned}


def bulk_insert(model, rows: list, size: int = BATCH, returning=()) -> list | None:
    """Insert plain dicts fast — the model's Python defaults filled in, values converted by each
    field. PostgreSQL: COPY (ids taken from the table's sequence first when asked for); SQLite:
    INSERT … VALUES (…), (…) with `size` rows a statement. (peewee's insert_many builds the same
    statement but spends most of a 50,000-row import composing it.) With `returning` fields:
    their values for every inserted row, in no particular order (None where the database
    cannot return them)."""
    if not rows:
        return [] if returning else None
    from models import is_postgres
    if is_postgres():
        if returning and model._meta.primary_key.name not in rows[0]:
            for row, new_id in zip(rows, _next_ids(model, len(rows)), strict=True):
                row[model._meta.primary_key.name] = new_id
        fields, defaults = _insert_fields(model, rows[0])
        _copy(model, fields, defaults, rows)
        return [tuple(row[f.name] for f in returning) for row in rows] if returning else None
    fields, defaults = _insert_fields(model, rows[0])
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    one = "(" + ", ".join([db.param] * len(fields)) + ")"
    tail = ""
    if returning and _sqlite_returning():
        tail = " RETURNING " + ", ".join(f'"{f.column_name}"' for f in returning)
    out = []
    for i in range(0, len(rows), size):
        batch = rows[i:i + size]
        params = [_db_value(f, row[f.name] if f.name in row else defaults[f.name]) for row in batch for f in fields]
        cursor = db.execute_sql(f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
                                + ", ".join([one] * len(batch)) + tail, params)
        if tail:
            out.extend(cursor.fetchall())
    return out if tail else None


def _db_value(field, value):
    """field.db_value(value), skipped for text, integers and NULL (nothing to convert)."""
    return value if value is None or type(value) is str or type(value) is int else field.db_value(value)


def _insert_fields(model, first: dict):
    fields = [f for f in model._meta.sorted_fields if not (f.primary_key and f.name not in first)]
    defaults = {f.name: f.default() if callable(f.default) else f.default for f in fields if f.name not in first}
    return fields, defaults


def _next_ids(model, n: int) -> list:
    """n ids from the table's own sequence (PostgreSQL), so COPY can write them."""
    pk = model._meta.primary_key.column_name
    sequence = db.execute_sql("SELECT pg_get_serial_sequence(%s, %s)", (model._meta.table_name, pk)).fetchone()[0]
    cursor = db.execute_sql("SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, n))
    return [r[0] for r in cursor.fetchall()]


def _copy(model, fields, defaults, rows) -> None:
    """COPY … FROM STDIN (CSV): every value quoted, NULL as an unquoted \\N. Values other than
    text and integers (dates, times, booleans) repeat across an import: converted once each."""
    converted: dict = {}

    def text(field, value):
        if value is None:
            return "\\N"
        if type(value) is str or type(value) is int:
            value = str(value)
            return '"' + (value.replace('"', '""') if '"' in value else value) + '"'
        key = (field.name, value)
        if key not in converted:
            db_value = field.db_value(value)
            if isinstance(db_value, bool):
                db_value = "t" if db_value else "f"
            elif isinstance(db_value, datetime):
                db_value = db_value.isoformat(" ")
            elif isinstance(db_value, date):
                db_value = db_value.isoformat()
            converted[key] = "\\N" if db_value is None else text(field, str(db_value))
        return converted[key]
    fixed = {f.name: text(f, defaults[f.name]) for f in fields if f.name in defaults}
    lines = (",".join([fixed[f.name] if f.name in fixed else text(f, row[f.name]) for f in fields]) + "\n"
             for row in rows)
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    sql = f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')'
    with pw.__exception_wrapper__:  # driver errors as peewee's (IntegrityError …), as execute_sql does
        db.cursor().copy_expert(sql, _Streamed(lines), size=COPY_PIECE)


COPY_PIECE = 256 * 1024  # characters per piece of COPY data


class _Streamed:
    """A file-like view of text lines for copy_expert: each read() formats only the lines of
    the next piece, so PostgreSQL inserts (and indexes) the rows already sent while this
    process formats the rest — instead of waiting for the whole text first."""

    def __init__(self, lines):
        self._lines = lines

    def read(self, size: int = -1) -> str:
        piece, length = [], 0
        for line in self._lines:
            piece.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        return "".join(piece)


def _sqlite_returning() -> bool:
    import sqlite3
    return sqlite3.sqlite_version_info >= (3, 35)


def count_new_members(org_id: int, n: int, day: date) -> None:
    """The dashboard counters for n new 正常 members of one union who joined and were approved
    on `day` (what stats.apply_change does one member at a time)."""
    if not n:
        return
    (OrgMemberCount.insert(org=org_id, members=n)
     .on_conflict(conflict_target=[OrgMemberCount.org],
                  update={OrgMemberCount.members: OrgMemberCount.members + n})
     .execute())
    _bump_day(org_id, day, joined=n, activated=n)


# --- the result ---------------------------------------------------------------------------------------
def error_lines(failed: list, limit: int = SHOWN) -> list:
    """One line per error for the screen: [row, name, masked ID, column, value, reason]."""
    lines = []
    for r in failed:
        for column, value, reason in r["errors"]:
            if len(lines) >= limit:
                return lines
            shown = mask(value) if column == "证件号码" else value
            lines.append([r["row"], r.get("name", ""), mask(r["values"].get("证件号码", "")), column, shown, reason])
    return lines


def error_workbook(failed: list, by_code: bool = False) -> bytes:
    """The rejected rows with the template's columns and 错误原因 — fix and upload it again."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("错误数据")
    header = TEMPLATE_HEADER + ([CODE_COLUMN + "*"] if by_code else []) + [ERROR_COLUMN]
    columns = COLUMNS + ([CODE_COLUMN] if by_code else [])
    for i, _ in enumerate(header):
        letter = chr(ord("A") + i)
        sheet.column_dimensions[letter].width = 20 if i < len(columns) else 60
        if columns[i:i + 1] and columns[i] in ("证件号码", "手机号码", CODE_COLUMN):
            sheet.column_dimensions[letter].number_format = "@"
    bold = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    text = {"证件号码", "手机号码", CODE_COLUMN}
    for r in failed:
        cells = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=error_cell(r["values"].get(column, "")))
            if column in text:
                cell.number_format = "@"
            cells.append(cell)
        cells.append("；".join(f"{column}：{reason}" for column, _value, reason in r["errors"]))
        sheet.append(cells)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _changes_text(changes: dict, names: dict) -> str:
    def show(key, value):
        if key == "enterprise":
            return names.get(value, "") if value else ""
        return value or ""
    return "；".join(f"{CHANGE_LABELS[k]}：{show(k, old) or '（空）'} → {show(k, new) or '（空）'}"
                    for k, (old, new) in changes.items())


def summary_text(total: int, counts: dict, failed: int) -> str:
    text = (f"共{total}行：新增{counts['added']}人，更新{counts['updated']}人，未变化{counts['unchanged']}人，"
            f"未导入{failed}行。")
    if counts["added"] and counts["pending"]:
        text += "新增会员待上级工会审核，会员审核通过后自动生成会员编号。"
    if failed:
        text += "请点击“下载错误数据”，按“错误原因”修改后重新上传该文件。"
    return text


# --- the job -------------------------------------------------------------------------------------------
@job_kind(KIND, "批量导入会员")
def run_import(ctx):
    with bulk_work():
        return _run_import(ctx)


def _run_import(ctx):
    if ctx.checkpoint.get("applied"):  # applied before the worker died: only the result is left
        return ctx.checkpoint["result"]
    params = ctx.params
    account = Account.get_or_none(Account.id == params.get("account"))
    org = Organization.get_by_id(params["org"])
    refusal = import_refusal(org)
    if refusal:
        raise DomainError(refusal, 403)
    by_code = bool(params.get("by_code"))
    path = stored_file("uploads", params["upload"])
    if not path.exists():
        raise DomainError("上传的文件已不存在，请重新上传", 410)
    checker = Checker(org, by_code)
    done = int(ctx.checkpoint.get("chunks", 0))
    checked = []
    for chunk in (JobChunk.select().where((JobChunk.job == ctx.job.id) & (JobChunk.seq < done))
                  .order_by(JobChunk.seq)):
        part = json.loads(chunk.data)
        checker.remember(part)
        checked.extend(part)
    checker.union_mobiles()  # read before the reader starts, while this process would wait anyway
    total, chunks = _check_file(ctx, path.read_bytes(), by_code, checker, done, checked)
    failed = [r for r in checked if r.get("errors")]
    error_file = f"member-import-errors-{ctx.job.id}.xlsx" if failed else None
    if failed:
        stored_file("jobs", error_file).write_bytes(error_workbook(failed, by_code))
    try:
        with db.atomic():
            counts = apply(checked, org, params, account)
            names = _enterprise_names(checked)
            result = {
                "summary": summary_text(total, counts, len(failed)), "rows": total,
                "added": counts["added"], "updated": counts["updated"], "unchanged": counts["unchanged"],
                "failed": len(failed), "pending": counts["pending"],
                "error_file": error_file,
                "error_download_name": ("组织机构代码导入会员错误数据.xlsx" if by_code else "导入会员错误数据.xlsx")
                if failed else None,
                "error_count": sum(len(r["errors"]) for r in failed),
                "error_rows": error_lines(failed),
                "changes": [[r["row"], r["name"], _changes_text(r["changes"], names)]
                            for r in checked if not r.get("errors") and r["op"] == "update"][:SHOWN],
                "people": counts["people"],  # membership ids behind 新增 / 未变化 (the people pages)
            }
            JobChunk.delete().where(JobChunk.job == ctx.job.id).execute()
            AuditLog.record("批量导入会员", ctx.job, account=account, detail={
                "文件": params.get("file_name", ""), "上传会员数据类型": category_label(params),
                "行数": total, "新增": counts["added"], "更新": counts["updated"],
                "未变化": counts["unchanged"], "未导入": len(failed)})
            ctx.save_progress(total, total, checkpoint={"chunks": chunks, "applied": True, "result": result})
    except pw.IntegrityError:
        _reset(ctx)
        raise DomainError("导入期间本工会的会员数据被其他操作修改（如同时新增了相同的会员或手机号码），"
                          "本次未导入任何数据，请重新上传该文件", 409) from None
    except Exception:
        _reset(ctx)  # nothing was applied; a retry checks the file again from the start
        raise
    return result


def _check_file(ctx, data: bytes, by_code: bool, checker: Checker, done: int, checked: list):
    """Check and stage the file's chunks after the first `done` (staged before the job was
    interrupted) as the reader delivers them; (rows, chunks). A file found bad while it is
    read leaves no staged chunks behind (a retry starts from its first row)."""
    from flask import current_app, has_app_context
    in_process = has_app_context() and not current_app.config.get("IMPORT_READER_PROCESS", True)
    _header, stream, hint, close = stream_rows(data, by_code, reader_process=not in_process)
    total = seq = 0
    try:
        for seq, rows in enumerate(stream):
            total += len(rows)
            if seq < done:
                continue
            part = checker.check(rows)
            with db.atomic():
                JobChunk.insert(job=ctx.job.id, seq=seq, data=json.dumps(part, ensure_ascii=False)).execute()
                ctx.save_progress(total, max(total, hint or 0), checkpoint={"chunks": seq + 1})
            checked.extend(part)
    except DomainError:
        _reset(ctx)
        raise
    finally:
        close()
    return total, seq + 1


def _enterprise_names(checked: list) -> dict:
    """{enterprise id: name} of the enterprises named in the changes of updated rows."""
    ids = {v for r in checked if not r.get("errors") and r.get("op") == "update"
           for v in r["changes"].get("enterprise", []) if v}
    if not ids:
        return {}
    return dict(Enterprise.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(ids))).tuples())


def _reset(ctx) -> None:
    with db.atomic():
        JobChunk.delete().where(JobChunk.job == ctx.job.id).execute()
        ctx.save_progress(0, None, checkpoint={})


def submit(account: Account, data: bytes, file_name: str, category: str = "", category_detail: str = "",
           enterprise: Enterprise | None = None, by_code: bool = False):
    """Store the upload and queue the job (the view has checked the choices)."""
    import secrets

    from models.jobs import Job
    if category not in CATEGORIES and not by_code:
        raise DomainError("请选择上传会员数据类型", 422)
    if category == FLEXIBLE and category_detail not in FLEXIBLE_KINDS:
        raise DomainError("请选择灵活就业类别", 422)
    name = f"member-import-{secrets.token_hex(8)}.bin"
    stored_file("uploads", name).write_bytes(data)
    params = {"upload": name, "account": account.id, "org": account.org_id, "file_name": file_name[:100],
              "by_code": by_code, "category": ENTERPRISE if by_code else category,
              "category_detail": category_detail if category == FLEXIBLE else "",
              "enterprise": enterprise.id if enterprise else None,
              "enterprise_name": enterprise.name if enterprise else ""}
    return Job.submit(KIND, params, account=account)
