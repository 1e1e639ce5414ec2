"""告知书 PDFs as printed (issue 16 item 19a): the manual's full-width punctuation, and a date
never broken across two lines whatever the text before it."""

import io
import re

import pytest
from pypdf import PdfReader

from models.enroll import notice_pdf
from tests.factories.enroll import ready_year

DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def pdf_lines(data: bytes) -> list[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return ["".join(line.split()) for line in text.split("\n") if line.strip()]


def test_the_grassroots_notice_uses_the_manuals_full_width_punctuation(city):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    salutation, body, *_ = notice_pdf.grassroots_text(union, year)
    assert salutation == f"{union.name}："
    assert not re.search(r"[,():;!?]", salutation + body), body
    assert "截至今日参加-类会员共计0人（会员卡参保0人，社保卡参保0人），请于" in body
    assert "根据你会所在区、局（产业）工会的安排将你会需要承担的参保资金划入所属区、局（产业）工会帐户，" in body
    lines = pdf_lines(notice_pdf.grassroots_notice(union, year))
    assert "".join(body.split()) in "".join(lines)
    assert not re.search(r"[,():;]", "".join(lines))


@pytest.mark.parametrize("before", range(24, 44))
def test_a_date_is_never_broken_across_lines(before):
    """Whatever the text before it, every date of the body stays on one line (and so do the
    amounts and the numbers of people), and no line starts with a closing punctuation mark."""
    body = ("甲" * before + "保障日期为2027年1月1日起至2027年12月31日止。参保资金468元，参加A类会员共计36人。"
            + "乙" * 20 + "即时参保的保障日期自办理参保日的次日至2027年12月31日止。")
    lines = pdf_lines(notice_pdf.render("告知书", ["某某工会：", body, "上海市职工保障互助中心", "2026年12月27日"]))
    text = "".join(lines)
    assert "".join(body.split()) in text
    for token in [*DATE.findall(body), "468元", "36人"]:
        assert any(token in line for line in lines), (token, lines)
    assert not [line for line in lines if line[0] in "，。、；：）"]

