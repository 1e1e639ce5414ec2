"""组织导入: build part of the organisation tree from an Excel/CSV file (background job).

Every row is checked first (names, types, parents — in the file or already in the importer's
subtree —, codes and their uniqueness, cycles); if any row is wrong nothing is imported and an
error file (the rows with a 错误原因 column) comes back to be fixed and uploaded again. A clean
file is applied in one transaction, parents before children.
"""

import re

import peewee as pw

from models import db, figures, is_postgres
from models.audit import AuditLog
from models.base import DomainError, in_values
from models.io import uploads
from models.io.bulk import bulk_insert
from models.io.error_file import FailedRow
from models.io.tables import lost_digits, lost_digits_message, read_table, records
from models.io.templates import notes_sheet, template_sheet, workbook_bytes
from models.jobs import Job, bulk_work, job_kind
from models.orgs.accounts import Account
from models.orgs.organizations import ACTIVE, CLOSED, DEFAULT_LEVEL, LEVELS, Organization, OrgTree
from models.rules.text import PHONE_MESSAGE, PHONE_PATTERN, compact, normalize
from models.rules.uscc import clean_uscc

COLUMNS = ["组织名称", "上级组织", "工会类型", "层级", "统一社会信用代码", "工会编号", "单位地址", "联系人",
           "联系电话"]
REQUIRED = ["组织名称", "上级组织", "工会类型"]
# What a district (or secondary) union may create below itself; the admin may create any type.
CREATABLE_TYPES = ["街道总工会", "联合工会", "工会委员会", "工会联合会", "分工会/工会小组"]
LEVEL_BY_LABEL = {"二级工会": "secondary", "基层工会": "grassroots"}
MAX_ROWS = 5000
PROGRESS_EVERY = 1000  # rows checked between two progress writes (each its own commit)
KIND = "org_import"
EXPLANATION = [
    ("组织名称", "必填，全市唯一，不超过100个字"),
    ("上级组织", "必填，填写已有组织（本单位或下级）的名称，或本文件中另一行的组织名称"),
    ("工会类型", "必填：" + "、".join(CREATABLE_TYPES)),
    ("层级", "工会类型为联合工会时必填：二级工会（下面还有基层工会）或 基层工会（直接覆盖企业）；其他类型可不填"),
    ("统一社会信用代码", "选填，18位，校验位须正确，全市唯一"),
    ("工会编号", "选填，数字、字母或“-”，全市唯一"),
    ("单位地址", "选填"),
    ("联系人", "选填"),
    ("联系电话", "选填，手机11位或固定电话如021-12345678"),
]


def template_workbook() -> bytes:
    from openpyxl.worksheet.datavalidation import DataValidation
    wb, sheet = template_sheet("组织导入", [("*" + c if c in REQUIRED else c) for c in COLUMNS], 22, all_text=True)
    types = DataValidation(type="list", formula1='"' + ",".join(CREATABLE_TYPES) + '"', allow_blank=False)
    levels = DataValidation(type="list", formula1='"二级工会,基层工会"', allow_blank=True)
    sheet.add_data_validation(types)
    sheet.add_data_validation(levels)
    types.add("C2:C1001")
    levels.add("D2:D1001")
    notes_sheet(wb, EXPLANATION, widths=(18, 80))
    return workbook_bytes(wb)


def validate(data: bytes, account: Account, progress=None):
    """Returns (plan, failed, checked, header, row count): plan = [(row number, values, parent
    name/id, fields)] of the rows that passed; failed = the FailedRow of the rows refused;
    checked = every row in file order as a FailedRow (its reasons [] when fine)."""
    table = read_table(data, REQUIRED, max_rows=MAX_ROWS)
    rows = list(records(table))
    failed, plan, checked = [], [], []
    names_in_file, codes_in_file = {}, {"uscc": {}, "union_no": {}}
    for number, values in rows:
        names_in_file.setdefault(normalize(values.get("组织名称")), number)
    # What the database already holds, read once for the whole file (not a query per row).
    taken = {
        "name": _existing(Organization.name, names_in_file),
        "uscc": _existing(Organization.uscc, {compact(v.get("统一社会信用代码")).upper() for _, v in rows}),
        "union_no": _existing(Organization.union_no, {compact(v.get("工会编号")).upper() for _, v in rows}),
    }
    parents = _parents_in_scope({normalize(v.get("上级组织")) for _, v in rows} - set(names_in_file),
                                account)
    allowed = CREATABLE_TYPES if not account.is_admin else [t for t in DEFAULT_LEVEL] + ["联合工会"]
    for i, (number, values) in enumerate(rows):
        reasons, fields = [], {}
        name = normalize(values.get("组织名称"))
        if not name:
            reasons.append("组织名称未填写")
        elif len(name) > 100:
            reasons.append("组织名称不能超过100个字")
        elif names_in_file.get(name) != number:
            reasons.append(f"组织名称与第{names_in_file[name]}行重复")
        elif name in taken["name"]:
            reasons.append("该组织名称已存在")
        fields["name"] = name
        org_type = normalize(values.get("工会类型"))
        if org_type not in allowed:
            reasons.append("工会类型不正确，可选：" + "、".join(CREATABLE_TYPES))
        fields["type"] = org_type
        level_label = normalize(values.get("层级"))
        if org_type == "联合工会":
            if level_label not in LEVEL_BY_LABEL:
                reasons.append("联合工会须填写层级：二级工会 或 基层工会")
            else:
                fields["level"] = LEVEL_BY_LABEL[level_label]
        elif level_label and level_label not in (LEVELS.get(DEFAULT_LEVEL.get(org_type, ""), ""),):
            reasons.append(f"层级与工会类型不符（{org_type}为{LEVELS.get(DEFAULT_LEVEL.get(org_type), '-')}）")
        for key, label in (("uscc", "统一社会信用代码"), ("union_no", "工会编号")):
            raw = compact(values.get(label)).upper()
            if not raw:
                fields[key] = None
                continue
            if lost_digits(values.get(label)):  # an all-digit code typed into a number cell
                reasons.append(lost_digits_message(label))
                continue
            if key == "uscc":
                try:
                    raw = clean_uscc(raw)
                except ValueError as exc:
                    reasons.append(str(exc))
                    continue
            elif not re.match(r"^[0-9A-Z-]{1,32}$", raw):
                reasons.append("工会编号只能包含数字、字母和“-”，不超过32位")
                continue
            first = codes_in_file[key].setdefault(raw, number)
            if first != number:
                reasons.append(f"{label}与第{first}行重复")
            elif raw in taken[key]:
                reasons.append(f"该{label}已被其他组织使用")
            fields[key] = raw
        fields["address"] = normalize(values.get("单位地址"))[:200]
        fields["contact"] = normalize(values.get("联系人"))[:50]
        phone = compact(values.get("联系电话"))
        if phone and not re.match(PHONE_PATTERN, phone):
            reasons.append(PHONE_MESSAGE)
        fields["phone"] = phone
        parent_name = normalize(values.get("上级组织"))
        parent = None
        if not parent_name:
            reasons.append("上级组织未填写")
        elif parent_name == name:
            reasons.append("上级组织不能是自己")
        elif parent_name in names_in_file:
            parent = parent_name  # resolved after its own row is created
        else:
            found = parents.get(parent_name)
            if found is None:
                reasons.append(f"上级组织「{parent_name}」不存在或不在本单位管辖范围内")
            elif found.status == CLOSED:
                reasons.append(f"上级组织「{parent_name}」已撤销")
            elif found.level == "grassroots" and org_type != "分工会/工会小组":
                reasons.append(f"上级组织「{parent_name}」是基层工会，其下只能建分工会/工会小组")
            else:
                parent = found.id
        checked.append(FailedRow(number, values, reasons))
        if reasons:
            failed.append(checked[-1])
        else:
            plan.append((number, values, parent, fields))
        if progress and i % PROGRESS_EVERY == 0:
            progress(i, len(rows))
    if not failed:
        cyclic = {id(values): reasons for values, reasons in _cycles(plan)}
        if cyclic:
            checked = [FailedRow(c.row, c.values, cyclic.get(id(c.values), [])) for c in checked]
            failed = [c for c in checked if c.reasons]
    return plan, failed, checked, table.header, len(rows)


def _existing(field, values) -> set:
    """The values of `field` among `values` that some organisation already has (one query)."""
    values = [v for v in values if v]
    if not values:
        return set()
    return {r[0] for r in Organization.select(field).where(in_values(field, values)).tuples()}


def _parents_in_scope(names, account) -> dict:
    """{name: Organization} of the named existing organisations the importer may build under
    (its own and everything below it; the admin: any)."""
    names = [n for n in names if n]
    if not names:
        return {}
    query = Organization.select().where(in_values(Organization.name, names))
    if not account.is_admin:
        query = query.where(Organization.id.in_(account.org.subtree_ids()))
    return {o.name: o for o in query}


def _cycles(plan):
    """Rows whose parents (in the file) never reach an existing organisation."""
    parent_of = {fields["name"]: parent for _, _, parent, fields in plan}
    bad = []
    for _, values, _, fields in plan:
        seen, name = set(), fields["name"]
        while isinstance(parent_of.get(name), str):
            if name in seen:
                bad.append((values, ["上级组织关系形成循环"]))
                break
            seen.add(name)
            name = parent_of[name]
    return bad


class _Created:
    """A new organisation as figures.created() reads it (open; not a model row: 5,000 of them)."""
    __slots__ = ("id", "level")
    status = ACTIVE

    def __init__(self, id_: int, level: str):
        self.id, self.level = id_, level


def apply(plan, account: Account) -> int:
    """Create the planned organisations, parents before children, in one transaction: a wave of
    rows whose parents exist is inserted at once (the organisations, then their closure rows —
    computed by the database from their parents' — and their 导入组织 log rows), then the rows below
    them."""
    existing = list({parent for _, _, parent, _ in plan if isinstance(parent, int)})
    parents = {i: (i, depth, district) for i, depth, district in Organization.select(
        Organization.id, Organization.depth, Organization.district)
        .where(in_values(Organization.id, existing)).tuples()}
    created = {}  # name → (id, depth, district)
    pending = list(plan)
    # the 导入组织 log row of every organisation: this one with its id and 行号 (what AuditLog.row writes)
    log = AuditLog.row("导入组织", object_type="Organization", to_state=ACTIVE, account=account)
    with db.atomic(), figures.creating_many():  # the monitor counts the new unions once, at the end
        while pending:
            wave = [p for p in pending if not isinstance(p[2], str) or p[2] in created]
            if not wave:  # pragma: no cover — _cycles() refused these
                raise DomainError("上级组织关系形成循环", 422)
            pending = [p for p in pending if isinstance(p[2], str) and p[2] not in created]
            rows = []
            for _number, _values, parent, fields in wave:
                parent_id, depth, district = created[parent] if isinstance(parent, str) else parents[parent]
                if "level" not in fields and fields.get("type") not in DEFAULT_LEVEL:
                    raise DomainError("请为该工会类型选择层级")
                rows.append({**fields, "level": fields.get("level") or DEFAULT_LEVEL[fields["type"]],
                             "parent": parent_id, "depth": depth + 1, "district": district})
            got = bulk_insert(Organization, rows, returning=(Organization.name, Organization.id))
            if got is None:  # an SQLite without RETURNING
                got = Organization.select(Organization.name, Organization.id).where(
                    in_values(Organization.name, [r["name"] for r in rows])).tuples()
            ids = dict(got)
            districts = [ids[r["name"]] for r in rows if r["level"] == "district"]
            if districts:  # a district is its own district
                Organization.update(district=Organization.id).where(in_values(Organization.id, districts)).execute()
            _closure_rows([(ids[r["name"]], r["parent"]) for r in rows])
            logs = []
            for (number, _values, _parent, _fields), row in zip(wave, rows, strict=True):
                org_id = ids[row["name"]]
                created[row["name"]] = (org_id, row["depth"], org_id if row["level"] == "district" else row["district"])
                figures.created(_Created(org_id, row["level"]))  # a new grassroots union counts
                logs.append({**log, "object_id": org_id, "detail": f'{{"行号": {int(number)}}}'})  # json.dumps's text
            bulk_insert(AuditLog, logs)
    return len(created)


# PostgreSQL: from the (id, parent) pairs themselves — not from organization, whose new rows the
# planner finds by scanning the table (50,000 organisations on the full city, twice a wave) — and the
# parents' closure rows by the distinct parents (a few dozen: hashed, where 5,000 rows against the
# whole closure table got a hash of all of it)
PG_CLOSURE = ('INSERT INTO "org_tree" ("ancestor_id", "descendant_id", "depth") '
              'SELECT n.id, n.id, 0 FROM unnest(%s::int[]) AS n(id) UNION ALL '
              'SELECT t."ancestor_id", n.id, t."depth" + 1 FROM unnest(%s::int[], %s::int[]) AS n(id, parent) '
              'JOIN "org_tree" AS t ON t."descendant_id" = n.parent WHERE t."descendant_id" = ANY(%s::int[])')


def _closure_rows(pairs: list) -> None:
    """The closure rows of new organisations (id, parent id) whose parents have theirs: each itself
    (depth 0) and its parent's ancestors one deeper — one INSERT … SELECT (no row leaves the database)."""
    ids = [i for i, _parent in pairs]
    if is_postgres():
        parents = [parent for _i, parent in pairs]
        db.execute_sql(PG_CLOSURE, (ids, ids, parents, sorted(set(parents))))
        return
    new = in_values(Organization.id, ids)  # SQLite: the new rows by their rowids
    selves = Organization.select(Organization.id, Organization.id, pw.Value(0)).where(new)
    above = (Organization.select(OrgTree.ancestor, Organization.id, OrgTree.depth + 1)
             .join(OrgTree, on=(OrgTree.descendant == Organization.parent)).where(new))
    OrgTree.insert_from(selves + above, [OrgTree.ancestor, OrgTree.descendant, OrgTree.depth]).execute()


def submit(account: Account, data: bytes, file_name: str) -> Job:
    """Store the upload and queue the import (the file is read by the job)."""
    return uploads.submit(KIND, account, data, file_name)


@job_kind(KIND, "组织导入")
def run_import(ctx):
    with bulk_work():  # thousands of rows of small objects: no cyclic collection while they pile up
        return _run_import(ctx)


def _run_import(ctx):
    account = Account.get_by_id(ctx.params["account"])
    plan, failed, checked, header, total = validate(uploads.upload_bytes(ctx.params), account,
                                                    lambda done, n: ctx.save_progress(done, n))
    ctx.save_progress(total, total)
    file_name = ctx.params.get("file_name", "")
    if failed:
        # All rows (nothing was imported): fix the marked ones and upload this file again.
        AuditLog.record("组织导入", ctx.job, account=account,
                        detail={"文件": file_name, "行数": total, "错误行数": len(failed), "结果": "未导入"})
        return uploads.result(ctx, total, f"共{total}行，其中{len(failed)}行有错误，全部未导入。请下载错误文件，"
                                          "按“错误原因”修改标出的行后重新上传该文件。", len(failed), imported=0,
                              error_file=uploads.error_file_of(header, checked), prefix="org-import",
                              download_name="组织导入错误数据.xlsx")
    count = apply(plan, account)
    AuditLog.record("组织导入", ctx.job, account=account,
                    detail={"文件": file_name, "行数": total, "导入": count, "结果": "成功"})
    return uploads.result(ctx, total, f"共{total}行，成功导入{count}个组织。", 0, imported=count)
