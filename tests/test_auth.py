"""登录: captcha, throttling without account enumeration, one-time passwords, idle expiry."""

import re
import time
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from models.audit import AuditLog
from models.orgs.accounts import LOCK_AFTER, NAME_LOCK_AFTER, SLOW_AFTER, Account, LoginAttempt
from tests import factories
from tests.helpers import soup


def error_text(response):
    node = soup(response).select_one(".alert-error")
    return node.get_text(strip=True) if node else ""


def field_error(response):
    """修改密码's refusal: the refused field's message (under it, and linked from the alert)."""
    page = soup(response)
    node = page.select_one(".field-error")
    assert node and page.select_one(f'.alert-error a[href="#{node["id"].split("-error")[0]}"]')
    return node.get_text(strip=True)


@pytest.fixture
def captcha_on(app):
    app.config["LOGIN_CAPTCHA"] = True
    yield
    app.config["LOGIN_CAPTCHA"] = False


@pytest.fixture
def known_captcha(monkeypatch):
    """Make the next captcha image's text predictable: every character 'A'."""
    import views.auth
    monkeypatch.setattr(views.auth, "new_captcha_code", lambda: "AAAA")
    return "AAAA"


def test_login_page_has_the_manual_fields(client, captcha_on):
    page = soup(client.get("/login"))
    labels = [label.get_text(strip=True) for label in page.select("form label")]
    assert labels == ["账号", "密码", "验证码"]
    assert page.select_one("button[type=submit]").get_text(strip=True) == "登录"
    assert page.select_one("img.captcha")["src"].startswith("/captcha.png")


def test_captcha_is_a_png_generated_locally(client):
    response = client.get("/captcha.png")
    assert response.status_code == 200
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert response.headers["Cache-Control"] == "no-store"


def test_login_with_right_captcha(client, city, captcha_on, known_captcha):
    account = city.account("district")
    client.get("/captcha.png")
    response = client.post("/login", data={"username": account.username,
                                           "password": factories.PASSWORD, "captcha": "aaaa"})
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert AuditLog.select().where((AuditLog.action == "登录") & (AuditLog.object_id == account.id)).count() == 1


def test_wrong_expired_or_missing_captcha_refused(client, city, captcha_on, known_captcha, monkeypatch):
    account = city.account("district")
    data = {"username": account.username, "password": factories.PASSWORD, "captcha": "BBBB"}
    client.get("/captcha.png")
    assert error_text(client.post("/login", data=data)) == "验证码错误，请重新输入"
    # single use: the same right answer after a failed attempt is refused too
    data["captcha"] = "AAAA"
    assert "验证码已过期" in error_text(client.post("/login", data=data))
    client.get("/captcha.png")
    import views.auth
    real_time = time.time
    monkeypatch.setattr(views.auth.time, "time", lambda: real_time() + views.auth.CAPTCHA_SECONDS + 1)
    assert "验证码已过期" in error_text(client.post("/login", data=data))
    assert LoginAttempt.select().count() == 0  # captcha failures are not password failures


@pytest.fixture
def known_question(monkeypatch):
    """Make the next 文字验证题 predictable: 七加五等于几？ (12)."""
    import views.auth
    monkeypatch.setattr(views.auth, "new_captcha_question", lambda: ("七加五等于几？", 12))


def test_chinese_numbers_and_questions():
    import views.auth
    assert [views.auth.chinese_number(n) for n in (0, 7, 10, 15, 20, 42, 99)] == [
        "零", "七", "十", "十五", "二十", "四十二", "九十九"]
    words = {views.auth.chinese_number(n): n for n in range(100)}
    for _ in range(200):
        question, answer = views.auth.new_captcha_question()
        match = re.fullmatch(r"(.+?)([加减])(.+)等于几？", question)
        first, second = words[match[1]], words[match[3]]
        assert answer == (first + second if match[2] == "加" else first - second) >= 0


def test_the_login_page_offers_a_text_question_in_place_of_the_picture(client, captcha_on):
    page = soup(client.get("/login?next=/members/"))
    link = page.select_one("#captcha-hint a")
    assert link.get_text(strip=True) == "改用文字验证题"
    assert parse_qs(urlsplit(link["href"]).query) == {"captcha": ["question"], "next": ["/members/"]}
    page = soup(client.get(link["href"]))
    label = page.select_one("label[for=captcha]").get_text(strip=True)
    assert re.fullmatch(r"验证题：[零一二三四五六七八九十]+[加减][零一二三四五六七八九十]+等于几？", label), label
    assert page.select_one("img.captcha") is None
    field = page.select_one("input#captcha")
    assert page.select_one("#" + field["aria-describedby"]).get_text(strip=True).startswith("请用数字作答")
    # the answer goes back to the question page (and on to the page asked for)
    assert parse_qs(urlsplit(page.select_one("form.login-box")["action"]).query) == {
        "captcha": ["question"], "next": ["/members/"]}
    assert page.select_one("#captcha-hint a").get_text(strip=True) == "改用图片验证码"


@pytest.mark.parametrize("answer", ["12", "１２", " 12 ", "十二"])
def test_login_with_the_text_question(client, city, captcha_on, known_question, answer):
    account = city.account("district")
    client.get("/login?captcha=question")
    response = client.post("/login?captcha=question", data={
        "username": account.username, "password": factories.PASSWORD, "captcha": answer})
    assert response.status_code == 302 and response.headers["Location"] == "/home"


def test_wrong_or_replayed_answer_to_the_question_refused(client, city, captcha_on, monkeypatch):
    import views.auth
    questions = iter([("七加五等于几？", 12), ("九减四等于几？", 5), ("三加三等于几？", 6)])
    monkeypatch.setattr(views.auth, "new_captcha_question", lambda: next(questions))
    account = city.account("district")
    data = {"username": account.username, "password": factories.PASSWORD, "captcha": "13"}
    client.get("/login?captcha=question")
    response = client.post("/login?captcha=question", data=data)
    assert response.status_code == 422
    assert error_text(response) == "验证题答案错误，请回答新的验证题"
    assert soup(response).select_one("label[for=captcha]").get_text(strip=True) == "验证题：九减四等于几？"
    # single use: the first question's answer no longer counts, the new one's does
    data["captcha"] = "12"
    assert error_text(client.post("/login?captcha=question", data=data)) == "验证题答案错误，请回答新的验证题"
    assert LoginAttempt.select().count() == 0  # a wrong answer is not a password failure
    data["captcha"] = "6"
    assert client.post("/login?captcha=question", data=data).headers["Location"] == "/home"


def test_an_expired_or_missing_question_refused(client, city, captcha_on, known_question, monkeypatch):
    account = city.account("district")
    data = {"username": account.username, "password": factories.PASSWORD, "captcha": "12"}
    assert error_text(client.post("/login?captcha=question", data=data)) == "验证题已过期，请回答新的验证题"
    import views.auth
    real_time = time.time
    monkeypatch.setattr(views.auth.time, "time", lambda: real_time() + views.auth.CAPTCHA_SECONDS + 1)
    assert error_text(client.post("/login?captcha=question", data=data)) == "验证题已过期，请回答新的验证题"
    assert client.get("/home").status_code == 302


def test_the_question_keeps_the_throttling(client, city, captcha_on, known_question):
    """Right answers do not lift the delay and the lock: the same messages as with the picture."""
    account = city.account("district")
    texts = []
    for _ in range(LOCK_AFTER):
        client.get("/login?captcha=question")
        texts.append(error_text(client.post("/login?captcha=question", data={
            "username": account.username, "password": "bad-pass-1", "captcha": "12"})))
    assert texts[0] == "账号或密码错误"
    assert "再失败" in texts[SLOW_AFTER]
    assert "锁定15分钟" in texts[-1]
    client.get("/login?captcha=question")
    response = client.post("/login?captcha=question", data={
        "username": account.username, "password": factories.PASSWORD, "captcha": "12"})
    assert response.status_code == 422 and "锁定" in error_text(response)
    assert client.get("/home").status_code == 302


def test_wrong_password_and_unknown_account_look_the_same(client, city):
    account = city.account("district")
    wrong = client.post("/login", data={"username": account.username, "password": "nope-123"})
    unknown = client.post("/login", data={"username": "nobody-here", "password": "nope-123"})
    assert wrong.status_code == unknown.status_code == 422
    assert error_text(wrong) == error_text(unknown) == "账号或密码错误"


def test_throttle_then_lock_for_known_and_unknown_names(client, city, app):
    account = city.account("district")
    messages = {}
    for name, ip in ((account.username, "10.0.0.1"), ("ghost-account", "10.0.0.2")):
        texts = []
        for _ in range(LOCK_AFTER):
            texts.append(error_text(client.post("/login", data={"username": name, "password": "bad-pass-1"},
                                                environ_base={"REMOTE_ADDR": ip})))
        messages[name] = texts
    assert messages[account.username] == messages["ghost-account"]  # no enumeration
    texts = messages[account.username]
    assert texts[0] == "账号或密码错误"
    assert "再失败" in texts[SLOW_AFTER]
    assert "锁定15分钟" in texts[-1]
    # Locked from that address: even the right password is refused, and nothing logs in.
    response = client.post("/login", data={"username": account.username, "password": factories.PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 422 and "锁定" in error_text(response)
    assert client.get("/home").status_code == 302


def test_failures_from_one_ip_lock_other_names_too(client, city):
    for i in range(LOCK_AFTER):
        client.post("/login", data={"username": f"spray{i}", "password": "bad-pass-1"})
    account = city.account("grassroots")
    response = client.post("/login", data={"username": account.username, "password": factories.PASSWORD})
    assert "锁定" in error_text(response)


def test_the_delay_applies_after_five_failures(client, city, app):
    app.config["LOGIN_FAIL_DELAY"] = 0.3
    try:
        account = city.account("district")
        for _ in range(SLOW_AFTER):
            client.post("/login", data={"username": account.username, "password": "bad-pass-1"})
        start = time.monotonic()
        client.post("/login", data={"username": account.username, "password": "bad-pass-1"})
        assert time.monotonic() - start >= 0.3
    finally:
        app.config["LOGIN_FAIL_DELAY"] = 0


def test_disabled_account_cannot_log_in(client, city):
    account = city.account("grassroots")
    Account.update(is_active_flag=False).where(Account.id == account.id).execute()
    response = client.post("/login", data={"username": account.username, "password": factories.PASSWORD})
    assert error_text(response) == "该账号已停用，请联系上级工会"


def test_passwords_are_hashed(city):
    account = Account.get_by_id(city.account("district").id)
    assert factories.PASSWORD not in account.password_hash
    assert account.check_password(factories.PASSWORD)


def test_one_time_password_forces_a_change(client, city):
    account = city.account("grassroots")
    account.set_password("Once-123456", one_time=True)
    account.save()
    response = client.post("/login", data={"username": account.username, "password": "Once-123456"})
    assert response.headers["Location"] == "/password"
    assert client.get("/home").headers["Location"] == "/password"
    assert client.get("/orgs/mine/edit").headers["Location"] == "/password"
    response = client.post("/password", data={"old_password": "Once-123456", "new_password": "New-pass-2026",
                                              "confirm": "New-pass-2026"})
    assert response.status_code == 302
    assert client.get("/home").status_code == 200
    assert Account.get_by_id(account.id).must_change_password is False


@pytest.mark.parametrize("new,confirm,message", [
    ("short1", "short1", "新密码至少8位"),
    ("abcdefghij", "abcdefghij", "新密码须包含字母、数字、符号中的至少两种"),
    ("Good-pass-1", "Other-pass-1", "两次输入的新密码不一致"),
    (factories.PASSWORD, factories.PASSWORD, "新密码不能与原密码相同"),
])
def test_change_password_rules(as_role, city, new, confirm, message):
    client = as_role("district")
    response = client.post("/password", data={"old_password": factories.PASSWORD, "new_password": new,
                                              "confirm": confirm})
    assert response.status_code == 422
    assert field_error(response) == message
    assert Account.get_by_id(city.account("district").id).check_password(factories.PASSWORD)


def test_wrong_old_password_refused(as_role):
    response = as_role("district").post("/password", data={
        "old_password": "not-it-123", "new_password": "Good-pass-1", "confirm": "Good-pass-1"})
    assert field_error(response) == "原密码不正确"


def test_password_change_logs_out_other_sessions(app, city):
    account = city.account("district")
    first, second = app.test_client(), app.test_client()
    factories.login(first, account)
    factories.login(second, account)
    response = first.post("/password", data={"old_password": factories.PASSWORD,
                                              "new_password": "Brand-new-1", "confirm": "Brand-new-1"})
    assert response.status_code == 302
    assert first.get("/home").status_code == 200
    assert second.get("/home").headers["Location"].startswith("/login")


def test_session_expires_after_inactivity_not_while_active(as_role, app, monkeypatch):
    client = as_role("district")
    assert client.get("/home").status_code == 200
    import views
    real_time = time.time
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    for minutes in (0.6, 1.2, 1.8):  # active every 0.6 × idle: stays logged in past the limit
        monkeypatch.setattr(views.time, "time", lambda m=minutes: real_time() + m * idle)
        assert client.get("/home").status_code == 200
    monkeypatch.setattr(views.time, "time", lambda: real_time() + 1.8 * idle + idle + 5)
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/home").status_code == 302


def test_logout(as_role):
    client = as_role("district")
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/home").status_code == 302


def test_logout_needs_post(as_role):
    client = as_role("district")
    assert client.get("/logout").status_code == 405
    assert client.get("/home").status_code == 200


def test_open_redirect_refused(client, city):
    account = city.account("district")
    response = client.post("/login?next=//evil.example/x", data={"username": account.username,
                                                                 "password": factories.PASSWORD})
    assert response.headers["Location"] == "/home"


def test_full_password_never_in_audit(client, city):
    account = city.account("district")
    client.post("/login", data={"username": account.username, "password": factories.PASSWORD})
    for row in AuditLog.select():
        assert factories.PASSWORD not in (row.detail + row.reason)


HOSTILE_NEXT = [
    "//evil.example/x", "/%09/evil.example", "/\t/evil.example", "/%0a/evil.example", "/\n/evil.example",
    "/home\r\nSet-Cookie: x=1", "/\\evil.example", "\\\\evil.example", "/%5Cevil.example",
    "https://evil.example/", "http:/evil.example", "javascript:alert(1)", "///evil.example",
    "/%2F%2Fevil.example", " //evil.example", "\x00/home", "/home\x00", "／／evil.example",
    "evil.example", "/no-such-page", "/logout", "/" + "a" * 5000,
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_after_login_next_is_only_a_local_page_of_this_app(app, city, target):
    """A hostile `next` (tab or backslash tricks, other schemes, control characters, a path that
    is no page) sends the user to 首页 — never off-site, never a 500."""
    account = city.account("district")
    for query in (quote(target, safe=""), target.replace("\n", "%0A").replace("\r", "%0D")):
        client = app.test_client()
        response = client.post(f"/login?next={query}", data={"username": account.username,
                                                              "password": factories.PASSWORD})
        if "\x00" in target:  # refused before anything else, like a NUL anywhere (a Chinese 400)
            assert response.status_code == 400 and "无效字符" in response.get_data(as_text=True)
            continue
        assert response.status_code == 302, (target, response.status_code)
        assert response.headers["Location"] == "/home", (target, response.headers["Location"])


@pytest.mark.parametrize("target", ["/members/?page=2&status=正常", "/orgs/list", "/home"])
def test_after_login_next_returns_to_the_page_asked_for(app, city, target):
    account = city.account("district")
    response = app.test_client().post(f"/login?next={quote(target, safe='')}", data={
        "username": account.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == target


def test_a_page_that_needs_login_comes_back_after_it(app, city):
    client = app.test_client()
    location = client.get("/members/?page=2").headers["Location"]
    assert location.startswith("/login?next=")
    response = client.post(location, data={"username": city.account("district").username,
                                           "password": factories.PASSWORD})
    assert response.headers["Location"] == "/members/?page=2"


@pytest.mark.parametrize("new,message", [
    ("Password1", "新密码过于常见，容易被猜中，请换一个"),
    ("Abc12345", "新密码过于常见，容易被猜中，请换一个"),
    ("12345678", "新密码过于常见，容易被猜中，请换一个"),
    ("Aa123456", "新密码过于常见，容易被猜中，请换一个"),
    ("ADMIN123", "新密码过于常见，容易被猜中，请换一个"),  # the list is case-insensitive
    ("qwerty123", "新密码过于常见，容易被猜中，请换一个"),
    ("abc123456", "新密码过于常见，容易被猜中，请换一个"),  # the old platform's default
    ("{name}2026", "新密码不能包含账号名"),
    ("x-{NAME}-9", "新密码不能包含账号名"),  # case-insensitive
    ("98765432101", "新密码须包含字母、数字、符号中的至少两种"),
    ("QWZXMNBVCLKJ", "新密码须包含字母、数字、符号中的至少两种"),
    ("!@#$%^&*()_+", "新密码须包含字母、数字、符号中的至少两种"),
    ("Zq9-" * 32 + "x", "新密码不能超过128位"),
    # the attack replay: decorated common words, look-alike digits, full-width letters, invisible ones
    ("Passw0rd!", "新密码过于常见，容易被猜中，请换一个"),
    ("Qwerty123!", "新密码过于常见，容易被猜中，请换一个"),
    ("Shanghai2026", "新密码过于常见，容易被猜中，请换一个"),
    ("{FULLWIDTH}12Ab", "新密码不能包含账号名"),
    ("Aa1!\u200b\u200b\u200b\u200b", "新密码不能包含不可见字符（如零宽字符、制表符、换行）"),
    ("Good-pass\t2026", "新密码不能包含不可见字符（如零宽字符、制表符、换行）"),
])
def test_weak_new_passwords_are_refused_in_chinese(as_role, city, new, message):
    account = city.account("district")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in account.username)
    new = new.replace("{name}", account.username).replace("{NAME}", account.username.upper()) \
        .replace("{FULLWIDTH}", fullwidth)
    response = as_role("district").post("/password", data={"old_password": factories.PASSWORD,
                                                           "new_password": new, "confirm": new})
    assert response.status_code == 422
    assert field_error(response) == message
    assert Account.get_by_id(account.id).check_password(factories.PASSWORD)


def test_a_strong_new_password_of_128_characters_is_accepted(as_role, city):
    new = "Zq9-" * 32
    response = as_role("district").post("/password", data={"old_password": factories.PASSWORD,
                                                           "new_password": new, "confirm": new})
    assert response.status_code == 302
    assert Account.get_by_id(city.account("district").id).check_password(new)


def test_an_over_long_password_at_login_is_refused_in_chinese(client, city):
    response = client.post("/login", data={"username": city.account("district").username, "password": "x" * 129})
    assert response.status_code == 422 and error_text(response) == "密码不能超过128位"


def login_from(client, username, password, ip):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_failures_from_one_address_do_not_lock_the_name_for_another(app, city):
    """Anyone can fail ten times for `district`; the district still logs in from its office."""
    account = city.account("district")
    attacker = app.test_client()
    for _ in range(LOCK_AFTER):
        login_from(attacker, account.username, "bad-pass-1", "203.0.113.9")
    assert "锁定" in error_text(login_from(attacker, account.username, factories.PASSWORD, "203.0.113.9"))
    assert LoginAttempt.locked_names([account.username]) == {account.username}  # someone is locked out
    office = app.test_client()
    response = login_from(office, account.username, factories.PASSWORD, "10.1.2.3")
    assert response.status_code == 302 and office.get("/home").status_code == 200
    # the clerk's login does not give the attacker a fresh count: that address stays locked
    assert "锁定" in error_text(login_from(app.test_client(), account.username, "bad-pass-2", "203.0.113.9"))


def test_a_name_failing_from_many_addresses_is_locked_for_everyone_at_the_name_threshold(app, city):
    account = city.account("district")
    per_address = SLOW_AFTER - 1  # each address stays below its own limits
    addresses = [f"198.51.100.{i}" for i in range(NAME_LOCK_AFTER // per_address + 1)]
    failures = [(ip, n) for ip in addresses for n in range(per_address)][:NAME_LOCK_AFTER - 1]
    for ip, _ in failures:
        login_from(app.test_client(), account.username, "bad-pass-1", ip)
    # one below the name's threshold: the right password from elsewhere still logs in
    assert login_from(app.test_client(), account.username, factories.PASSWORD, "10.9.9.9").status_code == 302
    # the success cleared only its own address's failures: one more from anywhere reaches the name's
    # threshold
    login_from(app.test_client(), account.username, "bad-pass-1", addresses[-1])
    response = login_from(app.test_client(), account.username, factories.PASSWORD, "10.9.9.9")
    assert response.status_code == 422 and "锁定" in error_text(response)
    assert LoginAttempt.locked_names([account.username]) == {account.username}  # 账号管理 shows 已锁定


def test_the_delay_applies_from_any_address_once_the_name_has_failed_often(app, city, monkeypatch):
    import views.auth
    account = city.account("district")
    for i in range(SLOW_AFTER):
        login_from(app.test_client(), account.username, "bad-pass-1", f"192.0.2.{i}")
    slept = []
    monkeypatch.setattr(views.auth.time, "sleep", slept.append)
    app.config["LOGIN_FAIL_DELAY"] = 2
    try:
        response = login_from(app.test_client(), account.username, factories.PASSWORD, "10.7.7.7")
    finally:
        app.config["LOGIN_FAIL_DELAY"] = 0
    assert slept == [2] and response.status_code == 302  # slowed, not blocked


@pytest.mark.parametrize("name", ["nobody-here", "district-known"])
def test_unknown_and_known_names_cost_the_same_password_hash(app, city, monkeypatch, name):
    """A wrong password for a real name and any password for an unknown one both check one
    password hash of the same method, so the answer time tells nothing."""
    import models.orgs.accounts
    account = city.account("district")
    username = account.username if name == "district-known" else name
    real = models.orgs.accounts.check_password_hash
    checked = []
    monkeypatch.setattr(models.orgs.accounts, "check_password_hash",
                        lambda stored, password: checked.append(stored.split("$")[0]) or real(stored, password))
    response = login_from(app.test_client(), username, "wrong-pass-9", "10.3.3.3")
    assert error_text(response) == "账号或密码错误"
    assert checked == [account.password_hash.split("$")[0]]
