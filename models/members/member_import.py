"""批量导入 / 组织机构代码导入会员: members of one grassroots union from an Excel/CSV file.

The template (seed 000) has nine columns; 组织机构代码导入会员 adds a tenth, the 统一社会信用代码 of
one of the union's covered enterprises. The background job (spec 05):

1. reads the file (`stream_table`: xlsx / xls / csv by content, zip-bomb guard, no formulas;
   an xlsx / xls parsed by python-calamine);
2. checks the rows in chunks of CHUNK rows; each chunk's checked rows go to the staging table
   (JobChunk) in the same transaction as the job's checkpoint, so a killed job resumes after its
   last chunk (the file is read again; the in-file duplicate maps are rebuilt from the staged
   chunks);
3. applies every accepted row in ONE transaction — new people and memberships by bulk inserts,
   changed record fields of this union's members, the dashboard counters, the audit row and the
   checkpoint "applied" — so a crash leaves nothing and a resumed job never applies twice. On
   PostgreSQL that transaction is a second connection's, written by a thread chunk by chunk while
   this one reads and checks the rest (the server inserts and indexes meanwhile); SQLite, one
   writer at a time, writes it after the last chunk (member_import_apply.Background / Inline);
4. returns the result: 新增 / 更新 / 未变化 / 未导入, the rejected rows with row number, column,
   value and reason, and an Excel of the rejected rows that can be fixed and uploaded again.

Identity fields never change by import; a person in another union is not moved (the row says
where they are and points to 转入); a rejected row changes nothing.

The columns and the row checks are models/members/member_import_check.py, the writes
member_import_apply.py; the upload, the result and the error file follow models/io/uploads.py.
"""


import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.io import uploads
from models.io.error_file import FailedRow, error_workbook
from models.io.excel import safe_cell
from models.io.templates import header_row, notes_sheet, workbook_bytes
from models.job_leases import LeaseLost
from models.jobs import staged_import
from models.members.member_import_apply import (
    CHANGE_LABELS,
    count_new_members,
    enterprise_names,
    packed,
    unpacked,
    write,
    writer,
)
from models.members.member_import_check import (
    BIRTH_COLUMN,
    CHUNK,
    CODE_COLUMN,
    COLUMNS,
    MAX_ROWS,
    NUMERIC_ID_MESSAGE,
    REQUIRED,
    TEMPLATE_HEADER,
    Checker,
    enterprises_of,
    people_query,
    stream_rows,
    validate_rows,
)
from models.members.people import CATEGORIES, ENTERPRISE, FLEXIBLE, FLEXIBLE_KINDS, ID_TYPES, MEMBER_TAGS
from models.orgs.accounts import Account
from models.orgs.organizations import CLOSED, Enterprise, Organization
from models.rules.text import mask

KIND = "member_import"
PROMISED_ROWS = 50_000
SHOWN = uploads.SHOWN  # rejected rows (and changes) listed on the result page; all of them in the file
TEXT_COLUMNS = ("证件号码", "手机号码", CODE_COLUMN)  # kept as text in the template and the error file
# The names other modules and the tests know this import by (its columns, checks and writes).
__all__ = ["KIND", "COLUMNS", "REQUIRED", "TEMPLATE_HEADER", "CODE_COLUMN", "BIRTH_COLUMN", "CHUNK", "MAX_ROWS",
           "NUMERIC_ID_MESSAGE", "CHANGE_LABELS", "Checker", "apply", "count_new_members", "enterprises_of",
           "people_query", "stream_rows", "validate_rows", "import_refusal", "category_label", "explanation",
           "template_workbook", "template_book", "error_lines", "error_workbook_of", "summary_text", "run_import",
           "submit"]


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
    return workbook_bytes(template_book(org, by_code))


def template_book(org: Organization, by_code: bool = False):
    """The template as an openpyxl Workbook (同步会员's 下载比对结果 fills it in without writing
    and parsing it again)."""
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = Workbook()
    sheet = wb.active
    sheet.title = "会员信息"
    header = TEMPLATE_HEADER + ([CODE_COLUMN + "*"] if by_code else [])
    # 证件号码, 手机号码 (and the code) as text
    header_row(sheet, header, width=20, text_columns=["C", "D"] + (["J"] if by_code else []))
    last = PROMISED_ROWS + 1
    lists = [("B", ID_TYPES, True), ("E", ["男", "女"], True),
             ("I", MEMBER_TAGS, False)]  # several tags may be typed, so no error box for I
    for letter, choices, strict in lists:
        rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                              showErrorMessage=strict)
        if strict:
            rule.error = "请从下拉列表中选择"
        sheet.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{last}")
    notes_sheet(wb, explanation(org, by_code), widths=(20, 100), bold=True)
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
    return wb


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



def error_workbook_of(failed: list, by_code: bool = False) -> bytes:
    """下载错误数据: the rejected rows in the template's columns, then 错误行号 and 错误原因 (each
    "column：reason") — fix them and upload this same file again."""
    columns = COLUMNS + ([CODE_COLUMN] if by_code else [])
    header = TEMPLATE_HEADER + ([CODE_COLUMN + "*"] if by_code else [])
    return error_workbook(columns, [FailedRow(r["row"], r["values"], [f"{column}：{reason}" for column, _v, reason
                                                                      in r["errors"]]) for r in failed],
                          header=header, text_columns=TEXT_COLUMNS)


def apply(checked: list, org: Organization, params: dict, account: Account | None = None) -> dict:
    """Write the accepted rows and count the new members, in one transaction (see
    member_import_apply.write() for the result)."""
    with db.atomic():
        counts, day = write(checked, org, params, account)
        if not counts["pending"]:
            count_new_members(org.id, counts["added"], day)
    return counts


# --- the job -------------------------------------------------------------------------------------------
@staged_import(KIND, "批量导入会员")
def run_import(ctx):
    params = ctx.params
    account = Account.get_or_none(Account.id == params.get("account"))
    org = Organization.get_by_id(params["org"])
    refusal = import_refusal(org)
    if refusal:
        raise DomainError(refusal, 403)
    by_code = bool(params.get("by_code"))
    data = uploads.upload_bytes(params, gone=True)
    checker = Checker(org, by_code)
    done = int(ctx.checkpoint.get("chunks", 0))
    checked = ctx.staged(done, checker.remember, unpacked)
    checker.union_mobiles()
    # The writes go on while the file is read and checked (PostgreSQL: a second connection's
    # transaction, committed with the checkpoint "applied" — member_import_apply.Background).
    out = writer(org, params)
    applying = False
    try:
        out.send(checked)  # the rows staged by an earlier run
        total, chunks = _check_file(ctx, data, by_code, checker, done, checked, out.send)
        failed = [r for r in checked if r.get("errors")]
        errors = {}
        if failed:
            name = "组织机构代码导入会员错误数据.xlsx" if by_code else "导入会员错误数据.xlsx"
            errors = uploads.keep_error_file(ctx, error_workbook_of(failed, by_code), "member-import", name)

        def last():
            counts, day = out.adder.finish(checked, account)
            if not counts["pending"]:
                count_new_members(org.id, counts["added"], day)
            names = enterprise_names(checked)
            result = {
                "summary": summary_text(total, counts, len(failed)), "rows": total,
                "added": counts["added"], "updated": counts["updated"], "unchanged": counts["unchanged"],
                "failed": len(failed), "pending": counts["pending"],
                "error_file": errors.get("error_file"), "error_download_name": errors.get("error_download_name"),
                "error_count": sum(len(r["errors"]) for r in failed),
                "error_rows": error_lines(failed),
                "changes": [[r["row"], r["name"], _changes_text(r["changes"], names)]
                            for r in checked if not r.get("errors") and r["op"] == "update"][:SHOWN],
                "people": counts["people"],  # membership ids behind 新增 / 未变化 (the people pages)
            }
            AuditLog.record("批量导入会员", ctx.job, account=account, detail={
                "文件": params.get("file_name", ""), "上传会员数据类型": category_label(params),
                "行数": total, "新增": counts["added"], "更新": counts["updated"],
                "未变化": counts["unchanged"], "未导入": len(failed)})
            ctx.applied(total, chunks, result)
            return result
        applying = True
        return out.finish(checked, last)
    except LeaseLost:
        out.abort()  # another worker has the job now: its staged chunks are its own
        raise
    except (pw.IntegrityError, pw.OperationalError) as exc:
        out.abort()
        if not _clash(exc):
            if applying or out.failed:
                ctx.reset_staged()
            raise
        ctx.reset_staged()
        raise DomainError("导入期间本工会的会员数据被其他操作修改（如同时新增了相同的会员或手机号码），"
                          "本次未导入任何数据，请重新上传该文件", 409) from None
    except BaseException:
        out.abort()
        if applying or out.failed:  # nothing was applied; a retry checks the file again from the start
            ctx.reset_staged()
        raise  # otherwise (the process stopping while it checks) the staged chunks stay for the resumed run


def _clash(exc) -> bool:
    """A write that met another's: a constraint, or (PostgreSQL) a deadlock with another import of the
    same people, which the server broke by rolling this one back."""
    return isinstance(exc, pw.IntegrityError) or getattr(getattr(exc, "orig", None), "pgcode", None) == "40P01"


def _check_file(ctx, data: bytes, by_code: bool, checker: Checker, done: int, checked: list, send):
    """Check and stage the file's chunks after the first `done` (staged before the job was
    interrupted) as they are read, each handed to `send` once staged; (rows, chunks)."""
    _header, stream, hint, close = stream_rows(data, by_code, max_rows=MAX_ROWS)
    total = seq = 0
    try:
        for seq, rows in enumerate(stream):
            total += len(rows)
            if seq < done:
                continue
            part = checker.check(rows)
            ctx.stage(seq, part, total, expected_rows(total, hint), staged=packed(part))
            checked.extend(part)
            send(part)
        ctx.save_progress(total, total)  # the whole file is read: now the total is known
    except DomainError:  # a file found bad while it is read leaves no staged chunks behind
        ctx.reset_staged()
        raise
    finally:
        close()
    return total, seq + 1


def expected_rows(read: int, hint: int | None) -> int:
    """The progress total while a file is read: the rows the sheet declares, while it has no
    more than that; 0 (not known — the page shows the rows read, no percentage) for a sheet
    without a stored dimension or with a wrong one."""
    return hint if hint is not None and hint >= read else 0




def submit(account: Account, data: bytes, file_name: str, category: str = "", category_detail: str = "",
           enterprise: Enterprise | None = None, by_code: bool = False):
    """Store the upload and queue the job (the view has checked the choices)."""
    if category not in CATEGORIES and not by_code:
        raise DomainError("请选择上传会员数据类型", 422)
    if category == FLEXIBLE and category_detail not in FLEXIBLE_KINDS:
        raise DomainError("请选择灵活就业类别", 422)
    params = {"org": account.org_id, "by_code": by_code, "category": ENTERPRISE if by_code else category,
              "category_detail": category_detail if category == FLEXIBLE else "",
              "enterprise": enterprise.id if enterprise else None,
              "enterprise_name": enterprise.name if enterprise else ""}
    return uploads.submit(KIND, account, data, file_name, **params)
