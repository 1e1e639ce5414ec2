"""Objects of the review chain for tests: district batches and payment vouchers written directly,
and submissions sent up the real chain (审核, 提交至市职保中心, 接收) on the review days."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from models.base import now
from models.enroll import enrollment, plans
from models.review import batches
from models.review import enroll_review as review
from models.review.batches import DistrictBatch
from models.review.vouchers import PaymentVoucher, VoucherItem
from models.storage import stored_file
from tests import factories
from tests.factories.enroll import people, ready_year

SHANGHAI = ZoneInfo("Asia/Shanghai")


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


def at(*parts) -> datetime:
    """A Shanghai wall-clock moment for time_machine (naive datetimes there are UTC)."""
    return datetime(*parts, tzinfo=SHANGHAI)


REVIEW_DAY = at(2026, 11, 20, 10, 0)


SUBMIT_DAY = at(2026, 12, 27, 10, 0)


def submit(city, org_key="grassroots1", n=1, channel=enrollment.CARD_CHANNEL, year=None, on=date(2026, 11, 20)):
    org = city.orgs[org_key]
    year = year or plans.get_year(2027)
    return enrollment.submit(org, year, channel, enrollment.CENTRAL, plans.types_of(year)[0], people(org, n),
                             None, on=on)


def keys(reviewer, year, queued=False, kind=review.CENTRAL_KIND):
    rows, _ = review.groups(review.pane(reviewer, year, kind, queued), 1, 100)
    return [g.key for g in rows]


def submitted_batch(city, n=3, org_key="grassroots1", district_key="district1"):
    year = plans.get_year(2027) or ready_year(city)
    submit(city, org_key, n=n)
    district = city.orgs[district_key]
    review.add_to_queue(district, year, review.CENTRAL_KIND, keys(district, year), None)
    with time_machine.travel(SUBMIT_DAY, tick=False):
        return review.submit_to_centre(district, year, review.CENTRAL_KIND,
                                       {"name": "王经办", "mobile": "13800000000", "email": "w@example.com"}, None)


def accepted_batch(city, **kw):
    batch = submitted_batch(city, **kw)
    return batches.accept(batch, city.account("centre"))
