"""People and memberships (spec 05). The roster issue builds the screens; the foundation lays
down the tables, their constraints and the scope rule so demo data and scope tests can use them.

A person (ID type + number) is unique city-wide; at most one active membership per person is a
partial unique index (one person in at most one union city-wide).
"""

import peewee as pw

from models.base import BaseModel, now
from models.orgs import Organization

ID_TYPES = ["身份证", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证"]
MEMBER_STATUSES = ["待审核", "正常", "转入审核中", "已转出", "已删除"]
ACTIVE_STATUSES = ("待审核", "正常", "转入审核中")


class Person(BaseModel):
    scope_field = None  # reached through memberships

    id_type = pw.CharField(max_length=20, default="身份证")
    id_number = pw.CharField(max_length=32)
    name = pw.CharField(max_length=50)
    gender = pw.CharField(max_length=2)  # 男 / 女
    birth_date = pw.DateField(null=True)
    mobile = pw.CharField(max_length=11, default="")
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("id_type", "id_number"), True),)


class Membership(BaseModel):
    person = pw.ForeignKeyField(Person, backref="memberships", on_delete="RESTRICT")
    org = pw.ForeignKeyField(Organization, backref="memberships", on_delete="RESTRICT")
    member_no = pw.CharField(max_length=32, null=True, unique=True)  # 会员编号
    status = pw.CharField(max_length=10, default="正常", index=True)  # 用户状态
    join_date = pw.DateField(null=True)  # 入会日期
    approved_at = pw.DateTimeField(null=True)  # member number issued (新增激活电子会员证)
    leave_date = pw.DateField(null=True)
    leave_reason = pw.CharField(max_length=10, default="")  # 退休 / 犯罪 / 死亡
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("org", "status"), False),)


# At most one active membership per person — a partial unique index on both databases.
Membership.add_index(Membership.index(Membership.person, unique=True,
                                      where=Membership.status.in_(ACTIVE_STATUSES),
                                      name="membership_one_active_per_person"))


# --- the one way memberships change (keeps the dashboard counters exact) -----------------------
def join(person: Person, org: Organization, **fields) -> Membership:
    """Create a membership and count it."""
    from models import db, stats
    with db.atomic():
        m = Membership.create(person=person, org=org, **fields)
        stats.apply_change(None, m)
    return m


def change(m: Membership, **fields) -> Membership:
    """Update a membership (status, org, dates …) and adjust the counters in one transaction."""
    from models import db, stats
    with db.atomic():
        before = stats.snapshot(Membership.get_by_id(m.id))
        Membership.update(**fields).where(Membership.id == m.id).execute()
        m = Membership.get_by_id(m.id)
        stats.apply_change(before, m)
    return m
