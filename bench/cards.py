"""会员服务卡 in the benchmark city (issue 6): the generator's card tables and the timed rows.

Generated: in the first 5,000-member union 2,000 card holders (one batch 已开卡) and a
待办会员列表 of 500 checked rows; in the second 5,000-member union one batch of 5,000 people
已报送银行 (what the return-file import applies); three-person batches 待报送 in 2,000 other
unions (the district's 办卡批次管理).
"""

import io
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from models import db

CHUNK = 5_000


def _luhn(n: int) -> str:
    from stdnum import luhn
    body = f"622588{n:012d}"
    return body + luhn.calc_check_digit(body)


def _members(org_id: int, limit: int, offset: int = 0) -> list:
    from models.members.people import Membership, Person
    return list(Membership.select(Membership.id, Membership.person, Person.name, Person.id_number, Person.gender,
                                  Membership.mobile, Membership.work_unit).join(Person)
                .where(Membership.org == org_id).order_by(Membership.id).offset(offset).limit(limit).tuples())


def generate_cards(info: dict) -> dict:
    from models.base import now, today
    from models.cards.cards import (
        ITEM_OPENED,
        ITEM_WAITING,
        OPENED,
        SENT,
        TO_SEND,
        Card,
        CardBatch,
        CardBatchItem,
        CardPending,
    )
    from models.members.people import Person
    start = time.perf_counter()
    on, stamp = today(), now()
    expiry = on + timedelta(days=3650)
    big, second = info["grassroots"][0], info["grassroots"][1]
    batch_no = iter(range(1, 100_000))

    def batch(org_id, status, people):
        b = CardBatch.create(number=f"KB{on:%Y%m%d}{next(batch_no):05d}"[:20], org=org_id, status=status,
                             count=len(people), submitted_at=stamp)
        items = [{"batch": b.id, "person": pid, "membership": mid, "name": name, "id_type": "身份证",
                  "id_number": number, "gender": gender, "id_expiry": expiry, "mobile": mobile,
                  "work_unit": unit, "state": ITEM_OPENED if status == OPENED else ITEM_WAITING}
                 for mid, pid, name, number, gender, mobile, unit in people]
        for i in range(0, len(items), CHUNK):
            CardBatchItem.insert_many(items[i:i + CHUNK]).execute()
        return b

    with db.atomic():
        holders = _members(big, 2_000)
        opened = batch(big, OPENED, holders)
        cards = [{"person": pid, "org": big, "batch": opened.id, "card_no": _luhn(pid), "status": "正常",
                  "issued_date": on - timedelta(days=30), "eligible_from": on - timedelta(days=29),
                  "created_at": stamp} for _, pid, *_ in holders]
        for i in range(0, len(cards), CHUNK):
            Card.insert_many(cards[i:i + CHUNK]).execute()
        queued = _members(big, 500, offset=2_000)
        Person.update(id_expiry=expiry).where(Person.id.in_([pid for _, pid, *_ in queued])).execute()
        CardPending.insert_many([{"org": big, "membership": mid, "person": pid, "added_at": stamp,
                                  "check_state": "已通过", "checked_at": stamp}
                                 for mid, pid, *_ in queued]).execute()
        sent = batch(second, SENT, _members(second, 5_000))
        small = info["grassroots"][info.get("big_unions", 10):][:2_000]
        for org_id in small:
            batch(org_id, TO_SEND, _members(org_id, 3))
    db.execute_sql("ANALYZE")
    return {"card_seconds": time.perf_counter() - start, "sent_batch": sent.id, "second_union": second}


def kept_cards(info: dict) -> dict | None:
    """The card data of a kept city (BENCH_KEEP), or None when it has none yet."""
    from models.cards.cards import SENT, CardBatch
    sent = CardBatch.get_or_none((CardBatch.org == info["grassroots"][1]) & (CardBatch.status == SENT))
    return {"sent_batch": sent.id, "second_union": info["grassroots"][1]} if sent else None


def undo_return(batch_id: int) -> None:
    """Put the 5,000-person batch back to 已报送银行 (a kept city stays the same)."""
    from models.cards.cards import ITEM_WAITING, SENT, Card, CardBatch, CardBatchItem
    with db.atomic():
        CardBatchItem.update(state=ITEM_WAITING).where(CardBatchItem.batch == batch_id).execute()
        Card.delete().where(Card.batch == batch_id).execute()
        CardBatch.update(status=SENT, opened_at=None).where(CardBatch.id == batch_id).execute()


def bench_cards(b, info: dict, members: int, timed, repeat: int) -> None:
    from models.cards.card_pending import pending_counts
    from models.cards.cards import CardBatchItem
    from models.orgs.accounts import Account
    from models.orgs.organizations import Organization
    cards_info = kept_cards(info)
    if cards_info is None:
        cards_info = generate_cards(info)
        b.row("generate cards (2,000 holders, 500 pending, 2,002 batches)", b.count("card_batch_item"),
              (cards_info["card_seconds"] * 1000, None))
    big = b.client("bench-big", info["password"])
    for label, query in (("page 1", ""), ("办卡状态 已开卡", "?state=已开卡"),
                         ("办卡状态 未办卡, page 100", "?state=未办卡&page=100"), ("姓名搜索", "?name=会员1")):
        b.row(f"卡片信息管理, 5,000-member union: {label}", members, timed(b.get(big, "/cards/" + query),
                                                                          max(20, repeat // 2)), "p95 ≤ 50")
    b.row("待办会员列表 of 500 rows with the header counts", members, timed(b.get(big, "/cards/pending")), "p95 ≤ 50")
    org_id = info["big_union"]
    orm = timed(lambda: pending_counts(org_id))
    raw = timed(b.raw(f'SELECT "check_state", count("id") FROM "card_pending" WHERE "org_id" = {b.param} '
                      'GROUP BY "check_state"', org_id))
    b.row("  data access: 待办会员 header counts (ORM vs raw SQL)", b.count("card_pending"), orm, "", orm[0] / raw[0])
    district = b.client("bench-district", info["password"])
    b.row("办卡批次管理 of a district (GET /cards/batches)", b.count("card_batch"),
          timed(b.get(district, "/cards/batches")), "p95 ≤ 50")
    # 开卡回盘导入 of the 5,000-person batch: upload → job → applied, against a bare read
    from openpyxl import Workbook

    from bench.files import bare_read
    from models.base import today
    on = today()
    book = Workbook()
    sheet = book.active
    sheet.append(["证件号码", "卡号", "开卡日期"])
    for i, (number,) in enumerate(CardBatchItem.select(CardBatchItem.id_number)
                                  .where(CardBatchItem.batch == cards_info["sent_batch"]).tuples()):
        sheet.append([number, _luhn(10_000_000 + i), (on - timedelta(days=1)).isoformat()])
    path = Path(tempfile.mkdtemp(prefix="bench-cards-")) / "return-5000.xlsx"
    book.save(path)
    data = path.read_bytes()

    cpu_read = time.process_time()
    read = timed(lambda: bare_read(data), 1)[0]
    cpu_read = (time.process_time() - cpu_read) / 2  # timed() runs it twice (one warm-up)
    centre = Organization.get_or_none(Organization.name == "基准职保中心") or Organization.add(
        Organization.get_by_id(info["city"]), name="基准职保中心", type="市职保中心", level="centre")
    if not Account.select().where(Account.username == "bench-centre").exists():
        account = Account(username="bench-centre", org=centre.id)
        account.set_password(info["password"])
        account.save()
    client = b.client("bench-centre", info["password"])
    started, cpu = time.perf_counter(), time.process_time()
    response = client.post("/cards/returns", data={"file": (io.BytesIO(data), "return.xlsx")},
                           content_type="multipart/form-data")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert response.status_code == 302, response.status_code
    opened = CardBatchItem.select().where((CardBatchItem.batch == cards_info["sent_batch"])
                                          & (CardBatchItem.state == "已开卡")).count()
    assert opened == 5_000, opened
    b.row(f"开卡回盘导入 5,000 rows (xlsx, upload → job → cards, items, batch 已开卡; CPU {cpu:.2f} s, "
          f"bare read {cpu_read:.2f} s; ratio ≤ 3)", members,
          (seconds * 1000, seconds * 1000), "p95 ≤ 3000", seconds * 1000 / read)
    b.row("  bare calamine read of the same 5,000-row file", members, (read, read))
    undo_return(cards_info["sent_batch"])
