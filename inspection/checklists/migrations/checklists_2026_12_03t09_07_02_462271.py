"""Itemised JGJ 59 deductions as entered (each with its reason) and the inspector's serious-defect
flag on a quality item (GB 50300 §5.0.1)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T09:07:02:462271"
VERSION = "1.38.0"
DESCRIPTION = "inspection_answer: itemised deductions and the inspector's serious-defect flag"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="checklists", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="InspectionAnswer",
        tablename="inspection_answer",
        column_name="deductions",
        db_column_name="deductions",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "[]",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="InspectionAnswer",
        tablename="inspection_answer",
        column_name="serious_defect",
        db_column_name="serious_defect",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
