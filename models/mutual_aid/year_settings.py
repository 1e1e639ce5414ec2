"""The centre's 互助保障年度设置 (spec 70, issue 18 item 3): 新建保障年度 and, for a year, the receiving
account (户名 / 账号 / 开户行), the two windows (集中参保 / 即时参保) and the item prices (A0–C3, full and
half year, and the A0+B0+C0 combined price). Each write is one operation: it checks every field
first (FieldErrors naming each, 422, nothing written), then saves in one transaction with one audit
row holding only the values that changed ([before, after]).

The tables and the reading side are in models/mutual_aid/years.py.
"""

import re
import unicodedata

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.mutual_aid import years
from models.mutual_aid.years import KINDS, AidItem, AidWindow, AidYear
from models.rules import fees
from models.rules.fees import yuan
from models.rules.mutual_fees import BASIC
from models.rules.text import normalize, parse_moment

ACTION = "修改互助保障年度设置"
FIRST_YEAR, LAST_YEAR = 2000, 2100
# 收款账户: (field, label, max length) — the labels of seed 004's payment page.
ACCOUNT_FIELDS = (("account_name", "户名", 100), ("account_no", "账号", 40), ("bank", "开户行", 100))
# Form names of the windows (ASCII) → the window kinds.
WINDOW_FIELDS = {"central": years.CENTRAL, "instant": years.INSTANT}
COMBO_FIELD, COMBO_LABEL = "basic_combo_fee", "A0+B0+C0合计（保障期大于半年）"
MOMENT = "%Y-%m-%d %H:%M"


def new_year(text, account) -> AidYear:
    """新建保障年度 (the year it starts in: 2026 = 1 Jul 2026 – 30 Jun 2027) with the reference
    account, windows and prices (`years.create_year`)."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not re.fullmatch(r"[0-9]{4}", raw) or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        raise DomainError("保障年度：请填写四位数的年份（如 2026，即2026年7月1日至2027年6月30日）", 422)
    year = int(raw)
    try:  # create_year refuses a year that exists with the same words
        return years.create_year(year, account)
    except pw.IntegrityError:  # a second request creating the same year at the same moment
        raise DomainError(f"保障年度：{year}年度互助保障已存在", 422) from None


def _changes(before: dict, after: dict) -> dict:
    return {key: [before[key], value] for key, value in after.items() if before[key] != value}


def _refuse(errors: dict):
    raise FieldErrors("未保存，请按提示修改后重新提交", errors)


# --- 收款账户 ----------------------------------------------------------------------------------------
def account_values(form) -> dict:
    """户名 / 账号 / 开户行 from a form, all required; 账号 digits (spaces and dashes dropped)."""
    values, errors = {}, {}
    for field, label, size in ACCOUNT_FIELDS:
        value = normalize(form.get(field))
        if field == "account_no":
            value = re.sub(r"[\s-]", "", value)
        if not value:
            errors[field] = f"{label}：请填写{label}"
        elif len(value) > size:
            errors[field] = f"{label}：不能超过{size}个字符"
        elif field == "account_no" and not value.isdigit():
            errors[field] = "账号：只能填写数字"
        values[field] = value
    if errors:
        _refuse(errors)
    return values


def set_account(aid_year: AidYear, form, account) -> dict:
    """收款账户: returns the changed values ({label: [before, after]}; empty when nothing changed)."""
    values = account_values(form)
    with db.atomic():
        current = AidYear.get_by_id(aid_year.id)
        changed = _changes({label: getattr(current, f) for f, label, _ in ACCOUNT_FIELDS},
                           {label: values[f] for f, label, _ in ACCOUNT_FIELDS})
        if changed:
            AidYear.update(values).where(AidYear.id == aid_year.id).execute()
            AuditLog.record(ACTION, aid_year, account=account, detail={"保障年度": str(current), **changed})
    return changed


# --- 时间窗口 ----------------------------------------------------------------------------------------
def window_values(form) -> dict:
    """{kind: (starts, ends)} from `central_starts` … `instant_ends` (年-月-日 时:分, or a day:
    the day's first moment to start, its last to end); the end not before the start."""
    moments, errors = {}, {}
    for name, kind in WINDOW_FIELDS.items():
        try:
            starts = parse_moment(form.get(f"{name}_starts", ""), False)
        except ValueError:
            errors[f"{name}_starts"] = f"{kind}开始时间：格式应为 年-月-日 时:分"
        try:
            ends = parse_moment(form.get(f"{name}_ends", ""), True)
        except ValueError:
            errors[f"{name}_ends"] = f"{kind}结束时间：格式应为 年-月-日 时:分"
        if f"{name}_starts" in errors or f"{name}_ends" in errors:
            continue
        if ends < starts:
            errors[f"{name}_ends"] = f"{kind}结束时间：不能早于开始时间（{starts:{MOMENT}}）"
        moments[kind] = (starts, ends)
    if errors:
        _refuse(errors)
    return moments


def set_windows(aid_year: AidYear, form, account) -> dict:
    """集中参保 / 即时参保 windows saved together; returns the changes ({"集中参保结束": [before, after]})."""
    moments = window_values(form)
    with db.atomic():
        current = {w.kind: w for w in AidWindow.select().where(AidWindow.year == aid_year.id)}
        changed = {}
        for kind in KINDS:
            starts, ends = moments[kind]
            window = current.get(kind)
            before = (window.starts, window.ends) if window else (None, None)
            for label, old, new in (("开始", before[0], starts), ("结束", before[1], ends)):
                if old != new:
                    changed[f"{kind}{label}"] = [f"{old:{MOMENT}}" if old else "（未设置）", f"{new:{MOMENT}}"]
            if window is None:
                AidWindow.create(year=aid_year.id, kind=kind, starts=starts, ends=ends)
            elif before != (starts, ends):
                AidWindow.update(starts=starts, ends=ends).where(AidWindow.id == window.id).execute()
        if changed:
            AuditLog.record(ACTION, aid_year, account=account, detail={"保障年度": str(aid_year), **changed})
    return changed


# --- 保障项目价格 -------------------------------------------------------------------------------------
def price_values(aid_year: AidYear, form) -> tuple[dict, int]:
    """({code: (full, half)}, combined A0+B0+C0 price), all in fen from 元 with at most two
    decimals: a half-year price not above its full-year one, the combined price not above the
    sum of A0, B0 and C0."""
    prices, errors = {}, {}
    for item in years.items_of(aid_year):
        parsed = []
        for part, label in (("full", "全年"), ("half", "半年")):
            field = f"{item.code}_{part}"
            try:
                parsed.append(fees.fen(form.get(field)))
            except fees.FeeError as exc:
                errors[field] = f"{item.code}保障费（{label}）：{exc}"
        if len(parsed) == 2:
            if parsed[1] > parsed[0]:
                errors[f"{item.code}_half"] = f"{item.code}保障费（半年）：不能高于全年保障费（{yuan(parsed[0])}元）"
            prices[item.code] = tuple(parsed)
    try:
        combo = fees.fen(form.get(COMBO_FIELD))
    except fees.FeeError as exc:
        errors[COMBO_FIELD] = f"{COMBO_LABEL}：{exc}"
    else:
        if all(code in prices for code in BASIC):
            single = sum(prices[code][0] for code in BASIC)
            if combo > single:
                errors[COMBO_FIELD] = f"{COMBO_LABEL}：不能高于A0、B0、C0全年保障费之和（{yuan(single)}元）"
    if errors:
        _refuse(errors)
    return prices, combo


def price_form(aid_year: AidYear) -> dict:
    """The prices form as stored (元 text): {"A0_full": "120", …, COMBO_FIELD: "180"}."""
    shown = {COMBO_FIELD: yuan(aid_year.basic_combo_fee)}
    for item in years.items_of(aid_year):
        shown[f"{item.code}_full"], shown[f"{item.code}_half"] = yuan(item.full_fee), yuan(item.half_fee)
    return shown


def set_prices(aid_year: AidYear, form, account) -> dict:
    """保障项目价格: returns the changes ({"A0全年": ["120", "130"]}, in 元)."""
    prices, combo = price_values(aid_year, form)
    with db.atomic():
        changed = {}
        for item in years.items_of(aid_year):
            full, half = prices[item.code]
            for label, old, new in (("全年", item.full_fee, full), ("半年", item.half_fee, half)):
                if old != new:
                    changed[f"{item.code}{label}"] = [yuan(old), yuan(new)]
            if (item.full_fee, item.half_fee) != (full, half):
                AidItem.update(full_fee=full, half_fee=half).where(AidItem.id == item.id).execute()
        current = AidYear.get_by_id(aid_year.id)
        if current.basic_combo_fee != combo:
            changed[COMBO_LABEL] = [yuan(current.basic_combo_fee), yuan(combo)]
            AidYear.update(basic_combo_fee=combo).where(AidYear.id == aid_year.id).execute()
        if changed:
            AuditLog.record(ACTION, aid_year, account=account, detail={"保障年度": str(aid_year), **changed})
    return changed
