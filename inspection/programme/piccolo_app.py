"""Piccolo app for areas, programmes, batches, placements, area offices, evaluations, credit grades
and satisfaction surveys."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="programme",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.programme.tables"], exclude_imported=True),
    # changefeed: the placing migration writes through the change feed, whose scopes must exist
    migration_dependencies=["inspection.projects.piccolo_app", "inspection.changefeed.piccolo_app"],
    commands=[],
)
