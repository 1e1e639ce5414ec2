"""Factories for the member workflows (会员转出审核, 会员审核 of identity changes), for the scope
matrix (tests/factories.OBJECT_FACTORIES) and the workflow tests: a transfer or a change in any state,
and the same through the real operations (新增会员, 转入, 修改证件信息) with 会员审核 on or off."""

import json
from datetime import date, timedelta

from models.members import member_review, members, people
from models.members.people import PENDING, MemberChange, Membership, TransferRequest
from models.orgs.organizations import Organization
from tests import factories


def make_transfer(org, status: str = "待审核") -> TransferRequest:
    """A transfer of one of `org`'s members to a union just below `org` (so the request stays
    inside `org`'s subtree), filed by the destination, in `status` (set directly: the factory
    of the workflow tests)."""
    source = factories.make_member(org)
    destination = factories.make_org(org, "分工会/工会小组")
    target = members.join(source.person, destination, status=people.TRANSFER_IN)
    return TransferRequest.create(person=source.person, source=source, target=target, from_org=org,
                                  to_org=destination, filed_by_org=destination, reason="已离职",
                                  status=status)


def make_member_change(org, status: str = "待审核", **new) -> MemberChange:
    """A pending 信息修改 of one of `org`'s members (default: a new 姓名)."""
    m = factories.make_member(org)
    new = new or {"name": f"{m.person.name}改"}
    m = members.change(m, edit_status=status)
    return MemberChange.create(org=org, membership=m, status=status,
                               payload=json.dumps(new, ensure_ascii=False),
                               before=json.dumps({k: str(getattr(m.person, k)) for k in new}, ensure_ascii=False))


UNIONS = {"grassroots1": ("grassroots", 0), "direct1": ("grassroots", 2), "grassroots2": ("grassroots", 1)}


def review_on(city, district="district1"):
    Organization.update(member_review=True).where(Organization.id == city.orgs[district].id).execute()


def number(birth=None, male=True) -> str:
    """A fresh valid ID number; without a birth date one drawn at random (a fixed date gives only
    3,500 numbers, so a test making many members could draw the same one twice)."""
    birth = birth or date(1970, 1, 1) + timedelta(days=factories._rng.randrange(12000))
    return factories.id_number(factories._rng, birth, male)


def new_member(city, name="新会员", union="grassroots1", id_number=None, mobile="") -> Membership:
    """新增会员 by the union's own account (members.add, the form's operation)."""
    fields, errors = members.check_identity({"name": name, "id_number": id_number or number()})
    assert not errors, errors
    return members.add(city.orgs[union], city.account(*UNIONS[union]), fields,
                       {"mobile": mobile, "address": "上海市黄浦区某路1号"})


def approved_member(city, name="赵六", union="grassroots1"):
    m = new_member(city, name, union=union)
    return member_review.approve(m, city.account("district")) if m.status == PENDING else m


def change_identity(city, m, **new):
    p = m.person
    values = {"name": p.name, "id_type": p.id_type, "id_number": p.id_number, **new}
    fields, errors = members.check_identity(values)
    assert not errors, errors
    record = {k: getattr(m, k) for k in people.RECORD_FIELDS}
    updated, message = members.update(m, city.account("grassroots"), fields, record)
    return updated, message


def transfer_in(city, source="grassroots1", destination=("direct1", 2), reason="工作调动", **member):
    """从其他工会转入: the destination union files a transfer of a member of `source`."""
    m = factories.make_member(city.orgs[source], **member)
    org, which = destination
    return member_review.request_transfer(m, city.orgs[org], city.account("grassroots", which), reason)
