"""Piccolo app for tablet sync: devices, stored mutation outcomes, conflict records."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="sync",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.sync.tables", "inspection.sync.conflicts"], exclude_imported=True),
    migration_dependencies=["inspection.projects.piccolo_app"],
    commands=[],
)
