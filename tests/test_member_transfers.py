"""会员转出审核: the TransferRequest workflow (every state × action, stale pages, racing deciders),
who may decide, what approval / rejection / withdrawal do to the memberships and the counters,
the 消息提醒 to the other side, scope, the list's 方向 and the batch approval."""

import threading
from urllib.parse import unquote

from models import db
from models.base import DomainError, today
from models.members import counts as stats
from models.members import member_review, people
from models.members.people import NORMAL, TRANSFER_IN, TRANSFERRED, Membership, TransferRequest
from models.messages import Message
from tests import factories
from tests.factories.members import make_transfer, transfer_in
from tests.helpers import soup
from tests.workflow_helpers import audit_rows, check_every_pair, check_stale_object_refused, race_transition

NOT_DECIDER = "只有转出单位或其上级工会可以审核（申请单位不能审核自己的申请）"


def transfer_out(city, to="direct1"):
    """转出: grassroots1 files the transfer of one of its members."""
    m = factories.make_member(city.orgs["grassroots1"])
    return member_review.request_transfer(m, city.orgs[to], city.account("grassroots", 0), "已离职")


def fresh(obj):
    return type(obj).get_or_none(type(obj).id == obj.id)


def target_of(request):
    """The destination's 转入审核中 membership now (None once removed)."""
    return Membership.get_or_none(Membership.id == request.target_id)


def messages_to(org, kind="会员转出审核"):
    return list(Message.select().where((Message.org == org.id) & (Message.kind == kind)))


def current_members(org):
    return Membership.select().where((Membership.org == org.id) & (Membership.status == NORMAL)).count()


# --- the workflow table -------------------------------------------------------------------------
def test_every_state_action_pair(city):
    allowed, forbidden = check_every_pair(TransferRequest, lambda state: make_transfer(city.orgs["grassroots1"], state),
                                          account=city.account("district"), reason="材料不全")
    assert (allowed, forbidden) == (3, 4 * 3 - 3)


def test_a_stale_page_cannot_decide_a_withdrawn_request(city):
    request = make_transfer(city.orgs["grassroots1"])
    check_stale_object_refused(request, "approve", moved_by_other_to="已撤回")


def test_two_threads_racing_one_transition_exactly_one_wins(committed):
    city = factories.make_city()
    for _ in range(3):
        request = make_transfer(city.orgs["grassroots1"])
        outcomes = race_transition(TransferRequest, request.id, "approve")
        assert sorted(outcomes) == ["ok", "该记录的状态已被他人修改，请刷新页面后重试"], outcomes
        assert [(r.from_state, r.to_state) for r in audit_rows(request)] == [("待审核", "已通过")]


def decide_together(request_id, deciders):
    """Each (account, action) decides the same committed request from its own thread (own
    connection), released together; returns "ok" or the refusal per decider."""
    barrier = threading.Barrier(len(deciders))
    outcomes = [None] * len(deciders)

    def run(i):
        account, action = deciders[i]
        try:
            loaded = TransferRequest.get_by_id(request_id)
            barrier.wait()
            member_review.decide_transfer(loaded, action, account, note="同时审核")
            outcomes[i] = "ok"
        except DomainError as exc:
            outcomes[i] = exc.message
        except Exception as exc:  # noqa: BLE001 — e.g. "database is locked": shown in the assertion
            outcomes[i] = f"error: {exc!r}"
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(deciders))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_deciders_at_once_leave_one_consistent_outcome(committed):
    """The source union approves while the district rejects: one decision wins, and the
    memberships follow that one."""
    city = factories.make_city()
    deciders = [(city.account("grassroots", 0), "approve"), (city.account("district", 0), "reject")]
    for _ in range(3):
        request = transfer_in(city)
        outcomes = decide_together(request.id, deciders)
        assert outcomes.count("ok") == 1, outcomes
        assert "该记录的状态已被他人修改，请刷新页面后重试" in outcomes, outcomes
        decided = fresh(request)
        source, target = fresh(request.source), target_of(request)
        if decided.status == "已通过":
            assert outcomes[0] == "ok"
            assert (source.status, target.status) == (TRANSFERRED, NORMAL)
        else:
            assert (outcomes[1], decided.status) == ("ok", "已驳回")
            assert (source.status, target) == (NORMAL, None)


# --- who decides --------------------------------------------------------------------------------
def test_when_the_destination_filed_the_source_and_its_superiors_decide(city, as_role):
    request = transfer_in(city)
    assert request.can_decide(city.account("grassroots", 0))  # the source union
    assert request.can_decide(city.account("secondary", 0))  # its parent
    assert request.can_decide(city.account("district", 0))  # its district
    assert not request.can_decide(city.account("grassroots", 2))  # the filer, never
    assert not request.can_decide(city.account("district", 1))
    filer = as_role("grassroots", 2).post(f"/members/transfers/{request.id}/approve")
    assert filer.status_code == 403
    assert NOT_DECIDER in soup(filer).select_one(".refusal").get_text()
    assert fresh(request).status == "待审核"
    assert as_role("district", 1).post(f"/members/transfers/{request.id}/approve").status_code == 404
    assert as_role("secondary").post(f"/members/transfers/{request.id}/approve").status_code == 302
    assert fresh(request).status == "已通过"


def test_when_the_source_filed_only_its_superiors_decide(city, as_role):
    request = transfer_out(city)
    assert not request.can_decide(city.account("grassroots", 0))  # filed it
    assert not request.can_decide(city.account("grassroots", 2))  # the destination is not the source
    assert request.can_decide(city.account("secondary", 0))
    assert request.can_decide(city.account("district", 0))
    page = soup(as_role("grassroots").get(f"/members/transfers/{request.id}"))
    assert page.select_one("#decide") is None  # no decision buttons for the filer
    assert page.find("button", string="撤回") is not None
    own = as_role("grassroots").post(f"/members/transfers/{request.id}/approve")
    assert own.status_code == 403
    assert fresh(request).status == "待审核"


def test_another_districts_transfer_is_out_of_scope(city, as_role):
    request = transfer_in(city)
    outsider = as_role("district", 1)
    assert outsider.get(f"/members/transfers/{request.id}").status_code == 404
    for action in ("approve", "reject", "withdraw"):
        assert outsider.post(f"/members/transfers/{request.id}/{action}", data={"note": "x"}).status_code == 404
    assert fresh(request).status == "待审核"
    assert not soup(outsider.get("/members/transfers?status=")).select("table.transfers tbody tr[id]")


def test_a_transfer_across_districts_is_seen_by_both_and_decided_by_the_source_side(city, as_role):
    request = transfer_in(city, destination=("grassroots2", 1))
    destination_district = as_role("district", 1)
    page = soup(destination_district.get(f"/members/transfers/{request.id}"))
    assert page.select_one("#transfer-status").get_text() == "待审核"
    assert page.select_one("#decide") is None
    assert destination_district.post(f"/members/transfers/{request.id}/approve").status_code == 403
    assert as_role("district").post(f"/members/transfers/{request.id}/approve").status_code == 302
    assert stats.member_total(city.orgs["district1"].id) == 0
    assert stats.member_total(city.orgs["district2"].id) == 1


# --- what a decision does ----------------------------------------------------------------------
def test_approval_moves_the_member_keeps_the_number_and_counts_exactly(city, as_role):
    request = transfer_in(city, member_no="3100000123", mobile="13600136000")
    source_union, destination = city.orgs["grassroots1"], city.orgs["direct1"]
    assert target_of(request).status == TRANSFER_IN
    assert (stats.member_total(source_union.id), stats.member_total(destination.id)) == (1, 0)

    response = as_role("grassroots").post(f"/members/transfers/{request.id}/approve", data={"note": "同意"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/members/transfers/{request.id}"
    source, target = fresh(request.source), target_of(request)
    assert (source.status, source.leave_reason, source.leave_date, source.member_no) == (
        TRANSFERRED, "转出", today(), None)
    assert (target.status, target.member_no, target.mobile) == (NORMAL, "3100000123", "13600136000")
    assert people.holding(request.person_id).id == target.id
    for org in (source_union, destination):
        assert stats.member_total(org.id) == current_members(org)
    assert (stats.member_total(source_union.id), stats.member_total(destination.id)) == (0, 1)
    assert stats.member_total(city.orgs["district1"].id) == 1
    decided = fresh(request)
    assert (decided.status, decided.note, decided.decided_by_id) == ("已通过", "同意", city.account("grassroots").id)
    # the filer (the destination) is told; the decider is not told about its own decision
    told = messages_to(destination)
    assert [m.title for m in told] == ["会员转移申请已通过"]
    assert "审核说明：同意" in told[0].body
    assert messages_to(source_union) == []


def test_rejection_needs_a_reason_removes_the_pending_row_and_keeps_the_member(city, as_role):
    request = transfer_in(city)
    client = as_role("district")
    refused = client.post(f"/members/transfers/{request.id}/reject", data={"note": "  "})
    assert refused.status_code == 422
    assert "须填写原因" in soup(refused).select_one(".refusal").get_text()
    assert fresh(request).status == "待审核" and target_of(request) is not None

    assert client.post(f"/members/transfers/{request.id}/reject", data={"note": "该会员未离职"}).status_code == 302
    decided = fresh(request)
    assert (decided.status, decided.note) == ("已驳回", "该会员未离职")
    assert target_of(request) is None
    assert Membership.get_by_id(request.source_id).status == NORMAL
    assert stats.member_total(city.orgs["grassroots1"].id) == 1
    assert stats.member_total(city.orgs["direct1"].id) == 0
    for org in ("direct1", "grassroots1"):  # both sides told, not the district that decided
        told = messages_to(city.orgs[org])
        assert [m.title for m in told] == ["会员转移申请被驳回"]
        assert "审核说明：该会员未离职" in told[0].body
    assert messages_to(city.orgs["district1"]) == []


def test_only_the_filer_withdraws(city, as_role):
    request = transfer_in(city)
    source_side = as_role("grassroots").post(f"/members/transfers/{request.id}/withdraw")
    assert source_side.status_code == 403
    assert "只有提出申请的单位可以撤回" in soup(source_side).select_one(".refusal").get_text()
    assert as_role("district").post(f"/members/transfers/{request.id}/withdraw").status_code == 403
    assert fresh(request).status == "待审核"
    assert as_role("grassroots", 2).post(f"/members/transfers/{request.id}/withdraw").status_code == 302
    assert fresh(request).status == "已撤回"
    assert target_of(request) is None
    assert Membership.get_by_id(request.source_id).status == NORMAL
    assert [m.title for m in messages_to(city.orgs["grassroots1"])] == ["会员转移申请已撤回"]
    # a decided request can no longer be decided
    late = as_role("grassroots").post(f"/members/transfers/{request.id}/approve")
    assert late.status_code == 409
    assert "当前状态为「已撤回」，不能执行「转出审核通过」" in soup(late).select_one(".refusal").get_text()


# --- the list ----------------------------------------------------------------------------------
def listed(client, **args):
    page = soup(client.get("/members/transfers", query_string=args))
    return {int(tr["id"].removeprefix("transfer-")) for tr in page.select("table.transfers tbody tr[id]")}


def test_the_list_by_direction_and_status(city, as_role):
    filed_by_destination = transfer_in(city)  # grassroots1 → direct1, filed by direct1
    filed_by_source = transfer_out(city)  # grassroots1 → direct1, filed by grassroots1
    incoming = transfer_in(city, source="direct2", destination=("grassroots1", 0))  # direct2 → grassroots1
    a, b, c = filed_by_destination.id, filed_by_source.id, incoming.id
    source = as_role("grassroots")
    assert listed(source) == {a, b, c}  # 待审核 by default
    assert listed(source, direction="review") == {a}
    assert listed(source, direction="in") == {c}
    assert listed(source, direction="out") == {a, b}
    district = as_role("district")
    assert listed(district, direction="review") == {a, b}
    assert listed(district, direction="in") == {a, b, c}
    assert listed(as_role("district", 1), direction="review") == {c}
    assert listed(as_role("grassroots", 1)) == set()  # grassroots2: none of these are its own

    assert district.post(f"/members/transfers/{a}/approve").status_code == 302
    assert listed(source) == {b, c}
    assert listed(source, status="已通过") == {a}
    assert listed(source, status="") == {a, b, c}


def test_list_columns_masking_and_buttons_plain_and_htmx(city, as_role):
    request = transfer_in(city)
    client = as_role("grassroots")
    page = soup(client.get("/members/transfers"))
    assert page.h1.get_text() == "会员转出审核"
    headers = [th.get_text() for th in page.select("table.transfers thead th")]
    assert headers == ["选择", "姓名", "证件号码", "转出单位", "转入单位", "申请单位", "转移原因", "申请时间",
                       "审核状态", "审核说明", "操作"]
    row = page.select_one(f"#transfer-{request.id}")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    number = request.person.id_number
    assert cells[2] == f"{number[:4]} **** {number[-4:]}"
    assert number not in page.get_text()
    assert cells[3:10] == ["测试区1街道甲公司工会委员会", "测试区1乙公司工会委员会", "测试区1乙公司工会委员会",
                           "工作调动", request.created_at.strftime("%Y-%m-%d %H:%M"), "待审核", "-"]
    assert row.select_one("input[type=checkbox][name=transfer]") is not None
    assert row.find("button", string="通过") is not None
    assert page.select_one(".pager-summary").get_text() == "显示第 1 到第 1 条记录，总共 1 条记录"
    filer_row = soup(as_role("grassroots", 2).get("/members/transfers")).select_one(f"#transfer-{request.id}")
    assert filer_row.find("button", string="通过") is None and filer_row.find("button", string="撤回") is not None

    fragment = client.get("/members/transfers?status=待审核", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    piece = soup(fragment)
    assert piece.find("html") is None and piece.select_one("#rows") is not None
    assert piece.select_one(f"#transfer-{request.id}") is not None


def test_approve_from_the_list_returns_to_the_list(city, as_role):
    request = transfer_in(city)
    back = "/members/transfers?status=待审核&direction=review"
    response = as_role("grassroots").post(f"/members/transfers/{request.id}/approve", data={"next": back})
    assert response.status_code == 302 and unquote(response.headers["Location"]) == back
    elsewhere = transfer_in(city)
    response = as_role("grassroots").post(f"/members/transfers/{elsewhere.id}/approve",
                                          data={"next": "https://evil.example/members/transfers"})
    assert response.headers["Location"] == f"/members/transfers/{elsewhere.id}"


def test_detail_shows_the_request_and_its_log(city, as_role):
    request = transfer_in(city)
    client = as_role("district")
    page = soup(client.get(f"/members/transfers/{request.id}"))
    assert request.person.id_number in page.select_one("dl.facts").get_text()  # in scope: full number
    assert page.select_one("#decide") is not None
    client.post(f"/members/transfers/{request.id}/reject", data={"note": "请核实工作单位"})
    for headers in ({}, {"HX-Request": "true"}):
        page = soup(client.get(f"/members/transfers/{request.id}", headers=headers))
        assert page.select_one("#transfer-status").get_text() == "已驳回"
        assert page.select_one("#decide") is None
        log = [[td.get_text(strip=True) for td in tr.select("td")] for tr in page.select("#audit-log tbody tr")]
        assert log[0][3:6] == ["转出审核驳回", "待审核 → 已驳回", "请核实工作单位"]


# --- 批量通过 -----------------------------------------------------------------------------------
def test_batch_approval_all_or_nothing(city, as_role):
    first, second = transfer_in(city), transfer_out(city)
    foreign = transfer_in(city, source="direct2", destination=("grassroots1", 0))  # visible, not decidable
    client = as_role("district")
    refused = client.post("/members/transfers/batch", data={"transfer": [first.id, second.id, foreign.id]})
    assert refused.status_code == 403
    assert foreign.person.name in soup(refused).select_one(".refusal").get_text()
    assert {fresh(r).status for r in (first, second, foreign)} == {"待审核"}
    assert client.post("/members/transfers/batch", data={"transfer": []}).status_code == 302  # said on the list

    response = client.post("/members/transfers/batch", data={"transfer": [first.id, second.id]})
    assert response.status_code == 302
    assert {fresh(r).status for r in (first, second)} == {"已通过"}
    assert current_members(city.orgs["direct1"]) == 2 == stats.member_total(city.orgs["direct1"].id)
    # another district's request id is not found at all
    other = transfer_in(city, source="direct2", destination=("grassroots2", 1))
    forged = client.post("/members/transfers/batch", data={"transfer": [other.id]})  # said on the list
    assert forged.status_code == 302 and forged.headers["Location"] == "/members/transfers"
    assert "勾选的转移申请不存在或已被处理" in client.get("/members/transfers").get_data(as_text=True)
    assert fresh(other).status == "待审核"


def test_the_city_and_the_centre_only_look(city, as_role):
    request = transfer_in(city)
    for role in ("city", "centre"):
        client = as_role(role)
        page = soup(client.get(f"/members/transfers/{request.id}"))
        assert page.select_one("#transfer-status").get_text() == "待审核"
        assert page.select_one("#decide") is None
        row = soup(client.get("/members/transfers")).select_one(f"#transfer-{request.id}")
        assert row.find("button", string="通过") is None
        assert client.post(f"/members/transfers/{request.id}/approve").status_code == 403
        assert client.post("/members/transfers/batch", data={"transfer": [request.id]}).status_code == 403
    assert fresh(request).status == "待审核"
    admin = as_role("admin")
    assert soup(admin.get(f"/members/transfers/{request.id}")).select_one("#decide") is not None
    assert admin.post(f"/members/transfers/{request.id}/approve").status_code == 302
    assert fresh(request).status == "已通过"


def test_the_city_sees_transfers_without_choosing_or_own_union_tabs(city, as_role):
    """市总工会 only looks: no 选择 column and no 待我审核 / 转入本单位 / 转出本单位 tabs (it has no union of
    its own in this list); a deciding union keeps both."""
    transfer = make_transfer(city.orgs["grassroots1"])
    page = soup(as_role("city").get("/members/transfers"))
    assert page.find("nav", attrs={"aria-label": "方向"}) is None
    headers = [th.get_text() for th in page.find("table", class_="transfers").find_all("th")]
    assert headers[0] == "姓名" and "选择" not in headers
    assert page.find(id=f"transfer-{transfer.id}") is not None
    union = soup(as_role("grassroots").get("/members/transfers"))
    assert union.find("nav", attrs={"aria-label": "方向"}) is not None
    assert [th.get_text() for th in union.find("table", class_="transfers").find_all("th")][0] == "选择"
