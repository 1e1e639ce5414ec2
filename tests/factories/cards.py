"""Factories for 会员服务卡: members who pass the card checks, 待办会员 rows, card batches in any
state, cards and revoke requests — for the scope matrix and the card tests."""

import itertools
from datetime import date, timedelta

from models import figures
from models.base import today
from models.cards import card_batches, card_pending, cards
from models.cards.card_batches import CardRevokeRequest
from models.cards.cards import Card, CardBatch, CardBatchItem, CardPending
from models.members.people import Person
from tests import factories

_mobiles = itertools.count(13_800_000_000 + 1)
_cards = itertools.count(1)
WORK_UNIT = "上海市黄浦区南京东路商务大楼"  # 13 汉字: passes the 6 < n < 20 check


def luhn_card(n: int | None = None, prefix: str = "622588") -> str:
    """A 19-digit card number with a valid Luhn check digit."""
    from stdnum import luhn
    body = f"{prefix}{(n if n is not None else next(_cards)):012d}"
    return body + luhn.calc_check_digit(body)


def card_member(org, **fields):
    """A 正常 member inside an enterprise who passes every card check."""
    fields.setdefault("mobile", str(next(_mobiles)))
    fields.setdefault("work_unit", WORK_UNIT)
    expiry = fields.pop("id_expiry", today() + timedelta(days=365 * 5))
    m = factories.make_member(org, **fields)
    Person.update(id_expiry=expiry).where(Person.id == m.person_id).execute()
    return type(m).get_by_id(m.id)


def make_pending(org, checked: bool = True, **fields) -> CardPending:
    m = card_member(org, **fields)
    row = CardPending.create(org=org, membership=m, person=m.person_id)
    if checked:
        card_pending.run_checks([row])
    return CardPending.get_by_id(row.id)


_unique = itertools.count(500_000)


def make_batch(org, status: str = cards.TO_SEND, people: int = 2) -> CardBatch:
    """A batch of `people` members of `org` in `status` (set directly, as the workflow tests need)."""
    from tests.factories.memberfiles import id_number
    batch = CardBatch.create(number=card_batches.next_batch_number(), org=org, count=people, status=status)
    for _ in range(people):
        m = card_member(org, id_number=id_number(next(_unique)))
        p = m.person
        CardBatchItem.create(batch=batch, person=p, membership=m, name=p.name, id_type=p.id_type,
                             id_number=p.id_number, gender=p.gender, birth_date=p.birth_date,
                             id_expiry=p.id_expiry, mobile=m.mobile, work_unit=m.work_unit,
                             state=cards.ITEM_WAITING if status in (cards.TO_SEND, cards.SENT) else cards.ITEM_OPENED)
    return CardBatch.get_by_id(batch.id)


def make_card(org, status: str = cards.CARD_NORMAL, issued: date | None = None) -> Card:
    m = card_member(org)
    issued = issued or today() - timedelta(days=10)
    with figures.people([m.person_id]):  # as the app writes a card: counted on the monitor
        card = Card.create(person=m.person_id, org=org, card_no=luhn_card(), status=status, issued_date=issued,
                           eligible_from=issued + timedelta(days=1))
    return card


def make_revoke(org, status: str = card_batches.PENDING_REVOKE) -> CardRevokeRequest:
    batch = make_batch(org)
    return CardRevokeRequest.create(batch=batch, org=org, reason="信息填写有误", status=status)


def items_of(batch):
    return list(CardBatchItem.select().where(CardBatchItem.batch == batch.id).order_by(CardBatchItem.id))
