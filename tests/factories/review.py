"""Objects of the review chain for tests: district batches and payment vouchers."""

from models.base import now
from models.enroll import plans
from models.review.batches import DistrictBatch
from models.review.vouchers import PaymentVoucher, VoucherItem
from models.storage import stored_file
from tests import factories


def district_for(org):
    return plans.district_of(org) or org


def make_batch(org, status="参保审核中", kind="集中参保", number=None, **fields):
    district = district_for(org)
    year = factories._plan_year()
    n = DistrictBatch.select().count() + 1
    return DistrictBatch.create(number=number or f"CB20261226{n:04d}", district=district, year=year, kind=kind,
                                status=status, count=3, card_count=1, social_count=2, fee=7800, city=3900,
                                district_part=3900, grassroots_part=0, handler_name="王经办",
                                handler_mobile="13800000000", handler_email="jb@example.com",
                                submitted_at=now(), updated_at=now(), **fields)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


def make_voucher(org, batch=None):
    batch = batch or make_batch(org, status="凭证审核中")
    name = f"v{PaymentVoucher.select().count() + 1}.png"
    stored_file("vouchers", name).write_bytes(PNG)
    voucher = PaymentVoucher.create(district=batch.district, file_name="缴费凭证", stored_name=name,
                                    content_type="image/png", size=len(PNG), district_amount=batch.district_part,
                                    grassroots_amount=batch.grassroots_part, uploaded_at=now())
    VoucherItem.create(voucher=voucher, batch=batch)
    return voucher


