"""Demo data (`flask demo`, run by `make run` on an empty database): the organisations, accounts,
members and rosters here, the cards, plans, enrollment and review examples in models/demo_enroll.py."""

import os
import random
import secrets
import unicodedata
from datetime import date, timedelta

import click
from stdnum.cn import ric

from models import db, demo_enroll, demo_mutual_aid, messages
from models.base import today
from models.members import counts, member_review, members
from models.members.people import NORMAL, Membership, Person
from models.notices import Download, Notice
from models.orgs.accounts import Account, random_password
from models.orgs.org_import import template_workbook
from models.orgs.org_requests import CHANGE, submit
from models.orgs.organizations import ENTERPRISE_LEVEL, ENTERPRISE_TYPE, NO_WORKBENCH_TYPES, Enterprise, Organization
from models.rules.uscc import make_uscc
from models.stats import tally
from models.storage import stored_file

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建平文辉力明永健世广志义兴良海山仁波宁"
    "贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思"
    "群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰"
    "士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
)
# Area codes valid for every birth year 1960–2009 in python-stdnum's table.
AREAS = ["310101", "310104", "310105", "310106", "310107", "310109", "310110"]


def id_number(rng: random.Random, birth: date, male: bool) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
    body = f"{rng.choice(AREAS)}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def uscc(rng: random.Random, prefix: str = "81") -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = prefix + "310101" + "".join(rng.choice(alphabet) for _ in range(9))
    return make_uscc(body)


DEMO_USERNAMES = ("admin", "city", "centre", "district", "district2", "industry", "secondary", "joint", "grassroots",
                  "grassroots2", "smallfirms", "temporary", "federation", "enterprise", "grassroots3", "grassroots4")


def load_demo(password: str | None = None, members: int = 300, seed: int = 20261122) -> list:
    """Create the demo city; returns [(username, password, role, organisation)]."""
    rng = random.Random(seed)
    add = Organization.add
    with db.atomic():
        city = add(None, name="上海市总工会", type="市总工会", uscc=uscc(rng), union_no="SH0001",
                   address="上海市黄浦区西藏中路120号", contact="办公室", phone="021-63210000")
        centre = add(city, name="上海市职工保障互助会", type="市职保中心", level="centre",
                     union_no="SH0002", address="上海市黄浦区西藏中路120号", contact="职保中心", phone="021-63210001")
        huangpu = add(city, name="黄浦区总工会", type="区总工会", uscc=uscc(rng), union_no="HP0001",
                      address="上海市黄浦区中山南路1号", contact="张敏", phone="021-63300001")
        pudong = add(city, name="浦东新区总工会", type="区总工会", uscc=uscc(rng), union_no="PD0001",
                     address="上海市浦东新区世纪大道100号", contact="李强", phone="021-58800001")
        industry = add(city, name="上海市建设交通工会", type="产业局总工会", uscc=uscc(rng),
                       union_no="JJ0001", address="上海市徐汇区小木桥路1号", contact="周洁", phone="021-64000001")
        temps = [add(d, name=f"{d.name}临时工会", type="工会委员会", is_temporary=True,
                     union_no=f"{d.union_no[:2]}T001", contact=d.contact, phone=d.phone)
                 for d in (huangpu, pudong, industry)]
        street = add(huangpu, name="黄浦区南京东路街道总工会", type="街道总工会", uscc=uscc(rng),
                     union_no="HP0100", address="上海市黄浦区南京东路街道", contact="王芳", phone="021-63300100")
        joint_secondary = add(street, name="南京东路街道商务楼宇联合工会", type="联合工会", level="secondary",
                              uscc=uscc(rng), union_no="HP0110", contact="刘洋", phone="021-63300110")
        g1 = add(joint_secondary, name="上海新世界百货有限公司工会委员会", type="工会委员会", uscc=uscc(rng),
                 union_no="HP1001", address="上海市黄浦区南京西路2号", contact="陈静", phone="13800000001")
        g2 = add(joint_secondary, name="上海外滩茂悦科技有限公司工会委员会", type="工会委员会", uscc=uscc(rng),
                 union_no="HP1002", address="上海市黄浦区黄浦路199号", contact="杨勇", phone="13800000002")
        g3 = add(street, name="上海南京东路步行街物业管理有限公司工会委员会", type="工会委员会", uscc=uscc(rng),
                 union_no="HP1003", address="上海市黄浦区南京东路300号", contact="黄娟", phone="13800000003")
        g4 = add(street, name="南京东路小微企业联合工会", type="联合工会", level="grassroots", uscc=uscc(rng),
                 union_no="HP1004", address="上海市黄浦区九江路500号", contact="赵磊", phone="13800000004")
        g5 = add(pudong, name="上海张江微电子有限公司工会委员会", type="工会委员会", uscc=uscc(rng),
                 union_no="PD1001", address="上海市浦东新区张江路88号", contact="吴涛", phone="13800000005")
        g6 = add(industry, name="上海城建隧道股份有限公司工会委员会", type="工会委员会", uscc=uscc(rng),
                 union_no="JJ1001", address="上海市徐汇区宛平南路1099号", contact="徐明", phone="13800000006")
        federation = add(pudong, name="浦东新区个体劳动者工会联合会", type="工会联合会", uscc=uscc(rng),
                         union_no="PD0200", contact="孙超", phone="021-58800200")
        for _i, name in enumerate(["上海九江路餐饮管理有限公司", "上海福州路文具商行有限公司",
                                  "上海汉口路设计工作室有限公司"]):
            Enterprise.create(org=g4, name=name, uscc=uscc(rng, "91"))
        for g in (g1, g2, g3, g5, g6):
            Enterprise.create(org=g, name=g.name.replace("工会委员会", ""), uscc=uscc(rng, "91"))

        grassroots = [g1, g2, g3, g4, g5, g6]
        weights = [80, 40, 50, 45, 55, 30]
        _members(rng, grassroots, weights, members)
        # 企业注册: a unit without a union, outside the union tree (no parent, no closure rows)
        registered = Organization.create(name="上海申江小微科技有限公司", type=ENTERPRISE_TYPE, level=ENTERPRISE_LEVEL,
                                         uscc=make_uscc("91310101MA1K00001"), contact="钱敏", phone="13900000031")

        specs = [  # DEMO_USERNAMES lists them in this order
            ("admin", "平台管理员", city, True), ("city", "市总工会", city, False),
            ("centre", "职保中心", centre, False), ("district", "黄浦区总工会", huangpu, False),
            ("district2", "浦东新区总工会", pudong, False), ("industry", "建设交通工会", industry, False),
            ("secondary", "南京东路街道", street, False), ("joint", "商务楼宇联合工会", joint_secondary, False),
            ("grassroots", "新世界百货工会", g1, False), ("grassroots2", "张江微电子工会", g5, False),
            ("smallfirms", "小微企业联合工会", g4, False), ("temporary", "黄浦区临时工会", temps[0], False),
            ("federation", "个体劳动者工会联合会", federation, False),
            ("enterprise", "申江小微科技", registered, False),
            # the 在职职工互助保障 examples' units (models/demo_mutual_aid.py)
            ("grassroots3", "外滩茂悦科技工会", g2, False), ("grassroots4", "步行街物业工会", g3, False),
        ]
        _notices_and_messages(centre, g3)
        accounts = []
        for username, display, org, admin in specs:
            secret = password or random_password()
            account = Account(username=username, display_name=display, org=org, is_admin=admin)
            account.set_password(secret)
            account.save()
            accounts.append((username, secret, account.role, org.name))
        _waiting_request(g4)
        _roster_examples(rng, g1, g4, temps[0], g5, pudong)
        demo_enroll.card_examples(g1, centre)
        demo_enroll.plan_examples(centre, [huangpu, pudong, industry])
        demo_enroll.review_examples(centre, huangpu, street, g2, g3, g4)
        demo_enroll.social_examples(g1)
        demo_mutual_aid.mutual_aid_examples(centre, {"grassroots": g1, "grassroots2": g5, "smallfirms": g4,
                                                     "grassroots3": g2, "grassroots4": g3, "enterprise": registered})
        tally.rebuild()  # the monitor's counters: the demo wrote cards and statuses in bulk
    return accounts


def _roster_examples(rng, g1, g4, temporary, g5, pudong) -> None:
    """Something on every roster screen: 同步会员 是/否 in 新世界百货, a 退休 member deleted there,
    a transfer to the 步行街物业 union waiting for 会员转出审核 by 新世界百货, and — 浦东 reviews new
    members — a new member of 张江微电子 waiting for 会员审核 by 浦东新区总工会."""
    roster = list(Membership.select().where(Membership.org == g1.id).order_by(Membership.id))
    if len(roster) < 4:  # a tiny demo (tests): nothing to show
        return
    cut = len(roster) * 3 // 4
    Membership.update(synced=True).where(Membership.id.in_([m.id for m in roster[:cut]])).execute()
    Membership.update(synced=False).where(Membership.id.in_([m.id for m in roster[cut:]])).execute()
    g1_account, g4_account = (Account.get(Account.org == o.id) for o in (g1, g4))
    members.delete(roster[-1], g1_account, "退休")
    member_review.request_transfer(roster[-2], Organization.get_by_id(g4.id), g4_account, reason="从其他工会转入")
    member_review.request_transfer(roster[-3], Organization.get_by_id(temporary.id), g1_account, reason="已离职")
    Organization.update(member_review=True).where(Organization.id == pudong.id).execute()
    birth = date(1992, 5, 17)
    members.add(Organization.get_by_id(g5.id), Account.get(Account.org == g5.id),
                {"name": "沈嘉怡", "id_type": "身份证", "id_number": id_number(rng, birth, False),
                 "gender": "女", "birth_date": birth},
                {"mobile": "13916001234", "address": "上海市浦东新区张江路88号",
                 "work_unit": "上海张江微电子有限公司研发中心"})


def _waiting_request(org) -> None:
    """A 修改信息 request of the 小微企业联合工会, waiting for 组织审核 by its street union."""
    account = Account.get(Account.org == org.id)
    submit(CHANGE, account, {"name": "南京东路街道小微企业联合工会", "union_no": "HP1004A"}, target=org)
    messages.post(org.parent_id, f"「{org.name}」提交了修改信息申请", kind="组织审核", link="/orgs/requests")


def _members(rng, unions, weights, total):
    start = today()
    scale = total / sum(weights)
    number = 1
    for union, weight in zip(unions, weights, strict=False):
        for _ in range(max(1, round(weight * scale))):
            male = rng.random() < 0.55
            birth = date(rng.randint(1966, 2004), rng.randint(1, 12), rng.randint(1, 28))
            person = Person.create(
                id_number=id_number(rng, birth, male), name=rng.choice(SURNAMES) + "".join(
                    rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))),
                gender="男" if male else "女", birth_date=birth)
            joined = start - timedelta(days=rng.choice([0, 1, 2, 3, 5, 9, 20, 40, 200, 800, 2000]))
            Membership.create(person=person, org=union, member_no=f"{3_000_000_000 + number}",
                              status=NORMAL, join_date=joined, approved_at=joined,
                              mobile=f"139{number:08d}", address="上海市黄浦区示例路1号",
                              work_unit=f"{union.name.removesuffix('工会委员会')}总部")
            number += 1
    counts.rebuild()  # bulk-loaded: count once


def _notices_and_messages(centre, welcomed) -> None:
    """重要通知, a template in the 下载中心, a welcome message."""
    Notice.create(title="关于做好2027年度会员专享基本保障集中参保工作的通知", org=centre, pinned=True,
                  body="各区局（产业）工会、基层工会：\n2027年度集中参保工作即将开始，请各基层工会及时整理会员信息，"
                       "核对手机号码、证件到期日等信息。具体时间安排以系统开放的时间窗口为准。\n\n上海市职工保障互助会")
    Notice.create(title="平台维护公告", org=centre,
                  body="平台将于每周日22:00—24:00进行例行维护，期间可能无法登录，请合理安排工作时间。")
    data = template_workbook()
    stored = f"{secrets.token_hex(16)}.xlsx"
    stored_file("downloads", stored).write_bytes(data)
    Download.create(title="组织导入模板", category="模板", filename="组织导入模板.xlsx", stored_name=stored,
                    content_type="application/octet-stream", size=len(data), org=centre,
                    description="区局（产业）工会批量导入下级组织使用")
    messages.post(welcomed, "欢迎使用上海工会网上工作平台", body="请先在“组织管理 → 修改信息”中核对本单位信息。")


# --- the demo accounts as `flask demo` prints them (make run, at every start) --------------------
ACCOUNTS_HEADER = "演示账号（账号 / 密码 / 角色 / 组织）："
GIVEN_PASSWORD = "（DEMO_PASSWORD）"  # saved instead of the value, which stays in the environment
UNSAVED_PASSWORD = "（未保存）"


def role_label(account: Account) -> str:
    """The role in the UI's words: 平台管理员, or the organisation's level (市总工会（只读）, 市职保中心,
    区局（产业）工会, 二级工会, 基层工会), with the type of a union without 业务工作台 (工会联合会)."""
    if account.is_admin:
        return "平台管理员"
    org = account.org
    label = org.level_label
    if org.level == "city":
        return f"{label}（只读）"
    return f"{label}（{org.type}）" if org.type in NO_WORKBENCH_TYPES else label


def _pad(text: str, width: int) -> str:
    """Left-aligned in `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - used)


def account_lines(passwords: dict) -> list[str]:
    """The printed table, from the database: every demo account that exists, its password from
    `passwords` (username → password) or UNSAVED_PASSWORD."""
    accounts = {a.username: a for a in Account.select().where(Account.username.in_(DEMO_USERNAMES))}
    lines = [ACCOUNTS_HEADER]
    for username in DEMO_USERNAMES:
        if username in accounts:
            account = accounts[username]
            lines.append("  " + _pad(username, 13) + _pad(passwords.get(username, UNSAVED_PASSWORD), 17)
                         + _pad(role_label(account), 26) + account.org.name)
    return lines


def print_accounts(accounts, saved=None, password_given: bool = False) -> None:
    """Print the accounts load_demo() returned and keep them in `saved` (owner-readable only), which
    `flask demo` prints at every later start; a DEMO_PASSWORD is saved as its name, not its value."""
    lines = account_lines({username: secret for username, secret, _role, _org in accounts})
    click.echo("\n".join(lines))
    if saved is not None:
        shown = {username: GIVEN_PASSWORD if password_given else secret for username, secret, _r, _o in accounts}
        _write_private(saved, "\n".join(account_lines(shown)) + "\n")


def _write_private(path, text: str) -> None:
    """`text` into `path`, owner-readable (0600) from the moment the file exists — never a window
    in which it is world-readable; a file an older version left readable gets 0600 as well."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


def print_saved_accounts(saved) -> None:
    """A later start: the saved file, or (a database loaded before the file was kept) the demo
    accounts found in the database without their passwords."""
    if saved.exists():
        click.echo(saved.read_text(encoding="utf-8"), nl=False)
        return
    lines = account_lines({})
    if len(lines) > 1:
        click.echo("\n".join(lines))
