"""Member rows and files for import tests (批量导入, 会员比对 …).

    rows = member_rows(2000, org=union)            # the 9 template columns, valid and unique
    rows = member_rows(5, start=100, 会员标签="农民工")
    data, name = member_file(rows, "xlsx")           # any of tablefiles.FORMATS

Row i (start + index) always gets the same person: a valid 18-digit resident ID number (born
1966 or later, region 310115 — not one the factories use), a unique mobile 137xxxxxxxx, name
"导入会员{i}". Overrides: a column name → a value, or a callable f(i) → value; `org=` fills
所在工会 and 工会编号 with that union's name and 工会编号.
"""

from datetime import date, timedelta

from models.rules.idnumber import check_digit
from tests.factories import tablefiles

COLUMNS = ["姓名", "证件类型", "证件号码", "手机号码", "性别", "所在工会", "工会编号", "工作单位/服务平台", "会员标签"]
# How member_file() writes the template's columns (seed 000); other keys are written as they are.
HEADER = {"姓名": "姓名*", "证件类型": "证件类型(身份证)*", "证件号码": "证件号码*", "手机号码": "手机号码*",
          "性别": "性别*", "所在工会": "所在工会*", "工会编号": "工会编号*"}
AREA = "310115"
BIRTH_START = date(1966, 1, 1)


def id_number(i: int) -> str:
    """The i-th generated resident ID number (unique for i < 3,650,000)."""
    birth = BIRTH_START + timedelta(days=i // 1000)
    body = f"{AREA}{birth:%Y%m%d}{i % 1000:03d}"
    return body + check_digit(body)


def mobile(i: int) -> str:
    return f"137{i:08d}"


def gender(i: int) -> str:
    return "男" if (i % 1000) % 2 else "女"


def member_rows(n: int, start: int = 0, org=None, **overrides) -> list[dict]:
    union = {"所在工会": org.name, "工会编号": org.union_no or org.uscc or ""} if org is not None else {
        "所在工会": "", "工会编号": ""}
    rows = []
    for i in range(start, start + n):
        row = {"姓名": f"导入会员{i}", "证件类型": "身份证", "证件号码": id_number(i), "手机号码": mobile(i),
               "性别": gender(i), **union, "工作单位/服务平台": "上海测试科技有限公司第一分公司",
               "会员标签": "农民工" if i % 3 == 0 else ""}
        for key, value in overrides.items():
            row[key] = value(i) if callable(value) else value
        rows.append(row)
    return rows


def member_file(rows: list[dict], fmt: str = "xlsx") -> tuple[bytes, str]:
    """(bytes, file name) of the rows in one of tablefiles.FORMATS, template header first."""
    keys = list(rows[0]) if rows else list(COLUMNS)
    table = [[HEADER.get(k, k) for k in keys]] + [[row.get(k, "") for k in keys] for row in rows]
    return tablefiles.write(table, fmt)
