"""消息提醒: messages to an organisation (unread for each of its accounts separately) or to one
account, the unread badge in the top bar, opening and 全部标为已读, scope, and the message a
finished background job leaves for its owner."""

import pytest

from models import messages
from models.jobs import DONE, Job
from models.messages import Message, MessageRead
from tests import factories
from tests.helpers import soup


def badge(client) -> str | None:
    """The unread count in the top bar, or None when there is no badge."""
    page = soup(client.get("/home"))
    assert page.select_one("#message-link") is not None  # the top bar is there
    node = page.select_one("#unread-count")
    return node.get_text(strip=True) if node else None


def listed(client, url="/messages/") -> dict:
    """Title → 已读/未读 on the message list."""
    rows = {}
    for tr in soup(client.get(url)).select("table.grid tbody tr"):
        link = tr.select_one("a")
        if link is None:
            continue
        rows[link.get_text(strip=True)] = tr.find_all("td")[-1].get_text(strip=True)
    return rows


def flashes(response) -> list[str]:
    return [d.get_text(strip=True) for d in soup(response).select(".alert")]


def logged_in(app, account):
    client = app.test_client()
    factories.login(client, account)
    return client


@pytest.fixture
def org(city):
    return city.orgs["grassroots1"]


@pytest.fixture
def pair(app, city, org):
    """Two accounts of the same grassroots union, each logged in."""
    first = city.account("grassroots", 0)
    second = factories.make_account(org)
    return logged_in(app, first), logged_in(app, second), first, second


def test_an_organisation_message_is_unread_for_each_account_separately(pair, org):
    a, b, first, second = pair
    message = messages.post(org, "请于本月底前补充会员资料", body="共3名会员缺少手机号码")
    assert listed(a) == {"请于本月底前补充会员资料": "未读"}
    assert listed(b) == {"请于本月底前补充会员资料": "未读"}
    assert badge(a) == badge(b) == "1"

    opened = a.get(f"/messages/{message.id}")
    assert opened.status_code == 200
    page = soup(opened)
    assert page.select_one("h1").get_text(strip=True) == "请于本月底前补充会员资料"
    assert "共3名会员缺少手机号码" in page.get_text()

    assert listed(a) == {"请于本月底前补充会员资料": "已读"}
    assert badge(a) is None
    assert listed(b) == {"请于本月底前补充会员资料": "未读"}  # still unread for the colleague
    assert badge(b) == "1"
    assert MessageRead.select().where(MessageRead.message == message.id).count() == 1


def test_a_message_to_one_account_is_not_shown_to_a_colleague(pair, org):
    a, b, first, second = pair
    personal = messages.post(org, "您的导出文件已生成", account=first)
    messages.post(org, "全单位通知")
    assert set(listed(a)) == {"您的导出文件已生成", "全单位通知"}
    assert set(listed(b)) == {"全单位通知"}
    assert badge(a) == "2"
    assert badge(b) == "1"

    response = b.get(f"/messages/{personal.id}")
    assert response.status_code == 404
    assert "您的导出文件已生成" not in response.get_data(as_text=True)
    assert MessageRead.select().count() == 0  # the refused look marks nothing read
    assert listed(a)["您的导出文件已生成"] == "未读"


def test_badge_counts_unread_and_disappears_when_all_are_read(pair, org):
    a, b, first, _second = pair
    assert badge(a) is None  # no messages, no badge
    for i in range(3):
        messages.post(org, f"消息{i}")
    messages.post(org, "给本人的消息", account=first)
    assert badge(a) == "4"

    response = a.post("/messages/read")
    assert response.status_code == 302 and response.headers["Location"] == "/messages/"
    assert "已将4条消息标为已读" in flashes(a.get("/messages/"))
    assert badge(a) is None
    assert set(listed(a).values()) == {"已读"}
    assert badge(b) == "3"  # the colleague's own read state is untouched

    again = a.post("/messages/read")
    assert "没有未读消息" in flashes(a.get(again.headers["Location"]))


def test_mark_all_does_not_touch_other_organisations(app, city, pair, org):
    a, _b, _first, _second = pair
    other = city.account("grassroots", 2)  # direct1
    theirs = messages.post(city.orgs["direct1"], "别的工会的消息")
    messages.post(org, "本工会的消息")
    a.post("/messages/read")
    assert not MessageRead.select().where(MessageRead.message == theirs.id).exists()
    assert badge(logged_in(app, other)) == "1"


def test_opening_a_message_with_a_link_marks_it_read_and_goes_there(pair, org):
    a, _b, first, _second = pair
    message = messages.post(org, "您提交的组织信息修改已审核", link="/orgs/requests", account=first)
    response = a.get(f"/messages/{message.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/orgs/requests"
    assert listed(a) == {"您提交的组织信息修改已审核": "已读"}
    # Opening it again still goes there and does not fail on the existing read mark.
    assert a.get(f"/messages/{message.id}").headers["Location"] == "/orgs/requests"
    assert MessageRead.select().where(MessageRead.message == message.id).count() == 1


@pytest.mark.parametrize("link", ["https://evil.example/x", "//evil.example/x", "javascript:alert(1)"])
def test_a_link_outside_the_platform_is_not_followed(pair, org, link):
    a, _b, _first, _second = pair
    message = messages.post(org, "外部链接消息", link=link)
    response = a.get(f"/messages/{message.id}")
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert soup(response).select_one("h1").get_text(strip=True) == "外部链接消息"


def test_unread_tab_lists_only_unread(pair, org):
    a, _b, _first, _second = pair
    read = messages.post(org, "已经看过的消息")
    messages.post(org, "还没看的消息")
    a.get(f"/messages/{read.id}")
    assert listed(a, "/messages/?unread=1") == {"还没看的消息": "未读"}
    assert listed(a) == {"已经看过的消息": "已读", "还没看的消息": "未读"}


def test_newest_message_first(pair, org):
    a, _b, _first, _second = pair
    for title in ("第一条", "第二条", "第三条"):
        messages.post(org, title)
    assert list(listed(a)) == ["第三条", "第二条", "第一条"]


def test_no_messages_says_so(pair):
    a, _b, _first, _second = pair
    assert soup(a.get("/messages/")).select_one("td.empty").get_text(strip=True) == "暂无消息"


@pytest.mark.parametrize("role,which", [("district", 0), ("secondary", 0), ("grassroots", 2), ("centre", 0),
                                        ("city", 0), ("district", 1)])
def test_other_organisations_including_superiors_cannot_open_a_message(app, city, role, which):
    org = city.orgs["grassroots1"]
    message = messages.post(org, "基层工会的消息")
    client = logged_in(app, city.account(role, which))
    assert client.get(f"/messages/{message.id}").status_code == 404
    assert "基层工会的消息" not in listed(client)
    assert badge(client) is None
    assert MessageRead.select().count() == 0


def test_admin_sees_only_its_own_organisations_messages(app, city):
    message = messages.post(city.orgs["grassroots1"], "基层工会的消息")
    admin = logged_in(app, city.account("admin"))
    assert admin.get(f"/messages/{message.id}").status_code == 404
    assert listed(admin) == {}


def test_messages_need_a_login(client, city):
    message = messages.post(city.orgs["grassroots1"], "基层工会的消息")
    for url in ("/messages/", f"/messages/{message.id}"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.post("/messages/read").status_code == 302


def test_a_finished_job_leaves_a_message_for_its_owner(app, city):
    admin_account = city.account("admin")
    job = Job.submit("audit_export", {}, account=admin_account)
    assert job.status == DONE

    admin = logged_in(app, admin_account)
    title = "后台任务「导出操作日志」已完成"
    assert listed(admin) == {title: "未读"}
    assert badge(admin) == "1"
    message = Message.get(Message.title == title)
    assert (message.account_id, message.org_id, message.kind) == (admin_account.id, job.org_id, "后台任务")

    response = admin.get(f"/messages/{message.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/jobs/{job.id}"
    assert admin.get(response.headers["Location"]).status_code == 200
    assert badge(admin) is None

    # Another account of the same organisation (市总工会) is not told about the admin's job.
    colleague = logged_in(app, city.account("city"))
    assert listed(colleague) == {}
    assert colleague.get(f"/messages/{message.id}").status_code == 404


def test_a_failed_job_also_tells_its_owner(app, city):
    import tests.jobkinds  # noqa: F401 — registers the test job kinds
    owner = city.account("district")
    job = Job.submit("test_refused", {}, account=owner)
    assert job.status == "失败"
    client = logged_in(app, owner)
    assert listed(client) == {"后台任务「测试拒绝任务」失败：第 3 行：证件号码校验位错误": "未读"}
    message = Message.get(Message.account == owner.id)
    assert client.get(f"/messages/{message.id}").headers["Location"] == f"/jobs/{job.id}"
