"""The checks of one member row of an upload that need no database (批量导入会员, 组织机构代码导入会员,
同步会员, 从其他工会转入): invisible characters, the ID-type spellings, the 所在工会 / 工会编号 of the
importing union, the enterprise's code, and the 姓名 + 证件号码 of a roster line. Each answers
the value and the reason, in Chinese, for the column it names.

The identity and record fields of the member form (姓名, 证件类型, 证件号码, 性别, 出生日期, 手机号码,
工作单位, 会员标签) are checked by members.check_identity() / check_record(), for the form and
the imports alike.
"""

import re
from dataclasses import dataclass
from datetime import date

from models.io.tables import lost_digits, lost_digits_message
from models.rules.idnumber import IdError, check_other_id, check_resident_id, normalize_id
from models.rules.text import compact, normalize

RESIDENT_ID = "身份证"  # members.ID_CARD
ID_TYPE_ALIASES = {"居民身份证": RESIDENT_ID, "二代身份证": RESIDENT_ID}
NUMERIC_ID_MESSAGE = lost_digits_message("证件号码")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # invisible; PostgreSQL refuses NUL
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff·])\s+(?=[\u3400-\u9fff·])")  # 张 三 → 张三
_RESIDENT_LIKE = re.compile(r"[0-9]{14,17}[0-9X]")  # 15–18 characters of digits (last may be X)
# A name and a 身份证 number as most rows hold them (nothing for normalize() / normalize_id() to
# change): no whitespace, no full-width letter or digit; 18 characters, the last 0-9 or X.
PLAIN_NAME = re.compile(r"[^\s\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]{1,50}")
PLAIN_ID = re.compile(r"[1-9][0-9]{16}[0-9X]")
PLAIN_MOBILE = re.compile(r"1[3-9][0-9]{9}")  # a mobile number as stored: nothing to drop


def without_controls(values: dict) -> dict:
    """The row's cells without invisible control characters (a NUL would fail PostgreSQL)."""
    if _CONTROL.search("".join(values.values())):
        return {k: _CONTROL.sub("", v) if _CONTROL.search(v) else v for k, v in values.items()}
    return values


def any_controls(texts) -> bool:
    """Does any of the cells `texts` hold an invisible control character (one search for many)?"""
    return _CONTROL.search("\n".join(texts)) is not None


def id_type(text: str) -> str:
    """证件类型 as the member form knows it (居民身份证 / 二代身份证 are 身份证)."""
    return ID_TYPE_ALIASES.get(text.strip(), text)


def union_problems(values: dict, union_name: str, codes: set, shown_code: str) -> list:
    """[(column, reason)] of 所在工会 and 工会编号: the importing union's own name (`union_name`,
    normalised) and one of its codes (`codes`: 工会编号 / 统一社会信用代码, upper case; empty:
    any code is accepted); `shown_code` is the code the reasons name."""
    problems = []
    name = normalize(values.get("所在工会"))
    if not name:
        problems.append(("所在工会", f"请填写所在工会（本工会「{union_name}」）"))
    elif name != normalize(union_name):
        problems.append(("所在工会", f"所在工会须为本工会「{union_name}」"))
    code = compact(values.get("工会编号")).upper()
    if not code:
        problems.append(("工会编号", f"请填写工会编号（本工会为 {shown_code}）" if shown_code else "请填写工会编号"))
    elif codes and code not in codes:
        problems.append(("工会编号", f"工会编号须为本工会的工会编号 {shown_code}"))
    return problems


def enterprise_code(raw, enterprises: dict, column: str):
    """(the enterprise id, None) for the 统一社会信用代码 of one of `enterprises` ({code: id}), or
    (None, the reason)."""
    code = compact(raw).upper()
    if lost_digits(raw):
        return None, lost_digits_message(column)
    if not code:
        return None, "请填写组织机构代码（本工会覆盖企业的统一社会信用代码）"
    if code not in enterprises:
        return None, f"组织机构代码「{code}」不是本工会覆盖的企业"
    return enterprises[code], None


@dataclass
class RosterLine:
    """姓名 + 证件号码 of a roster upload (同步会员, 从其他工会转入), checked without the database."""
    name: str
    id_number: str = ""  # normalised
    resident: bool = False  # a valid 身份证 number: look it up as 身份证 only
    gender: str = ""  # from a 身份证 number
    error: str = ""


def roster_line(name, raw_id, on: date) -> RosterLine:
    """The name (张 三 → 张三) and ID number of a roster row; `error` says what is wrong."""
    if type(name) is str and type(raw_id) is str and PLAIN_NAME.fullmatch(name) and PLAIN_ID.fullmatch(raw_id):  # noqa: E721
        try:  # the common row: nothing to normalise, the number checked as it is
            rid = check_resident_id(raw_id, on)
        except IdError:
            pass  # explained below
        else:
            return RosterLine(name=name, id_number=rid.number, resident=True, gender=rid.gender)
    return roster_line_checked(name, raw_id, on)


def roster_line_checked(name, raw_id, on: date) -> RosterLine:
    """roster_line() by the general checks (what its shortcut for plain rows must agree with)."""
    line = RosterLine(name=_CJK_GAP.sub("", normalize(name)))
    if not line.name:
        line.error = "请填写姓名"
        return line
    if lost_digits(raw_id):
        line.error = NUMERIC_ID_MESSAGE
        return line
    number = normalize_id(raw_id)
    try:
        if _RESIDENT_LIKE.fullmatch(number):
            rid = check_resident_id(number, on)
            line.id_number, line.resident, line.gender = rid.number, True, rid.gender
        else:
            line.id_number = check_other_id(number)
    except IdError as exc:
        line.error = exc.message
    return line
