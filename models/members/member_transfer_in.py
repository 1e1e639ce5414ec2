"""从其他工会转入会员到本工会 by Excel (seed 001): the same columns as 同步会员 and an optional 转入原因;
each row stands alone (its effects atomic): a person held elsewhere gets a transfer request
(转入审核中 until the source decides), a person with no union joins at once, anything else is
explained on the row."""

from dataclasses import dataclass

import peewee as pw

from models import db
from models.base import DomainError
from models.members import member_review
from models.members.member_sync import (
    MAX_TRANSFER_ROWS,
    NOT_FOUND,
    TRANSFER_REASON,
    Line,
    can_sync,
    find_people,
    held_memberships,
    pending_message,
    read_lines,
)
from models.members.member_sync_apply import join_directly, refusal
from models.members.member_sync_files import JOINED_DIRECTLY, TRANSFER_COLUMNS
from models.members.people import TRANSFER_IN, Membership


@dataclass
class TransferOutcome:
    row: int
    name: str
    id_number: str
    source: str  # 原所属单位
    result: str  # 转入审核中 / 已转入 / 未转入
    note: str
    ok: bool


def transfer_in(data: bytes, account) -> list[TransferOutcome]:
    """Each row on its own (its effects atomic): held elsewhere → transfer request, no union →
    joined at once, anything else → the reason on the row."""
    org = account.org
    if not can_sync(org):
        raise DomainError("只有基层工会（或临时工会）可以转入会员", 403)
    lines = read_lines(data, TRANSFER_COLUMNS, MAX_TRANSFER_ROWS)
    find_people(lines)
    held, pending = held_memberships({line.person.id for line in lines if line.person is not None})
    outcomes = []
    for line in lines:
        outcomes.append(_transfer_line(line, org, account, held, pending))
    return outcomes


def _transfer_line(line: Line, org, account, held: dict, pending: dict) -> TransferOutcome:
    def refused(note, source=""):
        return TransferOutcome(line.row, line.name, line.id_number or line.raw_id, source, "未转入", note, False)

    if line.error:
        return refused(line.error)
    if line.person is None:
        return refused(NOT_FOUND)
    mine = held.get(line.person.id)
    source = mine.org_name if mine is not None else ""
    if mine is not None and mine.org_id == org.id:
        return refused("已是本工会会员", source)
    if line.person.id in pending:
        return refused(pending_message(pending[line.person.id], org), source)
    try:
        with db.atomic():
            if mine is not None:
                request = member_review.request_transfer(Membership.get_by_id(mine.id), org, account,
                                                       reason=line.reason or TRANSFER_REASON)
                note = f"已提交转入申请，等待「{request.from_org.name}」或其上级工会审核"
                result = TRANSFER_IN
            else:
                join_directly(line.person, org, account, "转入会员")
                note, result = "该会员无所属工会，已直接转入本工会，无须审核", JOINED_DIRECTLY
    except DomainError as exc:
        return refused(exc.message, source)
    except pw.IntegrityError:
        return refused(refusal(line.person, org), source)
    return TransferOutcome(line.row, line.name, line.id_number, source, result, note, True)
