"""缴费凭证管理 (spec 60; issue 8): the district's payment voucher for one or more of its batches
缴费凭证待上传, and the centre's write-off (核销) or rejection (驳回).

- **PaymentVoucher**: 凭证审核中 → 已核销 (its batches 已完成) / 已驳回 (its batches back to
  缴费凭证待上传). One voucher covers one or more batches of one district; a batch is covered by at
  most one voucher under review or confirmed (partial unique index on voucher_item).
"""

import io
from dataclasses import dataclass

import peewee as pw

from models import db, messages
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.review.batches import AWAIT_VOUCHER, DistrictBatch, centre_only
from models.rules.fees import yuan
from models.storage import new_file
from models.workflow import Workflow, bulk_transition, transition

V_REVIEW, V_DONE, V_REJECTED = "凭证审核中", "已核销", "已驳回"
VOUCHER_STATES = (V_REVIEW, V_DONE, V_REJECTED)
MAX_VOUCHER_BYTES = 10 * 1024 * 1024


class PaymentVoucher(BaseModel):
    WORKFLOW = Workflow("status", {
        (V_REVIEW, "confirm"): V_DONE,
        (V_REVIEW, "reject"): V_REJECTED,
    }, actions={"confirm": "职保中心核销", "reject": "缴费凭证驳回"}, needs_reason=frozenset({"reject"}))

    scope_field = "district"
    district = pw.ForeignKeyField(Organization, on_delete="RESTRICT")
    file_name = pw.CharField(max_length=100)  # 文件名称
    stored_name = pw.CharField(max_length=80)
    content_type = pw.CharField(max_length=40)
    size = pw.IntegerField()
    district_amount = pw.IntegerField(default=0)  # 区局/各级工会缴费 (fen)
    grassroots_amount = pw.IntegerField(default=0)  # 基层单位缴费
    credit = pw.IntegerField(default=0)
    status = pw.CharField(max_length=6, default=V_REVIEW, index=True)
    reason = pw.TextField(default="")
    uploaded_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    uploaded_at = pw.DateTimeField(default=now)  # 上传时间
    decided_at = pw.DateTimeField(null=True)

    @property
    def due(self) -> int:
        return self.district_amount + self.grassroots_amount - self.credit


class VoucherItem(BaseModel):
    scope_field = None
    voucher = pw.ForeignKeyField(PaymentVoucher, backref="items", on_delete="CASCADE")
    batch = pw.ForeignKeyField(DistrictBatch, on_delete="CASCADE")
    active = pw.BooleanField(default=True)  # false once the voucher was rejected


# A batch is paid by exactly one voucher: at most one voucher under review or confirmed.
VoucherItem.add_index(VoucherItem.index(VoucherItem.batch, unique=True, where=VoucherItem.active,
                                        name="voucher_item_one_per_batch"))


def search(query, name: str = "", status: str = ""):
    """The voucher list over an (already scoped) query, newest first: 文件名称 contains, 状态."""
    if name:
        query = query.where(PaymentVoucher.file_name.contains(name))
    if status in VOUCHER_STATES:
        query = query.where(PaymentVoucher.status == status)
    return query.order_by(PaymentVoucher.uploaded_at.desc(), PaymentVoucher.id.desc())


def payable(district: Organization):
    """Batches a new voucher can cover: 缴费凭证待上传, not covered by a voucher under review."""
    covered = VoucherItem.select(VoucherItem.batch).where(VoucherItem.active)
    return (DistrictBatch.select().where((DistrictBatch.district == district.id)
                                         & (DistrictBatch.status == AWAIT_VOUCHER)
                                         & DistrictBatch.id.not_in(covered))
            .order_by(DistrictBatch.submitted_at))


@dataclass
class Amounts:
    district: int
    grassroots: int
    credit: int

    @property
    def due(self) -> int:
        return self.district + self.grassroots - self.credit


def amounts(batches: list) -> Amounts:
    return Amounts(sum(b.district_part for b in batches), sum(b.grassroots_part for b in batches),
                   sum(b.credit_used for b in batches))


def check_voucher_file(data: bytes, filename: str, label: str = "缴费凭证") -> tuple[bytes, str, str]:
    """(the bytes to store, content type, extension) of an uploaded voucher: a PNG/JPEG image
    (re-encoded, so nothing but pixels is kept) or a PDF that parses — judged by content. `label`
    names the file in the messages (the mutual-aid line's 附件 and 证明材料 are checked here too)."""
    if not data:
        raise DomainError(f"请选择{label}文件", 422)
    if len(data) > MAX_VOUCHER_BYTES:
        raise DomainError(f"{label}文件不能超过{MAX_VOUCHER_BYTES // 1024 // 1024}MB", 422)
    if data.startswith(b"%PDF-"):
        from pypdf import PdfReader  # third-party, loaded only when a PDF voucher is uploaded
        try:
            pages = len(PdfReader(io.BytesIO(data)).pages)
        except Exception:  # noqa: BLE001 - any parse failure is a bad file
            pages = 0
        if not pages:
            raise DomainError(f"{label}PDF文件已损坏，无法打开", 422)
        return data, "application/pdf", "pdf"
    from PIL import Image  # third-party, loaded only when an image voucher is uploaded
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise DomainError(f"{label}只能是图片（JPG/PNG）或PDF文件", 422)
            if image.width * image.height > 40_000_000:
                raise DomainError(f"{label}图片尺寸过大", 422)
            image.load()
            out = io.BytesIO()
            if image.format == "JPEG":
                image.convert("RGB").save(out, "JPEG", quality=90)
                return out.getvalue(), "image/jpeg", "jpg"
            image.save(out, "PNG")
            return out.getvalue(), "image/png", "png"
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - not an image Pillow can read
        raise DomainError(f"{label}只能是图片（JPG/PNG）或PDF文件，所选文件无法识别", 422) from None


def upload_voucher(district: Organization, batch_ids: list, file_name: str, data: bytes, account) -> PaymentVoucher:
    """保存提交至职保中心: the voucher for the chosen batches (→ 凭证审核中, 凭证上传时间)."""
    file_name = (file_name or "").strip()
    if not file_name:
        raise DomainError("请填写文件名称", 422)
    if len(file_name) > 100:
        raise DomainError("文件名称不能超过100个字", 422)
    if not batch_ids:
        raise DomainError("请选择批次", 422)
    batches = list(payable(district).where(DistrictBatch.id.in_(batch_ids)))
    if len(batches) != len(set(batch_ids)):
        raise DomainError("所选批次不是本单位待上传缴费凭证的批次，或已有缴费凭证", 409)
    content, content_type, ext = check_voucher_file(data, file_name)
    total = amounts(batches)
    at = now()
    try:
        with new_file("vouchers", content, ext) as stored, db.atomic():
            voucher = PaymentVoucher.create(district=district.id, file_name=file_name, stored_name=stored,
                                            content_type=content_type, size=len(content),
                                            district_amount=total.district, grassroots_amount=total.grassroots,
                                            credit=total.credit, uploaded_by=account.id if account else None,
                                            uploaded_at=at)
            VoucherItem.insert_many([{"voucher": voucher.id, "batch": b.id, "active": True} for b in batches]).execute()
            bulk_transition(DistrictBatch, batches, "upload", account=account,
                            updates={"voucher_at": at, "updated_at": at}, detail={"文件名称": file_name})
            AuditLog.record("上传缴费凭证", voucher, to_state=V_REVIEW, account=account,
                            detail={"批次": [b.number for b in batches], "应缴": yuan(total.due)})
    except pw.IntegrityError:
        raise DomainError("所选批次已有缴费凭证，请刷新页面后重试", 409) from None
    return voucher


def voucher_batches(voucher: PaymentVoucher):
    return (DistrictBatch.select().join(VoucherItem, on=(VoucherItem.batch == DistrictBatch.id))
            .where(VoucherItem.voucher == voucher.id).order_by(DistrictBatch.number))


def confirm_voucher(voucher: PaymentVoucher, account) -> PaymentVoucher:
    """核销: the voucher 已核销, its batches 已完成 with 核销时间."""
    centre_only(account)
    at = now()
    with db.atomic():
        voucher = transition(voucher, "confirm", account=account, updates={"decided_at": at})
        bulk_transition(DistrictBatch, list(voucher_batches(voucher)), "confirm", account=account,
                        updates={"writeoff_at": at, "updated_at": at})
        messages.post(voucher.district_id, f"缴费凭证「{voucher.file_name}」已核销", kind="审核",
                      link=f"/batches/vouchers/{voucher.id}")
    return voucher


def reject_voucher(voucher: PaymentVoucher, account, reason: str) -> PaymentVoucher:
    """驳回: its batches go back to 缴费凭证待上传 and can get a new voucher."""
    centre_only(account)
    at = now()
    with db.atomic():
        voucher = transition(voucher, "reject", account=account, reason=reason,
                             updates={"decided_at": at, "reason": (reason or "").strip()})
        batches = list(voucher_batches(voucher))
        VoucherItem.update(active=False).where(VoucherItem.voucher == voucher.id).execute()
        bulk_transition(DistrictBatch, batches, "reject_voucher", account=account, reason=reason,
                        updates={"reason": reason.strip(), "updated_at": at})
        messages.post(voucher.district_id, f"缴费凭证「{voucher.file_name}」被驳回",
                      f"驳回原因：{reason}。请重新上传缴费凭证。", kind="退回", link=f"/batches/vouchers/{voucher.id}")
    return voucher
