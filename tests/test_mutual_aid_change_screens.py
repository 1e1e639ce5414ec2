"""信息变更申请 (the unit) and 信息变更审核 (the centre's queue) as screens (issue 18 items 2 and 10):
a general change applies at once and shows in 变更记录, a name change uploads its proof (a file that
is not an image or PDF is refused in Chinese, nothing written), 撤回; the centre filters by 状态 /
单位名称 / 参保编码 and decides, the unit reads the reason and gets a 消息提醒; 市总工会 and the
districts look and write nothing; another unit's request is 404. Plain requests and htmx ones."""

import io

from models.audit import AuditLog
from models.messages import for_account
from models.mutual_aid import change_ops
from models.mutual_aid.codes import ACCEPTED, APPLIED, DECLINED, WAITING, WITHDRAWN, CodeChange, InsuranceCode
from tests import factories
from tests.factories.mutual_aid import applied, approved_code, png, recovery_request
from tests.helpers import queries, soup

BASE = "/mutual-aid/changes"
HX = {"HX-Request": "true"}
NEW_NAME = "上海互助新名有限公司"


def unit_client(app, code):
    client = app.test_client()
    factories.login(client, code.account)
    return client


def name_form(name=NEW_NAME, files=(("核准通知书.png", png()),)):
    return {"unit_name": name, "files": [(io.BytesIO(data), file_name) for file_name, data in files]}


def test_the_unit_changes_its_address_and_handler_at_once(app, city):
    code = approved_code(city, 1)
    client = unit_client(app, code)
    page = soup(client.get(f"{BASE}/"))
    assert page.select_one("h1").get_text() == "信息变更申请"
    assert page.select_one("#current-name").get_text() == "上海互助测试1有限公司"
    assert page.select_one("#g-address")["value"] == "上海市黄浦区测试路1号"  # the form starts from today's values
    assert {label.get_text() for label in page.select("#general-form label")} == {
        "单位地址", "单位邮箱", "经办人姓名", "经办人手机", "短信验证码", "经办人邮箱"}
    response = client.post(f"{BASE}/general", data={"address": "上海市徐汇区新址9号", "handler_name": "钱经办",
                                                    "handler_mobile": "13800000001"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/")
    page = soup(client.get(f"{BASE}/"))
    assert "信息变更已生效：单位地址、经办人姓名" in page.get_text()
    assert page.select_one("#current-address").get_text() == "上海市徐汇区新址9号"
    assert page.select_one("#current-handler").get_text() == "钱经办，13800000001，handler1@example.com"
    row = page.select_one("#change-history tbody tr")
    assert [td.get_text(" ", strip=True) for td in row.select("td")][:1] == ["一般信息变更"]
    assert row.select("td")[3].get_text() == APPLIED
    assert InsuranceCode.get_by_id(code.id).address == "上海市徐汇区新址9号"
    detail = soup(client.get(row.select_one("a")["href"]))  # 查看: the 操作日志 with old → new
    assert "上海市黄浦区测试路1号 → 上海市徐汇区新址9号" in detail.select_one("#audit-log").get_text()
    assert detail.select_one("#decide") is None


def test_a_refused_general_change_names_the_field_and_changes_nothing(app, city):
    code = approved_code(city, 1)
    client = unit_client(app, code)
    for headers in ({}, HX):
        response = client.post(f"{BASE}/general", data={"email": "no-at", "address": "新址"}, headers=headers)
        assert response.status_code == 422
        page = soup(response)
        assert page.select_one("#g-email")["aria-invalid"] == "true"
        assert page.select_one("#g-email-error").get_text() == "单位邮箱格式不正确"
        assert page.select_one("#g-address")["value"] == "新址"  # what was typed stays
    same = client.post(f"{BASE}/general", data={"address": "上海市黄浦区测试路1号"})
    assert same.status_code == 422 and "没有需要变更的信息" in soup(same).select_one("#general-error").get_text()
    assert CodeChange.select().count() == 0


def test_the_unit_asks_for_a_new_name_with_proof_then_withdraws(app, city):
    code = approved_code(city, 1)
    client = unit_client(app, code)
    text = client.post(f"{BASE}/name", data=name_form(files=[("证明.png", b"plain text")]),
                       content_type="multipart/form-data")
    assert text.status_code == 422
    assert "只能是图片（JPG/PNG）或PDF文件" in soup(text).select_one("#name-error").get_text()
    none = client.post(f"{BASE}/name", data=name_form(files=[]), content_type="multipart/form-data")
    assert none.status_code == 422 and "加盖公章" in soup(none).select_one("#n-files-error").get_text()
    assert soup(none).select_one("#n-unit_name")["value"] == NEW_NAME
    assert CodeChange.select().count() == 0
    response = client.post(f"{BASE}/name", data=name_form(), content_type="multipart/form-data")
    assert response.status_code == 302
    page = soup(client.get(f"{BASE}/"))
    assert f"单位名称变更申请「{NEW_NAME}」待审核" in page.select_one("#waiting-change").get_text()
    assert page.select_one("#name-form") is None  # one waiting per code: no second form
    change = change_ops.waiting_of(code)
    detail = soup(client.get(f"{BASE}/{change.id}"))
    link = detail.select_one("#change-file-list a")
    assert link.get_text() == "核准通知书.png" and client.get(link["href"]).mimetype == "image/png"
    assert client.post(f"{BASE}/{change.id}/withdraw").status_code == 302
    assert CodeChange.get_by_id(change.id).status == WITHDRAWN
    assert soup(client.get(f"{BASE}/")).select_one("#name-form") is not None


def test_the_centre_filters_and_decides_and_the_unit_reads_the_reason(app, city, as_role):
    code, other = approved_code(city, 1), approved_code(city, 2)
    first = change_ops.request_name_change(code, code.account, NEW_NAME, [("a.png", png())])
    change_ops.change_general(other, other.account, {"address": "别处"})
    centre = as_role("centre")
    queue = soup(centre.get(f"{BASE}/review"))
    assert len(queue.select("#rows tbody tr")) == 2
    assert queue.select_one("#rows tbody tr td.name").get_text() == "上海互助测试1有限公司"  # waiting first
    one, two = "上海互助测试1有限公司", "上海互助测试2有限公司"
    for query, expected in (({"status": WAITING}, [one]), ({"status": APPLIED}, [two]), ({"name": "新名"}, [one]),
                            ({"code": other.code.lower()}, [two]), ({"kind": "单位名称变更"}, [one]),
                            ({"status": "乱写"}, [one, two])):
        rows = soup(centre.get(f"{BASE}/review", query_string=query, headers=HX)).select("tbody tr td.name")
        assert [td.get_text() for td in rows] == expected, query
    detail = soup(centre.get(f"{BASE}/{first.id}"))
    assert detail.select_one("#accept-change").get_text() == "审核通过"
    assert centre.get(detail.select_one("#change-file-list a")["href"]).status_code == 200
    blank = centre.post(f"{BASE}/{first.id}/decline", data={"reason": " "})
    assert blank.status_code == 422 and "须填写原因" in soup(blank).select_one("#decide-error").get_text()
    assert centre.post(f"{BASE}/{first.id}/decline", data={"reason": "证明材料未盖章"}).status_code == 302
    unit = unit_client(app, code)
    history = soup(unit.get(f"{BASE}/")).select_one("#change-history tbody tr")
    assert history.select("td")[3].get_text() == DECLINED
    assert history.select("td")[4].get_text() == "审核不通过原因：证明材料未盖章"
    assert "证明材料未盖章" in for_account(code.account).first().body
    again = centre.post(f"{BASE}/{first.id}/accept")
    assert again.status_code == 409 and "未通过" in soup(again).select_one("#decide-error").get_text()

    second = change_ops.request_name_change(code, code.account, NEW_NAME, [("a.png", png())])
    assert centre.post(f"{BASE}/{second.id}/accept").status_code == 302
    assert CodeChange.get_by_id(second.id).status == ACCEPTED
    assert soup(unit.get(f"{BASE}/")).select_one("#current-name").get_text() == NEW_NAME


def test_city_and_districts_look_and_write_nothing_and_units_see_only_their_own(app, city, as_role):
    code = approved_code(city, 1)  # in grassroots1: district1 / secondary1's subtree
    change = change_ops.request_name_change(code, code.account, NEW_NAME, [("a.png", png())])
    town = as_role("city")
    clients = {(role, which): as_role(role, which) for role in ("district", "secondary") for which in (0, 1)}
    neighbour = as_role("grassroots")  # another account of the same union
    before = AuditLog.select().count()
    assert len(soup(town.get(f"{BASE}/review")).select("#rows tbody td.name")) == 1
    assert soup(town.get(f"{BASE}/{change.id}")).select_one("#decide") is None
    assert town.post(f"{BASE}/{change.id}/accept").status_code == 403
    for role, which, rows in (("district", 0, 1), ("secondary", 0, 1), ("district", 1, 0), ("secondary", 1, 0)):
        client = clients[(role, which)]
        assert len(soup(client.get(f"{BASE}/review")).select("#rows tbody td.name")) == rows, (role, which)
        assert client.get(f"{BASE}/{change.id}").status_code == (200 if rows else 404), (role, which)
        assert client.post(f"{BASE}/{change.id}/accept").status_code == 403
        assert client.get(f"{BASE}/{change.id}/file?n=1").status_code == 403  # the proof: unit and centre only
    assert neighbour.get(f"{BASE}/{change.id}").status_code == 404
    assert neighbour.post(f"{BASE}/{change.id}/withdraw").status_code == 404
    assert AuditLog.select().count() == before
    assert CodeChange.get_by_id(change.id).status == WAITING


def test_a_unit_without_an_approved_code_is_told_to_apply_first(app, city, as_role):
    client = as_role("grassroots")
    assert "尚无参保编码" in soup(client.get(f"{BASE}/")).select_one("#no-code").get_text()
    assert client.post(f"{BASE}/general", data={"address": "x"}).status_code == 409
    code = applied(city, 2)
    waiting = unit_client(app, code)
    assert "参保编码申请申请中" in soup(waiting.get(f"{BASE}/")).select_one("#no-code").get_text()
    refused = waiting.post(f"{BASE}/general", data={"address": "新址"})
    assert refused.status_code == 409 and "审核通过后才能办理" in soup(refused).get_text()
    assert as_role("centre").get(f"{BASE}/").status_code == 403


def test_the_queues_query_the_same_whatever_their_length(app, city, as_role):
    centre = as_role("centre")

    def count(url):
        with queries() as seen:
            assert centre.get(url).status_code == 200
        return len(seen)
    for n in (1, 2):
        code = approved_code(city, n)
        change_ops.change_general(code, code.account, {"address": f"新址{n}"})
        recovery_request(n)
        if n == 1:
            small = (count(f"{BASE}/review"), count("/account-recovery/review"))
    assert (count(f"{BASE}/review"), count("/account-recovery/review")) == small
