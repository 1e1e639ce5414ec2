"""短信验证码 (models/sms.py): codes expire, are single use, count wrong tries, are throttled per
phone and per IP, go to the outbox in development and to the gateway (an HTTP POST) when it is set."""

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models import sms
from models.base import DomainError
from models.sms import SmsCode
from tests.helpers import race

T0 = datetime(2026, 6, 10, 9, 0, 0)
PHONE = "13912340001"


@pytest.fixture(autouse=True)
def app_context(app):
    """The codes are keyed with the app's secret key, as in a request."""
    with app.app_context():
        yield


@pytest.fixture
def clock(monkeypatch):
    """A settable clock for models/sms.py."""
    moment = {"now": T0}
    monkeypatch.setattr(sms, "now", lambda: moment["now"])

    def move(**delta):
        moment["now"] = moment["now"] + timedelta(**delta)
    move.at = moment
    return move


def code_for(phone=PHONE):
    return sms.outbox_codes(phone)[-1]


def refusal(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.message


def test_a_code_is_six_random_digits_stored_hashed_and_written_to_the_outbox(app, clock, caplog):
    with app.app_context(), caplog.at_level("WARNING"):
        sent = sms.send_code(PHONE, "register", "10.0.0.1")
        code = code_for()
    assert sent.masked == "139****0001" and sent.minutes == 5
    assert len(code) == 6 and code.isdigit()
    row = SmsCode.get()
    assert code not in row.code_hash and row.code_hash != code and len(row.code_hash) == 64
    assert "139****0001" in caplog.text and code in caplog.text  # dev: the full code in the log
    assert PHONE not in caplog.text  # the phone itself stays masked


def test_the_right_code_passes_once_only(app, clock):
    with app.app_context():
        sms.send_code(PHONE, "register", "10.0.0.1")
        code = code_for()
    sms.verify(PHONE, "register", code)
    assert refusal(lambda: sms.verify(PHONE, "register", code)) == sms.SPENT


def test_a_code_of_another_purpose_or_phone_opens_nothing(app, clock):
    with app.app_context():
        sms.send_code(PHONE, "register", "10.0.0.1")
        code = code_for()
    assert refusal(lambda: sms.verify(PHONE, "handler", code)) == sms.MISSING
    assert refusal(lambda: sms.verify("13912340002", "register", code)) == sms.MISSING


def test_a_code_expires_after_five_minutes(app, clock):
    with app.app_context():
        sms.send_code(PHONE, "register", "10.0.0.1")
        code = code_for()
    clock(minutes=5, seconds=1)
    assert refusal(lambda: sms.verify(PHONE, "register", code)) == "验证码已过期，请重新获取"


def test_a_code_at_exactly_five_minutes_still_passes(app, clock):
    with app.app_context():
        sms.send_code(PHONE, "register", "10.0.0.1")
        code = code_for()
    clock(minutes=5)
    sms.verify(PHONE, "register", code)


def test_wrong_codes_are_counted_and_the_fifth_spends_the_code(app, clock):
    with app.app_context():
        sms.send_code(PHONE, "register", "10.0.0.1")
        code = code_for()
    wrong = "000000" if code != "000000" else "111111"
    messages = [refusal(lambda: sms.verify(PHONE, "register", wrong)) for _ in range(5)]
    assert messages[0] == "验证码错误（还可尝试4次）"
    assert messages[3] == "验证码错误（还可尝试1次）"
    assert messages[4] == sms.TOO_MANY_TRIES
    assert refusal(lambda: sms.verify(PHONE, "register", code)) == sms.TOO_MANY_TRIES  # even the right one now


def test_a_new_code_replaces_the_old_one(app, clock):
    with app.app_context():
        sms.send_code(PHONE, "register", "10.0.0.1")
        first = code_for()
        clock(seconds=61)
        sms.send_code(PHONE, "register", "10.0.0.1")
        second = code_for()
    if first != second:
        assert refusal(lambda: sms.verify(PHONE, "register", first)).startswith(sms.WRONG)
    sms.verify(PHONE, "register", second)


def test_one_code_per_phone_each_minute(app, clock):
    with app.app_context():
        sms.send_code(PHONE, "register", "10.0.0.1")
        clock(seconds=20)
        assert refusal(lambda: sms.send_code(PHONE, "handler", "10.0.0.2")) == "发送过于频繁，请40秒后再试"
        clock(seconds=40)
        sms.send_code(PHONE, "register", "10.0.0.1")
    assert SmsCode.select().count() == 2


def test_at_most_five_codes_per_phone_an_hour(app, clock):
    with app.app_context():
        for _ in range(5):
            sms.send_code(PHONE, "register", "10.0.0.1")
            clock(minutes=5)
        # 25 minutes after the first: the sixth waits until the first is an hour old
        assert refusal(lambda: sms.send_code(PHONE, "register", "10.0.0.1")) == "发送过于频繁，请2100秒后再试"
        clock(minutes=35)
        sms.send_code(PHONE, "register", "10.0.0.1")


def test_at_most_twenty_codes_per_ip_an_hour(app, clock):
    with app.app_context():
        for n in range(20):
            sms.send_code(f"1391234{n:04d}", "register", "10.0.0.9")
        assert refusal(lambda: sms.send_code("13800000000", "register", "10.0.0.9")) == "发送过于频繁，请3600秒后再试"
        sms.send_code("13800000000", "register", "10.0.0.10")  # another IP is not held back


def test_a_bad_phone_number_is_refused_in_chinese(app, clock):
    with app.app_context():
        assert refusal(lambda: sms.send_code("12345", "register", "10.0.0.1")).startswith("手机号码：")
    assert SmsCode.select().count() == 0


def test_consume_twice_at_once_leaves_one(app, clock):
    with app.app_context():
        sms.send_code(PHONE, "register", "10.0.0.1")
        row = sms.check(PHONE, "register", code_for())
    sms.consume(row)
    assert refusal(lambda: sms.consume(row)) == sms.SPENT


# --- the gateway ------------------------------------------------------------------------------------
class _Gateway(BaseHTTPRequestHandler):
    received: list = []
    answer = b'{"code": 0, "msg": "ok"}'
    status = 200

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        type(self).received.append((self.headers.get("Authorization"), json.loads(self.rfile.read(length))))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(app):
    _Gateway.received, _Gateway.answer, _Gateway.status = [], b'{"code": 0, "msg": "ok"}', 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    old = {k: app.config.get(k) for k in ("SMS_GATEWAY_URL", "SMS_GATEWAY_KEY")}
    app.config.update(SMS_GATEWAY_URL=f"http://127.0.0.1:{server.server_port}/send", SMS_GATEWAY_KEY="k-123")
    yield _Gateway
    app.config.update(old)
    server.shutdown()
    server.server_close()


def test_the_gateway_gets_the_phone_and_message_and_the_outbox_nothing(app, clock, gateway, caplog):
    before = len(sms.outbox_codes(PHONE))
    with app.app_context(), caplog.at_level("INFO"):
        sent = sms.send_code(PHONE, "aid_code", "10.0.0.1")
    assert "/send" in sent.where
    (auth, body), = gateway.received
    assert auth == "Bearer k-123" and body["phone"] == PHONE
    assert "参保编码申请" in body["message"] and "5分钟内有效" in body["message"]
    code = body["message"].split("验证码：")[1][:6]
    assert code not in caplog.text  # with a gateway the log never shows the code
    assert len(sms.outbox_codes(PHONE)) == before
    sms.verify(PHONE, "aid_code", code)


@pytest.mark.parametrize("status,answer", [(500, b"error"), (200, b'{"code": 17, "msg": "blacklist"}'),
                                           (200, b"<html>")])
def test_a_gateway_failure_is_a_chinese_message_and_no_code(app, clock, gateway, status, answer):
    gateway.status, gateway.answer = status, answer
    with app.app_context():
        assert refusal(lambda: sms.send_code(PHONE, "aid_code", "10.0.0.1")) == sms.SEND_FAILED
    assert SmsCode.select().count() == 0  # not sent: it does not count against the throttle
    gateway.status, gateway.answer = 200, b""
    with app.app_context():
        sms.send_code(PHONE, "aid_code", "10.0.0.1")  # at once: the failed one did not count


def test_an_unreachable_gateway_is_a_chinese_message(app, clock):
    old = app.config.get("SMS_GATEWAY_URL")
    app.config["SMS_GATEWAY_URL"] = "http://127.0.0.1:9/none"
    try:
        with app.app_context():
            assert refusal(lambda: sms.send_code(PHONE, "aid_code", "10.0.0.1")) == sms.SEND_FAILED
    finally:
        app.config["SMS_GATEWAY_URL"] = old


def test_one_code_spent_by_two_requests_at_once_leaves_one(app, committed):
    sms.send_code(PHONE, "register", "10.0.0.1")
    row = sms.check(PHONE, "register", code_for())

    def spend():
        with app.app_context():
            sms.verify(PHONE, "register", sms.outbox_codes(PHONE)[-1])

    outcomes = race(spend, spend)
    assert sorted(outcomes) == ["ok", sms.SPENT]
    assert SmsCode.get_by_id(row.id).used_at is not None


def test_two_clicks_at_once_send_one_code(app, committed):
    def click(ip):
        def call():
            with app.app_context():
                sms.send_code(PHONE, "register", ip)
        return call

    outcomes = race(click("10.0.0.1"), click("10.0.0.2"))
    assert sorted(outcomes)[0] == "ok" and sorted(outcomes)[1].startswith("发送过于频繁")
    assert SmsCode.select().where(SmsCode.phone == PHONE).count() == 1
