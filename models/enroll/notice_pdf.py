"""告知书 PDFs (xhtml2pdf, A4, the vendored WenQuanYi Micro Hei embedded).

The grassroots notice of centralized enrollment (seed 003 §3.1.9, the text verbatim with the
union's numbers): the union's total so far and per channel, the grassroots payment deadline,
the coverage dates, the signature of the year. Generated on demand, so it always reflects the
last submission ("参保告知书每次点击提交都会更新").
"""

import io
import re
from datetime import date
from html import escape
from pathlib import Path

from models.base import today
from models.enroll import plans
from models.enroll.enrollment import CARD_CHANNEL, CENTRAL, SOCIAL_CHANNEL, Enrollment, locked_type

# reportlab and xhtml2pdf are imported inside the functions that draw: together they take a good
# part of a second to load, which the app's start and the workers that never print should not pay.

DOWNLOAD_ONCE = "notice_download"  # session key: the submission whose result page starts the 集中参保告知书
FONT = Path(__file__).resolve().parents[2] / "static" / "fonts" / "wqy-microhei.ttc"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def grassroots_counts(org, year) -> dict:
    """{type name, total, per channel} of the union's active centralized enrollments."""
    rows = (Enrollment.select(Enrollment.channel).where((Enrollment.org == org.id) & (Enrollment.year == year.id)
                                                         & Enrollment.active & (Enrollment.mode == CENTRAL)).tuples())
    channels = [c for (c,) in rows]
    ptype = locked_type(org, year)
    return {"type": ptype, "total": len(channels), "card": channels.count(CARD_CHANNEL),
            "social": channels.count(SOCIAL_CHANNEL)}


def grassroots_text(org, year, on: date | None = None) -> list[str]:
    """The notice's paragraphs (what the PDF shows and the tests compare)."""
    counts = grassroots_counts(org, year)
    code = counts["type"].code if counts["type"] else "-"
    pay = plans.window_state(year, "grassroots_pay", org)
    deadline = cn_date(pay.ends.date()) if pay.ends else "（缴费截止日期尚未设置）"
    y = year.year
    # Seed 003's text with the full-width punctuation of seed 001's (its OCR made it half-width).
    body = (f"你会集中参保{y}年度上海工会会员专享基本保障计划，截至今日参加{code}类会员共计{counts['total']}人"
            f"（会员卡参保{counts['card']}人，社保卡参保{counts['social']}人），请于{deadline}之前根据你会所在区、局（产业）"
            f"工会的安排将你会需要承担的参保资金划入所属区、局（产业）工会帐户，保障日期为{y}年1月1日起至{y}年12月31日。"
            f"逾期未划款则所有参保均无效，需按照即时参保流程另行办理参保手续，即时参保的保障日期自办理参保日的次日至"
            f"{y}年12月31日止。")
    return [f"{org.name}：", body, year.grassroots_signature, cn_date(on or today())]


# --- the body's lines: dates, amounts and numbers never broken (xhtml2pdf's CJK wrapping breaks
# between any two characters, "12月3 / 1日止"; white-space: nowrap does not stop it) -------------
FONT_SIZE = 13  # pt, the body's (render)
INDENT = 2 * FONT_SIZE  # text-indent: 2em
# A unit never broken: a date (with its 起 / 止), a number with its 元 / 人, a run of Latin letters and digits, else
# one character. Closing punctuation stays with the unit before it, opening with the one after.
_UNIT = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日[起止]?|\d+(?:\.\d+)?[元人]?|[A-Za-z0-9+\-]+|.", re.S)
NO_LINE_START = "，。、；：！？）》」』”"
NO_LINE_END = "（《「『“"


def _line_width() -> float:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    return A4[0] - 2 * 2.2 * cm  # @page margin: 2.5cm 2.2cm


def _text_width(text: str) -> float:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    if "notice-measure" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("notice-measure", str(FONT)))  # the font the PDF embeds
    return pdfmetrics.stringWidth(text, "notice-measure", FONT_SIZE)


def body_lines(text: str) -> list[str]:
    """The body paragraph cut into lines that fit the page (the first one indented), breaking only
    between units; render() joins them with <br/> in a paragraph without CJK wrapping (which
    would ignore the <br/>), so the PDF never has to break a line itself."""
    units: list[str] = []
    for unit in _UNIT.findall(text):
        if units and (unit in NO_LINE_START or units[-1][-1] in NO_LINE_END):
            units[-1] += unit
        else:
            units.append(unit)
    room = _line_width() - 1  # a point to spare: the PDF breaks only past the full width
    lines, line, used = [], "", INDENT
    for unit in units:
        width = _text_width(unit)
        if line and used + width > room:
            lines.append(line)
            line, used = "", 0
        line += unit
        used += width
    return [*lines, line] if line else lines


def render(title: str, paragraphs: list[str], lines: list[str] = ()) -> bytes:
    """A4 notice: the salutation, the body (indented), plain `lines` (an account), then the
    signature lines right-aligned."""
    html = f"""<html><head><meta charset="utf-8"><style>
@font-face {{ font-family: wqy; src: url("font://wqy-microhei.ttc"); }}
@page {{ size: a4; margin: 2.5cm 2.2cm; }}
body {{ font-family: wqy; font-size: 13pt; line-height: 1.8; -pdf-word-wrap: CJK; }}
h1 {{ text-align: center; font-size: 20pt; }}
p.body {{ text-indent: 2em; -pdf-word-wrap: none; }}  /* cut into lines by body_lines() */
p.sign {{ text-align: right; }}
p.line {{ text-indent: 2em; margin: 0; }}
</style></head><body><h1>{escape(title)}</h1>
<p>{escape(paragraphs[0])}</p><p class="body">{"<br/>".join(escape(x) for x in body_lines(paragraphs[1]))}</p>
{''.join(f'<p class="line">{escape(p)}</p>' for p in lines)}
{''.join(f'<p class="sign">{escape(p)}</p>' for p in paragraphs[2:])}
</body></html>"""
    return pdf_from_html(html, "告知书")


# The @font-face every PDF of the platform declares (the vendored font, embedded by xhtml2pdf).
FONT_FACE = '@font-face { font-family: wqy; src: url("font://wqy-microhei.ttc"); }'


def pdf_from_html(html: str, what: str = "PDF") -> bytes:
    """xhtml2pdf over `html` (which declares FONT_FACE); only the vendored font may be loaded."""
    from xhtml2pdf import pisa
    out = io.BytesIO()

    def link_callback(uri, _rel):
        # Only the vendored font may be loaded (no file system or network access from HTML).
        if uri == "font://wqy-microhei.ttc":
            return str(FONT)
        raise ValueError("不允许的资源")
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", link_callback=link_callback)
    if result.err:
        raise RuntimeError(f"{what}生成失败")
    return out.getvalue()


def grassroots_notice(org, year, on: date | None = None) -> bytes:
    return render("告知书", grassroots_text(org, year, on))
