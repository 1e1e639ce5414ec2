"""操作日志 names its objects in Chinese and links them (issue 16 item 16): the page once showed
"Submission #5", "DistrictBatch #2", "PaymentVoucher #1" and a raw Python list in the detail
("批次：['CB202612060002']", item 17a)."""

import ast
import re
from pathlib import Path

from models.audit import OBJECT_LABELS, AuditLog
from models.base import BaseModel
from models.schema import ALL_MODELS
from tests import factories
from tests.factories.review import make_batch, make_voucher
from tests.helpers import queries

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _all_model_classes():
    seen, todo = set(), [BaseModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return {m for m in seen if not m._meta.options.get("abstract")} | set(ALL_MODELS)


def _object_type_literals():
    """Every object_type named as a string in the code: object_type="X" and {"object_type": "X"}."""
    found = set()
    for path in [*ROOT.glob("models/**/*.py"), *ROOT.glob("views/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "object_type" and isinstance(node.value, ast.Constant):
                found.add((path.name, node.value.value))
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (isinstance(key, ast.Constant) and key.value == "object_type"
                            and isinstance(value, ast.Constant)):
                        found.add((path.name, value.value))
    return found


def test_every_model_that_can_be_logged_has_a_chinese_label():
    # AuditLog.record(action, obj) names the object by its class: any model may be logged, so
    # every model class of the code (not a hand-kept list) needs its Chinese label.
    missing = sorted(m.__name__ for m in _all_model_classes()
                     if not CJK.search(OBJECT_LABELS.get(m.__name__, "")))
    assert missing == []
    names = {m.__name__ for m in _all_model_classes()}
    literals = _object_type_literals()
    assert literals, "the scan found the object_type literals"
    assert sorted((f, t) for f, t in literals if t not in names) == []


def _page(client, **args):
    return client.get("/audit/", query_string=args).get_data(as_text=True)


def test_log_rows_name_the_objects_in_chinese_and_link_them(city, as_role):
    from models.enroll.enrollment import Submission
    from models.workflow import transition
    district = city.orgs["district1"]
    batch = make_batch(district)
    voucher = make_voucher(district)
    sub = factories.OBJECT_FACTORIES["Submission"](city.orgs["grassroots1"])
    transition(batch, "accept", account=city.account("centre"))
    AuditLog.record("上传缴费凭证", voucher, detail={"批次": [batch.number, "CB202612260099"], "应缴": "78"})
    AuditLog.record("提交参保", sub)
    admin = as_role("admin")
    page = _page(admin)
    for english in ("DistrictBatch", "PaymentVoucher", "Submission", "#"):
        assert english not in re.sub(r"<[^>]+>", "", page.split("<table", 1)[1])
    assert f'<a href="/batches/{batch.id}">参保批次 {batch.number}</a>' in page
    assert f'<a href="/batches/vouchers/{voucher.id}">缴费凭证「{voucher.file_name}」</a>' in page
    sub = Submission.get_by_id(sub.id)
    name = f"参保提交 {sub.org.name} {sub.year.year}年集中参保（会员卡参保）"
    assert f'<a href="/enroll/submissions/{sub.id}">{name}</a>' in page
    # A list in the detail reads as a list, not as Python.
    assert f"批次：{batch.number}、CB202612260099" in page and "['" not in page
    # The filter offers the Chinese names too.
    assert '<option value="DistrictBatch">参保批次</option>' in page
    assert '<option value="PaymentVoucher">缴费凭证</option>' in page


def test_every_linked_kind_opens_for_the_admin(city, as_role):
    from views.audit import DETAIL_PAGES
    admin = as_role("admin")
    org = city.orgs["grassroots1"]
    for object_type in DETAIL_PAGES:
        AuditLog.record("测试", factories.OBJECT_FACTORIES[object_type](org))
    page = _page(admin)
    for object_type in DETAIL_PAGES:
        links = re.findall(r'<a href="([^"]+)">' + re.escape(OBJECT_LABELS[object_type]) + "[ 「]", page)
        assert links, object_type
        for link in links:
            assert admin.get(link).status_code == 200, (object_type, link)


def test_a_deleted_object_is_named_by_its_label_and_number(city, as_role):
    AuditLog.record("移除待办会员", object_type="CardPending", object_id=987654)
    page = _page(as_role("admin"), object_type="CardPending")
    assert "待办会员 #987654" in page and "CardPending" not in page.split("<table", 1)[1]


def test_the_excel_export_reads_the_detail_as_text(city):
    row = AuditLog.record("上传缴费凭证", object_type="PaymentVoucher", object_id=1,
                          detail={"批次": ["CB1", "CB2"], "上级组织": ["甲", "乙"], "人数": 3})
    assert row.detail_summary == "批次：CB1、CB2；上级组织：甲 → 乙；人数：3"


def test_names_take_one_query_per_object_type(city):
    from models.audit import object_names
    org = city.orgs["grassroots1"]
    kinds = ("Submission", "Membership", "TransferRequest", "ProtectionType")
    for object_type in kinds:
        for _ in range(3):
            AuditLog.record("测试", factories.OBJECT_FACTORIES[object_type](org))
    rows = list(AuditLog.select().where(AuditLog.object_type.in_(kinds)))
    with queries() as seen:
        names = object_names(rows)
    assert set(names) == {(r.object_type, r.object_id) for r in rows} and len(seen) == len(kinds)
