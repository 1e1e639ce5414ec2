"""The demo's 会员服务卡 and 会员专享基本保障 examples (`flask demo`): cards in every state, the
protection years, both enrollment channels and the review chain up to a written-off voucher."""

import io
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from PIL import Image, ImageDraw
from stdnum import luhn

from models.base import today
from models.cards import card_batches, card_pending, card_return, cards
from models.cards.cards import HELD_CARD, Card
from models.enroll import enrollment, plans
from models.enroll.enrollment import StatusRecord
from models.enroll.plans import FeeSplit
from models.enroll.social_enroll import SocialCheck
from models.members.people import NORMAL, Membership, Person
from models.orgs.accounts import Account
from models.review import batches, enroll_review, vouchers
from models.storage import storage_dir


def social_examples(g1) -> None:
    """社保卡参保 in 新世界百货: members without a card in every routing class — 待提交 (正常 在职),
    参保待确认名单 (正常 不明确), 待校验 (封存 / 挂失, or never checked but known to the bureau's
    registry, so ① 获取社保卡和就业状态 resolves them), 退休 and 死亡; the registry file the reference
    status server can serve is written to STORAGE_DIR/demo/社保状态登记表.xlsx."""
    on = today()
    carded = Card.select(Card.person).where(Card.status.in_(HELD_CARD))
    people = list(Person.select().join(Membership).where((Membership.org == g1.id) & (Membership.status == NORMAL)
                                                         & (Person.id_type == "身份证") & Person.id.not_in(carded))
                  .order_by(Person.id.desc()).limit(40))
    if len(people) < 30:
        return
    plan = (["正常/在职"] * 12 + ["正常/不明确"] * 3 + ["封存/在职", "挂失/在职"] + ["正常/退休", "正常/死亡"])
    for person, spec in zip(people, plan, strict=False):
        card, employment = spec.split("/")
        SocialCheck.create(person=person.id, card_status=card, employment=employment, insurance="已缴纳",
                           status_date=on - timedelta(days=2), checked_at=on - timedelta(days=2))
        # the bureau says the same, so a new ① keeps everyone in their class (封存 / 挂失 stay 待校验)
        StatusRecord.insert(id_number=person.id_number, name=person.name, card_status=card, employment=employment,
                            insurance="已缴纳", status_date=on - timedelta(days=2)).on_conflict(
            conflict_target=[StatusRecord.id_number],
            update={StatusRecord.card_status: card, StatusRecord.employment: employment}).execute()
    for i, person in enumerate(people[len(plan):len(plan) + 8]):  # not checked yet: the registry knows them
        if not StatusRecord.select().where(StatusRecord.id_number == person.id_number).exists():
            StatusRecord.create(id_number=person.id_number, name=person.name, card_status="正常" if i % 4 else "锁定",
                                employment="在职" if i % 3 else "不明确", insurance="已缴纳",
                                status_date=on - timedelta(days=1))
    _registry_file()


def _registry_file() -> None:
    """The bureau's status file of the demo (the columns of 社保状态导入), for the reference server."""
    book = Workbook()
    sheet = book.active
    sheet.title = "社保状态"
    sheet.append(["证件号码", "姓名", "社保卡状态", "就业状态", "社保缴纳", "状态日期"])
    for r in StatusRecord.select().order_by(StatusRecord.id):
        sheet.append([r.id_number, r.name, r.card_status, r.employment, r.insurance, r.status_date.isoformat()])
    book.save(storage_dir("demo") / "社保状态登记表.xlsx")


def review_examples(centre, district, street, g2, g3, g4) -> None:
    """The review chain in 黄浦区: this year's centralized batch 已完成 (voucher written off) and an
    instant batch 缴费凭证待上传; for next year, 外滩茂悦 and 步行街物业 waiting in 待审批参保列表 and 小微企业
    联合工会 already added by 南京东路街道 (审核标识 二级工会)."""
    on = today()
    this, coming = plans.get_year(on.year), plans.get_year(on.year + 1)
    if this is None or coming is None:
        return
    centre_account = Account.get(Account.org == centre.id)
    district_account = Account.get(Account.org == district.id)

    def members_of(org, n, skip=0):
        return list(Person.select().join(Membership).where((Membership.org == org.id) & (Membership.status == NORMAL))
                    .order_by(Person.id).offset(skip).limit(n))
    if min(len(members_of(g, 20)) for g in (g2, g3, g4)) < 20:  # a tiny demo (tests): nothing to show
        return
    handler = {"name": "张敏", "mobile": "13900000001", "email": "zhangmin@example.com"}
    a_this, a_coming = plans.types_of(this)[0], plans.types_of(coming)[0]
    # this year: a centralized batch, paid and written off
    enrollment.submit(g3, this, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a_this, members_of(g3, 20), None,
                      on=date(on.year - 1, 12, 10))
    central, instant_kind = enroll_review.CENTRAL_KIND, enroll_review.INSTANT_KIND
    enroll_review.add_to_queue(district, this, central, _keys(district, this, central), None)
    done = enroll_review.submit_to_centre(district, this, central, handler, district_account,
                                          at=datetime(on.year - 1, 12, 27, 10, 0))
    batches.accept(done, centre_account, mail=False)
    voucher = vouchers.upload_voucher(district, [done.id], f"{on.year}年度集中参保缴费凭证",
                                           _voucher_image(), district_account)
    vouchers.confirm_voucher(voucher, centre_account)
    # this year: an instant batch waiting for its voucher
    enrollment.submit(g2, this, enrollment.CARD_CHANNEL, enrollment.HAS_CARD_NO_COVER, a_this, members_of(g2, 3),
                      None, on=on - timedelta(days=5))
    enroll_review.add_to_queue(district, this, instant_kind, _keys(district, this, instant_kind), None)
    instant = enroll_review.submit_to_centre(district, this, instant_kind, handler, district_account)
    batches.accept(instant, centre_account, mail=False)
    # next year: the queues
    for org, n in ((g2, 12), (g3, 15)):
        enrollment.submit(org, coming, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a_coming,
                          members_of(org, n, skip=3), None, on=on)
    enrollment.submit(g4, coming, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a_coming, members_of(g4, 8), None, on=on)
    enroll_review.add_to_queue(street, coming, central,
                               [k for k in _keys(street, coming, central) if k.startswith(f"{g4.id}-")], None)


def _voucher_image() -> bytes:
    """A small picture standing in for a bank slip (the demo's 缴费凭证)."""
    image = Image.new("RGB", (360, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 352, 192), outline=(58, 110, 165), width=3)
    for y in range(40, 180, 28):
        draw.line((24, y, 336, y), fill=(180, 190, 200), width=2)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _keys(reviewer, year, kind):
    rows, _ = enroll_review.groups(enroll_review.pane(reviewer, year, kind, False), 1, 100)
    return [g.key for g in rows]


def plan_examples(centre, districts) -> None:
    """Protection years: the current one and the next (its settings and windows from the reference
    timeline), the 2024–2025 split (A: 13 district / 0 grassroots) in every district, a credit for
    黄浦区, and the bureau's statuses for some 新世界百货 members (社保缴纳 未缴纳 → 待确认)."""
    centre_account = Account.get(Account.org == centre.id)
    on = today()
    for year in (on.year, on.year + 1):
        y = plans.create_year(year, centre_account)
        for district in districts:
            for t in plans.types_of(y):
                FeeSplit.create(org=district.id, type=t.id, district_part=t.full_fee - t.subsidy_full,
                                grassroots_part=0, valid_from=plans.day_start(date(year, 1, 1)),
                                valid_to=plans.day_end(date(year, 12, 31)))
        plans.Credit.create(org=districts[0].id, year=y.id, amount=120000, note=f"{year - 2}年会员计划退回金额")
    g1 = Account.get(Account.username == "grassroots").org_id
    people = list(Person.select().join(Membership).where(Membership.org == g1).order_by(Person.id).limit(60))
    for i, p in enumerate(people):
        StatusRecord.create(id_number=p.id_number, name=p.name, card_status="正常",
                            employment="退休" if i in (3, 7) else ("死亡" if i == 11 else "在职"),
                            insurance="未缴纳" if i % 9 == 5 else "已缴纳", status_date=on - timedelta(days=3))


def card_examples(g1, centre) -> None:
    """会员服务卡 in 新世界百货: 20 card holders (a batch 已开卡), a batch 已报送银行 waiting for the
    bank's return file, a batch 待报送 (to export, or to revoke), and a 待办会员列表 of 8 with
    two rows that fail their checks (ID expired, 证件到期日 missing) and one whose 工作单位 is too
    short."""
    members_ = list(Membership.select(Membership, Person).join(Person)
                    .where((Membership.org == g1.id) & (Membership.status == NORMAL)).order_by(Membership.id))
    if len(members_) < 40:  # a tiny demo (tests): nothing to show
        return
    account = Account.get(Account.org == g1.id)
    centre_account = Account.get(Account.org == centre.id)
    on = today()
    for i, m in enumerate(members_[:40]):
        expiry = date(on.year + 3 + i % 15, 1 + i % 12, 1 + i % 27)
        Person.update(id_expiry=expiry).where(Person.id == m.person_id).execute()

    def batch_of(group):
        card_pending.add_pending(g1, account, group)
        return card_batches.submit_batch(g1, account)

    opened = batch_of(members_[:20])
    card_batches.export_for_bank(opened, centre_account)
    plan = []
    for n, item in enumerate(cards.CardBatchItem.select().where(cards.CardBatchItem.batch == opened.id)):
        body = f"622588{20260000 + n:012d}"
        plan.append((item, body + luhn.calc_check_digit(body), on - timedelta(days=30)))
    card_return.apply_return(plan, centre_account)
    # The bank's return came back with the cards a month ago, so they count for 会员卡参保 today
    # (a card counts from the day after it is known).
    opened_cards = cards.Card.select(cards.Card.id).where(
        cards.Card.person.in_([m.person_id for m in members_[:20]]))
    cards.Card.update(eligible_from=on - timedelta(days=29)).where(cards.Card.id.in_(opened_cards)).execute()
    card_batches.export_for_bank(batch_of(members_[20:25]), centre_account)  # 已报送银行
    batch_of(members_[25:28])  # 待报送
    queue = members_[28:36]
    Person.update(id_expiry=on - timedelta(days=40)).where(Person.id == queue[0].person_id).execute()
    Person.update(id_expiry=None).where(Person.id == queue[1].person_id).execute()
    Membership.update(work_unit="南京西路").where(Membership.id == queue[2].id).execute()
    card_pending.add_pending(g1, account, list(Membership.select(Membership, Person).join(Person)
                                        .where(Membership.id.in_([m.id for m in queue]))))
