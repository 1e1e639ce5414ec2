"""开卡回盘导入: the bank's return file (证件号码, 卡号, 开卡日期) as a background job.

Every row is checked against the card batches in the importer's scope (the centre: all; a
district: its subtree): the person must wait for a card in a batch already sent to the bank, the
card number must pass the Luhn check and be new, 开卡日期 a real date not after today. Rows that
pass are applied in one transaction (cards, items, 已办会员卡, batches 已开卡); rows that fail are
listed with row, column value and reason and come back as an error file to fix and upload again.
A row whose card is already recorded (the same file uploaded twice) changes nothing.
"""

from datetime import date, timedelta

from models import db, figures
from models.audit import AuditLog
from models.base import DomainError, in_values, now, today
from models.cards.cards import (
    CARD_CANCELLED,
    CARD_NORMAL,
    HELD_CARD,
    ITEM_OPENED,
    ITEM_REVOKED,
    ITEM_WAITING,
    SENT,
    TO_SEND,
    Card,
    CardBatch,
    CardBatchItem,
)
from models.io import uploads
from models.io.bulk import bulk_insert, fetch
from models.io.tables import lost_digits, lost_digits_message
from models.io.templates import notes_sheet, workbook_bytes
from models.jobs import Job, bulk_work, job_kind
from models.orgs.accounts import Account
from models.rules import cards as rules
from models.rules.idnumber import normalize_id
from models.rules.text import mask_text, parse_day
from models.workflow import transition

KIND = "card_return"
MAX_ROWS = 50_000


RETURN_COLUMNS = ["证件号码", "卡号", "开卡日期"]


def return_template() -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "开卡回盘"
    sheet.append(RETURN_COLUMNS)
    for col in "ABC":
        sheet.column_dimensions[col].width = 24
        for row in range(2, 1002):
            sheet[f"{col}{row}"].number_format = "@"
    notes_sheet(book, (["证件号码", "必填，办卡批次中的证件号码"],
                       ["卡号", "必填，16至19位银行卡号（校验位须正确），不能重复"],
                       ["开卡日期", "必填，年-月-日，如 2026-12-01，不能晚于今天"]), widths=None)
    return workbook_bytes(book)


def _day(text: str, on: date) -> date:
    day = parse_day(text)
    if day is None:
        raise ValueError("开卡日期格式应为 年-月-日")
    if day > on:
        raise ValueError("开卡日期不能晚于今天")
    return day


def check_return_rows(rows: list, account, on: date | None = None) -> tuple[list, list, int]:
    """rows = [(row number, {column: value})] of the return file. Returns (plan, checked,
    already): plan = [(item, card_no, issued)] to apply, checked = [(values, reasons)] in file
    order, already = rows whose card is already recorded (a re-upload; nothing to do)."""
    on = on or today()
    numbers = [normalize_id(v.get("证件号码")) for _, v in rows]
    cards = [_card(v.get("卡号")) for _, v in rows]  # (card number or "", the reason it is not one)
    # Rows sharing a card number or an ID number: none of them can be trusted, all are refused.
    rows_of_card: dict = {}
    rows_of_id: dict = {}
    for (number, _values), id_number, (guess, _) in zip(rows, numbers, cards, strict=True):
        if guess:
            rows_of_card.setdefault(guess, []).append(number)
        if id_number:
            rows_of_id.setdefault(id_number, []).append(number)
    items = _items([n for n in numbers if n])
    taken = dict(Card.select(Card.card_no, Card.person).where(in_values(Card.card_no, list(rows_of_card))).tuples())
    scope = None if account.acts_for_centre else set(
        r[0] for r in account.org.subtree_ids().tuples())
    days: dict = {}  # 开卡日期 text → the day or the reason (a file has a few distinct days)
    plan, checked, already = [], [], 0
    for (_number, values), id_number, (guess, card_error) in zip(rows, numbers, cards, strict=True):
        # The common row first (what the general checks below would find fine): plain cells, its one
        # item waiting in scope in a batch sent to the bank, numbers once in the file, a new card.
        text = values.get("开卡日期")
        day = days.get(text)
        found = items.get(id_number) if guess and day is not None and not isinstance(day, str) else None
        if (found is not None and len(found) == 1 and len(rows_of_id[id_number]) == 1
                and len(rows_of_card[guess]) == 1 and guess not in taken
                and not lost_digits(values.get("证件号码")) and not lost_digits(values.get("卡号"))):
            item = found[0]
            if (item.state == ITEM_WAITING and item.batch.status != TO_SEND
                    and (scope is None or item.batch.org_id in scope)):
                checked.append((values, []))
                plan.append((item, guess, day))
                continue
        reasons = []
        card_no, issued = None, None
        lost = [label for label in ("证件号码", "卡号") if lost_digits(values.get(label))]
        for label in lost:  # Excel keeps 15 digits: the last ones are gone, maybe into another valid number
            reasons.append(lost_digits_message(label))
        if "卡号" not in lost:
            if card_error:
                reasons.append(card_error)
            else:
                card_no = guess
        if "证件号码" in lost:
            id_number = ""
        if text not in days:
            try:
                days[text] = _day(text, on)
            except ValueError as exc:
                days[text] = str(exc)
        if isinstance(days[text], str):
            reasons.append(days[text])
        else:
            issued = days[text]
        item = None
        if not id_number:
            if "证件号码" not in lost:
                reasons.append("证件号码未填写")
        else:
            if len(rows_of_id[id_number]) > 1:
                reasons.append(f"证件号码在文件中重复（第{'、'.join(map(str, rows_of_id[id_number]))}行）")
            candidates = [i for i in items.get(id_number, []) if scope is None or i.batch.org_id in scope]
            waiting = [i for i in candidates if i.state == ITEM_WAITING]
            opened = [i for i in candidates if i.state == ITEM_OPENED]
            if waiting:
                item = waiting[-1]
                if item.batch.status == TO_SEND:
                    reasons.append(f"所在办卡批次 {item.batch.number} 尚未报送银行")
            elif opened and card_no and taken.get(card_no) and taken[card_no] == opened[-1].person_id:
                already += 1  # the same card again: already recorded
                checked.append((values, []))
                continue
            elif opened:
                reasons.append(f"该人员在办卡批次 {opened[-1].batch.number} 中已开卡")
            else:
                reasons.append("该证件号码不在任何已报送银行的办卡批次中")
        if card_no:
            if len(rows_of_card[card_no]) > 1:
                reasons.append(f"卡号在文件中重复（第{'、'.join(map(str, rows_of_card[card_no]))}行）")
            elif card_no in taken:
                reasons.append("该卡号已被其他会员使用")
        checked.append((values, reasons))
        if not reasons and item is not None:
            plan.append((item, card_no, issued))
    return plan, checked, already


def _card(raw) -> tuple[str, str]:
    """(the card number, "") or ("", why it is not one)."""
    try:
        return rules.clean_card_no(raw), ""
    except ValueError as exc:
        return "", str(exc)


class _Batch:
    __slots__ = ("id", "org_id", "status", "number")

    def __init__(self, id_, org_id, status, number):
        self.id, self.org_id, self.status, self.number = id_, org_id, status, number


class _Item:
    """A batch item as the check and apply_return read it (plain attributes, not a model row:
    a return file holds tens of thousands)."""
    __slots__ = ("id", "person_id", "batch_id", "state", "batch")

    def __init__(self, id_, person_id, batch, state):
        self.id, self.person_id, self.batch_id, self.state, self.batch = id_, person_id, batch.id, state, batch


def _items(numbers: list) -> dict:
    """{ID number: [_Item …]} of the items (not 已撤销) of these ID numbers, oldest first."""
    batches, items = {}, {}
    query = (CardBatchItem.select(CardBatchItem.id, CardBatchItem.person, CardBatchItem.state,
                                  CardBatchItem.id_number, CardBatch.id, CardBatch.org, CardBatch.status,
                                  CardBatch.number).join(CardBatch)
             .where(in_values(CardBatchItem.id_number, numbers) & (CardBatchItem.state != ITEM_REVOKED))
             .order_by(CardBatchItem.id))
    for item_id, person_id, state, id_number, batch_id, org_id, status, batch_number in fetch(query):
        batch = batches.get(batch_id)
        if batch is None:
            batch = batches[batch_id] = _Batch(batch_id, org_id, status, batch_number)
        items.setdefault(id_number, []).append(_Item(item_id, person_id, batch, state))
    return items


def apply_return(plan: list, account, on: date | None = None) -> int:
    """The checked rows: cards created, items 已开卡, batches 已开卡 when no one in them waits any
    more (已办会员卡 is read from the cards: cards.holders) — one transaction, a handful of set-based
    statements whatever the number of rows."""
    on = on or today()
    if not plan:
        return 0
    person_ids = [item.person_id for item, _, _ in plan]
    item_ids = [item.id for item, _, _ in plan]
    batches = {item.batch_id for item, _, _ in plan}
    stamp = now()
    # a card moves 可参保 (the monitor's counters) of the people whose ID type is not 身份证
    with db.atomic(), figures.people(person_ids, cards_only=True):
        # the items 已开卡 first (nothing else written if another upload took one of them meanwhile); an
        # item's card is its person's card from its batch (card_batches.with_cards), so `state` is all that changes
        changed = (CardBatchItem.update(state=ITEM_OPENED)
                   .where(in_values(CardBatchItem.id, item_ids) & (CardBatchItem.state == ITEM_WAITING)).execute())
        if changed != len(plan):
            raise DomainError("办卡批次已被他人更新，请重新上传", 409)
        # an old card is replaced by the new one
        Card.update(status=CARD_CANCELLED).where(in_values(Card.person, person_ids)
                                                 & Card.status.in_(HELD_CARD)).execute()
        rows = [{"person": item.person_id, "org": item.batch.org_id, "batch": item.batch_id, "card_no": card_no,
                 "issued_date": issued, "eligible_from": max(issued, on) + timedelta(days=1)}
                for item, card_no, issued in plan]
        bulk_insert(Card, rows, same={"status": CARD_NORMAL, "created_at": stamp})
        for batch in CardBatch.select().where(CardBatch.id.in_(list(batches)) & (CardBatch.status == SENT)):
            if not CardBatchItem.select().where((CardBatchItem.batch == batch.id)
                                                & (CardBatchItem.state == ITEM_WAITING)).exists():
                transition(batch, "open", account=account, updates={"opened_at": now()})
    return len(plan)


def submit(account: Account, data: bytes, file_name: str) -> Job:
    """Store the upload (after a first read, so a wrong file is refused at once) and queue it."""
    return uploads.submit(KIND, account, data, file_name, RETURN_COLUMNS, MAX_ROWS)


@job_kind(KIND, "开卡回盘导入")
def run(ctx):
    with bulk_work():  # tens of thousands of small objects: no cyclic collection while they pile up
        return _run(ctx)


def _run(ctx):
    account = Account.get_by_id(ctx.params["account"])
    header, rows = uploads.read_rows(ctx, RETURN_COLUMNS, MAX_ROWS)
    plan, checked, already = check_return_rows(rows, account)
    failed = uploads.failed_rows(rows, checked)
    applied = apply_return(plan, account) if plan else 0
    ctx.save_progress(len(rows), len(rows))
    parts = [f"共{len(rows)}行，开卡{applied}人"]
    if already:
        parts.append(f"{already}行已导入过（未重复处理）")
    if failed:
        parts.append(f"{len(failed)}行有错误未导入，请下载错误文件修改后重新上传")
    result = uploads.result(
        ctx, len(rows), "，".join(parts) + "。", len(failed), imported=applied, already=already,
        errors=uploads.shown(failed, id_number=lambda v: mask_text(v.get("证件号码", "")),
                             card_no=lambda v: mask_text(v.get("卡号", ""))),
        error_file=uploads.error_file_of(header, failed) if failed else None, prefix="card-return",
        download_name="开卡回盘错误数据.xlsx")
    AuditLog.record("开卡回盘导入", ctx.job, account=account,
                    detail={"文件": ctx.params.get("file_name", ""), "行数": len(rows), "开卡": applied,
                            "已导入过": already, "错误行数": len(failed)})
    return result
