"""Status provider (models/enroll/status_provider.py): the same contract tests against both
implementations — RegistryProvider over StatusRecord rows, HttpProvider against the reference
server (tools/status_server.py) serving the same rows — then the HTTP failures (unreachable,
slow, 401, 5xx, malformed answers, unknown words), the reference server's files and
provider_from_config."""

import io
import json
import os
import socket
import threading
import time
from datetime import date

import pytest
from openpyxl import Workbook
from werkzeug.wrappers import Request, Response

from models.enroll.enrollment import StatusRecord
from models.enroll.status_import import STATUS_COLUMNS
from models.enroll.status_provider import (
    NO_RECORD,
    HttpProvider,
    RegistryProvider,
    StatusProvider,
    StatusResult,
    provider_from_config,
)
from tests.factories.memberfiles import id_number
from tools.status_server import DatabaseRegistry, FileRegistry, Server, main, make_app

DAY = date(2026, 11, 1)
ROWS = [  # (ID number, 姓名, 社保卡状态, 就业状态, 社保缴纳)
    (id_number(500 + i), f"甲{i}", card, job, paid)
    for i, (card, job, paid) in enumerate([
        ("正常", "在职", "已缴纳"), ("正常", "不明确", "已缴纳"), ("封存", "在职", "未缴纳"),
        ("挂失", "在职", "已缴纳"), ("锁定", "退休", "已缴纳"), ("注销", "死亡", "未缴纳"),
        ("不明确", "不明确", "不明确"), ("正常", "退休", "已缴纳"), ("正常", "在职", "未缴纳"),
        ("正常", "死亡", "已缴纳")])
]
KNOWN = [r[0] for r in ROWS]
UNKNOWN = [id_number(900 + i) for i in range(4)]


def protocol_records(rows=ROWS) -> dict:
    return {n: {"id_number": n, "card_status": c, "employment": e, "insurance": p, "status_date": DAY.isoformat()}
            for n, _, c, e, p in rows}


def expected(number: str) -> StatusResult:
    for n, _, card, job, paid in ROWS:
        if n == number:
            return StatusResult(n, card, job, paid, DAY)
    return StatusResult(number, reason=NO_RECORD)


class Counting:
    """WSGI middleware counting the POSTed batches."""

    def __init__(self, app):
        self.app, self.batches = app, []

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.method == "POST":
            body = request.get_data(cache=True)
            self.batches.append(len(json.loads(body)["id_numbers"]))
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


@pytest.fixture(params=["registry", "http"])
def make_provider(request):
    """make_provider(batch_size) → (provider, batches seen: a list of batch sizes)."""
    kind = request.param
    servers = []
    if kind == "registry":
        StatusRecord.insert_many([{"id_number": n, "name": name, "card_status": c, "employment": e, "insurance": p,
                                   "status_date": DAY} for n, name, c, e, p in ROWS]).execute()

    def make(batch_size=500):
        if kind == "registry":
            provider = RegistryProvider(batch_size=batch_size)
            seen = []
            real = provider.lookup_batch

            def spy(numbers):
                seen.append(len(numbers))
                return real(numbers)
            provider.lookup_batch = spy
            return provider, seen
        app = Counting(make_app(FileRegistry(protocol_records())))
        server = Server(app)
        servers.append(server)
        url = server.__enter__()
        return HttpProvider(url, timeout=5, batch_size=batch_size), app.batches

    yield make
    for server in servers:
        server.__exit__()


# --- the contract, both implementations ------------------------------------------------------
def test_known_numbers(make_provider):
    provider, _ = make_provider()
    assert isinstance(provider, StatusProvider)
    assert provider.lookup(KNOWN) == {n: expected(n) for n in KNOWN}
    assert all(r.ok and r.reason == "" for r in provider.lookup(KNOWN).values())


def test_unknown_numbers_are_unclear_with_the_reason_and_ok(make_provider):
    provider, _ = make_provider()
    results = provider.lookup(UNKNOWN)
    assert set(results) == set(UNKNOWN)
    for n in UNKNOWN:
        r = results[n]
        assert (r.card_status, r.employment, r.insurance, r.status_date) == ("不明确", "不明确", "不明确", None)
        assert (r.reason, r.ok) == ("社保系统中没有该证件号码的记录", True)


def test_mixed_list_with_duplicates(make_provider):
    provider, _ = make_provider()
    asked = [KNOWN[0], UNKNOWN[0], KNOWN[4], KNOWN[0], UNKNOWN[1], KNOWN[9]]
    assert provider.lookup(asked) == {n: expected(n) for n in asked}


def test_empty_list_asks_nothing(make_provider):
    provider, batches = make_provider()
    assert provider.lookup([]) == {}
    assert batches == []


def test_batches_of_three_for_ten_numbers(make_provider):
    provider, batches = make_provider(batch_size=3)
    asked = KNOWN[:7] + UNKNOWN[:3]
    assert provider.lookup(asked) == {n: expected(n) for n in asked}
    assert batches == [3, 3, 3, 1]
    parts = list(provider.lookup_batches(asked))
    assert [len(p) for p in parts] == [3, 3, 3, 1]


def test_order_does_not_matter(make_provider):
    provider, _ = make_provider(batch_size=4)
    asked = KNOWN + UNKNOWN
    forward = provider.lookup(asked)
    backward = provider.lookup(list(reversed(asked)))
    shuffled = provider.lookup(asked[1::2] + asked[::2])
    assert forward == backward == shuffled == {n: expected(n) for n in asked}


# --- HTTP failures: never an exception, always a reason ----------------------------------------
def failed_everyone(results: dict, asked: list, text: str) -> None:
    assert set(results) == set(asked)
    for r in results.values():
        assert (r.card_status, r.employment, r.insurance, r.ok) == ("不明确", "不明确", "不明确", False)
        assert text in r.reason, r.reason


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_port():
    provider = HttpProvider(f"http://127.0.0.1:{free_port()}/status", timeout=2)
    failed_everyone(provider.lookup(KNOWN[:3]), KNOWN[:3], "无法连接社保状态接口（连接被拒绝），请稍后重试")


def test_a_server_slower_than_the_timeout():
    with Server(make_app(FileRegistry(protocol_records()), delay=2.0)) as url:
        started = time.perf_counter()
        results = HttpProvider(url, timeout=0.3).lookup(KNOWN[:2])
        assert time.perf_counter() - started < 1.5
    failed_everyone(results, KNOWN[:2], "社保状态接口超时（0.3秒），请稍后重试")


def test_one_failed_batch_leaves_the_others():
    calls = []

    def flaky(environ, start_response):
        calls.append(1)
        if len(calls) == 2:
            return Response("busy", status=503)(environ, start_response)
        return make_app(FileRegistry(protocol_records()))(environ, start_response)
    with Server(flaky) as url:
        results = HttpProvider(url, batch_size=4).lookup(KNOWN)
    assert [results[n] for n in KNOWN[:4] + KNOWN[8:]] == [expected(n) for n in KNOWN[:4] + KNOWN[8:]]
    failed_everyone({n: results[n] for n in KNOWN[4:8]}, KNOWN[4:8], "社保状态接口出错（HTTP 503），请稍后重试")


def test_token_required():
    app = make_app(FileRegistry(protocol_records()), token="xyz")
    with Server(app) as url:
        failed_everyone(HttpProvider(url).lookup(KNOWN[:2]), KNOWN[:2], "社保状态接口拒绝访问（HTTP 401）")
        failed_everyone(HttpProvider(url, auth_header="Bearer wrong").lookup(KNOWN[:2]), KNOWN[:2], "HTTP 401")
        good = HttpProvider(url, auth_header="Bearer xyz").lookup(KNOWN[:2])
    assert good == {n: expected(n) for n in KNOWN[:2]}


def answering(body: bytes, status: int = 200):
    def app(environ, start_response):
        return Response(body, status=status, content_type="application/json")(environ, start_response)
    return app


@pytest.mark.parametrize("body, text", [
    (b"<html>gateway</html>", "社保状态接口返回的数据格式不正确（不是 JSON）"),
    (b'{"results": [', "不是 JSON"),
    (b"\xff\xfe garbage", "不是 JSON"),
    (b'["a list"]', "缺少 results 列表"),
    (b'{"data": []}', "缺少 results 列表"),
    (b'{"results": {"a": 1}}', "缺少 results 列表"),
    (b'{"results": ["110101199001011234"]}', "结果缺少证件号码"),
    (json.dumps({"results": [{"id_number": KNOWN[0], "card_status": "正常"}]}).encode(), "结果缺少就业状态、社保缴纳"),
])
def test_malformed_answers(body, text):
    with Server(answering(body)) as url:
        failed_everyone(HttpProvider(url).lookup(KNOWN[:3]), KNOWN[:3], text)


@pytest.mark.parametrize("status, text", [(500, "社保状态接口出错（HTTP 500）"),
                                          (404, "社保状态接口拒绝了查询请求（HTTP 404）"),
                                          (403, "社保状态接口拒绝访问（HTTP 403）")])
def test_http_errors(status, text):
    with Server(answering(b'{"error": "x"}', status)) as url:
        failed_everyone(HttpProvider(url).lookup(KNOWN[:2]), KNOWN[:2], text)


def test_an_answer_far_too_large_is_refused():
    with Server(answering(b'{"results": [' + b" " * 50_000 + b"]}")) as url:
        failed_everyone(HttpProvider(url).lookup(KNOWN[:1]), KNOWN[:1], "返回的数据过大")


def test_a_connection_closed_without_an_answer():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def close_at_once():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()
    thread = threading.Thread(target=close_at_once, daemon=True)
    thread.start()
    try:
        results = HttpProvider(f"http://127.0.0.1:{port}/", timeout=3).lookup(KNOWN[:2])
    finally:
        thread.join(3)
        listener.close()
    failed_everyone(results, KNOWN[:2], "社保状态接口连接中断（连接被对方关闭），请稍后重试")


def test_an_unknown_status_word_makes_that_field_unclear_for_that_person_only():
    records = protocol_records()
    records[KNOWN[0]] = dict(records[KNOWN[0]], card_status="冻结")
    records[KNOWN[1]] = dict(records[KNOWN[1]], employment=None, status_date="2026-13-01")
    with Server(make_app(FileRegistry(records))) as url:
        results = HttpProvider(url).lookup(KNOWN[:3])
    first, second = results[KNOWN[0]], results[KNOWN[1]]
    assert (first.card_status, first.employment, first.insurance, first.ok) == ("不明确", "在职", "已缴纳", True)
    assert first.reason.startswith("社保卡状态“冻结”不是可识别的状态（可选：正常、封存、挂失、锁定、注销、不明确）")
    assert (second.card_status, second.employment, second.status_date, second.ok) == ("正常", "不明确", None, True)
    assert "就业状态“”不是可识别的状态" in second.reason and "状态日期“2026-13-01”格式不正确" in second.reason
    assert results[KNOWN[2]] == expected(KNOWN[2])


def test_an_unknown_word_in_the_registry_table_is_unclear_too():
    StatusRecord.create(id_number=KNOWN[0], name="甲", card_status="冻结", employment="在职", insurance="已缴纳",
                        status_date=DAY)
    r = RegistryProvider().lookup([KNOWN[0]])[KNOWN[0]]
    assert (r.card_status, r.employment, r.ok) == ("不明确", "在职", True) and "冻结" in r.reason


def test_numbers_not_asked_for_are_ignored():
    body = json.dumps({"results": [dict(protocol_records()[KNOWN[0]]), dict(protocol_records()[KNOWN[5]])]})
    with Server(answering(body.encode())) as url:
        results = HttpProvider(url).lookup([KNOWN[0], UNKNOWN[0]])
    assert results == {KNOWN[0]: expected(KNOWN[0]), UNKNOWN[0]: expected(UNKNOWN[0])}


# --- the reference server ----------------------------------------------------------------------
def status_rows():
    return [[n, name, c, e, p, DAY.isoformat()] for n, name, c, e, p in ROWS]


def test_reference_server_reads_an_xlsx(tmp_path):
    book = Workbook()
    book.active.append(STATUS_COLUMNS)
    for row in status_rows():
        book.active.append(row)
    book.active.append([UNKNOWN[0][:-1] + ("0" if UNKNOWN[0][-1] != "0" else "1"), "错", "正常", "在职", "已缴纳",
                        DAY.isoformat()])  # a wrong check digit: left out, as the import would
    path = tmp_path / "registry.xlsx"
    book.save(path)
    registry, rejected = FileRegistry.load(path)
    assert registry.count() == len(ROWS) and [r for r, _ in rejected] == [len(ROWS) + 2]
    with Server(make_app(registry)) as url:
        results = HttpProvider(url).lookup(KNOWN + UNKNOWN)
    assert results == {n: expected(n) for n in KNOWN + UNKNOWN}


def test_reference_server_reads_a_gbk_csv(tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes("\n".join(",".join(r) for r in [STATUS_COLUMNS, *status_rows()]).encode("gbk"))
    registry, rejected = FileRegistry.load(path)
    assert rejected == []
    with Server(make_app(registry, token="t")) as url:
        assert HttpProvider(url, auth_header="Bearer t").lookup(KNOWN) == {n: expected(n) for n in KNOWN}


def test_reference_server_from_the_database(committed):
    StatusRecord.insert_many([{"id_number": n, "name": name, "card_status": c, "employment": e, "insurance": p,
                               "status_date": DAY} for n, name, c, e, p in ROWS]).execute()
    with Server(make_app(DatabaseRegistry())) as url:
        results = HttpProvider(url, batch_size=4).lookup(KNOWN + UNKNOWN)
    assert results == {n: expected(n) for n in KNOWN + UNKNOWN}


def test_reference_server_refuses_bad_requests():
    from werkzeug.test import Client
    client = Client(make_app(FileRegistry(protocol_records()), token="xyz"))
    auth = {"Authorization": "Bearer xyz"}
    assert client.post("/", data="{}").status_code == 401
    assert client.get("/", headers=auth).json == {"records": len(ROWS)}
    assert client.post("/", data="not json", headers=auth).status_code == 400
    assert client.post("/", json={"id_numbers": [1, 2]}, headers=auth).status_code == 400
    assert client.post("/", json={"id_numbers": ["x"] * 10_001}, headers=auth).status_code == 413
    assert client.put("/", json={}, headers=auth).status_code == 405
    answer = client.post("/", json={"id_numbers": [KNOWN[2], UNKNOWN[0]]}, headers=auth).json
    assert answer == {"results": [protocol_records()[KNOWN[2]]]}


def test_reference_server_command_refuses_a_bad_file(tmp_path, capsys):
    path = tmp_path / "wrong.csv"
    path.write_text("姓名,电话\n甲,1\n")
    with pytest.raises(SystemExit) as exit_:
        main(["--file", str(path), "--port", "0"])
    assert exit_.value.code == 2
    assert "文件缺少必需的列：证件号码" in capsys.readouterr().err


# --- configuration -----------------------------------------------------------------------------
def test_provider_from_config(monkeypatch):
    for key in ("STATUS_PROVIDER", "STATUS_HTTP_URL", "STATUS_HTTP_TIMEOUT", "STATUS_HTTP_BATCH", "STATUS_HTTP_AUTH"):
        monkeypatch.delenv(key, raising=False)
    assert isinstance(provider_from_config({}), RegistryProvider)
    assert isinstance(provider_from_config({"STATUS_PROVIDER": "registry"}), RegistryProvider)
    http = provider_from_config({"STATUS_PROVIDER": "http", "STATUS_HTTP_URL": "http://bureau.local/status",
                                 "STATUS_HTTP_TIMEOUT": 2.5, "STATUS_HTTP_BATCH": 200, "STATUS_HTTP_AUTH": "Bearer a"})
    assert (http.url, http.timeout, http.batch_size, http.auth_header) == ("http://bureau.local/status", 2.5, 200,
                                                                           "Bearer a")
    monkeypatch.setenv("STATUS_PROVIDER", "http")
    monkeypatch.setenv("STATUS_HTTP_URL", "https://env.local/s")
    monkeypatch.setenv("STATUS_HTTP_BATCH", "50")
    env = provider_from_config(None)
    assert (env.url, env.timeout, env.batch_size, env.auth_header) == ("https://env.local/s", 10.0, 50, "")
    with pytest.raises(ValueError, match="STATUS_PROVIDER 应为 registry 或 http"):
        provider_from_config({"STATUS_PROVIDER": "soap"})
    monkeypatch.delenv("STATUS_HTTP_URL")
    with pytest.raises(ValueError, match="须设置 STATUS_HTTP_URL"):
        provider_from_config({"STATUS_PROVIDER": "http", "STATUS_HTTP_URL": ""})
    with pytest.raises(ValueError, match="http:// 或 https://"):
        provider_from_config({"STATUS_HTTP_URL": "file:///etc/passwd"})
    with pytest.raises(ValueError, match="STATUS_HTTP_BATCH 应为整数"):
        provider_from_config({"STATUS_HTTP_URL": "http://x/", "STATUS_HTTP_BATCH": "many"})


def test_the_app_reads_the_settings(app):
    assert app.config["STATUS_PROVIDER"] == "registry"
    assert (app.config["STATUS_HTTP_TIMEOUT"], app.config["STATUS_HTTP_BATCH"]) == (10.0, 500)
    assert isinstance(provider_from_config(app.config), RegistryProvider)


def test_a_wrong_setting_stops_the_app_at_start(app, monkeypatch):
    from app import create_app
    monkeypatch.delenv("STATUS_HTTP_URL", raising=False)
    with pytest.raises(ValueError, match="须设置 STATUS_HTTP_URL"):  # before any database or queue is set up
        create_app({"STATUS_PROVIDER": "http", "STATUS_HTTP_URL": "", "STORAGE_DIR": os.environ["STORAGE_DIR"]})
