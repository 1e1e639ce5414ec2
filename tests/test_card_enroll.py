"""会员卡参保: 参保确认画面-集中参保办理 through the screen — the manuals' figures in the header, every
count opening the people behind it and equal to a direct count, the type lock, the confirmation
step, windows (frozen time), 集中参保待确认名单, 批次详情 and 撤回."""

from datetime import date, datetime, timedelta

import pytest
import time_machine

from models import figures
from models.cards.cards import Card
from models.enroll import plans
from models.enroll.card_enroll import CardConfirm
from models.enroll.enrollment import Enrollment, StatusRecord, Submission
from models.members.people import Membership, Person
from tests import factories
from tests.factories.cards import luhn_card
from tests.factories.enroll import IN_WINDOW, card_holder
from tests.helpers import soup

SEASON = datetime(2026, 11, 20, 10, 0)  # inside the 2027 grassroots window (1 Nov – 25 Dec 2026)


def text(response):
    return " ".join(soup(response).get_text(" ").split())


@pytest.fixture
def year(city):
    y = plans.create_year(2027)
    for t in plans.types_of(y):
        plans.save_split(city.orgs["district1"], t, f"{(t.full_fee - t.subsidy_full) / 100:g}", "0",
                         city.account("district"), at=IN_WINDOW)
    return y


@pytest.fixture
def union(city):
    return city.orgs["grassroots1"]


@pytest.mark.parametrize("n,fee,city_part,district_part", [(31, "806", "403", "403"), (53, "1378", "689", "689"),
                                                           (3, "78", "39", "39")])
def test_the_header_shows_the_manuals_figures(as_role, year, union, n, fee, city_part, district_part):
    for _ in range(n):
        card_holder(union)
    with time_machine.travel(SEASON, tick=False):
        page = as_role("grassroots").get("/enroll/card/central")
    header = " ".join(soup(page).find(id="central-header").get_text().split())
    assert header == (f"保障年度：2027年。可参保人数：{n}人。——保障费用：{fee}元；市总统一划拨：{city_part}元；"
                      f"区局/各级工会缴费：{district_part}元；基层单位缴费：0元。")
    assert "请于2026年12月25日之前,将对应的参保费用划入所属区局(产业)工会账户" in text(page)
    assert "【重要提示】各单位请注意:2027年1月1日前(不含当日)的退休人员均不属于本次集中参保" in text(page)


def test_every_count_opens_the_people_behind_it(as_role, year, union):
    for _ in range(4):
        card_holder(union)
    card_holder(union, employment="退休")
    card_holder(union, employment="死亡")
    card_holder(union, insurance="未缴纳")
    card_holder(union, employment=None, insurance=None)  # no registry record: to be confirmed
    for _ in range(3):
        factories.make_member(union)  # no card
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        counts = soup(grassroots.get("/enroll/card/central")).find(id="central-counts")
        shown = {a["href"].rsplit("/", 1)[1]: int(a.get_text()) for a in counts.find_all("a")}
        direct_total = Membership.select().where((Membership.org == union.id) & (Membership.status == "正常")).count()
        assert shown == {"total": direct_total, "cards": 8, "submitted": 0, "no_card": direct_total - 8,
                         "retired": 1, "dead": 1, "pending": 2}
        for which, n in shown.items():
            listed = grassroots.get(f"/enroll/card/central/people/{which}")
            assert f"总共 {n} 条记录" in text(listed), which


def test_submit_through_the_confirmation_step_then_the_type_is_locked(as_role, year, union):
    for _ in range(5):
        card_holder(union)
    b = plans.types_of(year)[2]
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        ask = grassroots.post("/enroll/card/central", data={"type": b.id})
        assert ask.status_code == 200 and Submission.select().count() == 0
        expected = "您选择的保障类型为：B类会员专享基本保障 请确认无误后再提交！"
        assert soup(ask).find(id="confirm-text").get_text() == expected
        done = grassroots.post("/enroll/card/central", data={"type": b.id, "confirmed": "1"})
        assert done.status_code == 302
        sub = Submission.get()
        assert (sub.status, sub.count, sub.mode, sub.fee) == ("区局确认中", 5, "集中参保", 5 * 9000)
        again = grassroots.get("/enroll/card/central")
        assert soup(again).find(id="type-locked").get_text() == "同一保障年度只能选择一个保障类型。"
        assert "集中参保已提交人数：5人" in " ".join(soup(again).find(id="central-counts").get_text().split())
        # a resent POST (double click, two tabs) finds nobody left: one submission
        resent = grassroots.post("/enroll/card/central", data={"type": b.id, "confirmed": "1"})
        assert resent.status_code == 422 and "没有可参保的人员" in text(resent)
        other = grassroots.post("/enroll/card/central", data={"type": plans.types_of(year)[0].id, "confirmed": "1"})
        assert other.status_code == 409 and "同一保障年度只能选择一个保障类型" in text(other)
    assert Submission.select().count() == 1
    card_holder(union)  # a newly eligible member: a second centralized submission adds them
    with time_machine.travel(SEASON, tick=False):
        second = as_role("grassroots").post("/enroll/card/central", data={"type": b.id, "confirmed": "1"})
        assert second.status_code == 302
    assert Submission.select().count() == 2 and Enrollment.select().where(Enrollment.active).count() == 6


def test_outside_the_window_the_button_is_disabled_and_the_server_refuses(as_role, year, union):
    card_holder(union)
    with time_machine.travel(datetime(2026, 12, 26, 9, 0), tick=False):
        grassroots = as_role("grassroots")
        page = soup(grassroots.get("/enroll/card/central"))
        button = page.find("button", string="提交至区局审核")
        assert button.has_attr("disabled")
        assert "已结束（开放时间：2026-11-01 00:00 至 2026-12-25 23:59）" in button["title"]
        refused = grassroots.post("/enroll/card/central", data={"type": plans.types_of(year)[0].id, "confirmed": "1"})
        assert refused.status_code == 409 and "基层工会集中参保确认提交已结束" in text(refused)
    assert Submission.select().count() == 0


def test_flagged_retirement_age_excluded_in_one_click(as_role, year, union):
    old = card_holder(union, birth=date(1960, 3, 1))  # a man or woman past retirement age by 2027
    young = card_holder(union, birth=date(1995, 3, 1))
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        assert "（1人）" in text(grassroots.get("/enroll/card/central"))
        grassroots.post("/enroll/card/central", data={"type": plans.types_of(year)[0].id, "exclude": "1",
                                                      "confirmed": "1"})
    enrolled = {e.person_id for e in Enrollment.select()}
    assert enrolled == {young.person_id} and old.person_id not in enrolled


def test_pending_confirmation_list(as_role, year, union):
    a = card_holder(union, insurance="未缴纳")
    b = card_holder(union, insurance="不明确")
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        page = grassroots.get("/enroll/card/pending")
        assert len(soup(page).select("table.pending-confirm tbody tr[id^=person-]")) == 2
        ask = grassroots.post("/enroll/card/pending", data={"person": a.person_id})
        assert "已确认的会员会加入集中参保名单且无法移除" in text(ask) and CardConfirm.select().count() == 0
        grassroots.post("/enroll/card/pending", data={"person": a.person_id, "confirmed": "1"})
        listed = soup(grassroots.get("/enroll/card/pending"))
        assert "已确认" in listed.find(id=f"person-{a.person_id}").get_text()
        counts = " ".join(soup(grassroots.get("/enroll/card/central")).find(id="central-counts").get_text().split())
        assert "待确认人数：1人" in counts
        grassroots.post("/enroll/card/pending", data={"all": "1", "confirmed": "1"})
        assert CardConfirm.select().count() == 2
        refused = grassroots.post("/enroll/card/pending", data={"all": "1", "confirmed": "1"})
        assert refused.status_code == 409
    assert b.person_id in {c.person_id for c in CardConfirm.select()}


def test_empty_pending_list_says_to_skip_the_step(as_role, year):
    with time_machine.travel(SEASON, tick=False):
        assert "此列表如果无数据信息,请忽略此步骤" in text(as_role("grassroots").get("/enroll/card/pending"))


def test_batch_detail_and_withdraw(city, as_role, year, union):
    for _ in range(2):
        card_holder(union)
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        grassroots.post("/enroll/card/central", data={"type": plans.types_of(year)[0].id, "confirmed": "1"})
        sub = Submission.get()
        detail = grassroots.get(f"/enroll/submissions/{sub.id}")
        assert "提交参保" in text(detail) and soup(detail).find(id="sub-fee").get_text().startswith("52元")
        listing = grassroots.get("/enroll/card")
        assert "区局确认中" in text(listing) and "集中参保" in text(listing)
        assert as_role("grassroots", 2).post(f"/enroll/submissions/{sub.id}/withdraw").status_code == 404
        asked = grassroots.post(f"/enroll/submissions/{sub.id}/withdraw")  # asked first, nothing changes
        assert asked.status_code == 200 and "撤回后，该次提交的2名人员" in text(asked)
        assert "集中参保提交开放至2026-12-25 23:59" in text(asked)
        assert Submission.get_by_id(sub.id).status == "区局确认中"
        done = grassroots.post(f"/enroll/submissions/{sub.id}/withdraw", data={"confirmed": "1"})
        assert done.status_code == 302
        assert Submission.get_by_id(sub.id).status == "已撤回"
        assert Enrollment.select().where(Enrollment.active).count() == 0
        refused = grassroots.post(f"/enroll/submissions/{sub.id}/withdraw", data={"confirmed": "1"})
        assert refused.status_code == 409 and "当前状态为「已撤回」" in text(refused)


def test_only_grassroots_unions(as_role, year):
    assert as_role("district").get("/enroll/card/central").status_code == 403


def test_the_notice_pdf_has_the_union_s_numbers_and_an_embedded_font(as_role, year, union, tmp_path):
    import io

    from pypdf import PdfReader

    from models.enroll import notice_pdf
    for _ in range(3):
        card_holder(union)
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        assert grassroots.get("/enroll/card/notice").status_code == 409  # nothing submitted yet
        grassroots.post("/enroll/card/central", data={"type": plans.types_of(year)[0].id, "confirmed": "1"})
        response = grassroots.get("/enroll/card/notice")
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
        expected = notice_pdf.grassroots_text(union, year)
    reader = PdfReader(io.BytesIO(response.data))
    extracted = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "截至今日参加A类会员共计3人（会员卡参保3人，社保卡参保0人），请于2026年12月25日之前" in extracted
    assert "".join(expected[1].split()) in extracted and union.name in extracted
    assert "上海市总工会职工服务中心" in extracted
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            f = font.get_object()
            descendants = f.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else f).get("/FontDescriptor")
            if desc is not None and any(k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                fonts.add(str(f["/BaseFont"]))
    assert any("WenQuanYi" in name or "wqy" in name.lower() for name in fonts), fonts
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=2)  # A4
    assert len(reader.pages[0].extract_text().splitlines()) >= 7  # the Chinese paragraph wraps on the page


def _card_issued(org, issued):
    m = factories.make_member(org)
    Card.create(person=m.person_id, org=org, card_no=luhn_card(), issued_date=issued,
                eligible_from=issued + timedelta(days=1))
    return m


def test_instant_has_card_no_cover_starts_tomorrow_with_half_year_fees_from_july(as_role, year, union):
    old = [_card_issued(union, date(2026, 5, 1)) for _ in range(2)]
    new = _card_issued(union, date(2027, 7, 2))
    with time_machine.travel(datetime(2027, 7, 10, 9, 0), tick=False):
        grassroots = as_role("grassroots")
        page = grassroots.get("/enroll/card/instant/has-card")
        header = " ".join(soup(page).find(id="instant-header").get_text().split())
        assert header == ("保障年度：2027年。可参保人数：2人。——保障费用：26元；市总统一划拨：13元；"
                          "区局/各级工会缴费：13元；基层单位缴费：0元。")  # 2 × 13 / 6.5 / 6.5 / 0 (half year)
        a = plans.types_of(year)[0]
        ask = grassroots.post("/enroll/card/instant/has-card", data={"type": a.id, "person": [old[0].person_id]})
        assert "请确认无误后再提交" in text(ask)
        done = grassroots.post("/enroll/card/instant/has-card",
                               data={"type": a.id, "person": [old[0].person_id], "confirmed": "1"})
        assert done.status_code == 302
        e = Enrollment.get(Enrollment.person == old[0].person_id)
        assert (e.start, e.end, e.period, e.fee, e.mode) == (date(2027, 7, 11), date(2027, 12, 31), "半年", 1300,
                                                             "有卡无保")
        fresh = grassroots.get("/enroll/card/instant/new-card")
        assert new.person.name in text(fresh) and old[1].person.name not in text(fresh)
        grassroots.post("/enroll/card/instant/new-card", data={"type": a.id, "confirmed": "1"})
    e = Enrollment.get(Enrollment.person == new.person_id)
    assert (e.mode, e.start) == ("新办卡", date(2027, 7, 11))


def test_instant_outside_its_window_is_refused(as_role, year, union):
    _card_issued(union, date(2026, 5, 1))
    with time_machine.travel(datetime(2027, 12, 31, 9, 0), tick=False):
        grassroots = as_role("grassroots")
        refused = grassroots.post("/enroll/card/instant/has-card",
                                  data={"type": plans.types_of(year)[0].id, "confirmed": "1"})
        assert refused.status_code == 409 and "即时参保已结束" in text(refused)
    assert Submission.select().count() == 0


def test_the_submission_list_filters(as_role, year, union):
    card_holder(union)
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        grassroots.post("/enroll/card/central", data={"type": plans.types_of(year)[0].id, "confirmed": "1"})
        Submission.update(district_batch="CB202612260001").execute()
        for query, n in (("?start=2026-11-20&end=2026-11-20", 1), ("?start=2026-11-21", 0),
                         ("?number=cb202612260001", 1), ("?number=CB202612260002", 0), ("?status=退回", 0),
                         ("?mode=集中参保", 1)):
            page = grassroots.get("/enroll/card" + query)
            assert len(soup(page).select("table.submissions tbody tr td a")) == n, query
        assert grassroots.get("/enroll/card?start=2026-13-01").status_code == 422


def test_the_notice_counts_every_submission_so_far_like_the_screen(as_role, year, union):
    from models.enroll import notice_pdf
    for _ in range(2):
        card_holder(union)
    a = plans.types_of(year)[0]
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        grassroots.post("/enroll/card/central", data={"type": a.id, "confirmed": "1"})
        card_holder(union)
        grassroots.post("/enroll/card/central", data={"type": a.id, "confirmed": "1"})
        counts = " ".join(soup(grassroots.get("/enroll/card/central")).find(id="central-counts").get_text().split())
        text_ = notice_pdf.grassroots_text(union, year)[1]
    assert "集中参保已提交人数：3人" in counts
    assert "截至今日参加A类会员共计3人（会员卡参保3人，社保卡参保0人）" in text_


# --- issue 16 item 9: a card counts for the member-card channel from the day after it is known ---
def _card_known_on(org, issued, known):
    """A member whose card (开卡日期 `issued`) was imported on `known`: usable from the next day."""
    m = factories.make_member(org)
    with figures.people([m.person_id]):  # written as the app writes them: the monitor's counters follow
        Card.create(person=m.person_id, org=org, card_no=luhn_card(), issued_date=issued,
                    eligible_from=max(issued, known) + timedelta(days=1))
        StatusRecord.create(id_number=m.person.id_number, name=m.person.name, card_status="正常",
                            employment="在职", insurance="已缴纳", status_date=date(2026, 10, 1))
    return m


def test_a_card_opened_today_counts_for_the_central_screen_from_tomorrow(as_role, year, union):
    old = card_holder(union)
    fresh = _card_known_on(union, SEASON.date(), SEASON.date())
    a = plans.types_of(year)[0]
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        counts = " ".join(soup(grassroots.get("/enroll/card/central")).find(id="central-counts").get_text().split())
        assert "有卡总会员数：1人" in counts and "未办卡人数：1人" in counts
        assert "未办卡人数中有1人的会员卡今日开卡或今日导入，次日起计入有卡总会员数并可参保" in text(
            grassroots.get("/enroll/card/central"))
        eligible = text(grassroots.get("/enroll/card/central/people/eligible"))
        assert old.person.name in eligible and fresh.person.name not in eligible
        assert grassroots.post("/enroll/card/central", data={"type": a.id, "confirmed": "1"}).status_code == 302
    assert [e.person_id for e in Enrollment.select()] == [old.person_id]
    with time_machine.travel(SEASON + timedelta(days=1), tick=False):
        grassroots = as_role("grassroots")
        counts = " ".join(soup(grassroots.get("/enroll/card/central")).find(id="central-counts").get_text().split())
        assert "有卡总会员数：2人" in counts and "未办卡人数：0人" in counts
        assert fresh.person.name in text(grassroots.get("/enroll/card/central/people/eligible"))
        assert grassroots.post("/enroll/card/central", data={"type": a.id, "confirmed": "1"}).status_code == 302
    assert sorted(e.person_id for e in Enrollment.select()) == sorted([old.person_id, fresh.person_id])


def test_a_card_opened_today_is_offered_for_instant_enrollment_from_tomorrow(as_role, year, union):
    on = datetime(2027, 7, 10, 9, 0)
    fresh = _card_known_on(union, on.date(), on.date())
    a = plans.types_of(year)[0]
    with time_machine.travel(on, tick=False):
        grassroots = as_role("grassroots")
        assert fresh.person.name not in text(grassroots.get("/enroll/card/instant/new-card"))
        refused = grassroots.post("/enroll/card/instant/new-card", data={"type": a.id, "confirmed": "1"})
        assert refused.status_code == 422 and "没有可参保的人员" in text(refused)
    assert Submission.select().count() == 0
    with time_machine.travel(on + timedelta(days=1), tick=False):
        grassroots = as_role("grassroots")
        assert fresh.person.name in text(grassroots.get("/enroll/card/instant/new-card"))
        assert grassroots.post("/enroll/card/instant/new-card",
                               data={"type": a.id, "confirmed": "1"}).status_code == 302
    e = Enrollment.get(Enrollment.person == fresh.person_id)
    assert (e.mode, e.start) == ("新办卡", date(2027, 7, 12))


def test_the_member_detail_gives_the_day_the_screens_use(as_role, year, union):
    # 开卡日期 6 Nov, the bank's return imported on 6 Dec: usable from 7 Dec, on every screen
    m = _card_known_on(union, date(2026, 11, 6), date(2026, 12, 6))
    with time_machine.travel(datetime(2026, 12, 6, 10, 0), tick=False):
        grassroots = as_role("grassroots")
        detail = " ".join(soup(grassroots.get(f"/members/{m.id}")).find(id="card").get_text(" ").split())
        assert "开卡日期 2026-11-06" in detail
        assert "自 2026-12-07 起可办理会员卡参保（开卡信息于 2026-12-06 导入，导入次日起可参保）" in detail
        assert m.person.name not in text(grassroots.get("/enroll/card/central/people/eligible"))
    with time_machine.travel(datetime(2026, 12, 7, 10, 0), tick=False):
        assert m.person.name in text(as_role("grassroots").get("/enroll/card/central/people/eligible"))


def test_the_submit_result_page_starts_the_notice_download_once(as_role, year, union):
    """Issue 16 item 14: after 提交至区局审核 the result page downloads the 告知书 at once (a meta
    refresh to the notice, JS on or off) and offers the link; a reload does not download again."""
    for _ in range(2):
        card_holder(union)
    with time_machine.travel(SEASON, tick=False):
        grassroots = as_role("grassroots")
        done = grassroots.post("/enroll/card/central", data={"type": plans.types_of(year)[0].id, "confirmed": "1"})
        result = grassroots.get(done.headers["Location"])
        page = soup(result)
        refresh = page.find("meta", attrs={"http-equiv": "refresh"})
        assert refresh is not None and refresh["content"].endswith("url=/enroll/card/notice")
        link = page.find(id="notice-download").find("a", href="/enroll/card/notice")
        assert link.get_text() == "下载集中参保告知书"
        pdf = grassroots.get("/enroll/card/notice")
        assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.data.startswith(b"%PDF")
        again = soup(grassroots.get(done.headers["Location"]))
        assert again.find("meta", attrs={"http-equiv": "refresh"}) is None
        assert again.find("a", href="/enroll/card/notice") is not None  # the link stays


def test_a_card_opened_today_leaves_its_holder_in_the_social_channel_until_tomorrow(as_role, year, union, city):
    """One rule for both channels (`cards.card_channel_people`): a card known today moves its holder
    from the social-security channel to the member-card channel tomorrow — never in neither — and the
    monitor's 可参保 counts him both days; a 护照 holder has no social channel, so only from tomorrow."""
    from models.enroll import card_enroll
    from models.enroll import social_enroll as social
    from models.stats import monitor as board
    fresh = _card_known_on(union, SEASON.date(), SEASON.date())
    passport = _card_known_on(union, SEASON.date(), SEASON.date())
    with figures.people([passport.person_id]):  # as members.apply_identity writes it
        Person.update(id_type="护照").where(Person.id == passport.person_id).execute()
    district = city.orgs["district1"]

    def channels():
        s = social.screen(union, year)
        offered = set().union(*(s.sets[k] for k in ("verify", "pending", "ready", "retired", "dead")))
        card = card_enroll.central_screen(union, year).sets["eligible"]
        return ({pid for pid in (fresh.person_id, passport.person_id) if pid in offered},
                {pid for pid in (fresh.person_id, passport.person_id) if pid in card},
                sum(g.eligible for g in board.monitor(district, year).groups))

    def pages(client):
        return (text(client.get("/enroll/social/central/people/verify")),
                text(client.get("/enroll/card/central/people/eligible")))

    with time_machine.travel(SEASON, tick=False):
        assert channels() == ({fresh.person_id}, set(), 1)
        social_page, card_page = pages(as_role("grassroots"))
        assert fresh.person.name in social_page and fresh.person.name not in card_page
    with time_machine.travel(SEASON + timedelta(days=1), tick=False):
        assert channels() == (set(), {fresh.person_id, passport.person_id}, 2)
        social_page, card_page = pages(as_role("grassroots"))
        assert fresh.person.name not in social_page and fresh.person.name in card_page
