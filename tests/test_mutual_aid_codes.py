"""参保编码申请 and 经办人填报 (issue 18 items 1–2, spec 70, seed 004): the application and the
centre's decision, "提交失败" for a unit name that has a code (with that code's contact), one code
per platform account and one code per unit name as database constraints on both databases with
two-thread races, the code workflow over every pair, the handler (信息变更: test_mutual_aid_changes)."""


import pytest

from models.base import DomainError, FieldErrors
from models.mutual_aid import code_ops, handler_ops
from models.mutual_aid.codes import (
    APPLYING,
    APPROVED,
    REFUSED,
    CodeFile,
    CodeUnit,
    InsuranceCode,
)
from models.storage import stored_file
from tests import factories
from tests.factories.mutual_aid import applied, approved_code, form, png, unit_account, uscc
from tests.helpers import race
from tests.workflow_helpers import check_every_pair, check_stale_object_refused, race_transition


def test_an_application_waits_for_the_centre_with_its_files(city):
    code = applied(city, 1)
    assert code.status == APPLYING and code.code is None
    files = list(CodeFile.select().where(CodeFile.code == code.id))
    assert [f.kind for f in files] == ["申请材料"] and files[0].content_type == "image/png"
    assert stored_file("mutual-aid", files[0].stored_name).exists()


def test_required_fields_and_files_are_named(city):
    account = unit_account(city, 1)
    with pytest.raises(FieldErrors) as refused:
        code_ops.apply(account, form(1, unit_name="", uscc="91310000123", phone="123"), [("a.png", png())])
    assert refused.value.errors["unit_name"] == "请填写单位名称"
    assert refused.value.errors["uscc"] == "统一社会信用代码应为18位"
    assert "联系电话" in refused.value.errors["phone"]
    with pytest.raises(FieldErrors) as refused:
        code_ops.apply(account, form(1), [])
    assert "社会保险费缴费申报表" in refused.value.errors["files"]
    with pytest.raises(DomainError, match="附件只能是图片"):
        code_ops.apply(account, form(1), [("a.png", b"not an image")])
    assert InsuranceCode.select().count() == 0


def test_the_centre_approves_with_a_code_or_refuses_with_the_reason_and_the_unit_resubmits(city):
    centre = city.account("centre")
    code = code_ops.decide(applied(city, 1), True, centre)
    assert code.status == APPROVED and code.code == f"HZ{code.id:08d}"
    assert [(u.name, u.is_main) for u in code_ops.units_of(code)] == [("上海互助测试1有限公司", True)]
    other = applied(city, 2)
    with pytest.raises(DomainError, match="须填写原因"):
        code_ops.decide(other, False, centre)
    other = code_ops.decide(other, False, centre, reason="营业执照未盖章")
    assert (other.status, other.reason) == (REFUSED, "营业执照未盖章")
    with pytest.raises(DomainError, match="只有上海市职工保障互助会可以审核"):
        code_ops.decide(applied(city, 3), True, city.account("district"))
    again = code_ops.resubmit(other, other.account, form(2, address="上海市黄浦区新地址8号"), [("盖章.png", png())])
    assert (again.status, again.address) == (APPLYING, "上海市黄浦区新地址8号")
    assert code_ops.decide(again, True, centre, number="31000123").code == "31000123"


def test_a_unit_name_that_has_a_code_fails_with_that_codes_contact_and_phone(city):
    held = approved_code(city, 1, handler=False)
    with pytest.raises(DomainError) as refused:
        applied(city, 2, unit_name="上海互助测试1有限公司")
    assert refused.value.message.startswith("提交失败")
    assert f"已有参保编码{held.code}" in refused.value.message
    assert "联系人：联系人1，联系电话：13912340001" in refused.value.message
    # Once the handler is filled, the contact shown is the handler.
    handler_ops.save_handler(held, held.account, "王经办", "13800001111", "wang@example.com")
    with pytest.raises(DomainError, match="联系人：王经办，联系电话：13800001111"):
        applied(city, 3, unit_name="上海互助测试1有限公司")
    with pytest.raises(DomainError, match=f"统一社会信用代码{uscc(1)}已有参保编码"):
        applied(city, 4, uscc=uscc(1))
    assert InsuranceCode.select().count() == 1


def test_a_failed_application_leaves_no_file_behind(city, monkeypatch):
    """The files are written before the transaction that names them; when it fails they go again."""
    account = unit_account(city, 1)
    folder = stored_file("mutual-aid", "x").parent
    before = set(folder.glob("*"))
    with pytest.raises(DomainError, match="只能是图片"):
        code_ops.apply(account, form(1), [("a.png", png()), ("b.png", b"text")])

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")
    monkeypatch.setattr(code_ops.AuditLog, "record", broken)  # the last write of the transaction
    with pytest.raises(RuntimeError):
        code_ops.apply(account, form(1), [("a.png", png()), ("b.png", png())])
    assert set(folder.glob("*")) == before and not InsuranceCode.select().where(InsuranceCode.account == account.id)


def test_two_approvals_of_one_unit_name_leave_one_code(committed):
    city = factories.make_city()
    first, second = applied(city, 1), applied(city, 2, unit_name="上海互助测试1有限公司", uscc=uscc(9))
    centre = city.account("centre")
    outcomes = race(*[lambda c=c: code_ops.decide(InsuranceCode.get_by_id(c.id), True, centre)
                      for c in (first, second)])
    assert outcomes.count("ok") == 1, outcomes
    assert any(o.startswith("提交失败") for o in outcomes if o != "ok"), outcomes
    assert CodeUnit.select().where(CodeUnit.name == "上海互助测试1有限公司").count() == 1
    assert InsuranceCode.select().where(InsuranceCode.status == APPROVED).count() == 1


def test_two_applications_of_one_account_at_once_leave_one(committed):
    city = factories.make_city()
    account = unit_account(city, 1)
    folder = stored_file("mutual-aid", "x").parent
    before = {p.name for p in folder.glob("*")}
    outcomes = race(*[lambda n=n: code_ops.apply(account, form(n), [("a.png", png())]) for n in (1, 2)])
    assert outcomes.count("ok") == 1, outcomes
    assert "一个参保编码只能在一个平台账号中使用" in [o for o in outcomes if o != "ok"][0]
    assert InsuranceCode.select().count() == 1
    kept = {row.stored_name for row in CodeFile.select()}
    assert {p.name for p in folder.glob("*")} - before == kept  # the loser's file went again


def test_the_code_workflow_every_pair(city):
    n = iter(range(100, 1000))

    def make(state):
        return InsuranceCode.create(account=unit_account(city, next(n)).id, status=state, **form(next(n)))
    allowed, forbidden = check_every_pair(InsuranceCode, make, account=city.account("centre"), reason="材料不清晰")
    assert (allowed, forbidden) == (3, 3 * 3 - 3)
    code = make(APPLYING)
    check_stale_object_refused(code, "approve", moved_by_other_to=REFUSED)


def test_two_centre_clerks_deciding_one_application_one_wins(committed):
    city = factories.make_city()
    code = applied(city, 1)
    outcomes = race_transition(InsuranceCode, code.id, "refuse")
    assert sorted(outcomes)[0] == "ok" and "已被他人修改" in sorted(outcomes)[1], outcomes


def test_the_handler_is_filled_once_then_changed_by_request(city):
    code = approved_code(city, 1, handler=False)
    with pytest.raises(FieldErrors) as refused:
        handler_ops.save_handler(code, code.account, "", "12345", "no-at")
    assert set(refused.value.errors) == {"name", "mobile", "email"}
    with pytest.raises(DomainError, match="不属于本账号"):
        handler_ops.save_handler(code, city.account("grassroots"), "李", "13800001111", "li@example.com")
    handler_ops.save_handler(code, code.account, "李经办", "138 0000 1111", "li@example.com")
    assert handler_ops.require_handler(code).mobile == "13800001111"
    with pytest.raises(DomainError, match="如需变更请提交信息变更申请"):
        handler_ops.save_handler(code, code.account, "赵", "13800002222", "zhao@example.com")


def test_a_group_code_covers_several_units(city):
    code = approved_code(city, 1)
    centre = city.account("centre")
    code_ops.add_unit(code, "上海互助测试1有限公司第二分公司", uscc(50), centre)
    assert [u.name for u in code_ops.units_of(code)] == ["上海互助测试1有限公司", "上海互助测试1有限公司第二分公司"]
    with pytest.raises(DomainError, match="提交失败"):
        applied(city, 7, unit_name="上海互助测试1有限公司第二分公司")
    with pytest.raises(DomainError, match="只有上海市职工保障互助会可以审核"):
        code_ops.add_unit(code, "又一家", "", code.account)
