"""Append-only audit log (操作日志): who, when, which object, from → to state, reason, IP."""

import json

import peewee as pw

from models.accounts import Account
from models.base import BaseModel, now
from models.orgs import Organization
from models.rules.text import mask_text


class AppendOnlyError(RuntimeError):
    pass


def _actor():
    """The account and IP of the current request, when there is one."""
    try:
        from flask import has_request_context, request
        from flask_login import current_user
    except ImportError:  # pragma: no cover
        return None, ""
    if not has_request_context():
        return None, ""
    account = current_user if getattr(current_user, "is_authenticated", False) else None
    return account, (request.remote_addr or "")


# Chinese names of the objects in the 操作日志 (areas add theirs).
OBJECT_LABELS = {
    "Organization": "组织", "Account": "账号", "Job": "后台任务", "OrgRequest": "组织审核申请",
    "Membership": "会员", "Person": "人员", "Enterprise": "企业", "Notice": "通知",
    "Download": "下载文件", "Message": "消息", "TransferRequest": "会员转移申请",
    "MemberChange": "信息修改申请", "Card": "会员服务卡", "CardBatch": "办卡批次",
    "CardRevokeRequest": "撤销办卡批次申请", "CardPending": "待办会员", "ProtectionYear": "保障年度",
    "Claim": "给付记录",
}


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type, object_type)


class AuditLog(BaseModel):
    at = pw.DateTimeField(default=now, index=True)
    account = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    account_name = pw.CharField(max_length=50, default="")
    org = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL")
    org_name = pw.CharField(max_length=100, default="")
    object_type = pw.CharField(max_length=40)
    object_id = pw.IntegerField(null=True)
    action = pw.CharField(max_length=40)  # 操作 (Chinese label)
    from_state = pw.CharField(max_length=30, default="")
    to_state = pw.CharField(max_length=30, default="")
    reason = pw.TextField(default="")
    ip = pw.CharField(max_length=45, default="")
    detail = pw.TextField(default="")  # JSON: changed fields etc. — never full personal numbers

    class Meta:
        indexes = ((("object_type", "object_id", "at"), False),)

    # --- append-only ------------------------------------------------------------------------
    def save(self, *args, **kwargs):
        if self.id is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("操作日志只能追加，不能修改")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise AppendOnlyError("操作日志只能追加，不能删除")

    @classmethod
    def update(cls, *args, **kwargs):
        raise AppendOnlyError("操作日志只能追加，不能修改")

    @classmethod
    def delete(cls):
        raise AppendOnlyError("操作日志只能追加，不能删除")

    # --- writing ----------------------------------------------------------------------------
    @classmethod
    def record(cls, action: str, obj=None, *, object_type: str | None = None,
               object_id: int | None = None, from_state: str = "", to_state: str = "",
               reason: str = "", detail=None, account=None, ip: str | None = None) -> "AuditLog":
        return cls.create(**cls.row(action, obj, object_type=object_type, object_id=object_id,
                                    from_state=from_state, to_state=to_state, reason=reason, detail=detail,
                                    account=account, ip=ip))

    @classmethod
    def row(cls, action: str, obj=None, *, object_type: str | None = None,
            object_id: int | None = None, from_state: str = "", to_state: str = "",
            reason: str = "", detail=None, account=None, ip: str | None = None) -> dict:
        """The values of one log row (for `insert_many` when one action touches many objects)."""
        actor, request_ip = _actor()
        account = account or actor
        if obj is not None:
            object_type = object_type or type(obj).__name__
            object_id = obj.id
        org = account.org if account is not None else None
        return dict(
            at=now(),
            account=account.id if account else None,
            account_name=account.username if account else "系统",
            org=org.id if org else None,
            org_name=org.name if org else "",
            object_type=object_type or "",
            object_id=object_id,
            action=action,
            from_state=from_state or "",
            to_state=to_state or "",
            reason=mask_text(reason or ""),
            ip=ip if ip is not None else request_ip,
            # Personal numbers never reach the log in full (spec 80).
            detail=mask_text(json.dumps(detail, ensure_ascii=False, default=str)) if detail else "",
        )

    @classmethod
    def for_object(cls, obj, object_type: str | None = None):
        return (cls.select()
                .where((cls.object_type == (object_type or type(obj).__name__))
                       & (cls.object_id == obj.id))
                .order_by(cls.at.desc(), cls.id.desc()))

    @property
    def detail_data(self):
        return json.loads(self.detail) if self.detail else None
