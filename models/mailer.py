"""Outgoing e-mail: SMTP when SMTP_HOST is configured (SMTP_PORT, SMTP_USER, SMTP_PASSWORD,
SMTP_STARTTLS, MAIL_FROM), otherwise — in development and tests — each message is written as an
.eml file under instance/outbox/ (OUTBOX_DIR), where an operator can open it.

The mailer knows no area: the caller passes the address, subject, body and attachments (the
集中参保缴费明细 of an accepted batch is composed in models/review/batches.py).
"""

import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from models.base import now


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

