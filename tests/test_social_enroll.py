"""社保卡参保 (issue 9): who is offered, the routing table, the screen's header with the manuals'
figures (31 → 806 / 403 / 403 / 0), counts that open their people, 参保待确认名单, submitting only
ticked 待提交 people, and the district batch number shared with the member-card channel."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from models.base import DomainError
from models.cards.cards import Card
from models.enroll import enrollment, plans
from models.enroll import social_enroll as social
from models.enroll.enrollment import Submission
from models.enroll.social_enroll import SocialCheck
from models.members.people import Person
from models.review import enroll_review as review
from tests import factories
from tests.factories.enroll import ready_year
from tests.helpers import soup

SEASON = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 2027 grassroots window open
INSTANT_DAY = datetime(2027, 3, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def member(org, card_status=None, employment="在职", id_type="身份证"):
    m = factories.make_member(org)
    if id_type != "身份证":
        Person.update(id_type=id_type).where(Person.id == m.person_id).execute()
    if card_status:
        SocialCheck.create(person=m.person_id, card_status=card_status, employment=employment)
    return m.person


@pytest.mark.parametrize("card,employment,confirmed,expected", [
    (None, None, False, "verify"),  # never checked ("-")
    ("正常", "在职", False, "ready"),
    ("正常", "不明确", False, "pending"),
    ("正常", "不明确", True, "ready"),
    ("封存", "在职", False, "verify"),
    ("挂失", "在职", True, "verify"),
    ("锁定", "在职", False, "verify"),
    ("注销", "在职", False, "verify"),
    ("不明确", "不明确", False, "verify"),
    ("正常", "退休", False, "retired"),
    ("封存", "退休", False, "retired"),
    ("正常", "死亡", True, "dead"),
])
def test_the_routing_table(card, employment, confirmed, expected):
    check = SocialCheck(card_status=card, employment=employment) if card else None
    assert social.route(check, confirmed) == expected


def test_who_is_offered_and_the_one_line_why_not(city):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    offered = member(union, "正常")
    carded = factories.make_member(union)
    Card.create(person=carded.person_id, org=union, card_no="6222000000000001", issued_date=date(2026, 1, 5),
                eligible_from=date(2026, 1, 6))
    member(union, "正常", id_type="护照")
    insured = member(union, "正常")
    enrollment.submit(union, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, plans.types_of(year)[0], [insured],
                      None, on=date(2026, 11, 20))
    s = social.screen(union, year)
    assert s.sets["ready"] == {offered.id}
    assert social.hidden_line(s) == ("仅显示没有工会会员服务卡且证件类型是身份证、本年度尚未参保的会员；"
                                     "未显示：本年度已参保1人，已办理工会会员服务卡1人，证件类型不是身份证1人。")


def test_the_header_shows_the_seed_figures_for_31_people_and_every_count_opens_its_people(city, as_role):
    ready_year(city)
    union = city.orgs["grassroots1"]
    for _ in range(31):
        member(union, "正常")
    retired = member(union, "正常", "退休")
    member(union, "正常", "死亡")
    unclear = member(union, "正常", "不明确")
    for status in ("封存", None):
        member(union, status)
    with time_machine.travel(SEASON, tick=False):
        client = as_role("grassroots")
        page = client.get("/enroll/social/central").get_data(as_text=True)
        assert ("可参保人数：<a href=\"/enroll/social/central/people/ready\">31</a>。——保障费用：806元；"
                "市总统一划拨：403元；区局/各级工会缴费：403元；基层单位缴费：0元。") in page
        import re
        counts = dict(re.findall(r"(\w+人数)：<a href=\"[^\"]+\">(\d+)</a>人", page))
        assert counts == {"集中参保已提交人数": "0", "退休人数": "1", "死亡人数": "1", "待确认人数": "1",
                          "待校验人数": "2"}
        for which, n in (("retired", 1), ("dead", 1), ("pending", 1), ("verify", 2), ("ready", 31)):
            listing = client.get(f"/enroll/social/central/people/{which}").get_data(as_text=True)
            assert f"总共 {n} 条记录" in listing
        assert retired.name in client.get("/enroll/social/central/people/retired").get_data(as_text=True)
        verify_tab = client.get("/enroll/social/central?tab=verify").get_data(as_text=True)
        assert "请进行工会会员服务卡参保" in verify_tab and verify_tab.count('name="person"') == 0
        fragment = client.get("/enroll/social/central?tab=ready&pane=tab", headers={"HX-Request": "true"})
        assert "<html" not in fragment.get_data(as_text=True)
        assert fragment.get_data(as_text=True).count('name="person"') == 20  # one page of 待提交
    assert unclear.id in social.screen(union, plans.get_year(2027)).sets["pending"]


def test_confirming_moves_a_person_to_the_ready_tab_for_good(city, as_role):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    unclear = member(union, "正常", "不明确")
    with time_machine.travel(SEASON, tick=False):
        client = as_role("grassroots")
        asked = client.post("/enroll/social/central/pending", data={"person": unclear.id})
        assert "已确认的会员自动加入【待提交】名单且无法移除" in asked.get_data(as_text=True)
        assert unclear.id in social.screen(union, year).sets["pending"]  # asking changes nothing
        done = client.post("/enroll/social/central/pending", data={"person": unclear.id, "confirmed": "1"})
        assert done.status_code == 302
        forged = client.post("/enroll/social/central/pending", data={"person": 999999})
        assert forged.status_code == 302  # nobody of the list ticked: said on the list (issue 16 item 17)
        assert "请先勾选要确认的人员" in client.get(forged.headers["Location"]).get_data(as_text=True)
    assert unclear.id in social.screen(union, year).sets["ready"]


def test_submit_only_ticked_ready_people(city, as_role):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    ready = [member(union, "正常") for _ in range(3)]
    sealed = member(union, "封存")
    other_union = member(city.orgs["direct1"], "正常")
    a = plans.types_of(year)[0]
    with time_machine.travel(SEASON, tick=False):
        client = as_role("grassroots")
        none = client.post("/enroll/social/central", data={"type": a.id})
        assert none.status_code == 422 and "请在【待提交】中勾选要参保的人员!" in none.get_data(as_text=True)
        for forged, reason in ((sealed, "待校验人数中"), (other_union, "不在本单位的待提交名单中")):
            response = client.post("/enroll/social/central", data={"type": a.id, "person": [ready[0].id, forged.id],
                                                                   "confirmed": "1"})
            assert response.status_code == 409 and reason in response.get_data(as_text=True)
        assert not Submission.select().exists()
        asked = client.post("/enroll/social/central", data={"type": a.id, "person": [p.id for p in ready[:2]]})
        assert ("您选择的保障类型为：A类会员专享基本保障 请确认无误后再提交！确认将已勾选人员，提交参保？"
                in asked.get_data(as_text=True))
        done = client.post("/enroll/social/central", data={"type": a.id, "person": [p.id for p in ready[:2]],
                                                           "confirmed": "1"})
        assert done.status_code == 302
        again = client.post("/enroll/social/central", data={"type": a.id, "person": [p.id for p in ready[:2]],
                                                            "confirmed": "1"})  # resent
        assert again.status_code == 409
    sub = Submission.get()
    assert (sub.channel, sub.mode, sub.count, sub.status) == ("社保卡参保", "集中参保", 2, "区局确认中")
    assert social.screen(union, year).sets["ready"] == {ready[2].id}


def test_instant_starts_the_day_after_submission(city):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    p = member(union, "正常")
    with time_machine.travel(INSTANT_DAY, tick=False):
        sub = social.submit(union, year, "instant", plans.types_of(year)[0], [p.id], None, date(2027, 3, 5))
    e = enrollment.Enrollment.get(enrollment.Enrollment.submission == sub.id)
    assert (sub.mode, e.start, e.end, e.period) == ("即时参保", date(2027, 3, 6), date(2027, 12, 31), "全年")


def test_outside_the_window_nothing_is_submitted(city):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    p = member(union, "正常")
    with time_machine.travel(datetime(2026, 12, 27, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        with pytest.raises(DomainError, match="已结束"):
            social.submit(union, year, "central", plans.types_of(year)[0], [p.id], None, date(2026, 12, 27))
    assert not Submission.select().exists()


def test_one_district_batch_number_each_channel_counting_its_own_people(city, as_role):
    """FAQ 2: 同一个批次号里的人员数量不一致 — the card list shows the card people, the social list the
    social people, under one CB number."""
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    card_people = [factories.make_member(union).person for _ in range(2)]
    enrollment.submit(union, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, plans.types_of(year)[0],
                      card_people, None, on=date(2026, 11, 20))
    social_people = [member(union, "正常") for _ in range(3)]
    with time_machine.travel(SEASON, tick=False):
        social.submit(union, year, "central", plans.types_of(year)[0], [p.id for p in social_people], None,
                      date(2026, 11, 20))
    district = city.orgs["district1"]
    rows, _ = review.groups(review.pane(district, year, review.CENTRAL_KIND, False), 1, 50)
    assert {(g.channel, g.count) for g in rows} == {("会员卡参保", 2), ("社保卡参保", 3)}
    review.add_to_queue(district, year, review.CENTRAL_KIND, [g.key for g in rows], None)
    with time_machine.travel(datetime(2026, 12, 27, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        batch = review.submit_to_centre(district, year, review.CENTRAL_KIND,
                                        {"name": "王", "mobile": "13800000000", "email": "w@example.com"}, None)
        client = as_role("grassroots")
        card_list = client.get("/enroll/card").get_data(as_text=True)
        social_list = client.get("/enroll/social/").get_data(as_text=True)
    assert (batch.card_count, batch.social_count) == (2, 3)
    import re
    assert re.search(rf"{batch.number}</td><td>2</td>", card_list)
    assert re.search(rf"{batch.number}</td><td>3</td>", social_list)


def test_a_returned_social_submission_releases_its_people_to_submit_again(city):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    people = [member(union, "正常") for _ in range(2)]
    with time_machine.travel(SEASON, tick=False):
        sub = social.submit(union, year, "central", plans.types_of(year)[0], [p.id for p in people], None,
                            date(2026, 11, 20))
        assert social.screen(union, year).sets["ready"] == set()
        district = city.orgs["district1"]
        rows, _ = review.groups(review.pane(district, year, review.CENTRAL_KIND, False), 1, 50)
        review.return_groups(district, year, review.CENTRAL_KIND, [g.key for g in rows], "名单有误", None)
        assert Submission.get_by_id(sub.id).status == "退回"
        assert social.screen(union, year).sets["ready"] == {p.id for p in people}  # editable, resubmittable
        again = social.submit(union, year, "central", plans.types_of(year)[0], [p.id for p in people], None,
                              date(2026, 11, 21))
    assert again.count == 2 and again.status == "区局确认中"


def test_the_social_list_filters_like_the_card_list(city, as_role):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    people = [member(union, "正常") for _ in range(3)]
    with time_machine.travel(SEASON, tick=False):
        social.submit(union, year, "central", plans.types_of(year)[0], [people[0].id], None, date(2026, 11, 20))
        social.submit(union, year, "central", plans.types_of(year)[0], [p.id for p in people[1:]], None,
                      date(2026, 11, 20))
        Submission.update(status="已撤回").where(Submission.count == 1).execute()
        client = as_role("grassroots")
        listing = client.get("/enroll/social/?status=区局确认中").get_data(as_text=True)
        assert "总共 1 条记录" in listing and "批次编号" in listing
        assert "总共 2 条记录" in client.get("/enroll/social/?mode=集中参保").get_data(as_text=True)
        bad = client.get("/enroll/social/?start=2026-13-01")
        assert bad.status_code == 422 and "提交时间（起）格式应为 年-月-日" in bad.get_data(as_text=True)


def test_both_central_screens_show_the_manual_s_whole_retiree_warning(city, as_role):
    """Issue 16 item 12: the manual's three sentences (seed 003), on the member-card and the
    social-security 集中参保 screens alike."""
    ready_year(city)
    warning = ("【重要提示】各单位请注意:2027年1月1日前(不含当日)的退休人员均不属于本次集中参保"
               "《2027年上海工会会员专享基本保障》的保障范围。目前系统内显示的会员比对结果,"
               "只标灰排除了8月底前的退休人员,需经办人员仔细甄别手动排除9-12月退休人员。"
               "由于系统无法识别,若有经办人员为不符条件的退休人员办理保障,则将不予给付。")
    with time_machine.travel(SEASON, tick=False):
        client = as_role("grassroots")
        for url in ("/enroll/card/central", "/enroll/social/central"):
            page = soup(client.get(url))
            assert warning in "".join(page.find(id="retiree-warning").get_text().split()), url


def test_the_social_central_submit_result_starts_the_notice_download(city, as_role):
    """Issue 16 item 14, the social-security channel: the same result page, the same download."""
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    people = [member(union, "正常") for _ in range(2)]
    with time_machine.travel(SEASON, tick=False):
        client = as_role("grassroots")
        done = client.post("/enroll/social/central", data={"type": plans.types_of(year)[0].id, "confirmed": "1",
                                                           "person": [p.id for p in people]})
        assert done.status_code == 302
        page = soup(client.get(done.headers["Location"]))
        refresh = page.find("meta", attrs={"http-equiv": "refresh"})
        assert refresh is not None and refresh["content"].endswith("url=/enroll/card/notice")
        assert page.find(id="notice-download").find("a", href="/enroll/card/notice").get_text() == "下载集中参保告知书"
        pdf = client.get("/enroll/card/notice")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
