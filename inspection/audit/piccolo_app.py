"""Piccolo app for the append-only, hash-chained audit log."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.audit.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
