"""The centre's changes to the 会员专享基本保障 settings (spec 40): 保障年度设置 (新建, 收款账户和告知书落款,
时间窗口, 给付申请材料截止, 抵扣金额 / 退回金额), 特殊补贴单位 and 保障类型 (新增, 修改). Each is one
operation with its audit rows; a change of the city's subsidy or of a type's fee rebalances the
districts' 保障金额设置 in the same transaction (REBALANCE_RULE), announced to each district.

The reading side and the district's own 保障金额设置 are in models/enroll/plans.py.
"""

from dataclasses import dataclass
from datetime import date

from models import db, messages
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now, today
from models.enroll import plans
from models.enroll.plans import Credit, FeeSplit, ProtectionType, ProtectionYear
from models.orgs.organizations import Organization
from models.rules import fees as rules
from models.rules.fees import yuan
from models.rules.text import normalize, parse_day

ACCOUNT_FIELDS = ("account_name", "account_no", "bank", "grassroots_signature", "district_signature")
MONEY = ("full_fee", "half_fee", "subsidy_full", "subsidy_half", "special_full", "special_half")
MONEY_LABELS = {"full_fee": "参保费用（全年）", "half_fee": "参保费用（半年）", "subsidy_full": "市总统一划拨（全年）",
                "subsidy_half": "市总统一划拨（半年）", "special_full": "特殊补贴单位市总统一划拨（全年）",
                "special_half": "特殊补贴单位市总统一划拨（半年）"}


# --- 保障年度设置 -----------------------------------------------------------------------------------
def new_year(year: int, account) -> ProtectionYear:
    """新建保障年度: with the reference types and windows (to be checked one by one)."""
    if not 2000 <= year <= 2100:
        raise DomainError("请填写正确的保障年度（如 2027）", 422)
    if plans.get_year(year):
        raise DomainError(f"{year}年度已存在", 422)
    return plans.create_year(year, account)


def save_account(year: ProtectionYear, form, account) -> None:
    """收款账户和告知书落款: every field required (cut to 100 characters)."""
    values = {k: normalize(form.get(k))[:100] for k in ACCOUNT_FIELDS}
    if not all(values.values()):
        raise DomainError("户名、帐号、开户行和告知书落款都须填写", 422)
    ProtectionYear.update(values).where(ProtectionYear.id == year.id).execute()
    AuditLog.record("修改保障年度设置", year, account=account, detail=values)


def set_windows(year: ProtectionYear, moments: dict, account) -> None:
    """时间窗口: {kind: (starts, ends)} saved together (each audited by plans.set_window)."""
    with db.atomic():
        for kind, (starts, ends) in moments.items():
            plans.set_window(year, kind, starts, ends, account)


def set_claims_deadline(year: ProtectionYear, text, account) -> date:
    """给付申请材料截止: a day not before the end of the protection year."""
    deadline = parse_day(text)
    if deadline is None:
        raise DomainError("给付申请材料截止：日期格式应为 年-月-日", 422)
    if deadline < date(year.year, 12, 31):
        raise DomainError(f"给付申请材料截止不能早于{year.year}年度保障期满（{year.year}-12-31）", 422)
    before = year.claims_deadline.isoformat() if year.claims_deadline else "（未设置）"
    ProtectionYear.update(claims_deadline=deadline).where(ProtectionYear.id == year.id).execute()
    AuditLog.record("修改保障年度设置", year, account=account,
                    detail={"给付申请材料截止": [before, deadline.isoformat()]})
    return deadline


def set_credit(year: ProtectionYear, district_id: int, amount_text, note: str, account) -> tuple:
    """抵扣金额 (退回金额) of a district for the year; returns (the district, the amount in fen)."""
    district = Organization.get_or_none((Organization.id == district_id) & (Organization.level == "district"))
    try:
        amount = rules.fen(amount_text)
    except rules.FeeError as exc:
        raise DomainError(f"抵扣金额：{exc}", 422) from None
    if district is None:
        raise DomainError("请选择区局（产业）工会", 422)
    note = normalize(note)[:200]
    with db.atomic():
        row = Credit.get_or_none((Credit.org == district.id) & (Credit.year == year.id))
        before = yuan(row.amount) if row else "（未设置）"
        if row:
            Credit.update(amount=amount, note=note).where(Credit.id == row.id).execute()
        else:
            Credit.create(org=district.id, year=year.id, amount=amount, note=note)
        AuditLog.record("设置抵扣金额", district, account=account,
                        detail={"保障年度": year.year, "抵扣金额": [before, yuan(amount)], "说明": note})
    return district, amount


# --- 保障类型 ---------------------------------------------------------------------------------------
def type_values(year: ProtectionYear, ptype: ProtectionType | None, form) -> dict:
    """The type form's values (money in fen); FieldErrors names each refused field."""
    values, errors = {}, {}
    values["code"] = normalize(form.get("code")).upper()[:10]
    values["name"] = normalize(form.get("name"))[:50]
    values["benefits"] = (form.get("benefits") or "").strip()[:2000]
    if not values["code"]:
        errors["code"] = "请填写保障类型代码"
    if not values["name"]:
        errors["name"] = "请填写保障类型名称"
    for key in MONEY:
        raw = (form.get(key) or "").strip()
        if not raw and key.startswith("special"):
            values[key] = None
            continue
        try:
            values[key] = rules.fen(raw)
        except rules.FeeError as exc:
            errors[key] = f"{MONEY_LABELS[key]}：{exc}"
    if not errors:
        if values["subsidy_full"] > values["full_fee"] or values["subsidy_half"] > values["half_fee"]:
            errors["subsidy_full"] = "市总统一划拨不能超过参保费用"
        if values["half_fee"] > values["full_fee"]:
            errors["half_fee"] = "半年参保费用不能超过全年参保费用"
    if not errors:
        clash = ProtectionType.select().where((ProtectionType.year == year.id)
                                              & (ProtectionType.code == values["code"]))
        if ptype:
            clash = clash.where(ProtectionType.id != ptype.id)
        if clash.exists():
            errors["code"] = f"{year.year}年度已有代码为“{values['code']}”的保障类型"
    if errors:
        raise FieldErrors("请按提示修改后重新提交", errors)
    return values


def type_changes(ptype: ProtectionType, values: dict) -> list:
    """The districts' splits a type's new amounts would rebalance (shown before saving)."""
    return split_changes(type_fees={ptype.id: rules.TypeFees(*(values[k] for k in MONEY))})


def save_type(year: ProtectionYear, ptype: ProtectionType | None, values: dict, account) -> ProtectionType:
    """新增保障类型 / 修改保障类型: an edit rebalances the districts' splits in the same transaction."""
    with db.atomic():
        if ptype:
            final = type_changes(ptype, values)  # as shown, recomputed
            ProtectionType.update(values).where(ProtectionType.id == ptype.id).execute()
            apply_split_changes(final, account, f"保障类型「{values['name']}」的金额修改")
            saved = ProtectionType.get_by_id(ptype.id)
        else:
            saved = ProtectionType.create(year=year.id, sort=len(plans.types_of(year)), **values)
        AuditLog.record("修改保障类型" if ptype else "新增保障类型", year, account=account,
                        detail={"保障类型": saved.name, **{MONEY_LABELS[k]: yuan(values[k])
                                                         for k in MONEY if values[k] is not None}})
    return saved


# --- the centre's changes keep every split adding up --------------------------------------------
REBALANCE_RULE = ("市总统一划拨或参保费用变动时，区局/各级工会默认缴纳随之调整（承担差额），基层单位默认缴纳不变；"
                  "若区局/各级工会默认缴纳因此小于0，则为0，差额由基层单位默认缴纳承担。")


@dataclass
class SplitChange:
    """One district's 保障金额设置 of one type before and after a centre change (fen)."""
    split: FeeSplit
    district: Organization
    ptype: ProtectionType
    old: rules.Split
    new: rules.Split
    city_old: int
    city_new: int


def split_changes(flags: dict | None = None, type_fees: dict | None = None) -> list[SplitChange]:
    """The district splits a centre change would alter (REBALANCE_RULE): `flags` {district id:
    特殊补贴单位 after the change}, `type_fees` {type id: rules.TypeFees after the change}. Only the
    splits of years still to come or running (earlier years' submissions keep their amounts)."""
    flags, type_fees = flags or {}, type_fees or {}
    rows = (FeeSplit.select(FeeSplit, Organization, ProtectionType)
            .join(Organization, on=(FeeSplit.org == Organization.id)).switch(FeeSplit)
            .join(ProtectionType).join(ProtectionYear)
            .where(ProtectionYear.year >= today().year)
            .order_by(Organization.name, ProtectionYear.year, ProtectionType.sort, ProtectionType.id))
    if type_fees and not flags:
        rows = rows.where(FeeSplit.type.in_(list(type_fees)))
    out, special = [], {}  # district id → (特殊补贴 before, after), asked once per district
    for row in rows:
        district = row.org
        if district.id not in special:
            before = plans.is_special(district)
            after = (flags[district.id] or plans.is_special(district, itself=False)) if district.id in flags else before
            special[district.id] = (before, after)
        before, after = special[district.id]
        fees_old, fees_new = row.type.fees, type_fees.get(row.type_id, row.type.fees)
        new = rules.rebalance(fees_new, row.split, after)
        if new != row.split:
            out.append(SplitChange(row, district, row.type, row.split, new, fees_old.subsidy(False, before),
                                   fees_new.subsidy(False, after)))
    return out


def apply_split_changes(changes: list[SplitChange], account, reason: str) -> None:
    """Save the rebalanced splits (inside the caller's transaction): each audited on its district
    and announced to it by 消息提醒."""
    for c in changes:
        FeeSplit.update(district_part=c.new.district, grassroots_part=c.new.grassroots, updated_by=account.id,
                        updated_at=now()).where(FeeSplit.id == c.split.id).execute()
        detail = {"保障类型": f"{c.ptype.year.year}年度{c.ptype.name}", "原因": reason,
                  "市总统一划拨": [yuan(c.city_old), yuan(c.city_new)],
                  "区局/各级工会默认缴纳": [yuan(c.old.district), yuan(c.new.district)],
                  "基层单位默认缴纳": [yuan(c.old.grassroots), yuan(c.new.grassroots)]}
        AuditLog.record("保障金额随市总调整", c.district, account=account, detail=detail)
        messages.post(c.district, f"{c.ptype.year.year}年度「{c.ptype.name}」的保障金额已随市总调整",
                      body=(f"{reason}：市总统一划拨 {yuan(c.city_old)}元 → {yuan(c.city_new)}元；"
                            f"区局/各级工会默认缴纳 {yuan(c.old.district)}元 → {yuan(c.new.district)}元；"
                            f"基层单位默认缴纳 {yuan(c.old.grassroots)}元 → {yuan(c.new.grassroots)}元（每人每年）。"
                            + REBALANCE_RULE),
                      link=f"/plans/split?year={c.ptype.year.year}", kind="通知")


def special_flags(chosen: set) -> dict:
    """{district: 特殊补贴单位 after saving} for the districts whose tick changes."""
    return {d: d.id in chosen for d in Organization.select().where(Organization.level == "district")
            .order_by(Organization.name) if (d.id in chosen) != d.special_subsidy}


def set_special(chosen: set, account) -> list[SplitChange]:
    """特殊补贴单位 → 保存: the ticked districts get the special 市总统一划拨; their splits are
    rebalanced in the same transaction (audited, announced). Returns the split changes."""
    with db.atomic():
        flags = special_flags(chosen)
        changes = split_changes(flags={d.id: flag for d, flag in flags.items()})
        for d, flag in flags.items():
            Organization.update(special_subsidy=flag).where(Organization.id == d.id).execute()
            AuditLog.record("设置特殊补贴单位", d, account=account, detail={"特殊补贴": "是" if flag else "否"})
        apply_split_changes(changes, account, "特殊补贴单位设置变更")
    return changes
