"""会员审核 (new members and identity changes wait for the superior where the district has it
on), 会员审核设置 (the district's switch) and the admin quick fix 更正会员证件信息."""

from datetime import date
from urllib.parse import unquote

import pytest

from models.audit import AuditLog
from models.base import DomainError
from models.members import counts as stats
from models.members import member_review
from models.members.people import NORMAL, PENDING, MemberChange, Membership, Person
from models.messages import Message
from models.orgs.organizations import Organization
from tests.factories.members import approved_member, change_identity, make_member_change, new_member, number, review_on
from tests.helpers import soup

NOT_SUPERIOR = "只有上级工会可以审核本单位的新会员"


def fresh(m):
    return Membership.get_or_none(Membership.id == m.id)


def review_messages(org):
    return list(Message.select().where((Message.org == org.id) & (Message.kind == "会员审核")).order_by(Message.id))


def queue_rows(client, **args):
    page = soup(client.get("/members/approvals", query_string=args))
    return [tr["id"] for tr in page.select("table.approvals tbody tr[id]")]


# --- new members -------------------------------------------------------------------------------
def test_with_review_on_a_new_member_waits_and_the_district_issues_the_number(city, as_role):
    review_on(city)
    m = new_member(city, "王强")
    assert (m.status, m.member_no) == (PENDING, None)
    assert stats.member_total(city.orgs["grassroots1"].id) == 0
    district = as_role("district")
    assert queue_rows(district) == [f"member-{m.id}"]
    assert queue_rows(as_role("secondary")) == [f"member-{m.id}"]
    assert queue_rows(as_role("district", 1)) == []

    response = district.post(f"/members/approvals/{m.id}/approve", data={"next": "/members/approvals?kind=member"})
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == "/members/approvals?kind=member"
    approved = fresh(m)
    assert approved.status == NORMAL
    assert len(approved.member_no) == 10 and approved.member_no.isdigit()
    assert approved.approved_at is not None
    assert stats.member_total(city.orgs["grassroots1"].id) == 1
    row = AuditLog.for_object(approved).first()
    assert (row.action, row.from_state, row.to_state, row.account_id) == (
        "会员审核通过", PENDING, NORMAL, city.account("district").id)
    told = review_messages(city.orgs["grassroots1"])
    assert [(t.title, t.body) for t in told] == [("新会员「王强」已通过会员审核", f"会员编号：{approved.member_no}")]
    assert queue_rows(district) == []


def test_the_secondary_union_above_approves_too(city, as_role):
    review_on(city)
    first, second = new_member(city, "甲"), new_member(city, "乙")
    assert as_role("secondary").post(f"/members/approvals/{first.id}/approve").status_code == 302
    assert as_role("district").post(f"/members/approvals/{second.id}/approve").status_code == 302
    numbers = {fresh(first).member_no, fresh(second).member_no}
    assert len(numbers) == 2 and all(len(n) == 10 for n in numbers)


def test_a_union_outside_the_reviewers_subtree_is_not_found(city, as_role):
    review_on(city)
    m = new_member(city, union="direct1")
    assert as_role("secondary").post(f"/members/approvals/{m.id}/approve").status_code == 404  # not below it
    assert as_role("district", 1).post(f"/members/approvals/{m.id}/approve").status_code == 404
    assert queue_rows(as_role("secondary")) == []
    assert fresh(m).status == PENDING


def test_the_grassroots_union_cannot_approve_its_own(city, as_role):
    review_on(city)
    m = new_member(city)
    own = as_role("grassroots")
    assert own.get("/members/approvals").status_code == 403
    assert own.post(f"/members/approvals/{m.id}/approve").status_code == 403
    with pytest.raises(DomainError) as refused:
        member_review.approve(m, city.account("grassroots"))
    assert refused.value.message == NOT_SUPERIOR
    assert (fresh(m).status, fresh(m).member_no) == (PENDING, None)


def test_with_review_off_the_number_is_issued_at_once(city, as_role):
    m = new_member(city)
    assert m.status == NORMAL and len(m.member_no) == 10
    assert queue_rows(as_role("district")) == []


def test_rejection_needs_a_reason_removes_the_pending_row_and_tells_the_union(city, as_role):
    review_on(city)
    m = new_member(city, "李四")
    client = as_role("district")
    refused = client.post(f"/members/approvals/{m.id}/reject", data={"reason": "   "})
    assert refused.status_code == 422
    assert "须填写原因" in soup(refused).select_one(".refusal").get_text()
    assert fresh(m).status == PENDING

    assert client.post(f"/members/approvals/{m.id}/reject", data={"reason": "证件号码与姓名不符"}).status_code == 302
    assert fresh(m) is None
    assert Person.get_by_id(m.person_id).name == "李四"  # the person stays for history
    told = review_messages(city.orgs["grassroots1"])
    assert [(t.title, t.body) for t in told] == [("新会员「李四」未通过会员审核", "证件号码与姓名不符")]  # once
    row = AuditLog.select().where((AuditLog.object_type == "Membership") & (AuditLog.object_id == m.id)
                                  & (AuditLog.action == "会员审核驳回")).get()
    assert row.reason == "证件号码与姓名不符"
    # the person may be added again (here or elsewhere)
    again = new_member(city, "李四", union="direct1", id_number=m.person.id_number)
    assert again.status == PENDING


# --- identity changes (信息修改) ----------------------------------------------------------------


def test_an_identity_change_waits_and_approval_applies_it(city, as_role):
    review_on(city)
    m = approved_member(city, "赵六")
    old_number, new_number = m.person.id_number, number(date(1988, 8, 8))
    updated, message = change_identity(city, m, name="赵陆", id_number=new_number)
    assert message.startswith("证件信息的修改已提交上级审核")
    assert (updated.edit_status, updated.edit_label) == ("待审核", "待审核")
    assert Person.get_by_id(m.person_id).name == "赵六"  # not yet
    change = MemberChange.get(MemberChange.membership == m.id)

    client = as_role("district")
    page = soup(client.get("/members/approvals"))
    row = page.select_one(f"#change-{change.id}")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[1] == "赵六" and cells[3] == "测试区1街道甲公司工会委员会"
    assert "信息修改" in cells[4]
    assert "姓名：赵六 → 赵陆" in cells[4]
    assert f"证件号码：{old_number[:4]} **** {old_number[-4:]} → {new_number[:4]} **** {new_number[-4:]}" in cells[4]
    assert old_number not in page.get_text() and new_number not in page.get_text()

    assert client.post(f"/members/approvals/changes/{change.id}/approve").status_code == 302
    person = Person.get_by_id(m.person_id)
    assert (person.name, person.id_number) == ("赵陆", new_number)
    assert (fresh(m).edit_status, fresh(m).edit_label) == ("已通过", "已通过")
    assert MemberChange.get_by_id(change.id).status == "已通过"
    assert review_messages(city.orgs["grassroots1"])[-1].title == "会员「赵陆」的信息修改已通过审核"


def test_a_rejected_identity_change_keeps_the_old_values(city, as_role):
    review_on(city)
    m = approved_member(city, "钱七")
    change_identity(city, m, name="钱柒")
    change = MemberChange.get(MemberChange.membership == m.id)
    client = as_role("secondary")
    assert client.post(f"/members/approvals/changes/{change.id}/reject", data={"reason": ""}).status_code == 422
    assert MemberChange.get_by_id(change.id).status == "待审核"
    assert client.post(f"/members/approvals/changes/{change.id}/reject",
                       data={"reason": "请提供改名证明"}).status_code == 302
    assert Person.get_by_id(m.person_id).name == "钱七"
    assert (fresh(m).edit_status, fresh(m).edit_label) == ("已驳回", "已驳回")
    last = review_messages(city.orgs["grassroots1"])[-1]
    assert (last.title, last.body) == ("会员「钱七」的信息修改未通过审核，已保留原信息", "驳回原因：请提供改名证明")


def test_the_grassroots_union_cannot_decide_its_own_identity_change(city, as_role):
    change = make_member_change(city.orgs["grassroots1"])
    assert as_role("grassroots").post(f"/members/approvals/changes/{change.id}/approve").status_code == 403
    with pytest.raises(DomainError):
        member_review.decide_change(change, "approve", city.account("grassroots"))
    assert MemberChange.get_by_id(change.id).status == "待审核"


# --- the page ----------------------------------------------------------------------------------
def test_the_queue_page_plain_and_htmx(city, as_role):
    review_on(city)
    m = new_member(city, "孙八")
    change = make_member_change(city.orgs["direct1"], name="周九改")
    client = as_role("district")
    page = soup(client.get("/members/approvals"))
    assert page.h1.get_text() == "会员审核"
    assert [th.get_text() for th in page.select("table.approvals thead th")] == [
        "选择", "姓名", "证件号码", "所在工会", "申请类型", "提交时间", "操作"]
    row = page.select_one(f"#member-{m.id}")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    n = m.person.id_number
    assert cells[1:5] == ["孙八", f"{n[:4]} **** {n[-4:]}", "测试区1街道甲公司工会委员会", "新增会员"]
    assert cells[5] == m.created_at.strftime("%Y-%m-%d %H:%M")
    assert row.find("button", string="通过") and row.find("button", string="驳回")
    assert row.select_one("input[name=reason][required]") is not None
    assert row.select_one("input[type=checkbox][name=member]")["form"] == "batch-form"
    assert page.select_one(".pager-summary").get_text() == "显示第 1 到第 2 条记录，总共 2 条记录"
    assert queue_rows(client, kind="change") == [f"change-{change.id}"]
    assert queue_rows(client, kind="member") == [f"member-{m.id}"]

    fragment = soup(client.get("/members/approvals", headers={"HX-Request": "true"}))
    assert fragment.find("html") is None and fragment.find("h1") is None
    assert {tr["id"] for tr in fragment.select("tbody tr[id]")} == {f"member-{m.id}", f"change-{change.id}"}


def test_pages_of_the_queue(city, as_role):
    review_on(city)
    for i in range(17):
        new_member(city, f"排队{i}")
    client = as_role("district")
    assert soup(client.get("/members/approvals")).select_one(".pager-summary").get_text() == \
        "显示第 1 到第 15 条记录，总共 17 条记录"
    second = soup(client.get("/members/approvals?page=2"))
    assert second.select_one(".pager-summary").get_text() == "显示第 16 到第 17 条记录，总共 17 条记录"
    assert len(second.select("tbody tr[id]")) == 2


def test_htmx_decisions_swap_the_row(city, as_role):
    review_on(city)
    m, other = new_member(city, "吴十"), new_member(city, "郑十一")
    client = as_role("district")
    hx = {"HX-Request": "true"}
    refused = client.post(f"/members/approvals/{m.id}/reject", data={"reason": ""}, headers=hx)
    assert refused.status_code == 422
    row = soup(refused).select_one("tr")
    assert row["id"] == f"member-{m.id}"  # the row comes back with the refusal next to its buttons
    assert "须填写原因" in row.select_one(".alert-error").get_text()
    done = client.post(f"/members/approvals/{m.id}/approve", headers=hx)
    assert (done.status_code, done.get_data()) == (200, b"")  # the row disappears
    assert fresh(m).status == NORMAL
    stale = client.post(f"/members/approvals/{m.id}/approve", headers=hx)
    assert stale.status_code == 409
    assert "当前状态为「正常」" in soup(stale).select_one("tr .alert-error").get_text()
    gone = client.post(f"/members/approvals/{other.id}/reject", data={"reason": "重复登记"}, headers=hx)
    assert (gone.status_code, gone.get_data()) == (200, b"")
    assert fresh(other) is None


def test_batch_approval_all_or_nothing(city, as_role):
    review_on(city)
    a, b = new_member(city, "批一"), new_member(city, "批二", union="direct1")
    approved = approved_member(city, "批三")
    change_identity(city, approved, name="批叁")
    change = MemberChange.get(MemberChange.membership == approved.id)
    client = as_role("district")
    nothing = client.post("/members/approvals/batch", data={})  # said on the list (issue 16 item 17)
    assert nothing.status_code == 302 and nothing.headers["Location"] == "/members/approvals"

    stale = client.post("/members/approvals/batch", data={"member": [a.id, b.id, approved.id], "change": [change.id]})
    assert stale.status_code == 409
    assert "「批三」" in soup(stale).select_one(".refusal").get_text()
    assert (fresh(a).status, fresh(b).status, MemberChange.get_by_id(change.id).status) == (PENDING, PENDING, "待审核")

    review_on(city, "district2")
    foreign = new_member(city, "外区", union="grassroots2")
    forged = client.post("/members/approvals/batch", data={"member": [a.id, foreign.id]})  # said on the list
    assert forged.status_code == 302 and forged.headers["Location"] == "/members/approvals"
    assert "勾选的记录不存在或已被处理" in client.get("/members/approvals").get_data(as_text=True)
    assert fresh(a).status == PENDING

    response = client.post("/members/approvals/batch", data={"member": [a.id, b.id], "change": [change.id]})
    assert response.status_code == 302
    numbers = sorted(int(fresh(x).member_no) for x in (a, b))
    assert numbers[1] == numbers[0] + 1  # one reservation for the batch
    assert Person.get_by_id(approved.person_id).name == "批叁"
    assert len(review_messages(city.orgs["grassroots1"])) == 2 and len(review_messages(city.orgs["direct1"])) == 1


# --- 会员审核设置 -------------------------------------------------------------------------------
def test_settings_are_for_districts_only(as_role):
    for role in ("grassroots", "secondary"):
        assert as_role(role).get("/members/settings").status_code == 403
        assert as_role(role).post("/members/settings", data={"member_review": "on"}).status_code == 403


def test_the_admin_picks_a_district_and_switches_it(city, as_role):
    admin = as_role("admin")
    page = soup(admin.get("/members/settings"))
    links = {a.get_text(strip=True): a["href"] for a in page.select("table.grid a")}
    district = city.orgs["district2"]
    assert links[district.name] == f"/members/settings?district={district.id}"
    not_a_district = admin.get(f"/members/settings?district={city.orgs['direct1'].id}")
    assert soup(not_a_district).select_one("table.grid a") is not None  # the chooser again
    response = admin.post("/members/settings", data={"member_review": "on", "district": district.id})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"district={district.id}")
    assert Organization.get_by_id(district.id).member_review is True
    assert Organization.get_by_id(city.orgs["district1"].id).member_review is False
    assert AuditLog.for_object(district).where(AuditLog.action == "会员审核设置").count() == 1


def test_the_district_switches_review_on_and_off_audited(city, as_role):
    client = as_role("district")
    page = soup(client.get("/members/settings"))
    assert ("开启后，下级工会新增的会员和已审核会员的证件信息修改须经上级工会审核，审核通过后自动生成会员编号"
            in page.get_text())
    assert page.select_one("#review-state").get_text() == "未开启"
    district = city.orgs["district1"]

    assert client.post("/members/settings", data={"member_review": "on"}).status_code == 302
    assert Organization.get_by_id(district.id).member_review is True
    assert new_member(city).status == PENDING  # every union under the district
    assert new_member(city, union="direct1").status == PENDING
    assert new_member(city, union="grassroots2").status == NORMAL  # another district
    page = soup(client.get("/members/settings"))
    assert page.select_one("#review-state").get_text() == "已开启"

    assert client.post("/members/settings", data={"member_review": "on"}).status_code == 302  # unchanged
    assert client.post("/members/settings", data={"member_review": "off"}).status_code == 302
    assert new_member(city).status == NORMAL
    rows = list(AuditLog.for_object(district).where(AuditLog.action == "会员审核设置"))
    assert [(r.from_state, r.to_state, r.account_id) for r in rows] == [
        ("开启", "关闭", city.account("district").id), ("关闭", "开启", city.account("district").id)]
    log = soup(client.get("/members/settings")).select("#audit-log tbody tr")
    assert len(log) == 2


# --- 快速修复：更正会员证件信息 -----------------------------------------------------------------
FIX = "/admin/member-identity"


def fix_form(person, **changes):
    values = {"lookup_type": person.id_type, "lookup_number": person.id_number, "name": person.name,
              "id_type": person.id_type, "id_number": person.id_number, "gender": person.gender,
              "birth_date": person.birth_date.isoformat() if person.birth_date else "",
              "id_expiry": person.id_expiry.isoformat() if person.id_expiry else "", "reason": "本人持证件到场核对"}
    return {**values, **changes}


def fix_log(m):
    return list(AuditLog.for_object(m).where(AuditLog.action == "更正会员证件信息"))


def test_the_quick_fix_is_listed_and_finds_the_member_by_id_number(city, as_role):
    client = as_role("admin")
    fixes = soup(client.get("/admin/"))
    assert fixes.find("a", string="更正会员证件信息")["href"] == FIX
    m = new_member(city, "冯十二", id_number="11010519491231002X")
    page = soup(client.get(FIX, query_string={"lookup_type": "身份证", "lookup_number": " 1101 0519491231002x "}))
    assert page.select_one("#member h2").get_text() == "冯十二"
    assert m.member_no in page.select_one("#member").get_text()
    missing = soup(client.get(FIX, query_string={"lookup_number": "110105194912310037"}))
    assert missing.select_one("#lookup-error").get_text() == "未查到该会员信息，请确认证件类型和证件号码"


def test_the_admin_corrects_the_expiry_date_audited(city, as_role):
    m = new_member(city, "陈十三")
    client = as_role("admin")
    response = client.post(FIX, data=fix_form(m.person, id_expiry="2031-06-30"))
    assert response.status_code == 302
    assert Person.get_by_id(m.person_id).id_expiry == date(2031, 6, 30)
    (row,) = fix_log(m)
    assert (row.reason, row.account_id) == ("本人持证件到场核对", city.account("admin").id)
    assert row.detail_data["证件到期日"] == ["", "2031-06-30"]
    shown = soup(client.get(unquote(response.headers["Location"])))
    assert "已更正会员证件信息：证件到期日" in shown.select_one(".alert-success").get_text()


def test_the_admin_corrects_identity_fields_with_masked_audit(city, as_role):
    m = new_member(city, "褚十四", id_number=number(date(1975, 3, 3), male=True))
    old = m.person.id_number
    new = number(date(1975, 3, 4), male=False)
    form = fix_form(m.person, name="褚拾肆", id_number=new, gender="", birth_date="")  # taken from the number
    response = as_role("admin").post(FIX, data=form)
    assert response.status_code == 302
    person = Person.get_by_id(m.person_id)
    assert (person.name, person.id_number, person.gender, person.birth_date) == ("褚拾肆", new, "女", date(1975, 3, 4))
    (row,) = fix_log(m)
    assert old not in row.detail and new not in row.detail  # numbers masked in the log
    assert row.detail_data["证件号码"] == [f"{old[:4]} **** {old[-4:]}", f"{new[:4]} **** {new[-4:]}"]
    assert row.detail_data["姓名"] == ["褚十四", "褚拾肆"]
    assert row.detail_data["性别"] == ["男", "女"]


def test_the_quick_fix_refuses_another_persons_id_and_bad_input(city, as_role):
    m = new_member(city, "卫十五")
    other = new_member(city, "蒋十六", union="direct1")
    client = as_role("admin")
    clash = client.post(FIX, data=fix_form(m.person, id_number=other.person.id_number, gender="", birth_date=""))
    assert clash.status_code == 409
    text = soup(clash).select_one("#fix-error").get_text()
    assert "该证件号码已登记为另一人员（蒋十六，属于「测试区1乙公司工会委员会」）" in text
    assert Person.get_by_id(m.person_id).id_number == m.person.id_number

    no_reason = client.post(FIX, data=fix_form(m.person, name="卫拾伍", reason=" "))
    assert no_reason.status_code == 422
    assert "请填写原因" in no_reason.get_data(as_text=True)
    bad = m.person.id_number[:17] + ("0" if m.person.id_number[17] != "0" else "1")
    wrong = client.post(FIX, data=fix_form(m.person, id_number=bad))
    assert wrong.status_code == 422
    assert "身份证号码校验位不正确" in soup(wrong).select_one(".field-error").get_text()
    same = client.post(FIX, data=fix_form(m.person))
    assert same.status_code == 422
    assert "没有需要更正的内容" in soup(same).select_one("#fix-error").get_text()
    assert Person.get_by_id(m.person_id).name == "卫十五"
    assert fix_log(m) == []


@pytest.mark.parametrize("role", ["district", "secondary", "grassroots", "city", "centre"])
def test_only_the_admin_corrects_identity(city, as_role, role):
    m = new_member(city, "沈十七")
    client = as_role(role)
    assert client.get(FIX, query_string={"lookup_number": m.person.id_number}).status_code == 403
    assert client.post(FIX, data=fix_form(m.person, name="沈拾柒")).status_code == 403
    assert Person.get_by_id(m.person_id).name == "沈十七"
