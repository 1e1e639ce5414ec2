"""Factories for the member workflows (会员转出审核, 会员审核 of identity changes), for the scope
matrix (tests/factories.OBJECT_FACTORIES) and the workflow tests."""

import json

from models.members import members, people
from models.members.people import MemberChange, TransferRequest
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
