"""The 建议清册 over HTTP (issue 18 item 5, the status-provider pattern): a RegistrySource with the
local tables and a remote endpoint (AID_REGISTRY_URL), the reference server answering the
mutual-aid protocol, match_entries / linked_payers / the roster upload going through the configured
source — and a remote that fails giving a Chinese reason and changing nothing."""

import socket
from datetime import date

import pytest
from werkzeug.wrappers import Request, Response

from models.base import DomainError
from models.jobs import DONE, FAILED, Job
from models.mutual_aid import registry, roster_ops
from models.mutual_aid.batches import TO_CHECK, RosterEntry
from models.mutual_aid.registry import LocalRegistry, RegistryPayer, RegistryUnit, source_from_config
from models.mutual_aid.registry_source import HttpRegistry, Payer
from tests import factories
from tests.factories import tablefiles
from tests.factories.memberfiles import id_number
from tests.factories.mutual_aid import approved_code, batch_in, person
from tests.helpers import upload_job
from tools.status_server import AidDatabaseRegistry, AidFileRegistry, FileRegistry, Server, make_app

HEADER = ["姓名*", "证件类型*", "证件号码*", "性别", "出生日期", "是否有社保"]


def bureau(token: str = "") -> Server:
    payers = {id_number(1): {"id_number": id_number(1), "social_code": "SB001", "name": "远程社保名",
                             "employment": "退休"},
              id_number(2): {"id_number": id_number(2), "social_code": "SB002", "name": "参保人2",
                             "employment": "在职"}}
    units = {"SB001": {"social_code": "SB001", "unit_name": "甲", "payers": 5},
             "SB002": {"social_code": "SB002", "unit_name": "乙", "payers": 2}}
    return Server(make_app(FileRegistry({}), token=token, aid=AidFileRegistry(payers, units)))


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/aid-registry"


def test_the_settings_pick_the_source():
    assert isinstance(source_from_config({}), LocalRegistry)
    remote = source_from_config({"AID_REGISTRY_URL": "http://bureau.example/aid", "AID_REGISTRY_BATCH": "50",
                                 "AID_REGISTRY_AUTH": "Bearer x"})
    assert isinstance(remote, HttpRegistry) and (remote.batch_size, remote.auth_header) == (50, "Bearer x")
    for bad in ({"AID_REGISTRY_URL": "ftp://x"}, {"AID_REGISTRY_URL": "http://x", "AID_REGISTRY_TIMEOUT": "soon"}):
        with pytest.raises(ValueError):
            source_from_config(bad)


def test_the_reference_server_answers_payers_and_units():
    server = bureau()
    with server:
        remote = HttpRegistry(server.aid_url, batch_size=1)  # one number a request: the batches merge
        assert remote.payers([id_number(1), id_number(2), id_number(3)]) == {
            id_number(1): Payer("SB001", "远程社保名", "退休"), id_number(2): Payer("SB002", "参保人2", "在职")}
        assert remote.unit_payers(["SB001", "SB002", "SB404"]) == {"SB001": 5, "SB002": 2}


def test_match_entries_and_linked_payers_go_through_the_configured_remote(app, city, monkeypatch):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [person(1), person(2), person(3)], code.account)
    RegistryPayer.create(social_code="LOCAL", id_number=id_number(3), name="本地名")  # not asked: remote set
    server = bureau()
    with server, app.app_context():
        monkeypatch.setitem(app.config, "AID_REGISTRY_URL", server.aid_url)
        assert registry.match_entries(batch) == 2  # 1 and 2 the remote has; 3 it does not
        assert registry.linked_payers(batch) == (7, ["SB001", "SB002"])
    one = RosterEntry.get((RosterEntry.batch == batch.id) & (RosterEntry.id_number == id_number(1)))
    assert (one.name, one.employment, one.social_code) == ("远程社保名", "退休", "SB001")
    three = RosterEntry.get((RosterEntry.batch == batch.id) & (RosterEntry.id_number == id_number(3)))
    assert not three.registry_matched


@pytest.mark.parametrize("how, message", [
    ("refused", "无法连接建议清册接口（连接被拒绝），请稍后重试；本次未做任何修改"),
    ("token", "建议清册接口拒绝访问（HTTP 401），请检查接口授权设置（AID_REGISTRY_AUTH）；本次未做任何修改"),
    ("broken", "建议清册接口返回的数据格式不正确（不是 JSON）；本次未做任何修改"),
    ("error", "建议清册接口出错（HTTP 500），请稍后重试；本次未做任何修改"),
])
def test_a_failing_remote_says_why_in_chinese_and_changes_nothing(city, how, message):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [person(1), person(2)], code.account)
    before = [(e.name, e.registry_matched, e.employment) for e in RosterEntry.select().order_by(RosterEntry.id)]

    @Request.application
    def broken(request):
        return Response("<html>oops</html>" if how == "broken" else "{}", status=500 if how == "error" else 200)
    server = bureau(token="secret") if how == "token" else Server(broken)
    with server:
        url = closed_port_url() if how == "refused" else server.aid_url if how == "token" else server.url
        source = HttpRegistry(url, timeout=5)
        with pytest.raises(DomainError) as failed:
            registry.match_entries(batch, source=source)
        assert failed.value.message == message
        with pytest.raises(DomainError, match="本次未做任何修改"):
            source.unit_payers(["SB001"])  # rule 3's payers: the same refusal
    assert [(e.name, e.registry_matched, e.employment) for e in RosterEntry.select().order_by(RosterEntry.id)] == \
        before


def test_the_roster_upload_matches_through_the_remote_and_a_remote_down_fails_it_until_retried(app, city,
                                                                                              monkeypatch):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    client = app.test_client()
    factories.login(client, code.account)
    rows = [[f"参保人{i}", "居民身份证", id_number(i), "", "", "否"] for i in range(1, 4)]
    data, name = tablefiles.write([HEADER] + rows, "xlsx")
    monkeypatch.setitem(app.config, "AID_REGISTRY_URL", closed_port_url())
    job = upload_job(client, f"/mutual-aid/batches/{batch.id}/upload", data, name)
    assert job.status == FAILED
    assert job.error_list == ["无法连接建议清册接口（连接被拒绝），请稍后重试；本次未做任何修改"]
    assert RosterEntry.select().where(RosterEntry.batch == batch.id).count() == 0
    server = bureau()
    with server:
        monkeypatch.setitem(app.config, "AID_REGISTRY_URL", server.aid_url)
        client.post(f"/jobs/{job.id}/retry")  # 重试: resumes from the staged rows
    job = Job.get_by_id(job.id)
    assert job.status == DONE and job.result_data["matched"] == 2
    one = RosterEntry.get((RosterEntry.batch == batch.id) & (RosterEntry.id_number == id_number(1)))
    assert (one.name, one.imported_name, one.employment) == ("远程社保名", "参保人1", "退休")


def test_the_reference_server_answers_from_the_database_tables(committed):
    RegistryPayer.create(social_code="SB001", id_number=id_number(1), name="库名", employment="在职")
    RegistryUnit.create(social_code="SB001", payers=9)
    server = Server(make_app(FileRegistry({}), aid=AidDatabaseRegistry()))
    with server:
        remote = HttpRegistry(server.aid_url)
        assert remote.payers([id_number(1), id_number(2)]) == {id_number(1): Payer("SB001", "库名", "在职")}
        assert remote.unit_payers(["SB001"]) == {"SB001": 9}


def test_the_remote_is_never_asked_inside_a_transaction(app, city, monkeypatch):
    """获取“会员库”名单, 编辑 and 清册提交 ask the remote 建议清册 before their transaction (which holds
    the batch row, and on SQLite the write lock), never while it is open — and still use its answer."""
    from contextlib import contextmanager

    from models import db
    from models.mutual_aid import roster_check, roster_edit
    from tests.factories.mutual_check import open_now
    open_now()
    code = approved_code(city, 1)
    org = city.orgs["grassroots1"]
    factories.make_member(org, id_number=id_number(1), name="参保人1")
    factories.make_member(org, id_number=id_number(2), name="参保人2")
    batch = batch_in(code, TO_CHECK)
    open_now_, asked = [0], []  # transactions (db.atomic blocks) the code has open
    real_atomic = type(db).atomic

    @contextmanager
    def counted_atomic(self, *args, **kwargs):
        with real_atomic(self, *args, **kwargs) as txn:
            open_now_[0] += 1
            try:
                yield txn
            finally:
                open_now_[0] -= 1
    monkeypatch.setattr(type(db), "atomic", counted_atomic)

    def watching(method):
        def call(self, items):
            asked.append((method.__name__, open_now_[0]))
            return method(self, items)
        return call
    monkeypatch.setattr(HttpRegistry, "payers_batch", watching(HttpRegistry.payers_batch))
    monkeypatch.setattr(HttpRegistry, "units_batch", watching(HttpRegistry.units_batch))
    server = bureau()
    with server, app.app_context():
        monkeypatch.setitem(app.config, "AID_REGISTRY_URL", server.aid_url)
        assert roster_edit.add_members(batch, code.account).added == 2
        one = RosterEntry.get((RosterEntry.batch == batch.id) & (RosterEntry.id_number == id_number(1)))
        assert (one.name, one.social_code) == ("远程社保名", "SB001")  # the remote's answer went in
        other = roster_ops.add_entries(batch, [person(9, id_type="护照", id_number="E1234567", gender="男",
                                                      birth_date=date(1990, 1, 1))], code.account)
        assert other == 1
        passport = RosterEntry.get(RosterEntry.id_number == "E1234567")
        roster_edit.edit_entry(batch, passport, {"name": "新名字", "gender": "男", "birth_date": date(1990, 1, 1)},
                               code.account)
        with pytest.raises(DomainError, match="清册提交失败"):  # a retiree (参保人1 退休) blocks it
            roster_check.submit(batch, code.account, True)
    assert {name for name, _ in asked} == {"payers_batch", "units_batch"}
    assert [depth for _, depth in asked] == [0] * len(asked), asked
