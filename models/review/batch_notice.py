"""参保批次管理 → 下载集中参保告知书: the district's notice of a centralized batch (seed 001's
text shape, spec 60), drawn by models/enroll/notice_pdf.py."""

from datetime import date

from models.enroll import notice_pdf, plans
from models.enroll.notice_pdf import cn_date
from models.review.batches import counts_by_type
from models.rules.fees import yuan


def district_text(batch, on: date | None = None) -> list[str]:
    """区、局（产业）工会's notice of a centralized district batch: people per type (types with no
    people left out), 参保资金总额 = what the district's unions fund (区局/各级工会 + 基层单位
    shares; the 市总统一划拨 part is not theirs to remit), the credit sentence only when credit was
    deducted, the amount to pay, the payment deadline, the receiving account and the signature."""
    y = batch.year.year
    district = batch.district
    parts = "，".join(f"参加{code}类会员共计{n}人" for code, _name, n in counts_by_type(batch) if n)
    funded = batch.district_part + batch.grassroots_part
    pay = plans.window_state(batch.year, "payment", district)
    deadline = cn_date(pay.ends.date()) if pay.ends else "（缴费截止日期尚未设置）"
    if batch.credit_used:
        credit = plans.Credit.get_or_none((plans.Credit.org == district.id) & (plans.Credit.year == batch.year_id))
        note = (credit.note if credit and credit.note else f"{y - 2}年会员计划退回金额")
        middle = (f"鉴于{note}{yuan(batch.credit_used)}元指定用于抵扣{y}年度会员保障集中参保款项，"
                  f"你会尚需于{deadline}之前将剩余参保资金{yuan(batch.due)}元划入如下帐户，")
    else:
        middle = f"你会尚需于{deadline}之前将参保资金{yuan(batch.due)}元划入如下帐户，"
    body = (f"你会集中参保{y}年度会员专享基本保障计划，{parts}，参保资金总额为{yuan(funded)}元。{middle}"
            f"保障日期为{y}年1月1日起至{y}年12月31日止。逾期未划款，则按照即时参保流程另行办理参保手续，"
            f"保障日期自办理参保日的次日起至{y}年12月31日止。")
    year = batch.year
    return [f"{district.name}：", body, f"户名：{year.account_name}", f"帐号：{year.account_no}",
            f"开户行：{year.bank}", f"批次编号：{batch.number}", year.district_signature,
            cn_date(on or batch.submitted_at.date())]


def district_notice(batch, on: date | None = None) -> bytes:
    text = district_text(batch, on)
    return notice_pdf.render("告知书", text[:2] + text[-2:], lines=text[2:-2])
