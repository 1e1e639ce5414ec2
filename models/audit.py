"""Append-only audit log (操作日志): who, when, which object, from → to state, reason, IP."""

import json
from datetime import datetime

import peewee as pw
from flask import has_request_context, request
from flask_login import current_user

from models.base import MODELS, BaseModel, now, until_end_of
from models.rules.text import bounded_int, mask, mask_text


class AppendOnlyError(RuntimeError):
    pass


def _actor():
    """The account and IP of the current request, when there is one."""
    if not has_request_context():
        return None, ""
    account = current_user if getattr(current_user, "is_authenticated", False) else None
    return account, (request.remote_addr or "")


# Chinese names of the objects in the 操作日志: every model has one (tests/test_audit_names.py
# walks every model class), so a row never shows an internal English name.
OBJECT_LABELS = {
    "Organization": "组织", "OrgTree": "组织层级", "Enterprise": "覆盖企业", "Account": "账号",
    "LoginAttempt": "登录失败记录", "AuditLog": "操作日志", "Job": "后台任务", "JobChunk": "后台任务分段",
    "OrgRequest": "组织审核申请", "Membership": "会员", "Person": "人员", "OrgMemberCount": "会员数统计",
    "OrgSubtreeCount": "含下级会员数统计",
    "MemberDay": "入会人数统计", "Notice": "通知", "Download": "下载文件", "Message": "消息",
    "MessageRead": "消息已读记录", "Counter": "编号计数器", "TransferRequest": "会员转移申请",
    "MemberChange": "信息修改申请", "Card": "会员服务卡", "CardBatch": "办卡批次", "CardPending": "待办会员",
    "CardBatchItem": "办卡批次人员", "CardRevokeRequest": "撤销办卡批次申请", "CardConfirm": "会员卡参保待确认",
    "ProtectionYear": "保障年度", "ProtectionType": "保障类型", "Window": "时间窗口",
    "WindowExtension": "时间窗口延长", "FeeSplit": "保障金额设置", "Credit": "退回金额",
    "Submission": "参保提交", "Enrollment": "参保记录", "TypeLock": "保障类型锁定", "StatusRecord": "社保状态记录",
    "DistrictBatch": "参保批次", "PaymentVoucher": "缴费凭证", "VoucherItem": "缴费凭证批次",
    "BatchCounter": "参保批次计数器", "Claim": "给付记录", "SocialCheck": "社保状态校验",
    "SocialConfirm": "社保卡参保待确认",
    "InsuranceCode": "参保编码申请", "CodeUnit": "参保编码单位", "CodeHandler": "经办人",
    "CodeChange": "信息变更申请", "CodeFile": "参保编码附件", "AidYear": "互助保障年度",
    "AidWindow": "互助保障时间窗口", "AidWindowExtension": "互助保障时间窗口延长", "AidItem": "互助保障项目",
    "AidBatch": "互助保障参保批次", "RosterEntry": "互助保障清册人员",
    "BatchAttachment": "互助保障清册附件", "RosterConfirmation": "清册未能匹配人员确认",
    "AidVoucher": "互助保障缴费凭证", "AidVoucherBatch": "互助保障缴费凭证批次", "AidReceiptSet": "专用收据",
    "AidReceipt": "专用收据明细",
    "BatchItem": "参保批次保障项目", "BatchCoverage": "参保批次保障期间",
    "RegistryPayer": "建议清册人员", "RegistryUnit": "建议清册单位",
    "AccountRecovery": "账号找回申请",
    "SmsCode": "短信验证码",
    "UnionTally": "基层工会数统计", "EligibleTally": "可参保人数统计", "YearTally": "年度参保统计",
}


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type, object_type)


def _person(obj) -> str:
    return obj.person.name


# How one object is named after its label (参保批次 CB…, 缴费凭证「…」); a model not listed here
# is named by its number (#id).
OBJECT_NAMES = {
    "Organization": lambda o: o.name,
    "Enterprise": lambda o: o.name,
    "Account": lambda o: o.username,
    "Job": lambda o: f"{o.title} #{o.id}",
    "OrgRequest": lambda o: f"{o.kind} #{o.id}",
    "Membership": lambda o: f"{o.person.name}（{o.org.name}）",
    "Person": lambda o: o.name,
    "Notice": lambda o: f"「{o.title}」",
    "Download": lambda o: f"「{o.title}」",
    "Message": lambda o: f"「{o.title}」",
    "TransferRequest": _person,
    "MemberChange": lambda o: o.membership.person.name,
    "Card": lambda o: mask(o.card_no),
    "CardBatch": lambda o: o.number,
    "CardRevokeRequest": lambda o: o.batch.number,
    "CardPending": _person,
    "ProtectionYear": lambda o: f"{o.year}年",
    "ProtectionType": lambda o: f"{o.year.year}年{o.name}",
    "Claim": lambda o: f"{o.name} {o.claim_type}",
    "Submission": lambda o: f"{o.org.name} {o.year.year}年{o.mode}（{o.channel}）",
    "Enrollment": lambda o: f"{o.person.name} {o.year.year}年",
    "DistrictBatch": lambda o: o.number,
    "PaymentVoucher": lambda o: f"「{o.file_name}」",
    "InsuranceCode": lambda o: f"{o.unit_name}（{o.code or o.status}）",
    "AidYear": lambda o: f"{o.year}年度",
    "AidBatch": lambda o: f"{o.code.unit_name} {o.year.year}年度{o.kind}",
    "CodeChange": lambda o: f"{o.code.unit_name} {o.kind}",
    "AidVoucher": lambda o: f"{o.code.unit_name}「{o.file_name}」",
    "AidReceiptSet": lambda o: f"{o.voucher.code.unit_name}「{o.voucher.file_name}」",
    "AccountRecovery": lambda o: o.unit_name,
}


# The foreign keys a name reads (a dotted path through several), joined in the one query per
# object type (no lookup per row).
NAME_JOINS = {"Membership": ("person", "org"), "TransferRequest": ("person",), "CardRevokeRequest": ("batch",),
              "CardPending": ("person",), "ProtectionType": ("year",), "Submission": ("org", "year"),
              "Enrollment": ("person", "year"), "MemberChange": ("membership.person",), "AidBatch": ("code", "year"),
              "CodeChange": ("code",), "AidVoucher": ("code",), "AidReceiptSet": ("voucher.code",)}


def _named(model, ids):
    query, selected = model.select(model), [model]
    for path in NAME_JOINS.get(model.__name__, ()):
        query = query.switch(model)
        source = model
        for name in path.split("."):
            field = getattr(source, name)
            query, source = query.join(field.rel_model, on=field), field.rel_model
            selected.append(source)
    return query.select(*selected).where(model._meta.primary_key.in_(sorted(ids)))


def object_names(rows) -> dict:
    """{(object_type, object_id): "参保批次 CB…"} for the rows of a log page — one query per
    object type on the page; an object since deleted is named by its label and number."""
    wanted: dict = {}
    for row in rows:
        if row.object_id is not None:
            wanted.setdefault(row.object_type, set()).add(row.object_id)
    names = {}
    for object_type, ids in wanted.items():
        label = object_label(object_type)
        found = {}
        model, name = MODELS.get(object_type), OBJECT_NAMES.get(object_type)
        if model is not None and name is not None:
            found = {o.id: o for o in _named(model, ids)}
        for object_id in ids:
            obj = found.get(object_id)
            text = name(obj) if obj is not None else f"#{object_id}"
            names[(object_type, object_id)] = label + ("" if text.startswith("「") else " ") + text
    return names


def detail_text(value) -> str:
    """One value of a row's detail as a person reads it: a list as 甲、乙, a mapping as 键：值；…"""
    if isinstance(value, dict):
        return "；".join(f"{k}：{detail_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "、".join(detail_text(v) for v in value)
    return "（空）" if value is None or value == "" else str(value)


# Detail keys whose list is a list of things, never a change [before, after].
LIST_KEYS = {"批次"}


def detail_lines(data) -> list[tuple[str, str]]:
    """A row's detail as (key, text) lines: [before, after] pairs as 前 → 后, other lists joined."""
    if not isinstance(data, dict):
        return [("", detail_text(data))] if data else []
    lines = []
    for key, value in data.items():
        if isinstance(value, (list, tuple)) and len(value) == 2 and key not in LIST_KEYS:
            lines.append((key, f"{detail_text(value[0])} → {detail_text(value[1])}"))
        else:
            lines.append((key, detail_text(value)))
    return lines


class AuditLog(BaseModel):
    at = pw.DateTimeField(default=now, index=True)
    account = pw.DeferredForeignKey("Account", null=True, on_delete="SET NULL")
    account_name = pw.CharField(max_length=50, default="")
    org = pw.DeferredForeignKey("Organization", null=True, on_delete="SET NULL")
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

    @property
    def detail_lines(self) -> list[tuple[str, str]]:
        return detail_lines(self.detail_data)

    @property
    def detail_summary(self) -> str:
        """The detail as one line of text (the Excel export)."""
        return "；".join(f"{k}：{v}" if k else v for k, v in self.detail_lines)


def search(args):
    """操作日志 search: the rows matching the filters (account name, object type and number, action,
    from / to day), newest first; returns (query, errors) — a filter that cannot be read is left
    out and named in `errors`."""
    query = AuditLog.select().order_by(AuditLog.at.desc(), AuditLog.id.desc())
    errors = []
    if args.get("account"):
        query = query.where(AuditLog.account_name == args["account"].strip())
    if args.get("object_type"):
        query = query.where(AuditLog.object_type == args["object_type"].strip())
    if args.get("object_id"):
        object_id = bounded_int(args["object_id"])
        if object_id is None:
            errors.append("对象编号须为数字")
        else:
            query = query.where(AuditLog.object_id == object_id)
    if args.get("action"):
        query = query.where(AuditLog.action.contains(args["action"].strip()))
    for key, label in (("start", "开始日期"), ("end", "结束日期")):
        if args.get(key):
            try:
                day = datetime.strptime(args[key], "%Y-%m-%d")
            except ValueError:
                errors.append(f"{label}格式应为 年-月-日，如 2026-01-31")
                continue
            query = query.where(AuditLog.at >= day) if key == "start" else \
                query.where(until_end_of(day.date(), AuditLog.at))
    return query, errors


def object_types() -> list[str]:
    """The object types that have rows in the log (the search form's choices)."""
    return [r.object_type for r in AuditLog.select(AuditLog.object_type).distinct().order_by(AuditLog.object_type)]
