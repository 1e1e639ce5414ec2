"""The schema built by the migrations matches the models, and upgrading is idempotent."""

import pytest

from app import upgrade_database
from models import db
from models.cards import card_batches
from models.members import people
from models.schema import ALL_MODELS


def test_migrations_create_every_model_column():
    for model in ALL_MODELS:
        table = model._meta.table_name
        columns = {c.name for c in db.get_columns(table)}
        expected = {f.column_name for f in model._meta.sorted_fields}
        assert expected <= columns, (table, expected - columns)


def test_migrations_create_the_unique_indexes():
    for model in ALL_MODELS:
        table = model._meta.table_name
        unique = {tuple(i.columns) for i in db.get_indexes(table) if i.unique}
        for field in model._meta.sorted_fields:
            if field.unique:
                assert (field.column_name,) in unique, (table, field.name)
        for index in model._meta.indexes:
            if isinstance(index, tuple):
                fields, is_unique = index
                if is_unique:
                    cols = tuple(model._meta.fields[f].column_name for f in fields)
                    assert cols in unique, (table, cols)
            else:  # a partial ModelIndex: look it up by name (among the unique ones if it is unique)
                names = {i.name for i in db.get_indexes(table) if i.unique or not index._unique}
                assert index._name in names, (table, index._name)


def test_upgrade_again_is_a_no_op():
    assert upgrade_database() == []


def test_member_numbers_work_where_huey_made_its_counter_table_first(tmp_path):
    """huey's SQL storage (JOBS_MODE=sql, same database) creates a table named "counter" when the
    app starts — before `flask db upgrade` on a new server. Migration 004 keeps our counters in
    "number_counter", so 会员编号 and card batch numbers work on such a database."""
    import peewee as pw
    from huey.contrib.sql_huey import SqlHuey

    from models.members import members
    path = tmp_path / "fresh.db"
    SqlHuey("jobs", database=f"sqlite:///{path}")  # the app starting first
    fresh = pw.SqliteDatabase(str(path))
    assert "counter" in fresh.get_tables()
    upgrade_database(fresh)
    assert "number_counter" in fresh.get_tables()
    assert "key" in {c.name for c in fresh.get_columns("counter")}  # huey's own table left alone
    with people.Counter.bind_ctx(fresh), fresh.atomic():
        first = members.next_member_numbers(2)
        assert int(first[1]) == int(first[0]) + 1
        assert card_batches.next_batch_number().startswith("KB")
    fresh.close()


def test_upgrade_moves_the_counters_of_an_issue_5_database(tmp_path):
    """A database upgraded through 003 with our own "counter" table keeps its 会员编号 sequence."""
    import peewee as pw
    from peewee_migrate import Router

    from app import BASE_DIR
    path = tmp_path / "issue5.db"
    old = pw.SqliteDatabase(str(path))
    Router(old, migrate_dir=str(BASE_DIR / "migrations")).run("003_member_roster")
    old.execute_sql("INSERT INTO \"counter\" (\"name\", \"value\") VALUES ('member_no', 3100000123)")
    upgrade_database(old)
    kept = old.execute_sql('SELECT "value" FROM "number_counter" WHERE "name" = \'member_no\'').fetchone()
    assert kept[0] == 3100000123
    assert "counter" not in old.get_tables()
    old.close()


def test_040_rebuilds_the_sqlite_closure_table_with_its_rows_index_and_triggers(tmp_path):
    """SQLite cannot drop a foreign key: migration 040 rebuilds org_tree without them — its rows, its
    index and every trigger naming it (its own and org_member_count's, migration 033) as they were, and
    the new one on organization that takes a deleted organisation's closure rows."""
    import peewee as pw
    from peewee_migrate import Router

    from app import BASE_DIR
    old = pw.SqliteDatabase(str(tmp_path / "before040.db"), pragmas={"foreign_keys": 1})
    Router(old, migrate_dir=str(BASE_DIR / "migrations")).run("037_union_list_index")

    def triggers():
        return {r[0] for r in old.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    before = triggers()
    columns = ('"name", "type", "level", "parent_id", "address", "contact", "phone", "is_temporary", "depth", '
               '"created_at", "updated_at", "status", "member_review", "special_subsidy"')
    for name, parent, depth in (("上级", None, 0), ("下级", 1, 1)):
        old.execute_sql(f'INSERT INTO "organization" ({columns}) VALUES (?, \'工会委员会\', \'grassroots\', ?, '
                        f"'', '', '', 0, ?, '2026-01-01', '2026-01-01', '正常', 0, 0)", (name, parent, depth))
    tree = [(1, 1, 0), (2, 2, 0), (1, 2, 1)]
    old.execute_sql('INSERT INTO "org_tree" VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)', [v for r in tree for v in r])
    upgrade_database(old)
    assert sorted(old.execute_sql('SELECT * FROM "org_tree"').fetchall()) == sorted(tree)
    assert old.get_foreign_keys("org_tree") == []
    assert triggers() == before | {"org_tree_forget"}
    assert "orgtree_descendant_id_depth" in {i.name for i in old.get_indexes("org_tree")}
    old.execute_sql('INSERT INTO "org_member_count" ("org_id", "members") VALUES (2, 5)')  # 033's triggers work
    assert old.execute_sql('SELECT "members" FROM "org_subtree_count" WHERE "org_id" = 1').fetchone() == (5,)
    old.execute_sql('DELETE FROM "org_member_count"')
    old.execute_sql('DELETE FROM "organization" WHERE "id" = 2')
    assert old.execute_sql('SELECT * FROM "org_tree"').fetchall() == [(1, 1, 0)]
    router = Router(old, migrate_dir=str(BASE_DIR / "migrations"))
    while router.done[-1] != "037_union_list_index":  # 040's rollback: the keys back, its trigger gone
        router.rollback()
    assert triggers() == before
    assert {fk.column for fk in old.get_foreign_keys("org_tree")} == {"ancestor_id", "descendant_id"}
    old.close()


def test_042_keeps_the_first_copy_of_a_claim_recorded_twice_and_makes_the_rule_an_index(tmp_path):
    """Before 042 two uploads at once could record a claim twice: the upgrade keeps the first copy
    of each (same person, 给付日期, 给付类型, amount), then the unique index refuses another; the rollback
    gives back the plain index on person_id."""
    import peewee as pw
    from peewee_migrate import Router

    from app import BASE_DIR
    old = pw.SqliteDatabase(str(tmp_path / "before042.db"))  # foreign keys off: claims of no real person
    Router(old, migrate_dir=str(BASE_DIR / "migrations")).run("041_enrollment_org_index")
    columns = '"person_id", "id_number", "name", "year_id", "claim_date", "claim_type", "amount", "note", "created_at"'
    claims = [(7, "2025-08-03", "住院津贴", 1036050), (7, "2025-08-03", "住院津贴", 1036050),  # the same, twice
              (7, "2025-08-03", "住院津贴", 1036051), (8, "2025-08-03", "住院津贴", 1036050)]
    for person, day, kind, amount in claims:
        old.execute_sql(f'INSERT INTO "claim" ({columns}) VALUES (?, \'x\', \'张三\', 1, ?, ?, ?, \'\', '
                        "'2026-01-01')", (person, day, kind, amount))
    Router(old, migrate_dir=str(BASE_DIR / "migrations")).run("042_claim_once")
    assert [r[0] for r in old.execute_sql('SELECT "id" FROM "claim" ORDER BY "id"')] == [1, 3, 4]
    indexes = {i.name: i for i in old.get_indexes("claim")}
    assert indexes["claim_person_id_claim_date_claim_type_amount"].unique and "claim_person_id" not in indexes
    with pytest.raises(pw.IntegrityError):
        old.execute_sql(f'INSERT INTO "claim" ({columns}) VALUES (8, \'x\', \'李四\', 1, \'2025-08-03\', '
                        "'住院津贴', 1036050, '', '2026-01-01')")
    router = Router(old, migrate_dir=str(BASE_DIR / "migrations"))
    router.rollback()
    assert router.done[-1] == "041_enrollment_org_index"
    assert set(i.name for i in old.get_indexes("claim")) >= {"claim_person_id"}
    assert "claim_person_id_claim_date_claim_type_amount" not in {i.name for i in old.get_indexes("claim")}
    old.close()
