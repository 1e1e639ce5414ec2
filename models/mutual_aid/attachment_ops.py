"""上传附件 and the centre's 附件审核 (spec 70, seed 004; issue 18 items 6, 9, 10).

- `upload` (选择上传 under a 附件类型): the unit's batch, while its attachments may change (清册待校验,
  清册校验不通过, 附件审核不通过) and its window is open; each file an image or a PDF judged by content
  (models/review/vouchers.check_voucher_file, as the vouchers and the code applications).
- `remove` (the × of a file): the same conditions, before 清册提交.
- `decide` (the centre; after the window too — the review is the centre's, the window the units'):
  附件审核通过 (→ 保障项目待选择) or 附件审核不通过 with the reason (→ 附件审核不通过, shown to the unit in
  操作日志); each decision a 消息提醒 to the unit.
- `search`: the 附件审核 queue (状态, 单位名称, 参保编码, 保障年度).
"""


from models import db, messages
from models.audit import AuditLog
from models.base import DomainError, now
from models.mutual_aid import batch_ops
from models.mutual_aid.batches import (
    ATTACH_FAILED,
    ATTACH_REVIEW,
    AWAIT_VOUCHER,
    CHOOSE_ITEMS,
    EDITABLE,
    INSURED,
    VOUCHER_REVIEW,
    AidBatch,
)
from models.mutual_aid.checks import FILE_DIR, BatchAttachment
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.roster_check import require_unit
from models.mutual_aid.years import AidYear
from models.review.vouchers import MAX_VOUCHER_BYTES, check_voucher_file
from models.rules.mutual_roster import ATTACHMENT_KINDS
from models.rules.text import normalize
from models.storage import new_file, stored_file

CHANGEABLE = (*EDITABLE, ATTACH_FAILED)  # the unit may add and remove attachments
MAX_FILES = 30
MAX_FILE_BYTES = MAX_VOUCHER_BYTES
PASSED = "附件审核通过"  # the queue's filter for batches past the review (not a batch state)
QUEUE_STATES = (ATTACH_REVIEW, ATTACH_FAILED, PASSED)
AFTER_REVIEW = (CHOOSE_ITEMS, AWAIT_VOUCHER, VOUCHER_REVIEW, INSURED)
PAGE = "/mutual-aid/batches/{}/check"  # the unit's page (消息提醒 links to it)


def files_of(batch: AidBatch) -> list:
    return list(BatchAttachment.select().where(BatchAttachment.batch == batch.id)
                .order_by(BatchAttachment.id))


def file_path(row: BatchAttachment):
    return stored_file(FILE_DIR, row.stored_name)


def upload(batch: AidBatch, kind: str, name: str, data: bytes, account, at=None) -> BatchAttachment:
    """One file under its 附件类型."""
    require_unit(batch, account, at, CHANGEABLE)
    if kind not in ATTACHMENT_KINDS:
        raise DomainError("请选择附件类型", 422)
    if BatchAttachment.select().where(BatchAttachment.batch == batch.id).count() >= MAX_FILES:
        raise DomainError(f"附件最多上传{MAX_FILES}个文件", 422)
    content, content_type, ext = check_voucher_file(data, name, "附件")
    with new_file(FILE_DIR, content, ext) as stored, db.atomic():
        row = BatchAttachment.create(batch=batch.id, kind=kind, file_name=normalize(name)[:100] or "附件",
                                     stored_name=stored, content_type=content_type, size=len(content),
                                     uploaded_by=account.id, uploaded_at=now())
        AuditLog.record("上传附件", batch, account=account, detail={"附件类型": kind, "文件": row.file_name})
    return row


def remove(batch: AidBatch, attachment_id: int, account, at=None) -> None:
    """The × of an uploaded file, before 清册提交."""
    require_unit(batch, account, at, CHANGEABLE)
    row = BatchAttachment.get_or_none((BatchAttachment.id == attachment_id) & (BatchAttachment.batch == batch.id))
    if row is None:
        raise DomainError("该附件不存在或已删除", 404)
    with db.atomic():
        batch_ops.claim(batch)  # a 清册提交 at this instant re-checks the attachments after this, or refuses it
        BatchAttachment.delete().where(BatchAttachment.id == row.id).execute()
        AuditLog.record("删除附件", batch, account=account, detail={"附件类型": row.kind, "文件": row.file_name})
    file_path(row).unlink(missing_ok=True)


def _tell(batch: AidBatch, title: str, body: str) -> None:
    """消息提醒 to the unit's account (its organisation's inbox)."""
    org = batch.org_id or batch.code.org_id
    if org:
        messages.post(org, title, body=body, kind="附件审核", link=PAGE.format(batch.id),
                      account=batch.code.account_id)


def decide(batch: AidBatch, approve: bool, account, reason: str = "") -> AidBatch:
    """The centre's 附件审核: 附件审核通过 / 附件审核不通过 (reason required)."""
    if account is None or not account.acts_for_centre:
        raise DomainError("只有上海市职工保障互助会可以审核附件", 403)
    reason = normalize(reason)
    name = f"{batch.code.unit_name}（参保编码{batch.code.code}）{batch}"
    with db.atomic():
        if approve:
            moved = batch_ops.move(batch, "pass_attachments", account)
            _tell(moved, f"{name}附件审核通过", "清册附件已审核通过，请进行保障项目选择。")
        else:
            if len(reason) > 500:
                raise DomainError("审核不通过原因不能超过500个字", 422)
            moved = batch_ops.move(batch, "fail_attachments", account, reason)
            _tell(moved, f"{name}附件审核不通过", f"原因：{reason}。请在【操作日志】查看原因，修改附件后重新提交。")
    return moved


def search(query, status: str = "", name: str = "", code: str = "", year: int | None = None):
    """The 附件审核 queue: the batches whose attachments went to the centre (`attachments_sent`),
    newest first — read in the order of their index, not from every batch of the city."""
    query = (query.join(InsuranceCode).switch(AidBatch).join(AidYear).switch(AidBatch)
             .where(AidBatch.attachments_sent == True))  # noqa: E712 (SQL, the index's first column)
    if status == PASSED:
        query = query.where(AidBatch.status.in_(AFTER_REVIEW))
    elif status in (ATTACH_REVIEW, ATTACH_FAILED):
        query = query.where(AidBatch.status == status)
    if name:
        query = query.where(InsuranceCode.unit_name.contains(name))
    if code:
        query = query.where(InsuranceCode.code.contains(code.upper()))
    if year:
        query = query.where(AidYear.year == year)
    return query.order_by(AidBatch.attachments_sent.desc(), AidBatch.updated_at.desc(), AidBatch.id.desc())
