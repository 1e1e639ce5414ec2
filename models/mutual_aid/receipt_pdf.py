"""电子专用收据 (spec 70: "special receipts are electronic"; seed 004: 收到电子专用收据后到本会现场进行修改):
once the centre passes a unit's receipts, each receipt is one A4 page of a PDF — 收据编号, 抬头,
金额, the paying unit and its 参保编码, the protection years paid, the issuer and the date — drawn
by the platform's one PDF path (models/enroll/notice_pdf.pdf_from_html, the vendored WenQuanYi
font embedded)."""

from html import escape

from models.base import DomainError
from models.enroll.notice_pdf import FONT_FACE, cn_date, pdf_from_html
from models.mutual_aid.receipt_ops import receipts_of
from models.mutual_aid.voucher_ops import batches_of
from models.mutual_aid.vouchers import R_PASSED, AidReceiptSet
from models.rules.fees import yuan

ISSUER = "上海市职工保障互助会"


def number(receipt_set: AidReceiptSet, n: int) -> str:
    """收据编号: the set and the receipt's place in it (HZSJ000012-01)."""
    return f"HZSJ{receipt_set.id:06d}-{n:02d}"


def lines(receipt_set: AidReceiptSet) -> list[list[tuple[str, str]]]:
    """Each receipt's (label, value) rows — what the PDF shows and the tests compare."""
    voucher = receipt_set.voucher
    years = "、".join(sorted({f"{b.year.year}年度{b.kind}" for b in batches_of(voucher)}))
    issued = cn_date(receipt_set.decided_at.date())
    return [[("收据编号", number(receipt_set, n)), ("收据抬头", r.title), ("金额", f"人民币{yuan(r.amount)}元"),
             ("缴费单位", voucher.code.unit_name), ("参保编码", voucher.code.code or ""),
             ("款项", f"在职职工互助保障费（{years}）"), ("开具单位", ISSUER), ("开具日期", issued)]
            for n, r in enumerate(receipts_of(receipt_set), 1)]


def receipt_pdf(receipt_set: AidReceiptSet) -> bytes:
    if receipt_set.status != R_PASSED:
        raise DomainError(f"专用收据{receipt_set.status}，审核通过后才能下载电子专用收据", 409)
    pages = []
    for rows in lines(receipt_set):
        table = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in rows)
        pages.append(f"<h1>专用收据</h1><p class='sub'>（电子）</p><table>{table}</table>"
                     f"<p class='sign'>{ISSUER}</p>")
    html = f"""<html><head><meta charset="utf-8"><style>
{FONT_FACE}
@page {{ size: a4; margin: 2.5cm 2.2cm; }}
body {{ font-family: wqy; font-size: 13pt; line-height: 1.6; -pdf-word-wrap: CJK; }}
h1 {{ text-align: center; font-size: 22pt; margin-bottom: 0; }}
p.sub {{ text-align: center; margin-top: 0; }}
table {{ width: 100%; border: 1px solid #000; }}
th {{ width: 25%; text-align: left; padding: 6pt; border: 1px solid #000; }}
td {{ padding: 6pt; border: 1px solid #000; }}
p.sign {{ text-align: right; margin-top: 24pt; }}
</style></head><body>{'<pdf:nextpage />'.join(pages)}</body></html>"""
    return pdf_from_html(html, "电子专用收据")
