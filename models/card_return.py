"""开卡回盘导入: the bank's return file (证件号码, 卡号, 开卡日期) as a background job.

Every row is checked against the card batches in the importer's scope (the centre: all; a
district: its subtree): the person must wait for a card in a batch already sent to the bank, the
card number must pass the Luhn check and be new, 开卡日期 a real date not after today. Rows that
pass are applied in one transaction (cards, items, 已办会员卡, batches 已开卡); rows that fail are
listed with row, column value and reason and come back as an error file to fix and upload again.
A row whose card is already recorded (the same file uploaded twice) changes nothing.
"""

from models import cards
from models.accounts import Account
from models.audit import AuditLog
from models.io.tables import error_workbook, read_table, records
from models.jobs import Job, job_kind
from models.rules.text import mask_text
from models.storage import stored_file

MAX_ROWS = 50_000
SHOWN = 200  # rejected rows listed on the result page (all of them are in the error file)


def submit(account: Account, data: bytes, file_name: str) -> Job:
    """Store the upload (after a first read, so a wrong file is refused at once) and queue it."""
    import secrets
    read_table(data, cards.RETURN_COLUMNS, max_rows=MAX_ROWS)
    name = f"card-return-{secrets.token_hex(8)}.bin"
    stored_file("uploads", name).write_bytes(data)
    return Job.submit("card_return", {"account": account.id, "upload": name, "file_name": file_name[:100]},
                      account=account)


@job_kind("card_return", "开卡回盘导入")
def run(ctx):
    account = Account.get_by_id(ctx.params["account"])
    data = stored_file("uploads", ctx.params["upload"]).read_bytes()
    table = read_table(data, cards.RETURN_COLUMNS, max_rows=MAX_ROWS)
    rows = list(records(table))
    ctx.save_progress(0, len(rows))
    plan, checked, already = cards.check_return_rows(rows, account)
    failed = [(number, values, reasons)
              for (number, _), (values, reasons) in zip(rows, checked, strict=True) if reasons]
    applied = cards.apply_return(plan, account) if plan else 0
    ctx.save_progress(len(rows), len(rows))
    result = {"rows": len(rows), "imported": applied, "already": already, "failed": len(failed),
              "errors": [{"row": n, "id_number": mask_text(v.get("证件号码", "")),
                          "card_no": mask_text(v.get("卡号", "")), "reason": "；".join(r)}
                         for n, v, r in failed[:SHOWN]]}
    if failed:
        name = f"card-return-errors-{ctx.job.id}.xlsx"
        stored_file("jobs", name).write_bytes(error_workbook(table.header, [(v, r) for _, v, r in failed]))
        result.update(error_file=name, error_download_name="开卡回盘错误数据.xlsx")
    parts = [f"共{len(rows)}行，开卡{applied}人"]
    if already:
        parts.append(f"{already}行已导入过（未重复处理）")
    if failed:
        parts.append(f"{len(failed)}行有错误未导入，请下载错误文件修改后重新上传")
    result["summary"] = "，".join(parts) + "。"
    AuditLog.record("开卡回盘导入", ctx.job, account=account,
                    detail={"文件": ctx.params.get("file_name", ""), "行数": len(rows), "开卡": applied,
                            "已导入过": already, "错误行数": len(failed)})
    return result
