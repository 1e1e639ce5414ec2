"""短信验证码 (获取验证码): one sender for every screen that asks for a code sent to a mobile phone
(企业注册, 参保编码申请, 经办人填报 …).

- `send_code(phone, purpose, ip)`: a random 6-digit code, stored only as an HMAC (the app's secret
  key), valid for CODE_MINUTES, throttled — one per phone and purpose every RESEND_SECONDS, at most
  PHONE_PER_HOUR per phone and IP_PER_HOUR per IP in an hour ("发送过于频繁，请X秒后再试").
- `check(phone, purpose, code)` → the matching row, or a Chinese refusal (验证码错误 — counted; after
  MAX_TRIES wrong ones the code is spent; 验证码已过期，请重新获取); `consume(row)` spends it inside
  the caller's transaction (single use: a compare-and-set, so two submissions of one code leave one);
  `verify` = both at once.
- Delivery: with SMS_GATEWAY_URL set, an HTTP POST (JSON) to the gateway (`HttpGateway`); without
  it (development, tests) the message is written to the outbox (models/mailer.outbox_dir, one
  sms-*.txt file per message) and the log shows the masked phone and the code.
"""

import hashlib
import hmac
import json
import logging
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import peewee as pw
from flask import current_app, has_app_context

from models import db, is_postgres
from models.base import BaseModel, DomainError, now
from models.mailer import outbox_dir
from models.rules.idnumber import IdError, check_mobile

log = logging.getLogger(__name__)

CODE_MINUTES = 5
RESEND_SECONDS = 60
PHONE_PER_HOUR = 5
IP_PER_HOUR = 20
MAX_TRIES = 5
# What each screen asks the code for (the purpose is part of the code: one screen's code opens no other).
PURPOSES = {"register": "企业注册", "aid_code": "参保编码申请", "handler": "经办人填报"}
WRONG = "验证码错误"
EXPIRED = "验证码已过期，请重新获取"
MISSING = "请先点击【获取验证码】，并填写短信中的6位验证码"
SPENT = "验证码已使用，请重新获取"
TOO_MANY_TRIES = "验证码错误次数过多，请重新获取"
SEND_FAILED = "短信发送失败，请稍后再试"


class SmsCode(BaseModel):
    """One code sent: the phone, what for, its HMAC, the sender's IP, when it expires, wrong tries."""

    scope_field = None
    phone = pw.CharField(max_length=20)
    purpose = pw.CharField(max_length=20)
    code_hash = pw.CharField(max_length=64)
    ip = pw.CharField(max_length=45, index=True)
    sent_at = pw.DateTimeField(default=now, index=True)
    expires_at = pw.DateTimeField()
    tries = pw.IntegerField(default=0)
    used_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("phone", "purpose", "sent_at"), False),)


@dataclass
class Sent:
    phone: str
    masked: str
    minutes: int
    where: str  # the gateway's URL or the outbox file


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "****"


def _setting(name: str, default: str = "") -> str:
    if has_app_context() and current_app.config.get(name) is not None:
        return str(current_app.config.get(name))
    return os.environ.get(name, default)


def _digest(phone: str, purpose: str, code: str) -> str:
    key = (_setting("SECRET_KEY") or "sms").encode()
    return hmac.new(key, f"{phone}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def clean_phone(phone, label: str = "手机号码") -> str:
    try:
        return check_mobile(phone)
    except IdError as exc:
        raise DomainError(f"{label}：{exc.message}", 422) from None


def _purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown SMS purpose {purpose!r}")
    return PURPOSES[purpose]


def message_text(purpose: str, code: str) -> str:
    sign = _setting("SMS_GATEWAY_SIGN", "【上海工会网上工作平台】")
    return (f"{sign}您正在办理{_purpose(purpose)}，验证码：{code}，{CODE_MINUTES}分钟内有效。"
            "请勿将验证码告诉他人，如非本人操作请忽略本短信。")


def wait_seconds(phone: str, ip: str, at=None) -> int:
    """Seconds before this phone (any purpose) / this IP may have another code; 0 = now."""
    at = at or now()
    hour = at - timedelta(hours=1)
    recent = SmsCode.select(SmsCode.sent_at).where(SmsCode.sent_at > hour)
    by_phone = sorted(r.sent_at for r in recent.where(SmsCode.phone == phone))
    by_ip = sorted(r.sent_at for r in recent.where(SmsCode.ip == ip)) if ip else []
    waits = [0]
    if by_phone:
        waits.append(RESEND_SECONDS - (at - by_phone[-1]).total_seconds())
    if len(by_phone) >= PHONE_PER_HOUR:
        waits.append((by_phone[-PHONE_PER_HOUR] + timedelta(hours=1) - at).total_seconds())
    if len(by_ip) >= IP_PER_HOUR:
        waits.append((by_ip[-IP_PER_HOUR] + timedelta(hours=1) - at).total_seconds())
    longest = max(waits)
    return int(longest) + (1 if longest > int(longest) else 0)


def send_code(phone, purpose: str, ip: str = "") -> Sent:
    """获取验证码: a new code for this phone and purpose, sent (or written to the outbox)."""
    label = _purpose(purpose)
    phone = clean_phone(phone)
    code = f"{secrets.randbelow(10 ** 6):06d}"
    at = now()
    # The throttle's check and the new row in one transaction, one phone at a time (SQLite's
    # transactions are BEGIN IMMEDIATE; PostgreSQL takes an advisory lock on the phone): two
    # clicks at once send one code.
    with db.atomic():
        if is_postgres():
            db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"sms:{phone}",))
        wait = wait_seconds(phone, ip)
        if wait > 0:
            raise DomainError(f"发送过于频繁，请{wait}秒后再试", 429)
        row = SmsCode.create(phone=phone, purpose=purpose, code_hash=_digest(phone, purpose, code), ip=ip[:45],
                             sent_at=at, expires_at=at + timedelta(minutes=CODE_MINUTES))
    try:
        where = deliver(phone, message_text(purpose, code), purpose, code)
    except DomainError:
        SmsCode.delete().where(SmsCode.id == row.id).execute()  # not sent: it neither counts nor opens
        raise
    return Sent(phone=phone, masked=mask_phone(phone), minutes=CODE_MINUTES, where=f"{label} {where}")


def deliver(phone: str, text: str, purpose: str, code: str) -> str:
    """The gateway when SMS_GATEWAY_URL is set, else the outbox (and the code in the log)."""
    url = _setting("SMS_GATEWAY_URL")
    if url:
        HttpGateway(url, _setting("SMS_GATEWAY_KEY"), float(_setting("SMS_GATEWAY_TIMEOUT", "10") or 10)).send(
            phone, text)
        log.info("SMS %s sent to %s via gateway", purpose, mask_phone(phone))
        return url
    path = outbox_dir() / f"sms-{now():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.txt"
    path.write_text(f"To: {phone}\nPurpose: {purpose}\n\n{text}\n", encoding="utf-8")
    log.warning("SMS gateway not configured (SMS_GATEWAY_URL): %s code for %s is %s — written to %s",
                purpose, mask_phone(phone), code, path)
    return str(path)


class HttpGateway:
    """The SMS gateway adapter: POST {"phone", "message"} as JSON, `Authorization: Bearer <key>`;
    the gateway answers 2xx with JSON {"code": 0} (or "ok": true, or an empty body) when it
    accepted the message — anything else is a failure (short Chinese message, details in the log)."""

    def __init__(self, url: str, key: str = "", timeout: float = 10):
        self.url, self.key, self.timeout = url, key, timeout

    def send(self, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "message": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            **({"Authorization": f"Bearer {self.key}"} if self.key else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 — configured URL
                answer = response.read(65536)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.error("SMS gateway %s failed for %s: %s", self.url, mask_phone(phone), exc)
            raise DomainError(SEND_FAILED, 409) from None
        if answer.strip():
            try:
                data = json.loads(answer)
            except ValueError:
                data = None
            accepted = isinstance(data, dict) and (data.get("code") in (0, "0") or data.get("ok") is True)
            if not accepted:
                log.error("SMS gateway %s refused %s: %r", self.url, mask_phone(phone), answer[:200])
                raise DomainError(SEND_FAILED, 409)


def _latest(phone: str, purpose: str):
    return (SmsCode.select().where((SmsCode.phone == phone) & (SmsCode.purpose == purpose))
            .order_by(SmsCode.sent_at.desc(), SmsCode.id.desc()).first())


def check(phone, purpose: str, code) -> SmsCode:
    """The code typed for this phone and purpose: the row when right, else a Chinese refusal (a
    wrong code is counted at once, whatever the caller does next)."""
    _purpose(purpose)
    phone = clean_phone(phone)
    code = "".join((code or "").split())
    row = _latest(phone, purpose)
    if not code or row is None:
        raise DomainError(MISSING, 422)
    if row.used_at is not None:
        raise DomainError(SPENT, 422)
    if row.expires_at < now():
        raise DomainError(EXPIRED, 422)
    if row.tries >= MAX_TRIES:
        raise DomainError(TOO_MANY_TRIES, 422)
    if not (len(code) == 6 and hmac.compare_digest(row.code_hash, _digest(phone, purpose, code))):
        SmsCode.update(tries=SmsCode.tries + 1).where(SmsCode.id == row.id).execute()
        left = MAX_TRIES - row.tries - 1
        raise DomainError(f"{WRONG}（还可尝试{left}次）" if left > 0 else TOO_MANY_TRIES, 422)
    return row


def consume(row: SmsCode) -> None:
    """Spend the code (inside the caller's transaction): once only, even for two requests at once."""
    spent = SmsCode.update(used_at=now()).where((SmsCode.id == row.id) & SmsCode.used_at.is_null()).execute()
    if spent != 1:
        raise DomainError(SPENT, 422)


def verify(phone, purpose: str, code) -> None:
    """check + consume in one go (the caller keeps nothing else in the transaction)."""
    row = check(phone, purpose, code)
    with db.atomic():
        consume(row)


def used_from(ip: str, purpose: str, since) -> int:
    """Codes of `purpose` spent by requests from this IP since then (registration throttling)."""
    return SmsCode.select().where((SmsCode.ip == ip) & (SmsCode.purpose == purpose)
                                  & (SmsCode.used_at > since)).count()


def outbox_codes(phone: str) -> list[str]:
    """The codes the outbox holds for this phone, oldest first (development, tests, the demo)."""
    found = []
    for path in sorted(Path(outbox_dir()).glob("sms-*.txt"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        text = path.read_text(encoding="utf-8")
        if text.startswith(f"To: {phone}\n"):
            found.append(text.split("验证码：", 1)[1][:6])
    return found
