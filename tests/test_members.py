"""会员信息 (seed 001 / seed 000): the list with the manuals' columns and search boxes, the
可能已达退休年龄 filter, batch selection across pages, 新增会员 / 编辑 with every rule, 详情 with
the full number and the 操作日志, 删除 (退休 / 犯罪 / 死亡, soft), 转出 / 批量转出会员."""

import random
from datetime import date, datetime

import pytest
import time_machine

from models.audit import AuditLog
from models.members import member_review, members, people
from models.members.people import MemberChange, Membership, Person, TransferRequest
from models.orgs.organizations import Organization
from models.rules import retirement
from models.rules.idnumber import CHECK_MESSAGE, FUTURE_MESSAGE, MOBILE_MESSAGE, check_digit
from tests import factories
from tests.helpers import queries, soup

TODAY = date(2026, 11, 25)
_rng = random.Random(11)
COLUMNS = ["选择", "会员编号", "姓名", "性别", "有效证件类型", "证件号码", "联系地址", "移动电话", "已办会员卡",
           "用户状态", "同步会员", "信息修改状态", "办卡状态", "操作"]


def make_id(birth: date, male: bool, ending: str | None = None) -> str:
    """A valid 18-digit 身份证 number (optionally with the given check character)."""
    while True:
        seq = _rng.randrange(0, 100) * 10 + _rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
        body = f"310101{birth:%Y%m%d}{seq:03d}"
        digit = check_digit(body)
        if ending is None or digit == ending:
            return body + digit


def person_member(org, name, birth, gender, **fields):
    person = Person.create(id_number=make_id(birth, gender == "男"), name=name, gender=gender, birth_date=birth)
    fields.setdefault("join_date", date(2024, 1, 1))
    return members.join(person, org, **fields)


def rows(page):
    return page.select("#rows table.member-list tbody tr")


def names(response):
    return sorted(tr.select("td")[2].contents[0].get_text().strip()
                  for tr in rows(soup(response)) if tr.select("td")[0].input)


def summary(response):
    return soup(response).select_one(".pager-summary").get_text(strip=True)


def login(app, account):
    client = app.test_client()
    factories.login(client, account)
    return client


def form_values(form, submitter=None) -> list:
    """What the browser sends for a form: hidden/text inputs, checked boxes, selects, the button."""
    out = []
    for el in form.select("input"):
        kind = el.get("type", "text")
        if kind in ("checkbox", "radio") and not el.has_attr("checked"):
            continue
        if el.get("name"):
            out.append((el["name"], el.get("value", "on" if kind == "checkbox" else "")))
    for sel in form.select("select"):
        chosen = sel.select_one("option[selected]") or sel.select_one("option")
        out.append((sel["name"], chosen.get("value", chosen.get_text())))
    if submitter is not None and submitter.get("name"):
        out.append((submitter["name"], submitter.get("value", "")))
    return out


def post_form(client, url, pairs, **extra):
    from werkzeug.datastructures import MultiDict
    data = MultiDict(pairs)
    for k, v in extra.items():
        data.setlist(k, v if isinstance(v, list) else [v])
    return client.post(url, data=data)


@pytest.fixture
def union(city):
    return city.orgs["grassroots1"]


@pytest.fixture
def grassroots(app, city):
    return login(app, city.account("grassroots"))


# --- the list ------------------------------------------------------------------------------------
def test_list_has_the_manuals_columns_search_boxes_and_buttons(app, city, union, grassroots):
    m = factories.make_member(union, mobile="13912345678", address="上海市黄浦区南京东路1号", synced=True)
    page = soup(grassroots.get("/members/"))
    assert [th.get_text(strip=True) for th in page.select("table.member-list thead th")] == COLUMNS
    filters = page.select_one("form.filters")
    boxes = [i["placeholder"] for i in filters.select("input[placeholder]")]
    assert boxes == ["姓名搜索", "会员编号搜索", "身份证号搜索"]
    assert [s.select_one("option").get_text() for s in filters.select("select")] == ["请选择状态", "请选择同步会员状态"]
    assert "可能已达退休年龄" in filters.select_one("input[name=retirement]").parent.get_text()
    assert filters.select_one("button[type=submit]").get_text() == "查询"
    cells = [td.get_text(" ", strip=True) for td in rows(page)[0].select("td")]
    p = m.person
    assert cells[1:13] == [m.member_no, p.name, p.gender, "身份证", f"{p.id_number[:4]} **** {p.id_number[-4:]}",
                           "上海市黄浦区南京东路1号", "139****5678", "否", "正常", "是", "-", "查看状态"]
    assert p.id_number not in page.get_text() and "13912345678" not in page.get_text()
    assert rows(page)[0].select("td")[12].a["href"] == f"/members/{m.id}#card"
    assert [a.get_text() for a in rows(page)[0].select("td")[13].select("a")] == ["编辑", "详情"]
    # the list buttons whose screen exists, in the manual's order; 转出 / 批量转出会员 / 删除 submit
    toolbar = page.select_one(".member-toolbar")
    labels = [el.get_text(strip=True) for el in toolbar.select("a, button")]
    expected = [("新增会员", "members.new"), ("批量导入会员", "member_import.upload"),
                ("组织机构代码导入会员", "member_import.by_code"), ("转出", None), ("批量转出会员", None),
                ("从其他工会转入会员到本工会", "member_sync.transfer_in"), ("同步会员", "member_sync.sync"),
                ("导出会员", "members.export"), ("删除", None), ("加入待办会员列表", "cards.add_pending")]
    assert labels == [label for label, endpoint in expected if endpoint is None or endpoint in app.view_functions]
    for a in toolbar.select("a"):
        assert grassroots.get(a["href"]).status_code < 400, a["href"]
    actions = {b.get_text(): b["formaction"] for b in toolbar.select("button")}
    assert actions == {"转出": "/members/transfer", "批量转出会员": "/members/transfer", "删除": "/members/delete",
                       "加入待办会员列表": "/cards/pending/add"}


def test_superiors_see_the_union_column_read_only(city, as_role):
    factories.make_member(city.orgs["grassroots1"])
    factories.make_member(city.orgs["direct1"])
    page = soup(as_role("district").get("/members/"))
    heads = [th.get_text(strip=True) for th in page.select("table.member-list thead th")]
    assert heads == COLUMNS[1:-1] + ["所在工会", "操作"]
    unions = {tr.select("td")[12].get_text(strip=True) for tr in rows(page)}
    assert unions == {city.orgs["grassroots1"].name, city.orgs["direct1"].name}
    assert [el.get_text(strip=True) for el in page.select(".member-toolbar a, .member-toolbar button")] == ["导出会员"]
    assert page.select("input[name=ids]") == [] and page.select_one("input[name=all_matching]") is None
    assert all([a.get_text() for a in tr.select("td")[-1].select("a")] == ["详情"] for tr in rows(page))


def test_default_shows_current_members_and_status_filter_picks_any(union, grassroots):
    kept = factories.make_member(union, name="在册甲")
    pending = factories.make_member(union, name="待审乙", status="待审核", member_no=None)
    gone = factories.make_member(union, name="转出丙")
    members.change(gone, status="已转出")
    dead = factories.make_member(union, name="删除丁")
    members.delete(dead, None, "死亡")
    assert names(grassroots.get("/members/")) == sorted([kept.person.name, pending.person.name])
    for status, expected in (("已转出", ["转出丙"]), ("已删除", ["删除丁"]), ("待审核", ["待审乙"]),
                             ("全部", sorted(["在册甲", "待审乙", "转出丙", "删除丁"]))):
        assert names(grassroots.get(f"/members/?status={status}")) == expected, status
    bad = grassroots.get("/members/?status=whatever")
    assert bad.status_code == 422 and "请选择正确的用户状态" in soup(bad).select_one(".alert-error").get_text()


def test_search_by_name_member_number_and_id_number(union, city, grassroots):
    zhang = factories.make_member(union, name="张三")
    factories.make_member(union, name="张三丰")
    factories.make_member(union, name="李张三")
    x_id = make_id(date(1990, 3, 4), True, ending="X")
    with_x = factories.make_member(union, name="王五", id_number=x_id)
    factories.make_member(city.orgs["direct1"], name="张三峰")  # another union: never listed
    assert names(grassroots.get("/members/?name=张三")) == ["张三", "张三丰"]  # exact or prefix
    assert names(grassroots.get("/members/?name=张三丰")) == ["张三丰"]
    for wildcard in ("%", "_", "张%", "张_"):  # typed wildcards are literal characters
        assert names(grassroots.get("/members/", query_string={"name": wildcard})) == [], wildcard
    assert names(grassroots.get(f"/members/?member_no={zhang.member_no}")) == ["张三"]
    assert names(grassroots.get("/members/?member_no=TM")) == []  # member number: exact
    for typed in (x_id.lower(), " ".join(x_id), "".join(chr(ord(c) + 0xFEE0) for c in x_id)):
        assert names(grassroots.get("/members/", query_string={"id_number": typed})) == ["王五"], typed
    assert names(grassroots.get("/members/", query_string={"id_number": x_id[:10]})) == []  # exact only
    assert with_x.person.id_number == x_id


def test_old_15_digit_number_finds_the_member(union, grassroots):
    body = "310101" + "19650304" + "123"
    number = body + check_digit(body)
    factories.make_member(union, name="老号码", id_number=number)
    assert names(grassroots.get("/members/", query_string={"id_number": number[:6] + number[8:17]})) == ["老号码"]


def test_synced_filter(union, grassroots):
    factories.make_member(union, name="同步是", synced=True)
    factories.make_member(union, name="同步否", synced=False)
    factories.make_member(union, name="未比对")
    assert names(grassroots.get("/members/?synced=是")) == ["同步是"]
    assert names(grassroots.get("/members/?synced=否")) == ["同步否"]
    page = soup(grassroots.get("/members/"))
    labels = {tr.select("td")[2].contents[0].get_text().strip(): tr.select("td")[10].get_text() for tr in rows(page)}
    assert labels == {"同步是": "是", "同步否": "否", "未比对": "-"}


def test_retirement_filter_equals_the_rule_module(app, city, union):
    """Births on both sides of every schedule's date: the SQL filter picks exactly the members
    retirement.flag() marks, and each row shows its badge."""
    with time_machine.travel(datetime(2026, 11, 25, 10, 0), tick=False):
        grassroots = login(app, city.account("grassroots"))
        made = []
        for schedule, gender in (("男", "男"), ("女55", "女"), ("女50", "女")):
            edge = retirement.latest_birth(TODAY, schedule)
            for offset in (-400, -1, 0, 1, 40, 400):
                birth = date.fromordinal(edge.toordinal() + offset)
                made.append(person_member(union, f"{schedule}{offset}", birth, gender))
        made.append(person_member(union, "年轻人", date(1995, 1, 1), "男"))
        expected = {m.person.name: retirement.flag(m.person.birth_date, m.person.gender, TODAY) for m in made}
        response = grassroots.get("/members/?retirement=1&status=全部")
        page = soup(response)
        shown = {tr.select("td")[2].contents[0].get_text().strip(): tr.select_one(".retirement-flag").get_text()
                 for tr in rows(page)}
        assert shown == {name: flag for name, flag in expected.items() if flag}
        assert {retirement.REACHED, retirement.MAYBE} <= set(shown.values())
        assert "年轻人" not in shown and "男1" not in shown and "男0" in shown


def test_pager_text_equals_a_direct_count(union, grassroots):
    for i in range(20):
        factories.make_member(union, name=f"分页{i:02d}")
    factories.make_member(union, name="别人")
    total = Membership.select().join(Person).where((Membership.org == union.id)
                                                   & Person.name.startswith("分页")).count()
    assert summary(grassroots.get("/members/?name=分页")) == f"显示第 1 到第 15 条记录，总共 {total} 条记录"
    second = grassroots.get("/members/?name=分页&page=2")
    assert summary(second) == f"显示第 16 到第 {total} 条记录，总共 {total} 条记录"
    assert len(rows(soup(second))) == total - 15
    assert soup(second).select_one("input[name=all_matching]").parent.get_text(strip=True) == \
        f"选择全部 {total} 条符合条件的记录"


def test_htmx_filter_returns_only_the_rows(union, grassroots):
    factories.make_member(union, name="片段")
    response = grassroots.get("/members/?name=片段", headers={"HX-Request": "true"})
    page = soup(response)
    assert page.find("html") is None and page.select_one("form.filters") is None
    assert page.select_one("#rows") is not None and len(rows(page)) == 1
    assert "HX-Request" in response.headers["Vary"]
    full = soup(grassroots.get("/members/?name=片段"))
    form = full.select_one("form.filters")
    assert (form["hx-get"], form["hx-target"], form["hx-push-url"]) == ("/members/", "#rows", "true")
    assert form["method"] == "get" and form["action"] == "/members/"  # works without JavaScript


def test_list_query_count_does_not_grow_with_rows(union, city, app):
    client = login(app, city.account("district"))
    factories.make_member(union)
    with queries() as seen:
        client.get("/members/")
    few = len(seen)
    for i in range(14):
        factories.make_member(union if i % 2 else city.orgs["direct1"], mobile=f"1391234{i:04d}")
    with queries() as seen:
        response = client.get("/members/")
    assert len(rows(soup(response))) == 15
    assert len(seen) == few, seen
    assert few <= 8, seen
    assert sum('FROM "membership"' in sql for sql in seen) == 2  # one count, one page query


# --- batch actions -------------------------------------------------------------------------------
def batch_form(client, url):
    page = soup(client.get(url))
    return page.select_one("form#batch"), page


def test_batch_transfer_of_ticked_members(union, city, grassroots):
    chosen = [factories.make_member(union, mobile=f"1390000000{i}") for i in range(3)]
    other = factories.make_member(union)
    foreign = factories.make_member(city.orgs["direct1"])  # another union's id slipped in: ignored
    form, _ = batch_form(grassroots, "/members/")
    pairs = [p for p in form_values(form) if p[0] != "ids"]
    button = form.find("button", string="批量转出会员")
    ids = [str(m.id) for m in chosen] + [str(foreign.id)]
    confirm = post_form(grassroots, button["formaction"], pairs, ids=ids)
    assert confirm.status_code == 200
    page = soup(confirm)
    assert "共 3 名会员" in page.get_text()
    step2 = page.select_one("#transfer-form")
    temporary = city.orgs["temporary1"]
    done = post_form(grassroots, step2["action"],
                     [p for p in form_values(step2) if p[0] not in ("destination", "reason")],
                     destination=temporary.union_no, reason="已离职")
    assert done.status_code == 302 and done.headers["Location"] == "/members/"
    requests = TransferRequest.select().where(TransferRequest.to_org == temporary.id)
    assert sorted(r.source_id for r in requests) == sorted(m.id for m in chosen)
    assert {r.reason for r in requests} == {"已离职"}
    assert not TransferRequest.select().where(TransferRequest.source.in_([other.id, foreign.id])).exists()
    waiting = Membership.select().where((Membership.org == temporary.id) & (Membership.status == "转入审核中"))
    assert waiting.count() == 3
    assert "已提交转移申请，等待转出审核" in soup(grassroots.get("/members/")).select_one(".alert-success").get_text()


def test_select_all_matching_applies_across_pages(union, city, grassroots):
    wanted = [factories.make_member(union, name=f"批量{i:02d}") for i in range(20)]
    factories.make_member(union, name="不在条件内")
    form, page = batch_form(grassroots, "/members/?name=批量")
    assert len(rows(page)) == 15 and summary(grassroots.get("/members/?name=批量")).endswith("总共 20 条记录")
    pairs = [p for p in form_values(form) if p[0] != "ids"] + [("all_matching", "1")]
    assert ("name", "批量") in pairs  # the filter travels with the selection
    confirm = post_form(grassroots, "/members/transfer", pairs)
    assert "共 20 名会员" in soup(confirm).get_text()
    step2 = soup(confirm).select_one("#transfer-form")
    temporary_button = step2.select_one("button[name=use_temporary]")
    assert temporary_button.get_text() == f"转入{city.orgs['temporary1'].name}"
    done = post_form(grassroots, "/members/transfer",
                     [p for p in form_values(step2, temporary_button) if p[0] != "reason"], reason="已离职")
    assert done.status_code == 302
    sources = {r.source_id for r in TransferRequest.select()}
    assert sources == {m.id for m in wanted}
    assert {r.to_org_id for r in TransferRequest.select()} == {city.orgs["temporary1"].id}


def test_batch_is_all_or_nothing(union, city, grassroots):
    a = factories.make_member(union, name="甲")
    b = factories.make_member(union, name="乙", mobile="13900000009")
    dest = city.orgs["direct1"]
    factories.make_member(dest, mobile="13900000009")  # 乙's mobile is taken in the destination
    response = grassroots.post("/members/transfer", data={"ids": [a.id, b.id], "submitted": "1",
                                                          "destination": dest.name, "reason": "其他原因"})
    assert response.status_code == 422
    assert "会员「乙」" in soup(response).select_one(".alert-error").get_text()
    assert TransferRequest.select().count() == 0
    assert Membership.select().where(Membership.org == dest.id).count() == 1
    # batch delete: one member has a transfer waiting → nobody is deleted
    member_review.request_transfer(a, city.orgs["temporary1"], city.account("grassroots"), "已离职")
    response = grassroots.post("/members/delete", data={"ids": [a.id, b.id], "submitted": "1", "reason": "退休"})
    assert response.status_code == 422 and "会员「甲」" in soup(response).select_one(".alert-error").get_text()
    assert Membership.get_by_id(b.id).status == "正常"


def test_batch_delete_with_all_matching(union, grassroots):
    old = [factories.make_member(union, name=f"退休{i}") for i in range(17)]
    young = factories.make_member(union, name="在职")
    response = grassroots.post("/members/delete", data={"all_matching": "1", "name": "退休"})
    assert response.status_code == 200 and "共 17 名会员（以下列出前 15 名）" in soup(response).get_text()
    done = grassroots.post("/members/delete", data={"all_matching": "1", "name": "退休", "submitted": "1",
                                                    "reason": "退休"})
    assert done.status_code == 302
    assert {Membership.get_by_id(m.id).status for m in old} == {"已删除"}
    assert Membership.get_by_id(young.id).status == "正常"


def test_batch_with_only_foreign_ids_is_refused(city, grassroots):
    foreign = factories.make_member(city.orgs["direct1"])
    response = grassroots.post("/members/delete", data={"ids": [foreign.id], "submitted": "1", "reason": "死亡"})
    # Nothing of one's own ticked: back on the list, the reason shown there (issue 16 item 17).
    assert response.status_code == 302 and response.headers["Location"] == "/members/"
    assert "请先勾选要删除的会员" in grassroots.get("/members/").get_data(as_text=True)
    assert Membership.get_by_id(foreign.id).status == "正常"


# --- 新增会员 ------------------------------------------------------------------------------------
VALID = {"name": "赵六", "id_type": "身份证", "gender": "", "birth_date": "", "address": "上海市黄浦区西藏中路1号",
         "mobile": "13811112222", "education": "小学及以下", "household": "非农业", "skill_level": "无",
         "union_post": "工会会员", "work_unit": "上海某某百货有限公司", "id_expiry": ""}


_BODY = "31010119880615123"
WRONG_CHECK_DIGIT = _BODY + ("0" if check_digit(_BODY) != "0" else "1")


def add(client, **changes):
    data = dict(VALID, **changes)
    data.setdefault("id_number", make_id(date(1988, 6, 15), True))
    return client.post("/members/new", data=data)


def field_errors(response):
    page = soup(response)
    out = {}
    for err in page.select("#member-form .field-error"):
        label = err.find_previous("label")
        out[label["for"] if label and label.has_attr("for") else "?"] = err.get_text()
    return out


def test_add_form_labels_required_marks_and_defaults(grassroots):
    page = soup(grassroots.get("/members/new"))
    form = page.select_one("#member-form")
    required = [lab.get_text(" ", strip=True).replace("* ", "") for lab in form.select("label")
                if lab.select_one(".req")]
    # 性别 / 出生日期 come from a 身份证 number: required only for other documents (said in the hints).
    assert required == ["姓名", "有效证件类型", "证件号码", "联系地址", "移动电话", "学历", "户籍类型", "技术等级",
                        "工会职务"]
    selected = {s["name"]: s.select_one("option[selected]").get_text() for s in form.select("select")
                if s.select_one("option[selected]")}
    # No silent defaults for the coded fields a clerk must look at (学历, 户籍类型, 技术等级).
    assert selected == {"id_type": "身份证", "gender": "请选择性别", "education": "请选择学历",
                        "household": "请选择户籍类型", "skill_level": "请选择技术等级", "union_post": "工会会员"}
    assert [o.get_text() for o in form.select("#gender option")] == ["请选择性别", "男", "女"]
    assert [o.get_text() for o in form.select("#education option")] == ["请选择学历", *people.EDUCATION]
    assert form.select_one("#education").get("required") is None  # the server says it, in Chinese
    assert form.select_one("#name")["placeholder"] == "请输入姓名"
    text = form.get_text()
    for hint in ("非身份证类型请选择其他", "15位老的身份证号码会自动转换为18位身份证号码",
                 "身份证号码自动识别性别和出生日期", "超过6个汉字且少于20个汉字，办理会员卡时必填",
                 "按证件号码自动填写出生日期", "非身份证类型必选", "非身份证类型必填"):
        assert hint in text
    assert [c["value"] for c in form.select("input[name=tags]")] == people.MEMBER_TAGS
    assert form.select_one("#birth_date")["type"] == "date" and form.select_one("#id_expiry")["type"] == "date"
    assert [b.get_text() for b in form.select(".actions button, .actions a")] == ["提交", "返回"]


@pytest.mark.parametrize("field,message", [("education", "请选择学历"), ("household", "请选择户籍类型"),
                                           ("skill_level", "请选择技术等级")])
def test_coded_fields_must_be_chosen_not_defaulted(grassroots, field, message):
    before = (Person.select().count(), Membership.select().count())
    response = add(grassroots, **{field: ""})
    assert response.status_code == 422
    assert field_errors(response)[field] == message
    assert (Person.select().count(), Membership.select().count()) == before
    # the form comes back with the other choices kept and this one at 请选择
    form = soup(response).select_one("#member-form")
    assert form.select_one(f"#{field} option[selected]").get_text() == message


def test_resident_id_fills_gender_and_birth_date_other_documents_need_them(union, grassroots):
    number = make_id(date(1990, 3, 4), True)
    assert add(grassroots, id_number=number, gender="", birth_date="").status_code == 302
    p = Membership.get(Membership.org == union.id).person
    assert (p.gender, p.birth_date) == ("男", date(1990, 3, 4))
    refused = add(grassroots, id_type="其他", id_number="AB1234567", gender="", birth_date="", mobile="13811113333")
    assert refused.status_code == 422
    assert field_errors(refused) == {"gender": "请选择性别（非身份证须填写）",
                                     "birth_date": "请填写出生日期（非身份证须填写）"}


def test_add_without_review_gives_a_member_number(union, grassroots):
    number = make_id(date(1988, 6, 15), False)
    response = add(grassroots, id_number=number, tags=["农民工", "困难职工"])
    assert response.status_code == 302
    m = Membership.get(Membership.org == union.id)
    assert (m.status, len(m.member_no), m.member_no.isdigit()) == ("正常", 10, True)
    assert (m.person.gender, m.person.birth_date) == ("女", date(1988, 6, 15))  # from the number
    assert (m.mobile, m.tags) == ("13811112222", "农民工、困难职工")
    assert response.headers["Location"] == f"/members/{m.id}"
    assert AuditLog.for_object(m).where(AuditLog.action == "新增会员").exists()


def test_add_with_review_waits_without_a_member_number(union, city, grassroots):
    Organization.update(member_review=True).where(Organization.id == city.orgs["district1"].id).execute()
    assert add(grassroots).status_code == 302
    m = Membership.get(Membership.org == union.id)
    assert (m.status, m.member_no) == ("待审核", None)
    assert "等待上级工会会员审核" in soup(grassroots.get(f"/members/{m.id}")).select_one(".alert-success").get_text()


def test_fifteen_digit_number_becomes_eighteen(union, grassroots):
    body = "310101" + "19720809" + "452"
    full = body + check_digit(body)
    assert add(grassroots, id_number=full[:6] + full[8:17]).status_code == 302
    assert Membership.get(Membership.org == union.id).person.id_number == full


def test_input_is_normalised(union, grassroots):
    number = make_id(date(1979, 2, 3), True, ending="X")
    typed = " " + "".join(chr(ord(c) + 0xFEE0) for c in number[:9]) + " " + number[9:17] + "x"
    response = add(grassroots, id_number=typed, name=" 张 三 ", mobile="１３８ 1111 2222")
    assert response.status_code == 302, field_errors(response)
    m = Membership.get(Membership.org == union.id)
    assert (m.person.id_number, m.person.name, m.mobile) == (number, "张三", "13811112222")


@pytest.mark.parametrize("changes,field,message", [
    ({"id_number": WRONG_CHECK_DIGIT}, "id_number", CHECK_MESSAGE),
    ({"name": ""}, "name", "请填写姓名"),
    ({"address": ""}, "address", "请填写联系地址"),
    ({"mobile": "12345"}, "mobile", MOBILE_MESSAGE),
    ({"mobile": ""}, "mobile", "请填写移动电话"),
    ({"gender": "男", "id_number": make_id(date(1988, 6, 15), False)}, "gender",
     "性别与身份证号码不符：按身份证号码应为女"),
    ({"birth_date": "1988-06-16", "id_number": make_id(date(1988, 6, 15), True)}, "birth_date",
     "出生日期与身份证号码不符：按身份证号码应为1988-06-15"),
    ({"id_number": make_id(date(2030, 1, 1), True)}, "id_number", FUTURE_MESSAGE),
    ({"id_type": "护照", "id_number": "E12345678"}, "gender", "请选择性别（非身份证须填写）"),
    ({"id_type": "护照", "id_number": "E12345678", "gender": "男"}, "birth_date", "请填写出生日期（非身份证须填写）"),
    ({"id_type": "护照", "id_number": "E12345678", "gender": "男", "birth_date": "2099-01-01"}, "birth_date",
     "出生日期不能晚于今天"),
    ({"education": "博士后"}, "education", None),
])
def test_add_rules_show_next_to_the_field_and_save_nothing(grassroots, changes, field, message):
    before = (Person.select().count(), Membership.select().count())
    response = add(grassroots, **changes)
    assert response.status_code == 422
    errors = field_errors(response)
    assert field in errors, errors
    if message:
        assert errors[field] == message
    assert (Person.select().count(), Membership.select().count()) == before


def test_add_error_fragment_for_htmx(grassroots):
    response = grassroots.post("/members/new", data=dict(VALID, id_number="1"), headers={"HX-Request": "true"})
    page = soup(response)
    assert response.status_code == 422 and page.find("html") is None
    assert page.select_one("#member-form .field-error") is not None


def test_other_id_type_with_birth_and_gender_is_accepted(union, grassroots):
    response = add(grassroots, id_type="护照", id_number="e 1234 5678", gender="男", birth_date="1985-05-05")
    assert response.status_code == 302
    p = Membership.get(Membership.org == union.id).person
    assert (p.id_type, p.id_number, p.gender, p.birth_date) == ("护照", "E12345678", "男", date(1985, 5, 5))


def test_mobile_unique_within_the_union(union, city, grassroots):
    factories.make_member(union, name="已有", mobile="13811112222")
    response = add(grassroots)
    assert response.status_code == 422
    assert "移动电话已被本工会会员「已有」使用" in soup(response).select_one(".alert-error").get_text()
    factories.make_member(city.orgs["direct1"], mobile="13833334444")  # another union's mobile is fine
    assert add(grassroots, mobile="13833334444").status_code == 302


def test_person_held_by_another_union_is_refused_with_its_contact(union, city, grassroots):
    other = city.orgs["direct1"]
    Organization.update(contact="钱主席", phone="021-63331234").where(Organization.id == other.id).execute()
    held = factories.make_member(other, name="赵六")
    response = add(grassroots, id_number=held.person.id_number)
    assert response.status_code == 422
    text = soup(response).select_one(".alert-error").get_text()
    assert f"「{other.name}」" in text and "钱主席" in text and "021-63331234" in text
    assert not Membership.select().where(Membership.org == union.id).exists()


def test_only_grassroots_unions_add(city, as_role):
    for role in ("district", "secondary", "city", "centre", "admin"):
        client = as_role(role)
        response = client.get("/members/new")
        assert response.status_code == 403, role
        assert "只有基层工会（或临时工会）可以新增会员" in soup(response).select_one(".refusal").get_text()
        assert add(client).status_code == 403
    assert Membership.select().count() == 0


def test_temporary_union_adds(app, city):
    temp = city.orgs["temporary1"]
    client = login(app, factories.make_account(temp))
    assert add(client).status_code == 302
    assert Membership.get(Membership.org == temp.id).status == "正常"


# --- 编辑 ---------------------------------------------------------------------------------------
def edit_data(m, **changes):
    p = m.person
    data = {"name": p.name, "id_type": p.id_type, "id_number": p.id_number, "gender": p.gender,
            "birth_date": p.birth_date.isoformat(), "address": m.address or "上海市某路1号",
            "mobile": m.mobile or "13955556666",
            "education": m.education, "household": m.household, "skill_level": m.skill_level,
            "union_post": m.union_post, "work_unit": m.work_unit, "id_expiry": ""}
    data.update(changes)
    return data


def test_edit_form_is_prefilled(union, grassroots):
    m = factories.make_member(union, mobile="13955556666", tags="劳动模范", education="本科")
    form = soup(grassroots.get(f"/members/{m.id}/edit")).select_one("#member-form")
    assert form.select_one("#id_number")["value"] == m.person.id_number
    assert form.select_one("#education option[selected]").get_text() == "本科"
    assert [c["value"] for c in form.select("input[name=tags][checked]")] == ["劳动模范"]


def test_edit_record_fields_at_once(union, grassroots):
    m = factories.make_member(union, mobile="13955556666")
    response = grassroots.post(f"/members/{m.id}/edit", data=edit_data(m, address="新地址路8号", skill_level="技师"))
    assert response.status_code == 302
    m = Membership.get_by_id(m.id)
    assert (m.address, m.skill_level, m.edit_status) == ("新地址路8号", "技师", "")
    assert AuditLog.for_object(m).where(AuditLog.action == "编辑会员").exists()


def test_identity_change_waits_for_review_where_the_district_reviews(union, city, grassroots):
    Organization.update(member_review=True).where(Organization.id == city.orgs["district1"].id).execute()
    m = factories.make_member(union, mobile="13955556666")
    old_name = m.person.name
    response = grassroots.post(f"/members/{m.id}/edit", data=edit_data(m, name="改名字"))
    assert response.status_code == 302
    assert Person.get_by_id(m.person_id).name == old_name
    change = MemberChange.get(MemberChange.membership == m.id)
    assert (change.status, change.data) == ("待审核", {"name": "改名字"})
    page = soup(grassroots.get(f"/members/{m.id}"))
    assert "证件信息的修改已提交上级审核" in page.select_one(".alert-success").get_text()
    assert page.select_one("#edit-status").get_text() == "待审核"
    assert "改名字" in page.select_one("#pending-change").get_text()
    listing = soup(grassroots.get("/members/"))
    assert rows(listing)[0].select("td")[11].get_text() == "待审核"


def test_identity_change_is_immediate_without_review(union, grassroots):
    m = factories.make_member(union, mobile="13955556666")
    assert grassroots.post(f"/members/{m.id}/edit", data=edit_data(m, name="新名字")).status_code == 302
    assert Person.get_by_id(m.person_id).name == "新名字"
    assert not MemberChange.select().exists()


def test_edit_errors_keep_the_member_unchanged(union, grassroots):
    m = factories.make_member(union, mobile="13955556666")
    response = grassroots.post(f"/members/{m.id}/edit", data=edit_data(m, mobile="1", address="改了"))
    assert response.status_code == 422 and field_errors(response)["mobile"] == MOBILE_MESSAGE
    assert Membership.get_by_id(m.id).address == m.address


def test_superiors_do_not_edit(union, city, as_role):
    m = factories.make_member(union, mobile="13955556666")
    client = as_role("district")
    response = client.get(f"/members/{m.id}/edit")
    assert response.status_code == 302 and response.headers["Location"] == f"/members/{m.id}"
    refused = client.post(f"/members/{m.id}/edit", data=edit_data(m, address="上级改的"))
    assert refused.status_code == 403
    assert "只有会员所在的基层工会可以编辑会员" in soup(refused).select_one(".refusal").get_text()
    assert Membership.get_by_id(m.id).address == m.address


# --- 详情 ---------------------------------------------------------------------------------------
def test_detail_shows_the_full_number_and_the_audit_log(union, grassroots, as_role, city):
    assert add(grassroots).status_code == 302
    m = Membership.get(Membership.org == union.id)
    page = soup(grassroots.get(f"/members/{m.id}"))
    assert page.select_one("#id-number").get_text() == m.person.id_number
    assert page.select_one("#mobile").get_text() == "13811112222"
    assert page.select_one("#has-card").get_text() == "否"
    assert "新增会员" in page.select_one("#audit-log").get_text()
    assert [a.get_text() for a in page.select(".toolbar a")] == ["编辑", "转出", "删除"]
    # a superior in scope sees it too (read-only); the read-only city account sees it masked
    district = soup(as_role("district").get(f"/members/{m.id}"))
    assert district.select_one("#id-number").get_text() == m.person.id_number and not district.select(".toolbar a")
    masked = soup(as_role("city").get(f"/members/{m.id}")).select_one("#id-number").get_text()
    assert m.person.id_number not in masked and masked.endswith(m.person.id_number[-4:])


def test_detail_out_of_scope_is_404(city, app):
    m = factories.make_member(city.orgs["direct1"])
    for account in (city.account("grassroots"), city.account("district", 1), city.account("secondary")):
        assert login(app, account).get(f"/members/{m.id}").status_code == 404


def test_detail_lists_transfer_requests(union, city, grassroots):
    m = factories.make_member(union)
    member_review.request_transfer(m, city.orgs["direct1"], city.account("grassroots"), "已离职")
    text = soup(grassroots.get(f"/members/{m.id}")).select_one("#transfers").get_text()
    assert city.orgs["direct1"].name in text and "待审核" in text and "已离职" in text


# --- 删除 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("reason", ["退休", "犯罪", "死亡"])
def test_delete_with_each_allowed_reason_is_soft(union, city, grassroots, reason):
    m = factories.make_member(union)
    page = soup(grassroots.get(f"/members/{m.id}/delete"))
    assert "目前只有退休、犯罪、死亡可以删除会员" in page.get_text()
    assert city.orgs["temporary1"].name in page.select_one("#delete-form").get_text()
    options = [o.get_text() for o in page.select("#reason option")]
    assert options == ["请选择删除原因", "退休", "犯罪", "死亡"]
    response = grassroots.post(f"/members/{m.id}/delete", data={"reason": reason})
    assert response.status_code == 302
    kept = Membership.get_by_id(m.id)
    assert (kept.status, kept.leave_reason) == ("已删除", reason)
    # the person stays and may join another union later
    other = city.orgs["direct1"]
    again = members.add(other, city.account("grassroots", 2),
                        {"name": m.person.name, "id_type": "身份证", "id_number": m.person.id_number,
                         "gender": m.person.gender, "birth_date": m.person.birth_date},
                        {"mobile": "13977778888", "address": "上海市某路"})
    assert again.person_id == m.person_id and again.status == "正常"


@pytest.mark.parametrize("reason", ["已离职", "", "开除会籍"])
def test_delete_refused_with_another_reason(union, grassroots, reason):
    m = factories.make_member(union)
    response = grassroots.post(f"/members/{m.id}/delete", data={"reason": reason})
    assert response.status_code == 422
    error = soup(response).select_one("#delete-form .field-error").get_text()
    assert error == ("请选择删除原因" if not reason else "目前只有退休、犯罪、死亡可以删除会员")
    assert Membership.get_by_id(m.id).status == "正常"


def test_only_the_members_grassroots_union_deletes_or_transfers(union, city, as_role):
    m = factories.make_member(union)
    for role in ("district", "secondary", "city", "centre", "admin"):
        client = as_role(role)
        assert client.post(f"/members/{m.id}/delete", data={"reason": "死亡"}).status_code in (403, 404), role
        assert client.post(f"/members/{m.id}/transfer", data={"destination": city.orgs["direct1"].name,
                                                              "reason": "已离职"}).status_code in (403, 404)
        for url, data in (("/members/delete", {"ids": m.id, "submitted": "1", "reason": "死亡"}),
                          ("/members/transfer", {"ids": m.id, "submitted": "1", "reason": "已离职",
                                                 "destination": city.orgs["direct1"].name})):
            response = client.post(url, data=data)
            assert response.status_code == 403, (role, url)
            reason = "市总工会账号只能查看" if role == "city" else "只有会员所在的基层工会可以"
            assert reason in soup(response).select_one(".refusal").get_text()
    sibling = as_role("grassroots", 1)  # another grassroots union: outside its scope
    assert sibling.post(f"/members/{m.id}/delete", data={"reason": "死亡"}).status_code == 404
    assert Membership.get_by_id(m.id).status == "正常" and not TransferRequest.select().exists()


# --- 转出 ---------------------------------------------------------------------------------------
def test_transfer_form(union, city, grassroots):
    m = factories.make_member(union)
    page = soup(grassroots.get(f"/members/{m.id}/transfer"))
    form = page.select_one("#transfer-form")
    assert [o.get_text() for o in form.select("#reason option")][1:] == list(people.TRANSFER_REASONS)
    assert ("如有离职人员可转移至您所在区总工会临时工会（例如：黄浦区总工会下级的工会会员离职，"
            "转入的工会组织名称填写黄浦区总工会临时工会）") in form.get_text()
    assert form.select_one("button[name=use_temporary]").get_text() == f"转入{city.orgs['temporary1'].name}"


def test_single_transfer_by_name(union, city, grassroots):
    m = factories.make_member(union)
    dest = city.orgs["grassroots2"]  # another district is fine
    response = grassroots.post(f"/members/{m.id}/transfer", data={"destination": dest.name, "reason": "已离职"})
    assert response.status_code == 302 and response.headers["Location"] == "/members/"
    request = TransferRequest.get(TransferRequest.source == m.id)
    assert (request.to_org_id, request.status, request.target.status) == (dest.id, "待审核", "转入审核中")
    assert Membership.get_by_id(m.id).status == "正常"  # until 会员转出审核


def test_transfer_to_the_temporary_union_in_one_click(union, city, grassroots):
    m = factories.make_member(union)
    response = grassroots.post(f"/members/{m.id}/transfer", data={"destination": "", "reason": "已离职",
                                                                  "use_temporary": "1"})
    assert response.status_code == 302
    assert TransferRequest.get(TransferRequest.source == m.id).to_org_id == city.orgs["temporary1"].id


def test_transfer_by_union_number_with_htmx(union, city, grassroots):
    m = factories.make_member(union)
    dest = city.orgs["direct1"]
    response = grassroots.post(f"/members/{m.id}/transfer", data={"destination": dest.union_no.lower(),
                                                                  "reason": "其他原因"},
                               headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/members/"
    assert TransferRequest.get(TransferRequest.source == m.id).to_org_id == dest.id


@pytest.mark.parametrize("where,message", [
    ("district1", "不是基层工会，不能接收会员"),
    ("closed", "已撤销，不能转入"),
    ("grassroots1", "转入单位与会员所在工会相同"),
    ("nowhere", "未找到「不存在的工会」"),
])
def test_refused_destinations(union, city, grassroots, where, message):
    m = factories.make_member(union)
    if where == "closed":
        dest = factories.make_org(city.orgs["district1"], name="已撤销的工会")
        Organization.update(status="已撤销").where(Organization.id == dest.id).execute()
        name = dest.name
    elif where == "nowhere":
        name = "不存在的工会"
    else:
        name = city.orgs[where].name
    response = grassroots.post(f"/members/{m.id}/transfer", data={"destination": name, "reason": "已离职"})
    assert response.status_code == 422
    assert message in soup(response).select_one("#transfer-form").get_text()
    assert not TransferRequest.select().exists()
    assert Membership.select().where(Membership.status == "转入审核中").count() == 0


def test_transfer_needs_a_listed_reason(union, city, grassroots):
    m = factories.make_member(union)
    response = grassroots.post(f"/members/{m.id}/transfer", data={"destination": city.orgs["direct1"].name,
                                                                  "reason": ""})
    assert response.status_code == 422
    assert soup(response).select_one("#transfer-form .field-error").get_text() == "请选择转移原因"
    assert not TransferRequest.select().exists()
