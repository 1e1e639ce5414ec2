"""Outgoing e-mail: SMTP when SMTP_HOST is configured (SMTP_PORT, SMTP_USER, SMTP_PASSWORD,
SMTP_STARTTLS, MAIL_FROM), otherwise — in development and tests — each message is written as an
.eml file under instance/outbox/ (OUTBOX_DIR), where an operator can open it.

集中参保缴费明细 (spec 05, spec 60): sent to the district batch's handler when the centre accepts
the batch, with the batch's rows as an Excel attachment.
"""

import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from models.base import now, yuan


def outbox_dir() -> Path:
    from flask import current_app, has_app_context
    if os.environ.get("OUTBOX_DIR"):
        path = Path(os.environ["OUTBOX_DIR"])
    elif has_app_context():
        path = Path(current_app.instance_path) / "outbox"
    else:
        path = Path("instance") / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def send(to: str, subject: str, body: str, attachments: list | None = None) -> str:
    """Send (or write to the outbox); returns where it went."""
    msg = EmailMessage()
    msg["From"] = os.environ.get("MAIL_FROM", "noreply@localhost")
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    for name, data, mime in attachments or []:
        main, sub = mime.split("/", 1)
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    host = os.environ.get("SMTP_HOST")
    if host:
        with smtplib.SMTP(host, int(os.environ.get("SMTP_PORT", "25")), timeout=30) as smtp:
            if os.environ.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes"):
                smtp.starttls()
            if os.environ.get("SMTP_USER"):
                smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
            smtp.send_message(msg)
        return f"smtp://{host}"
    path = outbox_dir() / f"{now():%Y%m%d-%H%M%S}-{os.urandom(4).hex()}.eml"
    path.write_bytes(bytes(msg))
    return str(path)


def excel_yuan(fen: int):
    """An amount for an Excel cell: a number (yuan), exact for whole yuan."""
    return fen // 100 if fen % 100 == 0 else fen / 100


def payment_detail_xlsx(batch) -> bytes:
    """集中参保缴费明细: one row per grassroots submission of the batch, with the totals."""
    import io

    from openpyxl import Workbook

    from models.io.excel import safe_cell
    from models.review.enroll_review import Submission, batch_submissions
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("缴费明细")
    ws.append(["批次编号", "单位名称", "参保通道", "参保类型", "保障类型", "参保人数", "保障费用(元)",
               "市总统一划拨(元)", "区局/各级工会缴费(元)", "基层单位缴费(元)"])
    for s in batch_submissions(batch).order_by(Submission.id):
        ws.append([batch.number, safe_cell(s.org.name), s.channel, s.mode, s.type.name, s.count, excel_yuan(s.fee),
                   excel_yuan(s.city), excel_yuan(s.district), excel_yuan(s.grassroots)])
    ws.append(["合计", "", "", "", "", batch.count, excel_yuan(batch.fee), excel_yuan(batch.city),
               excel_yuan(batch.district_part), excel_yuan(batch.grassroots_part)])
    if batch.credit_used:
        ws.append(["抵扣退回金额", "", "", "", "", "", "", "", excel_yuan(batch.credit_used), ""])
    ws.append(["应缴金额", "", "", "", "", "", "", "", excel_yuan(batch.due), ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def send_payment_detail(batch) -> str:
    year = batch.year
    body = (f"{batch.handler_name}：\n\n贵单位提交的参保批次 {batch.number}（{year.year}年度{batch.kind}，"
            f"{batch.count}人）已由职保中心确认。\n保障费用：{yuan(batch.fee)}元；市总统一划拨：{yuan(batch.city)}元；"
            f"区局/各级工会缴费：{yuan(batch.district_part)}元；基层单位缴费：{yuan(batch.grassroots_part)}元。\n"
            + (f"已抵扣退回金额：{yuan(batch.credit_used)}元。\n" if batch.credit_used else "")
            + f"应缴金额：{yuan(batch.due)}元。\n\n请按时划款至：\n户名：{year.account_name}\n帐号：{year.account_no}\n"
            f"开户行：{year.bank}\n并在“参保批次管理”-“缴费凭证管理”上传缴费凭证。\n\n{year.district_signature}\n")
    return send(batch.handler_email, f"集中参保缴费明细 {batch.number}", body,
                [(f"集中参保缴费明细{batch.number}.xlsx", payment_detail_xlsx(batch),
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")])
