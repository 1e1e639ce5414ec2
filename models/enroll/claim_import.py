"""给付信息导入 (spec 60 "Centre", issue 8): the centre's file of claims as a background job (kind
`claim_import`). Every row is checked first (models/enroll/claims.check, or column by column for the
usual file: models/enroll/column_imports.claims); if any row is wrong nothing is recorded and the
whole file comes back with a 错误原因 column to fix and upload again; a row recorded before is
counted (已登记过), not recorded twice — also when another upload of the same claims runs at the same
moment: the unique index refuses the second write, and that import checks its file again.
"""

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError, today
from models.enroll import column_imports
from models.enroll.claims import (
    CLAIM_TYPES,
    COLUMNS,
    KIND,
    MAX_AMOUNT,
    MAX_ROWS,
    REQUIRED,
    Claim,
    check,
    insert_checked,
)
from models.io import uploads
from models.io.templates import notes_sheet, template_sheet, workbook_bytes
from models.jobs import Job, bulk_work, job_kind
from models.orgs.accounts import Account
from models.rules.fees import yuan
from models.rules.text import mask_text


def template_workbook() -> bytes:
    from openpyxl.worksheet.datavalidation import DataValidation
    book, sheet = template_sheet("给付信息导入", [("*" + c if c in REQUIRED else c) for c in COLUMNS], 22,
                                 all_text=True)
    kinds = DataValidation(type="list", formula1='"' + ",".join(CLAIM_TYPES) + '"', allow_blank=False)
    sheet.add_data_validation(kinds)
    kinds.add("E2:E1001")
    notes_sheet(book, (["证件号码", "必填，文本格式；须在该保障年度有有效参保"],
                       ["姓名", "必填，与该证件号码登记的姓名一致"], ["保障年度", "必填，四位数字，如 2027"],
                       ["给付日期", "必填，年-月-日，须在该人员该年度的保障期间内，且不晚于今天"],
                       ["给付类型", "必填：" + "、".join(CLAIM_TYPES)],
                       ["给付金额(元)", "必填，元，最多两位小数，如 10000 或 360.50"], ["备注", "选填，不超过200个字"]),
                widths=(16, 70))
    return workbook_bytes(book)


def submit_import(account: Account, data: bytes, file_name: str) -> Job:
    return uploads.submit(KIND, account, data, file_name, REQUIRED, MAX_ROWS)  # a wrong file is refused at once


@job_kind(KIND, "给付信息导入")
def run_import(ctx):
    with bulk_work():  # tens of thousands of rows: no cyclic GC rescans (models/jobs.py)
        return _run_import(ctx)


CHANGED_MEANWHILE = "导入期间相同的给付记录或人员信息被其他操作修改，本次未导入任何数据，请重新上传该文件"


def _run_import(ctx):
    """The file checked and recorded; checked again once when its write was refused because another
    upload recorded some of the same claims since the check (the unique index) — those rows are
    then 已登记过 — or a person or enrollment it names changed meanwhile."""
    for _attempt in range(2):
        result = _import_once(ctx)
        if result is not None:
            return result
    raise DomainError(CHANGED_MEANWHILE, 409)


def _import_once(ctx):
    """One check and write of the file: its result, or None when the write was refused (nothing written)."""
    account = Account.get_by_id(ctx.params["account"])
    table = uploads.read_columns(ctx, REQUIRED, MAX_ROWS)
    header, rows, plan, already, failed = table.header, (), None, 0, []
    fast = column_imports.claims(table, today(), Claim, CLAIM_TYPES, MAX_AMOUNT)  # the usual file, by columns
    if fast is None:
        rows = table.rows
        plan, checked, already = check(rows)
        failed = uploads.failed_rows(rows, checked)
    if failed:
        # Every row (nothing was recorded): fix the marked ones and upload this file again.
        every_row = [uploads.FailedRow(n, v, list(r.values())) for (n, _), (v, r) in zip(rows, checked, strict=True)]
        result = uploads.result(
            ctx, len(rows), f"共{len(rows)}行，其中{len(failed)}行有错误，全部未导入。请下载错误文件，"
                            "按“错误原因”修改标出的行后重新上传该文件。", len(failed), already=already, imported=0,
            errors=uploads.shown(failed, id_number=lambda v: mask_text(v.get("证件号码", ""))),
            error_file=uploads.error_file_of(header, every_row, sheet_title="给付信息导入"), prefix="claim-import",
            download_name="给付信息导入错误数据.xlsx")
        outcome = "未导入"
    else:
        try:
            with db.atomic():  # all or nothing
                column_imports.insert_claims(Claim, fast, account) if fast is not None \
                    else insert_checked(plan, account)
        except pw.IntegrityError:  # nothing written: _run_import checks the file again
            return None
        total, count = (sum(fast["amount"]), len(table)) if fast is not None else \
            (sum(r["amount"] for r in plan), len(plan))
        result = uploads.result(ctx, len(table), f"共{len(table)}行，登记给付{count}笔，合计{yuan(total)}元"
                                + (f"，{already}行已登记过" if already else "") + "。", 0, already=already,
                                imported=count)
        outcome = "成功"
    ctx.save_progress(len(table), len(table))
    AuditLog.record("给付信息导入", ctx.job, account=account,
                    detail={"文件": ctx.params.get("file_name", ""), "行数": len(table), "登记": result["imported"],
                            "已登记过": already, "错误行数": len(failed), "结果": outcome})
    return result
