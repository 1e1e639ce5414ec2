"""The mutual-aid line's test data: a protection year, insurance codes (applied, approved, with a
handler), batches in any state, roster rows and a small image to upload."""

import io
from datetime import date, datetime

from PIL import Image

from models import sms
from models.mutual_aid import code_ops, handler_ops, years
from models.mutual_aid.batches import AidBatch, RosterEntry
from models.mutual_aid.codes import InsuranceCode
from models.orgs.accounts import Account
from models.orgs.organizations import ENTERPRISE_LEVEL, ENTERPRISE_TYPE, Organization
from models.rules.uscc import make_uscc
from tests import factories
from tests.factories.memberfiles import id_number

IN_CENTRAL = datetime(2026, 6, 10, 10, 0)  # inside 2026's centralized window (1–30 June)
IN_INSTANT = datetime(2026, 8, 3, 10, 0)  # inside 2026's instant window (1 Jul 2026 – 30 Jun 2027)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


def uscc(n: int) -> str:
    return make_uscc(f"91310000{n:09d}")


def form(n: int, **fields) -> dict:
    values = {"unit_name": f"上海互助测试{n}有限公司", "uscc": uscc(n), "address": f"上海市黄浦区测试路{n}号",
              "contact": f"联系人{n}", "phone": f"1391234{n:04d}", "email": f"unit{n}@example.com"}
    return {**values, **fields}


def unit_account(city, n: int):
    """A platform account of its own for unit n (a grassroots union's account in the test city)."""
    return factories.make_account(city.orgs["grassroots1"], username=f"aid-unit-{n}")


def applied(city, n: int, **fields):
    return code_ops.apply(unit_account(city, n), form(n, **fields), [("营业执照.png", png())])


def approved_code(city, n: int, handler: bool = True, **fields):
    """An approved code of unit n (its own account), with its handler filled unless told otherwise."""
    code = code_ops.decide(applied(city, n, **fields), True, city.account("centre"))
    if handler:
        handler_ops.save_handler(code, code.account, f"经办人{n}", f"1380000{n:04d}", f"handler{n}@example.com")
    return code


def code_of(org):
    """The 参保编码申请 of the organisation's first account (the scope matrix's object): applied once."""
    account = (Account.select().where(Account.org == org.id, ~Account.is_admin).order_by(Account.id).first()
               or factories.make_account(org))
    held = InsuranceCode.get_or_none(InsuranceCode.account == account.id)
    return held or code_ops.apply(account, form(9000 + org.id % 1000), [("营业执照.png", png())])


def aid_year(year: int = 2026):
    return years.get_year(year) or years.create_year(year)


def batch_in(code, state: str, kind: str = years.CENTRAL, year=None) -> AidBatch:
    """A batch created straight in `state` (the workflow tests' starting points); in 附件审核中 /
    附件审核不通过 it went to the centre's 附件审核 (as 清册提交 marks it)."""
    year = year or aid_year()
    return AidBatch.create(code=code.id, org=code.org_id, year=year.id, kind=kind, status=state,
                           attachments_sent=state in ("附件审核中", "附件审核不通过"))


def person(i: int, **fields) -> dict:
    return {"id_type": "居民身份证", "id_number": id_number(i), "name": f"参保人{i}", **fields}


def roster_of(batch, people: list) -> list:
    """Roster rows straight into a batch (any state): each dict may set employment (在职 / 退休 / -),
    has_social_insurance, active, id_type; ID numbers from `id_number(seq)` with a running seq."""
    start = RosterEntry.select().count() + 1
    rows = []
    for i, fields in enumerate(people):
        number = fields.get("id_number") or id_number(start + i)
        rows.append(RosterEntry.create(
            batch=batch.id, year=batch.year_id, id_number=number, name=fields.get("name", f"参保人{start + i}"),
            gender="男", birth_date=datetime(1985, 1, 1).date(), employment=fields.get("employment", "-"),
            has_social_insurance=fields.get("has_social_insurance", False), active=fields.get("active", True),
            id_type=fields.get("id_type", "居民身份证")))
    return rows


def batch_of(org) -> AidBatch:
    """A batch of the organisation's insurance code (the scope matrix's object): made once."""
    code = code_of(org)
    held = AidBatch.get_or_none(AidBatch.code == code.id)
    return held or batch_in(code, "保障项目待选择", kind=years.INSTANT)


# --- 信息变更 and 账号找回申请 (ma-changes) ------------------------------------------------------------
def recovery_form(n: int, **fields) -> dict:
    values = {"unit_name": f"上海互助测试{n}有限公司", "uscc": uscc(n), "code_no": "", "contact": f"联系人{n}",
              "mobile": f"1391234{n:04d}", "reason": "经办人离职，忘记账号密码"}
    return {**values, **fields}


def recovery_request(n: int = 1, ip: str = "198.51.100.7", **fields):
    from models.mutual_aid import recovery
    return recovery.submit(recovery_form(n, **fields), ("申请表.png", png()), ip)


_recovery_ips = iter(range(1, 10**6))


def recovery_of(org):
    """An 账号找回申请 (the scope matrix's object): about unit 9000 + the organisation's id."""
    return recovery_request(9000 + org.id % 1000, ip=f"203.0.{next(_recovery_ips) % 250}.{org.id % 250}")


def change_of(org):
    """A waiting 单位名称变更 of the organisation's first account's code (approved, with its handler)."""
    from models.mutual_aid import change_ops
    code = code_of(org)
    if code.status != "审核通过":
        code = code_ops.decide(code, True, _centre())
        handler_ops.save_handler(code, code.account, "经办人", "13800009999", "h@example.com")
    waiting = change_ops.waiting_of(code)
    return waiting or change_ops.request_name_change(code, code.account, f"{code.unit_name}（更名）",
                                                     [("证明.png", png())])


def _centre():
    from models.orgs.organizations import Organization
    centre = Organization.get(Organization.level == "centre")
    return Account.get(Account.org == centre.id)


def open_aid_windows(*aid_years: int):
    """The protection years (2025–2027 by default) with every window open from 2000 to 2100: the
    roster tests run on any day (the window rules have their own tests)."""
    for y in aid_years or (2025, 2026, 2027):
        aid_year(y)
    years.AidWindow.update(starts=datetime(2000, 1, 1), ends=datetime(2100, 1, 1)).execute()


# --- 短信验证码 / 企业注册 (ma-register) ------------------------------------------------------------
def sms_code(client, url: str, phone: str, field: str = "phone", **fields) -> str:
    """获取验证码 on the form at `url` (its submit button action=sms), then the code from the outbox."""
    response = client.post(url, data={field: phone, "action": "sms", **fields})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    with client.application.app_context():  # the outbox of the app's instance folder
        return sms.outbox_codes(phone)[-1]


def registration(n: int, **fields) -> dict:
    """企业注册's form for unit n (a unit without a union)."""
    values = {"unit_name": f"上海未建会测试{n}有限公司", "uscc": make_uscc(f"91310115{n:09d}"),
              "handler": f"经办人{n}", "phone": f"1371234{n:04d}", "username": f"ent-{n}",
              "password": "Qiye#2026x", "password2": "Qiye#2026x"}
    return {**values, **fields}


def enterprise_account(n: int) -> Account:
    """A registered enterprise (企业注册) without going through the screen: its organisation (level
    enterprise, outside the union tree) and account."""
    values = registration(n)
    org = Organization.create(name=values["unit_name"], type=ENTERPRISE_TYPE, level=ENTERPRISE_LEVEL,
                              uscc=values["uscc"], contact=values["handler"], phone=values["phone"])
    return factories.make_account(org, username=values["username"])


def outbox_code(app, phone: str) -> str:
    """The latest SMS code the outbox holds for the phone (development has no gateway)."""
    with app.app_context():
        return sms.outbox_codes(phone)[-1]


def code_in_org(city, org, n: int, no_union: bool = False):
    """An approved code (with its handler) of a unit account of `org`; `no_union`: a unit outside
    the union tree (an enterprise registered by 企业注册 — its code has no organisation)."""
    account = factories.make_account(org, username=f"aid-unit-{n}")
    code = code_ops.decide(code_ops.apply(account, form(n), [("营业执照.png", png())]), True, city.account("centre"))
    handler_ops.save_handler(code, account, f"经办人{n}", f"1380000{n:04d}", f"handler{n}@example.com")
    if no_union:
        InsuranceCode.update(org=None).where(InsuranceCode.id == code.id).execute()
    return InsuranceCode.get_by_id(code.id)


def enroll_people(batch, numbers, **fields):
    """Roster rows of `batch` for the people numbered `numbers` (tests.factories.memberfiles.id_number),
    and the batch's premium_total = the sum of its active people's premiums."""
    for i in numbers:
        values = {"batch": batch.id, "year": batch.year_id, "id_number": id_number(i), "name": f"参保人{i}",
                  "gender": "男" if i % 2 else "女", "birth_date": date(1980, 1, 1 + i % 28), **fields}
        RosterEntry.create(**values)
    total = sum(e.premium for e in RosterEntry.select().where((RosterEntry.batch == batch.id) & RosterEntry.active))
    AidBatch.update(premium_total=total).where(AidBatch.id == batch.id).execute()
    return batch
