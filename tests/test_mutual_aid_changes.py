"""信息变更 (issue 18 item 2, spec 70, seed 004 pages 18–19 and FAQ): a 一般信息变更 (单位地址, 单位邮箱,
经办人) takes effect at once and is audited with old and new values; a 单位名称变更 needs stamped proof
and the centre's decision (通过 renames the code and its main unit, keeping a name on one code;
不通过 with the reason shown to the unit); one waiting per code as a database constraint and a
two-thread race; every (state, action) pair; the scope of the queue."""

import peewee as pw
import pytest

from models import db
from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.messages import for_account
from models.mutual_aid import change_ops, code_ops, handler_ops
from models.mutual_aid.codes import (
    ACCEPTED,
    APPLIED,
    DECLINED,
    WAITING,
    WITHDRAWN,
    CodeChange,
    CodeFile,
    CodeUnit,
    InsuranceCode,
)
from models.storage import stored_file
from models.workflow import transition
from tests import factories
from tests.factories.mutual_aid import applied, approved_code, form, outbox_code, png, unit_account
from tests.helpers import race
from tests.workflow_helpers import check_every_pair, race_transition

NEW_NAME = "上海互助新名有限公司"


def proof():
    return [("名称变更核准通知书.png", png())]


def test_a_general_change_takes_effect_at_once_and_is_audited_with_old_and_new_values(app, city):
    code = approved_code(city, 1)
    with app.app_context():  # the new 经办人手机 proves itself (获取验证码; the app's key hashes the code)
        handler_ops.send_code("13800002222")
        change = change_ops.change_general(code, code.account, {
            "address": "上海市徐汇区新址1号", "email": "new@example.com", "handler_name": "赵经办",
            "handler_mobile": "138 0000 2222", "handler_email": "handler1@example.com"},  # the same e-mail: unchanged
            outbox_code(app, "13800002222"))
    assert (change.kind, change.status) == ("一般信息变更", APPLIED)
    assert (change.address, change.handler_mobile, change.handler_email) == ("上海市徐汇区新址1号", "13800002222", "")
    code = InsuranceCode.get_by_id(code.id)
    assert (code.address, code.email) == ("上海市徐汇区新址1号", "new@example.com")
    handler = handler_ops.handler_of(code)
    assert (handler.name, handler.mobile, handler.email) == ("赵经办", "13800002222", "handler1@example.com")
    row = AuditLog.for_object(code).first()
    assert row.action == "一般信息变更"
    assert row.detail_lines == [("单位地址", "上海市黄浦区测试路1号 → 上海市徐汇区新址1号"),
                                ("单位邮箱", "unit1@example.com → new@example.com"), ("经办人姓名", "经办人1 → 赵经办"),
                                ("经办人手机", "13800000001 → 13800002222")]


def test_a_general_change_refuses_nothing_changed_bad_fields_and_other_accounts(city):
    code = approved_code(city, 1)
    with pytest.raises(DomainError, match="没有需要变更的信息"):
        change_ops.change_general(code, code.account, {"address": code.address, "email": ""})
    with pytest.raises(FieldErrors) as refused:
        change_ops.change_general(code, code.account, {"email": "no-at", "handler_mobile": "12345",
                                                       "address": "路" * 201})
    assert set(refused.value.errors) == {"email", "handler_mobile", "address"}
    with pytest.raises(DomainError, match="不属于本账号"):
        change_ops.change_general(code, city.account("grassroots"), {"address": "别人的地址"})
    waiting = applied(city, 2)
    with pytest.raises(DomainError, match="审核通过后才能办理"):
        change_ops.change_general(waiting, waiting.account, {"address": "新地址"})
    assert CodeChange.select().count() == 0
    assert InsuranceCode.get_by_id(code.id).address == "上海市黄浦区测试路1号"


def test_a_general_change_without_a_handler_needs_all_three_handler_fields(app, city):
    code = approved_code(city, 1, handler=False)
    with pytest.raises(DomainError, match="尚未填报经办人.*经办人手机、经办人邮箱"):
        change_ops.change_general(code, code.account, {"handler_name": "新经办"})
    with app.app_context():
        handler_ops.send_code("13800003333")
        change_ops.change_general(code, code.account, {"handler_name": "新经办", "handler_mobile": "13800003333",
                                                       "handler_email": "xin@example.com"},
                                  outbox_code(app, "13800003333"))
    assert handler_ops.require_handler(code).name == "新经办"


def test_a_unit_name_change_needs_proof_and_the_centres_decision(city):
    code, taken = approved_code(city, 1), approved_code(city, 2)
    centre = city.account("centre")
    with pytest.raises(FieldErrors) as refused:
        change_ops.request_name_change(code, code.account, NEW_NAME, [])
    assert "加盖公章" in refused.value.errors["files"]
    with pytest.raises(FieldErrors, match="与原名称相同"):
        change_ops.request_name_change(code, code.account, code.unit_name, proof())
    with pytest.raises(DomainError, match="单位名称变更须单独申请"):
        change_ops.request_change(code, code.account, {"unit_name": NEW_NAME, "address": "某路1号"}, proof())
    with pytest.raises(DomainError, match=f"已有参保编码{taken.code}（联系人：经办人2，联系电话：13800000002）"):
        change_ops.request_name_change(code, code.account, taken.unit_name, proof())
    with pytest.raises(DomainError, match="只能是图片"):
        change_ops.request_name_change(code, code.account, NEW_NAME, [("x.png", b"not an image at all")])
    assert CodeChange.select().count() == 0 and CodeFile.select().count() == 2  # the two applications' files

    change = change_ops.request_name_change(code, code.account, NEW_NAME, proof())
    assert (change.status, change.old_unit_name) == (WAITING, "上海互助测试1有限公司")
    assert [f.kind for f in change_ops.files_of(change)] == ["名称变更证明"]
    assert InsuranceCode.get_by_id(code.id).unit_name == "上海互助测试1有限公司"  # not before the centre says so
    with pytest.raises(DomainError, match="已有待审核的单位名称变更申请"):
        change_ops.request_name_change(code, code.account, "又一个新名有限公司", proof())
    change_ops.change_general(code, code.account, {"address": "等待期间的新地址"})  # general ones still apply
    with pytest.raises(DomainError, match="只有上海市职工保障互助会可以审核"):
        change_ops.decide_change(change, True, code.account)
    with pytest.raises(DomainError, match="须填写原因"):
        change_ops.decide_change(change, False, centre)
    assert change_ops.decide_change(change, True, centre).status == ACCEPTED
    assert InsuranceCode.get_by_id(code.id).unit_name == NEW_NAME
    assert [u.name for u in code_ops.units_of(code)] == [NEW_NAME]
    told = for_account(code.account).first()
    assert told.title == f"您的单位名称变更申请「{NEW_NAME}」已审核通过" and told.link == change_ops.PAGE
    with pytest.raises(DomainError, match="提交失败"):  # the new name now has this code
        applied(city, 7, unit_name=NEW_NAME)


def test_a_declined_name_change_shows_the_reason_to_the_unit(city):
    code = approved_code(city, 1)
    change = change_ops.request_name_change(code, code.account, NEW_NAME, proof())
    change = change_ops.decide_change(change, False, city.account("centre"), "证明材料未加盖公章")
    assert (change.status, change.reason) == (DECLINED, "证明材料未加盖公章")
    assert InsuranceCode.get_by_id(code.id).unit_name == "上海互助测试1有限公司"
    told = for_account(code.account).first()
    assert "审核不通过" in told.title and "证明材料未加盖公章" in told.body
    change_ops.request_name_change(code, code.account, NEW_NAME, proof())  # may ask again


def test_a_name_taken_meanwhile_is_refused_at_the_decision_naming_that_code(city):
    code = approved_code(city, 1)
    change = change_ops.request_name_change(code, code.account, NEW_NAME, proof())
    other = approved_code(city, 2)
    code_ops.add_unit(other, NEW_NAME, "", city.account("centre"))
    with pytest.raises(DomainError, match=f"已有参保编码{other.code}"):
        change_ops.decide_change(change, True, city.account("centre"))
    assert CodeChange.get_by_id(change.id).status == WAITING
    assert InsuranceCode.get_by_id(code.id).unit_name == "上海互助测试1有限公司"


def test_only_the_unit_withdraws_its_waiting_change(city):
    code = approved_code(city, 1)
    change = change_ops.request_name_change(code, code.account, NEW_NAME, proof())
    with pytest.raises(DomainError, match="只能撤回本账号"):
        change_ops.withdraw_change(change, city.account("grassroots"))
    assert change_ops.withdraw_change(change, code.account).status == WITHDRAWN
    assert change_ops.waiting_of(code) is None


def test_the_change_workflow_every_pair_and_one_waiting_per_code(city):
    code = approved_code(city, 1)

    def make(state):
        CodeChange.delete().where(CodeChange.status == WAITING).execute()  # one waiting per code
        return CodeChange.create(code=code.id, org=code.org_id, kind="单位名称变更", unit_name=f"新名{state}",
                                 status=state)
    allowed, forbidden = check_every_pair(CodeChange, make, account=city.account("centre"), reason="材料不全")
    assert (allowed, forbidden) == (3, 4 * 3 - 3)
    applied_at_once = make(APPLIED)  # a general change: nobody decides it, nobody withdraws it
    for action in ("accept", "decline", "withdraw"):
        with pytest.raises(DomainError, match="当前状态为「已生效」"):
            transition(applied_at_once, action, account=city.account("centre"), reason="x")
    make(WAITING)
    with pytest.raises(pw.IntegrityError), db.atomic():
        CodeChange.create(code=code.id, kind="单位名称变更", unit_name="另一个新名")
    CodeChange.create(code=code.id, kind="单位名称变更", unit_name="旧申请", status=DECLINED)  # decided: not counted


def test_two_name_changes_of_one_code_at_once_leave_one_waiting(committed):
    city = factories.make_city()
    code = approved_code(city, 1)
    outcomes = race(*[lambda n=n: change_ops.request_name_change(InsuranceCode.get_by_id(code.id), code.account,
                                                                 f"同时更名{n}有限公司", proof()) for n in (1, 2)])
    assert outcomes.count("ok") == 1, outcomes
    assert "已有待审核的单位名称变更申请" in [o for o in outcomes if o != "ok"][0]
    assert CodeChange.select().where(CodeChange.status == WAITING).count() == 1
    kept = {f.stored_name for f in CodeFile.select().where(CodeFile.kind == "名称变更证明")}
    assert len(kept) == 1 and all(stored_file("mutual-aid", name).exists() for name in kept)


def test_two_codes_renamed_to_one_name_at_once_leave_one(committed):
    city = factories.make_city()
    first, second = approved_code(city, 1), approved_code(city, 2)
    changes = [change_ops.request_name_change(c, c.account, NEW_NAME, proof()) for c in (first, second)]
    centre = city.account("centre")
    outcomes = race(*[lambda c=c: change_ops.decide_change(CodeChange.get_by_id(c.id), True, centre)
                      for c in changes])
    assert outcomes.count("ok") == 1, outcomes
    assert any(o.startswith("提交失败") for o in outcomes if o != "ok"), outcomes
    assert CodeUnit.select().where(CodeUnit.name == NEW_NAME).count() == 1
    assert InsuranceCode.select().where(InsuranceCode.unit_name == NEW_NAME).count() == 1


def test_two_centre_clerks_deciding_one_change_one_wins(committed):
    city = factories.make_city()
    code = approved_code(city, 1)
    change = change_ops.request_name_change(code, code.account, NEW_NAME, proof())
    outcomes = race_transition(CodeChange, change.id, "decline")
    assert sorted(outcomes)[0] == "ok" and "已被他人修改" in sorted(outcomes)[1], outcomes


def test_the_queue_scope_centre_all_districts_their_subtree_units_their_own(city):
    near = approved_code(city, 1)  # grassroots1 (under secondary1, district1)
    far = code_ops.decide(code_ops.apply(factories.make_account(city.orgs["grassroots2"]),
                                         form(2), proof()), True, city.account("centre"))
    neighbour = approved_code(city, 3)  # another account of grassroots1
    changes = {name: change_ops.change_general(c, c.account, {"address": f"{name}的新地址"})
               for name, c in (("near", near), ("far", far), ("neighbour", neighbour))}

    def seen(account):
        return {name for name, c in changes.items() if c.id in {x.id for x in change_ops.in_scope(account)}}
    assert seen(city.account("centre")) == seen(city.account("city")) == {"near", "far", "neighbour"}
    assert seen(city.account("district", 0)) == seen(city.account("secondary", 0)) == {"near", "neighbour"}
    assert seen(city.account("district", 1)) == {"far"}
    assert seen(near.account) == {"near"}
    assert not change_ops.sees(near.account, CodeChange.get_by_id(changes["neighbour"].id))
    assert seen(unit_account(city, 9)) == set()
