"""Organisations (组织): the union tree, its closure table, and covered enterprises."""

import peewee as pw

from models import db, figures
from models.base import BaseModel, DomainError, now
from models.workflow import Workflow

# Level decides the role (spec 05); type is descriptive (seed 002 支持的工会类型).
LEVELS = {
    "city": "市总工会",
    "centre": "市职保中心",
    "district": "区局（产业）工会",
    "secondary": "二级工会",
    "grassroots": "基层工会",
}
TYPES = [
    "市总工会", "市职保中心", "区总工会", "产业局总工会", "街道总工会", "联合工会", "工会委员会",
    "工会联合会", "分工会/工会小组",
]
# Types without access to the 业务工作台 (seed 002 暂不支持的工会类型).
NO_WORKBENCH_TYPES = {"工会联合会", "分工会/工会小组"}
DEFAULT_LEVEL = {
    "市总工会": "city", "市职保中心": "centre", "区总工会": "district", "产业局总工会": "district",
    "街道总工会": "secondary", "工会委员会": "grassroots", "工会联合会": "secondary",
    "分工会/工会小组": "grassroots",
    # 联合工会: grassroots when it covers enterprises directly, secondary when it has member unions.
}
# 企业注册: a unit without a union (在职职工互助保障 only) is an organisation of this level with no
# parent and no closure rows — outside the union tree, so in no subtree, list or count of it.
ENTERPRISE_LEVEL, ENTERPRISE_LABEL, ENTERPRISE_TYPE = "enterprise", "未建会企业", "企业（未建会）"
ACTIVE, CLOSED = "正常", "已撤销"
TOP_LEVELS = ("city", "centre", "district")  # never moved; a change of type keeps the level
# Functions org → reason or None, asked before an organisation is closed (撤销). Later areas
# (members, card batches, enrollment batches, mutual-aid units) append theirs.
CLOSE_CHECKS: list = []
# Functions enterprise → [reasons], asked before a 覆盖企业 is removed: the areas whose records refer
# to an enterprise (members, cards) append theirs.
ENTERPRISE_CHECKS: list = []


class Organization(BaseModel):
    scope_field = "id"

    name = pw.CharField(max_length=100, unique=True)
    type = pw.CharField(max_length=20)
    level = pw.CharField(max_length=12, index=True)
    # no index of its own: (parent_id, level, id) "organization_parent_level_id" (models/stats/tally.py)
    # leads with it (migration 040 dropped the plain one)
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT", index=False)
    # The district / industry union above (itself for a district), for fast grouping.
    district = pw.ForeignKeyField("self", null=True, backref="district_members", on_delete="RESTRICT")
    uscc = pw.CharField(max_length=18, null=True, unique=True)  # 统一社会信用代码
    union_no = pw.CharField(max_length=32, null=True, unique=True)  # 工会编号
    address = pw.CharField(max_length=200, default="")
    contact = pw.CharField(max_length=50, default="")  # 联系人
    phone = pw.CharField(max_length=30, default="")  # 联系电话
    is_temporary = pw.BooleanField(default=False)  # 临时工会
    member_review = pw.BooleanField(default=False)  # 会员审核 (a district's setting, spec 20)
    # A special subsidy group (东航, 铁路工会 …, spec 40): set by the centre, applies below it.
    special_subsidy = pw.BooleanField(default=False)
    status = pw.CharField(max_length=6, default=ACTIVE, index=True)  # 正常 / 已撤销
    # 撤销 is one way (no action back); what may block it is CLOSE_CHECKS, not the table.
    WORKFLOW = Workflow("status", {(ACTIVE, "close"): CLOSED}, actions={"close": "撤销组织"})
    closed_at = pw.DateTimeField(null=True)
    depth = pw.SmallIntegerField(default=0)
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)

    @property
    def level_label(self) -> str:
        return ENTERPRISE_LABEL if self.level == ENTERPRISE_LEVEL else LEVELS.get(self.level, self.level)

    @property
    def has_workbench(self) -> bool:
        return self.type not in NO_WORKBENCH_TYPES

    def __str__(self):
        return self.name

    # --- tree -------------------------------------------------------------------------------
    @classmethod
    def add(cls, parent=None, **fields) -> "Organization":
        """Create an organisation under `parent` with its closure rows, in one transaction."""
        if "level" not in fields:
            if fields.get("type") not in DEFAULT_LEVEL:
                raise DomainError("请为该工会类型选择层级")
            fields["level"] = DEFAULT_LEVEL[fields["type"]]
        with db.atomic():
            org = cls.create(parent=parent, depth=(parent.depth + 1) if parent else 0, **fields)
            district_id = org.id if org.level == "district" else (parent.district_id if parent else None)
            if district_id is not None:
                cls.update(district=district_id).where(cls.id == org.id).execute()
                org.district = district_id
            rows = [{"ancestor": org.id, "descendant": org.id, "depth": 0}]
            if parent is not None:
                rows += [
                    {"ancestor": t.ancestor_id, "descendant": org.id, "depth": t.depth + 1}
                    for t in OrgTree.select().where(OrgTree.descendant == parent.id)
                ]
            OrgTree.insert_many(rows).execute()
            figures.created(org)  # a new grassroots union counts on the monitor
        return org

    @property
    def is_closed(self) -> bool:
        return self.status == CLOSED

    def move(self, new_parent: "Organization") -> None:
        """Change the parent: closure rows, depth and district of the whole subtree, in one
        transaction. Refuses cycles (moving under itself or its own subtree)."""
        if new_parent is None:
            raise DomainError("请选择新的上级组织", 422)
        if new_parent.id == self.parent_id:
            raise DomainError("新的上级组织与原上级组织相同", 422)
        if self.contains(new_parent.id):
            raise DomainError(f"不能把「{self.name}」移到它自己或它的下级组织「{new_parent.name}」之下", 422)
        if new_parent.is_closed:
            raise DomainError(f"「{new_parent.name}」已撤销，不能作为上级组织", 422)
        if new_parent.level == "grassroots" and self.type != "分工会/工会小组":
            raise DomainError(f"「{new_parent.name}」是基层工会，其下只能有分工会/工会小组", 422)
        if self.level in TOP_LEVELS:
            raise DomainError("区局（产业）工会及以上的组织不能移动", 422)
        with db.atomic(), figures.moving(self.id):  # its subtree's counters change ancestors
            sub = OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == self.id)
            old_up = OrgTree.select(OrgTree.ancestor).where(
                (OrgTree.descendant == self.id) & (OrgTree.depth > 0))
            # 1. cut every path from an old ancestor into the subtree
            OrgTree.delete().where(OrgTree.descendant.in_(sub) & OrgTree.ancestor.in_(old_up)).execute()
            # 2. join every new ancestor (incl. new_parent) to every subtree node
            ups = list(OrgTree.select(OrgTree.ancestor, OrgTree.depth).where(
                OrgTree.descendant == new_parent.id).tuples())
            downs = list(OrgTree.select(OrgTree.descendant, OrgTree.depth).where(
                OrgTree.ancestor == self.id).tuples())
            rows = [{"ancestor": a, "descendant": d, "depth": da + dd + 1}
                    for a, da in ups for d, dd in downs]
            for i in range(0, len(rows), 500):
                OrgTree.insert_many(rows[i:i + 500]).execute()
            shift = new_parent.depth + 1 - self.depth
            district = new_parent.district_id if new_parent.level != "district" else new_parent.id
            Organization.update(depth=Organization.depth + shift, district=district,
                                updated_at=now()).where(Organization.id.in_(sub)).execute()
            Organization.update(parent=new_parent.id).where(Organization.id == self.id).execute()

    def close_blockers(self) -> list:
        """Reasons this organisation cannot be closed (撤销) now; empty when it can."""
        return [reason for check in CLOSE_CHECKS for reason in [check(self)] if reason]

    def subtree_ids(self):
        """Sub-query of the ids of this organisation and everything below it (one indexed query)."""
        return OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == self.id)

    def subtree(self):
        """This organisation and everything below it. A district's subtree is the organisations
        whose `district` is it (add and move keep the column so): the index (district_id, status,
        depth, name) then gives 组织列表 its page in order and its count from the index alone,
        where PostgreSQL hashed the whole city's organisations against the closure rows."""
        if self.level == "district":
            return Organization.select().where(Organization.district == self.id)
        return Organization.select().where(Organization.id.in_(self.subtree_ids()))

    def find_below(self, text: str):
        """The organisation of this subtree named `text` (名称, 统一社会信用代码 or 工会编号), or None."""
        code = text.upper().replace(" ", "")
        return self.subtree().where((Organization.name == text) | (Organization.uscc == code)
                                    | (Organization.union_no == code)).first()

    def ancestors(self, include_self=False):
        """Ancestors from the root down."""
        query = (Organization.select(Organization, OrgTree.depth)
                 .join(OrgTree, on=(OrgTree.ancestor == Organization.id))
                 .where(OrgTree.descendant == self.id))
        if not include_self:
            query = query.where(OrgTree.depth > 0)
        return list(query.order_by(OrgTree.depth.desc()))

    def is_above(self, other_id: int) -> bool:
        """A strict ancestor of the other organisation (the superior, at any distance)."""
        return other_id != self.id and self.contains(other_id)

    def contains(self, other_id: int) -> bool:
        return OrgTree.select().where(
            (OrgTree.ancestor == self.id) & (OrgTree.descendant == other_id)).exists()

    def temporary_union(self):
        """临时工会 of this organisation's district (where members who left their job go)."""
        if self.district_id is None:
            return None
        return Organization.get_or_none(
            (Organization.district == self.district_id) & (Organization.is_temporary == True))  # noqa: E712


class OrgTree(BaseModel):
    """Closure table: one row per (ancestor, descendant) pair, depth 0 for the node itself.

    Derived data, written only with the organisations it follows (add, move, 组织导入), so in the
    database these are plain columns, not foreign keys (migration 040: two checks a closure row
    were most of 组织导入's server time); an organisation deleted takes its closure rows with it
    by the trigger "org_tree_forget" on organization, as ON DELETE CASCADE did."""

    # no index of their own: the primary key leads with ancestor, (descendant, depth) with descendant
    # (migration 035 dropped the two that only repeated those prefixes)
    ancestor = pw.ForeignKeyField(Organization, on_delete="CASCADE", index=False)
    descendant = pw.ForeignKeyField(Organization, on_delete="CASCADE", index=False)
    depth = pw.SmallIntegerField()

    class Meta:
        primary_key = pw.CompositeKey("ancestor", "descendant")
        indexes = ((("descendant", "depth"), False),)


class Enterprise(BaseModel):
    """An enterprise (企业) covered by a grassroots union; a 联合工会 covers several."""

    org = pw.ForeignKeyField(Organization, backref="enterprises", on_delete="CASCADE")
    name = pw.CharField(max_length=100)
    uscc = pw.CharField(max_length=18, unique=True)  # one enterprise is covered by one union
    created_at = pw.DateTimeField(default=now)


def _open_children(org):
    n = Organization.select().where((Organization.parent == org.id) & (Organization.status == ACTIVE)).count()
    return f"该组织下还有{n}个未撤销的下级组织，请先撤销或移走" if n else None


def _root(org):
    return "市总工会、市职保中心和临时工会不能撤销" if (
        org.level in ("city", "centre") or org.is_temporary) else None


CLOSE_CHECKS.extend([_root, _open_children])  # the members check: models/orgs/org_changes.py
