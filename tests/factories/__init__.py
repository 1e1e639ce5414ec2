"""Factories: organisations, accounts, members, and a small city with one account per role."""

import itertools
import random
from dataclasses import dataclass, field
from datetime import date

from models.demo import id_number, uscc
from models.members import members as member_ops  # `members` names this package's tests.factories.members
from models.members.people import Membership, Person
from models.orgs.accounts import Account
from models.orgs.organizations import Enterprise, Organization

PASSWORD = "test-pass-1"
# The columns of the 组织导入 template, for the files the import tests upload.
ORG_IMPORT_HEADER = ["*组织名称", "*上级组织", "*工会类型", "层级", "统一社会信用代码", "工会编号", "单位地址",
                     "联系人", "联系电话"]
_seq = itertools.count(1)
_rng = random.Random(7)


def make_org(parent=None, type="工会委员会", level=None, **fields) -> Organization:
    n = next(_seq)
    fields.setdefault("name", f"测试组织{n}")
    fields.setdefault("union_no", f"T{n:06d}")
    fields.setdefault("contact", "联系人")
    fields.setdefault("phone", "021-12345678")
    if level:
        fields["level"] = level
    return Organization.add(parent, type=type, **fields)


def make_account(org, username=None, admin=False, password=PASSWORD) -> Account:
    account = Account(username=username or f"user{next(_seq)}", org=org, is_admin=admin,
                      display_name="测试")
    account.set_password(password)
    account.save()
    return account


def make_member(org, **fields) -> Membership:
    n = next(_seq)
    male = n % 2 == 0
    birth = date(1980 + n % 20, 1 + n % 12, 1 + n % 28)
    person = Person.create(id_number=fields.pop("id_number", None) or id_number(_rng, birth, male),
                           name=fields.pop("name", f"会员{n}"), gender="男" if male else "女",
                           birth_date=birth)
    fields.setdefault("member_no", f"TM{n:08d}")
    fields.setdefault("join_date", date(2024, 1, 1))
    return member_ops.join(person, org, **fields)


def make_enterprise(org) -> Enterprise:
    n = next(_seq)
    return Enterprise.create(org=org, name=f"测试企业{n}", uscc=uscc(_rng, "91"))


@dataclass
class City:
    orgs: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)

    def account(self, role, which=0) -> Account:
        return self.accounts[role][which]


def make_city() -> City:
    """city ─ centre; two districts, each with a street union (secondary) and two grassroots
    unions (one directly under the district, one under the street union), and a 临时工会."""
    c = City()
    city = make_org(None, "市总工会", name="测试市总工会")
    centre = make_org(city, "市职保中心", level="centre", name="测试职保中心")
    c.orgs.update(city=city, centre=centre)
    for i in (1, 2):
        district = make_org(city, "区总工会", name=f"测试区{i}总工会")
        street = make_org(district, "街道总工会", name=f"测试区{i}街道总工会")
        g_street = make_org(street, "工会委员会", name=f"测试区{i}街道甲公司工会委员会")
        g_direct = make_org(district, "工会委员会", name=f"测试区{i}乙公司工会委员会")
        temp = make_org(district, "工会委员会", name=f"测试区{i}总工会临时工会", is_temporary=True)
        c.orgs.update({f"district{i}": district, f"secondary{i}": street,
                       f"grassroots{i}": g_street, f"direct{i}": g_direct, f"temporary{i}": temp})
    c.accounts = {
        "admin": [make_account(city, admin=True)],
        "city": [make_account(city)],
        "centre": [make_account(centre)],
        "district": [make_account(c.orgs["district1"]), make_account(c.orgs["district2"])],
        "secondary": [make_account(c.orgs["secondary1"]), make_account(c.orgs["secondary2"])],
        "grassroots": [make_account(c.orgs["grassroots1"]), make_account(c.orgs["grassroots2"]),
                       make_account(c.orgs["direct1"])],
    }
    return c


def login(client, account, password=PASSWORD):
    response = client.post("/login", data={"username": account.username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def make_job(org, account=None, status="已完成"):
    """A finished export job with its result file in storage."""
    import json

    from models.jobs import Job
    from models.storage import storage_dir
    job = Job.create(org=org, owner=account, kind="audit_export", title="导出操作日志", status=status)
    name = f"audit-{job.id}.xlsx"
    (storage_dir() / name).write_bytes(b"PK test")
    Job.update(result=json.dumps({"file": name, "download_name": name, "error_file": name,
                                  "error_download_name": name})).where(Job.id == job.id).execute()
    return Job.get_by_id(job.id)


def make_org_request(org):
    from models.orgs import org_requests
    account = Account.select().where(Account.org == org.id).first() or make_account(org)
    return org_requests.submit(org_requests.CHANGE, account, {"address": "申请修改的地址"}, target=org)


def make_message(org, account=None, title="测试消息", link=""):
    from models import messages
    return messages.post(org, title, link=link, account=account)


def make_notice(org=None, published=True, title="测试通知"):
    from models.notices import Notice
    return Notice.create(title=title, body="通知内容", published=published)


def make_download(org=None, published=True, data=b"%PDF-1.4 test", filename="操作手册.pdf"):
    import secrets

    from models.notices import Download
    from models.storage import stored_file
    stored = f"{secrets.token_hex(8)}.pdf"
    stored_file("downloads", stored).write_bytes(data)
    return Download.create(title="操作手册", filename=filename, stored_name=stored,
                           content_type="application/pdf", size=len(data), published=published)


# The factory modules of this package import this one: each is loaded on first use.
def _cards():
    from tests.factories import cards
    return cards


def _members():
    from tests.factories import members
    return members


# For the scope matrix: how to make an object of each model that belongs to `org`.
# A route that takes an object of a model missing here fails tests/test_access.py.
OBJECT_FACTORIES = {
    "Organization": lambda org: org,
    "Job": lambda org: make_job(org),
    "Person": lambda org: make_member(org).person,
    "Membership": lambda org: make_member(org),
    "Enterprise": lambda org: make_enterprise(org),
    "OrgRequest": make_org_request,
    "Account": lambda org: make_account(org),
    "Message": lambda org: make_message(org),
    "Notice": make_notice,
    "Download": make_download,
    "TransferRequest": lambda org: _members().make_transfer(org),
    "MemberChange": lambda org: _members().make_member_change(org),
    "CardPending": lambda org: _cards().make_pending(org),
    "CardBatch": lambda org: _cards().make_batch(org),
    "CardRevokeRequest": lambda org: _cards().make_revoke(org),
    "Card": lambda org: _cards().make_card(org),
    "ProtectionYear": lambda org: _plan_year(),
    "ProtectionType": lambda org: _plan_year().types[0],
    "Submission": lambda org: _submission(org),
    "DistrictBatch": lambda org: _review().make_batch(org),
    "PaymentVoucher": lambda org: _review().make_voucher(org),
    "AidYear": lambda org: _mutual_aid().aid_year(),
    "InsuranceCode": lambda org: _mutual_aid().code_of(org),
    "AidBatch": lambda org: _mutual_check().batch_of(org),
    "AidVoucher": lambda org: _aid_money().voucher_of(org),
    "AidReceiptSet": lambda org: _aid_money().receipts_of(org),
    "AccountRecovery": lambda org: _mutual_aid().recovery_of(org),
    "CodeChange": lambda org: _mutual_aid().change_of(org),
}


def _mutual_check():
    from tests.factories import mutual_check
    return mutual_check


def _aid_money():
    from tests.factories import aid_money
    return aid_money


def _mutual_aid():
    from tests.factories import mutual_aid
    return mutual_aid


def _review():
    from tests.factories import review
    return review


def _submission(org):
    from models.enroll.enrollment import Submission
    year = _plan_year()
    return Submission.create(org=org, year=year, channel="会员卡参保", mode="集中参保", type=year.types[0])


def _plan_year():
    from models.enroll import plans
    year = plans.ProtectionYear.select().order_by(plans.ProtectionYear.year.desc()).first()
    return year or plans.create_year(2027)
