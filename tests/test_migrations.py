"""The schema built by the migrations matches the models, and upgrading is idempotent."""

from app import upgrade_database
from models import ALL_MODELS, db


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
            else:  # a partial ModelIndex: look it up by name
                names = {i.name for i in db.get_indexes(table) if i.unique}
                assert index._name in names, (table, index._name)


def test_upgrade_again_is_a_no_op():
    assert upgrade_database() == []
