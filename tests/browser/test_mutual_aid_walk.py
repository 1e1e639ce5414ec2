"""The whole 在职职工互助保障 line in a real browser, JavaScript on and off (issue 18 item 12), as the
users click through it: a unit without a union registers (企业注册), applies for its 参保编码, the
centre approves, the unit fills 经办人填报, opens a batch, builds its roster from last year's roster and
an uploaded file, resolves a name mismatch against the 建议清册, fails rule 3 in 清册校验, uploads the
附件, submits with the 承诺书; the centre passes the attachments; the unit chooses its items, confirms
the premium, pays one fen too much (refund details); the centre 核销; the unit files the 专用收据;
the centre passes them; the batch is 参保成功 and 保障信息查询 shows the coverage. A second walk does
the same for a grassroots union whose roster comes from the 会员库.

The walk follows links and buttons only; `follow` would type a URL where a link is missing and the
test then fails unless the gap is listed in GAPS (none now). The windows are opened around the real time
(mutual_check.open_now), as the screens act at the real time; the app's day is Asia/Shanghai."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from models.base import today
from models.mutual_aid.batches import INSURED, AidBatch, RosterEntry
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.registry import RegistryPayer
from models.orgs.accounts import Account
from tests import factories
from tests.browser.helpers import finish_registration, start_registration, switch_account
from tests.factories import tablefiles
from tests.factories.memberfiles import BIRTH_START, gender, id_number
from tests.factories.mutual_aid import aid_year, approved_code, batch_in, outbox_code, png, registration
from tests.factories.mutual_check import open_now, registry_unit

PASSWORD = "Qiye#2026x"
ROSTER_HEADER = ["姓名*", "证件类型*", "证件号码*", "性别", "出生日期", "是否有社保"]

# Where the walk has to type a URL (none since the steps' links landed; before: 参保清册 → 清册校验).
GAPS: set = set()
P = 9_000_700  # people born in 1990 (tests.factories.memberfiles.id_number), under the age limit


def person(i: int) -> dict:
    """Person i as the ID number says: birth date and gender."""
    return {"id_number": id_number(i), "birth_date": BIRTH_START + timedelta(days=i // 1000), "gender": gender(i)}


def last_year_and_registry(code, union, names=("参保人A", "参保人B"), registered=("参保人A", "社保姓名", "上传人")):
    """Last year's 参保成功 roster (the first two people) and the 建议清册: SB001 has 4 payers, the
    registry names the second person differently (社保姓名) from the 会员库 (参保人B, a member of
    another union) — the roster warns only where the 会员库 and the 建议清册 disagree."""
    factories.make_member(union, id_number=id_number(P + 1), name=names[1])
    batch = batch_in(code, INSURED, year=aid_year(2025))
    for i, name in enumerate(names[:2]):
        RosterEntry.create(batch=batch.id, year=batch.year_id, name=name, imported_name=name,
                           has_social_insurance=True, employment="在职", **person(P + i))
    registry_unit("SB001", 4)
    for i, name in enumerate(registered):
        RegistryPayer.create(social_code="SB001", id_number=id_number(P + i), name=name, employment="在职")


def side(page, label):
    page.locator("nav.sidemenu").get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(label)


def flash(page, text):
    expect(page.locator(".flash, .alert").filter(has_text=text).first).to_be_visible()


def register_enterprise(app, page, n):
    values = registration(n)
    start_registration(page, values)
    expect(page.locator("#register-notice")).to_contain_text("5分钟内有效")
    finish_registration(page, values, outbox_code(app, values["phone"]), PASSWORD)
    page.get_by_label("账号").fill(values["username"])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保编码申请")
    return values, Account.get(Account.username == values["username"])


def apply_for_a_code(app, page, values, tmp_path):
    licence = tmp_path / "营业执照.png"
    licence.write_bytes(png())
    side(page, "参保编码申请")
    page.get_by_role("link", name="申请参保编码").click()
    page.get_by_label("单位名称").fill(values["unit_name"])
    page.get_by_label("统一社会信用代码").fill(values["uscc"])
    page.get_by_label("单位地址").fill("上海市闵行区走查路1号")
    page.get_by_label("联系人").fill(values["handler"])
    page.get_by_label("联系电话").fill(values["mobile"])
    page.get_by_label("选择上传").set_input_files([str(licence)])
    page.get_by_role("button", name="上传文件").click()
    expect(page.locator("#kept-files li")).to_have_count(1)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-notice")).to_contain_text("5分钟内有效")
    page.get_by_label("短信验证码").fill(outbox_code(app, values["mobile"]))
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#code-status")).to_have_text("申请中")


def centre_approves(page, city, unit_name, number):
    switch_account(page, city.account("centre"))
    side(page, "参保编码审核")
    page.get_by_role("row", name=re.compile(unit_name)).get_by_role("link", name="审核").click()
    expect(page.locator("#code-file-list a").first).to_have_text("营业执照.png")
    page.get_by_label("参保编码").fill(number)
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#code-status")).to_have_text("审核通过")


def fill_handler(app, page, mobile):
    side(page, "参保编码申请")
    expect(page.locator("#code-status")).to_have_text("审核通过")
    side(page, "经办人填报")
    page.get_by_label("经办人姓名").fill("王经办")
    page.get_by_label("经办人手机").fill(mobile)
    page.get_by_label("经办人邮箱").fill("wang@example.com")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-notice")).to_contain_text("5分钟内有效")
    page.get_by_label("短信验证码").fill(outbox_code(app, mobile))
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#handler-mobile")).to_have_text(mobile)


def start_batch(page, unit_name, kind="集中参保"):
    side(page, "参保批次管理")
    page.get_by_role("link", name=f"{kind}办理").click()
    expect(page.get_by_label("参保编码")).not_to_have_value("")
    page.get_by_label("参保单位名称").fill(unit_name)
    page.get_by_role("button", name="确定操作").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保清册")
    flash(page, f"已创建2026年度{kind}批次，请添加参保人员")
    return AidBatch.select().order_by(AidBatch.id.desc()).first()


def resolve_the_name(page, official):
    expect(page.locator('[data-count="警告"]')).to_have_text("1")
    page.get_by_role("link", name="姓名匹配异常，请人工确认").click()
    page.get_by_label(re.compile(f"{official}（")).check()
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保清册")
    expect(page.locator("#name-check")).to_have_count(0)
    expect(page.locator('[data-count="警告"]')).to_have_text("0")
    expect(page.locator("#roster tbody")).to_contain_text(official)


def check_attach_and_submit(page, js, batch, tmp_path, gaps, rule2, rule3, attachment):
    letter = tmp_path / "盖章附件.png"
    letter.write_bytes(png())
    follow(page, gaps, page.get_by_role("link", name="清册校验", exact=True),
           f"/mutual-aid/batches/{batch.id}/check", "参保清册 → 清册校验")
    expect(page.get_by_role("heading", level=1)).to_contain_text("清册校验")
    page.get_by_role("button", name="清册校验").click()
    expect(page.locator("#audit-log tbody")).to_contain_text("清册校验")  # the check has run
    expect(page.locator("#rule-results tr", has_text="规则二")).to_contain_text(rule2)
    rule3_row = page.locator("#rule-results tr", has_text="规则三")
    expect(rule3_row).to_contain_text("不通过")
    expect(rule3_row).to_contain_text(rule3)
    expect(page.locator("#blockers")).to_contain_text(f"请上传附件：{attachment}")
    page.get_by_label("附件类型").select_option(attachment)
    expect(page.get_by_label("附件类型")).to_have_value(re.compile(".+"))
    page.get_by_label("附件文件").set_input_files(str(letter))
    page.get_by_role("button", name="选择上传").click()
    expect(page.locator("#attachment-list")).to_contain_text("盖章附件.png")
    page.get_by_role("link", name="清册提交").click()
    expect(page.get_by_role("heading", name="承诺书")).to_be_visible()
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="确认提交").click()
    expect(page.locator("#batch-status")).to_have_text("附件审核中")


def centre_passes_attachments(page, city, number):
    switch_account(page, city.account("centre"))
    side(page, "附件审核")
    page.get_by_role("row", name=re.compile(number)).get_by_role("link", name="审核").click()
    expect(page.locator("#attachment-list a").first).to_have_text("盖章附件.png")
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("附件审核")


def choose_items(page, batch, total=None, period="2026-07-01 至 2027-06-30（全年）"):
    """保障项目选择 A0+B0+C0 → 生成保费信息 → 提交确认保费; the premium total in 元 (`total`, or read
    off the page where the day decides: an instant batch's 半年/全年)."""
    side(page, "参保批次管理")
    row = page.locator(f"#batch-{batch.id}")
    expect(row.locator(".batch-status")).to_have_text("保障项目待选择")
    row.get_by_role("link", name="保障项目选择").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("保障项目选择")
    for item in ("A0", "B0", "C0"):
        page.get_by_label(f"选择{item}").check()
    page.get_by_role("button", name="生成保费信息").click()
    if total is None:
        expect(page.locator("#premium-total")).to_have_text(re.compile(r"^\d+元$"))
        total = int(page.locator("#premium-total").inner_text().removesuffix("元"))
    expect(page.locator("#premium-total")).to_have_text(f"{total}元")
    expect(page.locator("#coverage-period")).to_have_text(period)
    page.get_by_role("button", name="提交确认保费").click()
    expect(page.locator("#batch-status")).to_have_text("缴费凭证待上传")
    return total


def pay_with_a_refund(page, js, batch, total, payer, tmp_path, kind="集中参保"):
    voucher_file = tmp_path / "转账回单.png"
    voucher_file.write_bytes(png())
    side(page, "互助保障缴费凭证")
    page.get_by_role("link", name="新增缴费信息").click()
    page.get_by_role("checkbox", name=f"选择 2026年度{kind}").check()
    page.get_by_label("缴费金额（元）").fill(f"{total}.01")
    if js:
        page.get_by_label("缴费金额（元）").dispatch_event("change")
    else:
        page.locator("#voucher-file").set_input_files(str(voucher_file))
        page.get_by_role("button", name="计算退款金额").click()
    expect(page.locator("#amount-refund")).to_have_text("退款金额：0.01元（请填写退款信息）")
    page.get_by_label("付款单位").fill(payer)
    page.get_by_label("付款账号").fill("6222000011112222")
    page.locator("#f-payer_bank").fill("工商银行闵行支行")
    page.get_by_label("缴费日期").fill(str(today()))
    if js:
        page.locator("#voucher-file").set_input_files(str(voucher_file))
    page.get_by_label("退款户名").fill(payer)
    page.get_by_label("退款账号").fill("6222000011113333")
    page.get_by_label("退款开户行").fill("工商银行闵行支行")
    page.get_by_role("button", name="保存提交").click()
    expect(page.locator("#voucher-status")).to_have_text("凭证审核中")
    expect(page.locator("#voucher-refund")).to_have_text("0.01元")


def centre_writes_off(page, city, payer):
    switch_account(page, city.account("centre"))
    side(page, "互助保障缴费凭证审核")
    page.get_by_role("row", name=re.compile(payer)).get_by_role("link", name="审核").click()
    expect(page.locator("#refund-account")).to_have_text("6222000011113333")
    page.get_by_role("button", name="核销").click()
    expect(page.locator("#voucher-status")).to_have_text("已核销")


def file_receipts(page, total, payer):
    side(page, "专用收据")
    page.get_by_role("link", name=re.compile("^填报：")).click()  # the receipt set's 填报 (not 经办人填报)
    page.get_by_label("收据抬头").fill(payer)
    page.get_by_label("金额（元）").fill(str(total))
    page.get_by_role("button", name="确认提交").click()
    expect(page.locator("#receipt-total")).to_have_text(f"{total}元")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#receipt-status")).to_have_text("收据审核中")


def centre_passes_receipts(page, city, payer, batch):
    switch_account(page, city.account("centre"))
    side(page, "专用收据审核")
    page.get_by_role("row", name=re.compile(payer)).get_by_role("link", name="审核").click()
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#receipt-status")).to_have_text("审核通过")
    side(page, "参保批次查询")
    page.get_by_label("状态", exact=True).select_option(INSURED)
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("#batch-list tbody tr")).to_have_count(1)
    expect(page.locator("#batch-list tbody tr")).to_contain_text(batch.code.unit_name)


def coverage_shows(page, number, code, texts=("集中参保", "2026-07-01", "全年", "集中参保，无免责期")):
    """保障信息查询 (the centre's, or a union's — an enterprise account has no such menu item)."""
    side(page, "保障信息查询")
    page.get_by_label("证件号码").fill(number)
    page.get_by_role("button", name="查询").click()
    row = page.locator("#aid-coverage tbody tr", has_text="A0、B0、C0")
    expect(row).to_have_count(1)
    for text in ("2026", code, "2027-06-30", INSURED, *texts):
        expect(row).to_contain_text(text)


def unit_sees_insured(page, account, batch):
    back_to(page, account)
    side(page, "参保批次管理")
    expect(page.locator(f"#batch-{batch.id} .batch-status")).to_have_text(INSURED)


def back_to(page, account):
    """The unit logs in again (an enterprise's own password, a union's factory one)."""
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("账号").fill(account.username)
    page.get_by_label("密码").fill(PASSWORD if account.username.startswith("ent-") else factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("nav.sidemenu")).to_be_visible()


def follow(page, gaps, link, url, where):
    """The link when the page has it; else (a navigation gap) type the URL and note the gap."""
    if link.count():
        link.first.click()
    else:
        gaps.append(where)
        page.goto(url)


def test_an_enterprise_walks_from_registration_to_insured(app, page, city, js, tmp_path):
    gaps = []
    open_now(aid_year(2026))
    aid_year(2025)
    values, account = register_enterprise(app, page, 41)
    values["mobile"] = "13811114141"
    apply_for_a_code(app, page, values, tmp_path)
    centre_approves(page, city, values["unit_name"], "HZ41000001")
    back_to(page, account)
    fill_handler(app, page, "13911114141")
    code = InsuranceCode.get(InsuranceCode.account == account.id)

    # Last year's 参保成功 roster (2 people) and the 建议清册: SB001 has 4 payers, one name differs.
    last_year_and_registry(code, city.orgs["grassroots2"])
    batch = start_batch(page, values["unit_name"])
    page.get_by_role("button", name="获取上年度参保名单").click()
    flash(page, "已添加2名参保人员")
    page.get_by_role("button", name="获取“会员库”本单位工会会员名单").click()
    flash(page, "本单位不是工会组织，“会员库”中没有本单位的工会会员名单")
    expect(page.locator("#roster tbody tr")).to_have_count(2)
    data, _ = tablefiles.write([ROSTER_HEADER, ["上传人", "居民身份证", id_number(P + 2), "", "", "是"]], "xlsx")
    upload = tmp_path / "参保名单.xlsx"
    upload.write_bytes(data)
    page.locator("#upload-roster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("上传本地参保名单文件")
    page.get_by_label("选择导入文件").set_input_files(str(upload))
    page.get_by_role("button", name="上传本地参保名单文件").click()
    expect(page.locator("#count-imported")).to_have_text("1")
    page.get_by_role("link", name="参保清册").first.click()
    expect(page.locator("#roster tbody tr")).to_have_count(3)
    resolve_the_name(page, "社保姓名")

    check_attach_and_submit(
        page, js, batch, tmp_path, gaps, "上年度参保2人，本年度拟参保3人，增减幅度为+50%，超出±10%",
        "拟参保3人，关联社保编码缴费人数之和4人，参保比例为75%；单位参保人数小于等于10人，参保比例需达到100%，请上传附件",
        "情况说明（加盖公章）")
    centre_passes_attachments(page, city, "HZ41000001")
    back_to(page, account)
    choose_items(page, batch, 540)
    pay_with_a_refund(page, js, batch, 540, values["unit_name"], tmp_path)
    centre_writes_off(page, city, values["unit_name"])
    back_to(page, account)
    file_receipts(page, 540, values["unit_name"])
    centre_passes_receipts(page, city, values["unit_name"], batch)
    coverage_shows(page, id_number(P + 1), "HZ41000001")
    unit_sees_insured(page, account, batch)
    assert AidBatch.get_by_id(batch.id).status == INSURED
    assert set(gaps) <= GAPS, gaps


def test_a_union_walks_from_its_member_database_to_insured(app, page, city, js, tmp_path):
    """A grassroots union (its code applied and approved as in the walk above): 即时参保办理, the
    roster from the 会员库 with one name the 建议清册 spells differently, then the same road."""
    gaps = []
    open_now(aid_year(2026))
    code = approved_code(city, 51)
    union = city.orgs["grassroots1"]
    for i, name in enumerate(("会员甲", "会员乙", "会员丙")):
        factories.make_member(union, id_number=id_number(P + 10 + i), name=name)
    registry_unit("SB002", 5)
    for i, name in enumerate(("会员甲", "社保乙", "会员丙")):
        RegistryPayer.create(social_code="SB002", id_number=id_number(P + 10 + i), name=name, employment="在职")

    back_to(page, code.account)
    batch = start_batch(page, code.unit_name, "即时参保")
    page.get_by_role("button", name="获取“会员库”本单位工会会员名单").click()
    flash(page, "已添加3名参保人员")
    expect(page.locator("#roster tbody tr")).to_have_count(3)
    resolve_the_name(page, "会员乙")
    check_attach_and_submit(
        page, js, batch, tmp_path, gaps, "新参保单位（无上年度参保成功的清册），不适用，需进行单位社保比例校验",
        "拟参保3人，关联社保编码缴费人数之和5人，参保比例为60%；单位参保人数小于等于10人，参保比例需达到100%，请上传附件",
        "社会保险费缴费申报表或单位参加城镇社会保险基本情况")
    centre_passes_attachments(page, city, code.code)
    back_to(page, code.account)
    starts = today() + timedelta(days=1)
    total = choose_items(page, batch, period=re.compile(rf"^{starts} 至 2027-06-30（(全年|半年)）$"))
    assert total in (540, 270)  # 3 × 180元 (A0 + B0 + C0), half from 1 January
    pay_with_a_refund(page, js, batch, total, code.unit_name, tmp_path, "即时参保")
    centre_writes_off(page, city, code.unit_name)
    back_to(page, code.account)
    file_receipts(page, total, code.unit_name)
    centre_passes_receipts(page, city, code.unit_name, batch)
    unit_sees_insured(page, code.account, batch)
    a0, b0 = starts + timedelta(days=30), starts + timedelta(days=60)
    coverage_shows(page, id_number(P + 11), code.code, (
        "即时参保", str(starts), f"住院基本保障A0及附加疾病身故保障执行30天免责期，自{a0}起保障",
        f"特种重病保障B0执行60天免责期，自{b0}起保障", f"意外伤害保障C0无免责期，自{starts}起保障"))
    assert AidBatch.get_by_id(batch.id).status == INSURED
    assert set(gaps) <= GAPS, gaps
