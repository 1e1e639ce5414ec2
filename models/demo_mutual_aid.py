"""The demo's 在职职工互助保障 examples (`flask demo`): every state of the line, built through the
model operations (so the demo obeys the rules it shows), on the protection year running today (Y)
and the one before (Y − 1, its centralized window in the past: `at=` moments inside it).

- 新世界百货 (grassroots): its code, handler, Y − 1 参保成功 (written off, receipts passed) and a Y
  即时参保 batch from 获取上年度参保名单 whose 建议清册 gives one person another name (警告,
  姓名匹配异常，请人工确认) and misses two (清册未能匹配人员).
- 张江微电子 (grassroots2): a 集团 code covering two units; its Y batch 缴费凭证待上传 (pay more than
  the total in 新增缴费信息 and the refund appears).
- 小微企业联合工会 (smallfirms): Y − 1 参保成功 with fewer people, so in Y rule 2 and rule 3 fail:
  附件审核中 with its 情况说明 waiting for the centre.
- 外滩茂悦 (grassroots3): its Y batch paid with an overpayment (refund details), the voucher waiting
  for 核销; a waiting 单位名称变更.
- 步行街物业 (grassroots4): its application 审核不通过 with the reason; 申江小微科技 (enterprise, a unit
  without a union registered by 企业注册): its application 申请中.
- An 账号找回申请 waiting for the centre.
"""

import io
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from PIL import Image, ImageDraw
from stdnum.cn import ric

from models.base import now, today
from models.mutual_aid import (
    attachment_ops,
    batch_ops,
    change_ops,
    code_ops,
    handler_ops,
    premium_ops,
    receipt_ops,
    recovery,
    registry,
    registry_import,
    roster_check,
    roster_edit,
    roster_import,
    roster_ops,
    voucher_ops,
    years,
)
from models.mutual_aid.batches import ATTACH_REVIEW, MEMBER_DB, RESIDENT_ID, AidBatch
from models.mutual_aid.vouchers import AidReceiptSet
from models.orgs.accounts import Account
from models.rules.fees import yuan
from models.rules.mutual_roster import DECLARATION, EXPLANATION, reference_day
from models.rules.uscc import make_uscc
from models.storage import storage_dir

ITEMS = ("A0", "B0", "C0")
GROUP_UNIT = "上海张江微电子封装测试有限公司"
UPLOAD_FILE = "参保名单示例.xlsx"  # under STORAGE_DIR/demo, for 上传本地参保名单文件
ATTACHMENT_REFUSAL = "情况说明未加盖单位公章，请重新上传加盖公章的情况说明"
REFUSAL = "上传的营业执照复印件未加盖公章，请重新上传加盖公章的复印件"


def _people(first: int, count: int, passport: bool = False) -> list:
    """People typed into an uploaded list (本地上传): valid 居民身份证 numbers of people aged 25–45,
    and with `passport` one 护照 holder (出生日期 and 性别 given, 编辑 allowed)."""
    rows = []
    for i in range(first, first + count):
        born = date(1981 + i % 20, 1 + i % 12, 1 + i % 28)
        body = f"310112{born:%Y%m%d}{i % 1000:03d}"  # 闵行: not an area of the 会员库 demo people
        rows.append({"id_type": RESIDENT_ID, "id_number": body + ric.calc_check_digit(body + "0"),
                     "name": "钱孙周吴郑冯"[i % 6] + ("思远", "晓雯", "子涵", "浩然", "雨桐", "嘉怡", "俊杰")[i % 7]})
    if passport:
        rows.append({"id_type": "护照", "id_number": f"E{first:08d}", "name": "JOHN SMITH", "gender": "男",
                     "birth_date": date(1988, 3, 14)})
    return rows


def _upload_file(rows: list, held: dict) -> None:
    """A file to try 上传本地参保名单文件 with (the template filled in): new people, one row whose
    证件号码 is wrong and one person 新世界百货 holds this year — both come back in the error file."""
    book = load_workbook(io.BytesIO(roster_import.template_workbook()))
    sheet = book.worksheets[0]
    for r in rows:
        sheet.append([r["name"], r["id_type"], r["id_number"], "", "", "是"])
    sheet.append(["冯晓雯", RESIDENT_ID, rows[0]["id_number"][:-1] + ("0" if rows[0]["id_number"][-1] != "0" else "1"),
                  "", "", "是"])
    sheet.append([held["name"], RESIDENT_ID, held["id_number"], "", "", "是"])
    book.save(storage_dir("demo") / UPLOAD_FILE)


def _png(text_lines: int = 5) -> bytes:
    """A small picture standing in for a stamped document (营业执照, 申报表, a bank slip)."""
    image = Image.new("RGB", (360, 220), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 352, 212), outline=(165, 40, 40), width=3)
    for i in range(text_lines):
        draw.line((24, 40 + 30 * i, 336, 40 + 30 * i), fill=(180, 190, 200), width=2)
    draw.ellipse((250, 130, 330, 210), outline=(200, 30, 30), width=3)  # the stamp
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _form(org, n: int, **fields) -> dict:
    name = org.name.replace("工会委员会", "")
    return {"unit_name": name, "uscc": make_uscc(f"91310101MA1H{n:05d}"), "address": org.address or "上海市黄浦区",
            "contact": org.contact or "联系人", "phone": org.phone if (org.phone or "").startswith("1") else
            f"1390000{n:04d}", "email": f"unit{n}@example.com", **fields}


def _code(account, org, n: int, centre, handler: tuple | None):
    """An approved code of the account (经办人 filled when `handler` is given)."""
    code = code_ops.apply(account, _form(org, n), [("营业执照.png", _png())])
    code = code_ops.decide(code, True, centre, number=f"HZ{310000 + n:08d}")
    if handler:
        handler_ops.save_handler(code, account, *handler)
    return code


def _registry(rows: list, social_code: str, unit_name: str, payers: int, skip: int = 0) -> None:
    """The 建议清册 the centre imported: the people (all but the last `skip`) paid under one
    社保编码, and its 缴费人数."""
    at = now()
    people = [{"social_code": social_code, "id_number": r["id_number"], "name": r["name"], "employment": "在职",
               "updated_at": at} for r in rows[:len(rows) - skip]]
    registry_import.upsert(registry.RegistryPayer, people, "id_number")  # as 建议清册导入 writes them
    registry_import.upsert(registry.RegistryUnit, [{"social_code": social_code, "unit_name": unit_name,
                                                    "payers": payers, "updated_at": at}], "social_code")


def _validated(batch: AidBatch, account, centre, at=None, attachment_kinds=None, pass_attachments=True) -> AidBatch:
    """清册校验 → the over-age people ticked (社保尚在缴金), 人员确认, the attachments the check asks for,
    清册提交 under the 承诺书 and, when attachments went to the centre, 附件审核通过 unless told."""
    on = reference_day(batch.kind, batch.year.year, (at or now()).date())
    old = roster_check.over_age_ids(batch, on)
    if old:
        roster_check.tick_over_age(batch, account, old, old, [], at=at)
    found = roster_check.run_check(batch, account, at=at)
    if found.unmatched:
        roster_check.confirm_unmatched(batch, account, True, at=at)
    if found.needs_attachments:
        for kind in attachment_kinds or [found.outcome.required_attachment]:
            attachment_ops.upload(batch, kind, f"{kind[:12]}.png", _png(), account, at=at)
    batch = roster_check.submit(AidBatch.get_by_id(batch.id), account, True, at=at)
    if batch.status == ATTACH_REVIEW and pass_attachments:
        batch = attachment_ops.decide(batch, True, centre)
    return batch


def _priced(batch: AidBatch, account, at=None) -> AidBatch:
    """保障项目选择 A0、B0、C0 → 生成保费信息 → 提交确认保费 (缴费凭证待上传)."""
    batch = premium_ops.generate(batch, ITEMS, account, at=at)
    return premium_ops.confirm(batch, account, batch.premium_total, at=at)


def _pay(batch: AidBatch, account, paid_on: date, extra_yuan: int = 0):
    """新增缴费信息 for the batch: the exact total, or `extra_yuan` more with the refund details."""
    code = batch.code
    bank = {"payer_account": "31050161360000001234", "payer_bank": "中国建设银行上海黄浦支行"}
    form = {"payer_name": code.unit_name, **bank,
            "paid": yuan(batch.premium_total + extra_yuan * 100), "paid_on": paid_on.isoformat()}
    if extra_yuan:
        form.update(refund_name=code.unit_name, refund_account=bank["payer_account"], refund_bank=bank["payer_bank"])
    return voucher_ops.upload(account, [batch.id], form, "缴费凭证.png", _png(4))


def _insured(code, account, centre, rows: list, last_year, receipts: bool) -> AidBatch:
    """Last year's centralized batch (its June window, `at=`): the rows, checked, priced, paid and
    written off; with `receipts` two 专用收据 passed by the centre."""
    at = datetime(last_year, 6, 5, 10, 0)
    batch = batch_ops.create_batch(code, years.CENTRAL, account, at=at)
    known = registry.lookup([r["id_number"] for r in rows])  # 是否有社保: 是 for those the bureau knows
    roster_ops.add_entries(batch, [{**r, "has_social_insurance": r["id_number"] in known} for r in rows], account,
                           MEMBER_DB)
    registry.match_entries(batch)
    batch = _validated(batch, account, centre, at=datetime(last_year, 6, 8, 10, 0))
    batch = _priced(batch, account, at=datetime(last_year, 6, 12, 15, 0))
    voucher = voucher_ops.write_off(_pay(batch, account, date(last_year, 6, 20)), centre)
    if receipts:
        receipt_set = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
        half = voucher.due // 2
        receipt_ops.add(receipt_set, account, code.unit_name, yuan(half))
        receipt_ops.add(receipt_set, account, f"{code.unit_name}（工会）", yuan(voucher.due - half))
        receipt_ops.decide(receipt_ops.submit(receipt_set, account), True, centre)
    return AidBatch.get_by_id(batch.id)


def _instant(code, account) -> AidBatch:
    return batch_ops.create_batch(code, years.INSTANT, account)


def _uploaded(batch: AidBatch, account, rows: list) -> AidBatch:
    """People added as an uploaded list would add them, matched against the 会员库 and 建议清册."""
    roster_ops.add_entries(batch, rows, account)
    registry.match_entries(batch)
    return batch


def mutual_aid_examples(centre_org, units: dict) -> None:
    """units: username → its organisation (grassroots, grassroots2, smallfirms, grassroots3,
    grassroots4, enterprise)."""
    accounts = {name: Account.get(Account.username == name) for name in (*units, "centre")}
    members = {name: roster_edit.member_rows([org]) for name, org in units.items()}
    if min(len(members[n]) for n in ("grassroots", "grassroots2", "smallfirms", "grassroots3")) < 8:
        return  # a tiny demo (tests): nothing to show
    centre = accounts["centre"]
    running = years.year_of(today(), years.INSTANT)
    for y in (running - 1, running):
        years.get_year(y) or years.create_year(y, centre)

    # 新世界百货: last year 参保成功 with receipts, this year 获取上年度参保名单 and one name mismatch
    g1, rows = accounts["grassroots"], members["grassroots"]
    code = _code(g1, units["grassroots"], 1, centre, ("陈静", "13800000001", "chenjing@example.com"))
    _registry(rows, "SB31010100001", code.unit_name, len(rows) + 4, skip=2)
    _insured(code, g1, centre, rows, running - 1, receipts=True)
    renamed = rows[0]
    other = renamed["name"][:1] + ("琳" if renamed["name"][1:] != "琳" else "琪")  # the bureau's 社保姓名
    registry.RegistryPayer.update(name=other).where(
        registry.RegistryPayer.id_number == renamed["id_number"]).execute()
    batch = _instant(code, g1)
    roster_edit.add_last_year(batch, g1)
    old = roster_check.over_age_ids(batch, reference_day(batch.kind, batch.year.year, today()))
    if old:  # ticked again this year: the name is the check's only fault (清册校验不通过)
        roster_check.tick_over_age(batch, g1, old, old, [])
    roster_check.run_check(batch, g1)

    # 张江微电子: a group (集团) code of two units, its batch 缴费凭证待上传
    g5, rows = accounts["grassroots2"], members["grassroots2"]
    code = _code(g5, units["grassroots2"], 2, centre, ("吴涛", "13800000005", "wutao@example.com"))
    code_ops.add_unit(code, GROUP_UNIT, make_uscc("91310115MA1H00902"), centre)
    _registry(rows, "SB31011500002", code.unit_name, len(rows))
    batch = _instant(code, g5)
    roster_edit.add_members(batch, g5)
    _priced(_validated(batch, g5, centre), g5)
    _uploaded(_instant(code, g5), g5, _people(1, 6, passport=True))  # 清册待校验
    _upload_file(_people(61, 8), held=members["grassroots"][1])

    # 小微企业联合工会: last year fewer people, this year rule 2 and rule 3 fail → 附件审核中
    g4, rows = accounts["smallfirms"], members["smallfirms"]
    code = _code(g4, units["smallfirms"], 3, centre, ("赵磊", "13800000004", "zhaolei@example.com"))
    _registry(rows, "SB31010100003", code.unit_name, len(rows) * 2)
    _insured(code, g4, centre, rows[:len(rows) * 2 // 3], running - 1, receipts=False)
    batch = _instant(code, g4)
    roster_edit.add_members(batch, g4)
    _validated(batch, g4, centre, attachment_kinds=[EXPLANATION, DECLARATION], pass_attachments=False)
    batch = _validated(_uploaded(_instant(code, g4), g4, _people(21, 4)), g4, centre, pass_attachments=False)
    attachment_ops.decide(batch, False, centre, reason=ATTACHMENT_REFUSAL)  # 附件审核不通过

    # 外滩茂悦: paid with an overpayment, the voucher waiting for 核销; a 单位名称变更 waiting
    g2, rows = accounts["grassroots3"], members["grassroots3"]
    code = _code(g2, units["grassroots3"], 4, centre, ("杨勇", "13800000002", "yangyong@example.com"))
    _registry(rows, "SB31010100004", code.unit_name, len(rows) + 2)
    batch = _instant(code, g2)
    roster_edit.add_members(batch, g2)
    _pay(_priced(_validated(batch, g2, centre), g2), g2, today() - timedelta(days=1), extra_yuan=500)
    _validated(_uploaded(_instant(code, g2), g2, _people(41, 5)), g2, centre)  # 保障项目待选择
    change_ops.request_name_change(code, g2, f"{code.unit_name.removesuffix('有限公司')}集团有限公司",
                                   [("名称变更核准通知书.png", _png())])

    # 步行街物业: 审核不通过 with its reason; the registered enterprise: 申请中
    refused = code_ops.apply(accounts["grassroots4"], _form(units["grassroots4"], 5), [("营业执照.png", _png())])
    code_ops.decide(refused, False, centre, reason=REFUSAL)
    registered = units["enterprise"]  # 企业注册: a unit without a union, its application 申请中
    code_ops.apply(accounts["enterprise"], {**_form(registered, 6), **code_ops.registered_values(registered)},
                   [("营业执照.png", _png())])

    # 账号找回申请 waiting for the centre (from a documentation address: local tryouts keep their three a day)
    recovery.submit({"unit_name": "上海黄浦老城厢文化发展有限公司", "uscc": make_uscc("91310101MA1H00907"),
                     "code_no": "", "contact": "郑晓华", "mobile": "13900000071",
                     "reason": "原经办人离职，账号和密码均无法找回"}, ("申请表.png", _png()), "198.51.100.20")
