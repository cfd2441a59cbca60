"""Piccolo app for checklist templates, inspections, answers and supervision point states."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="checklists",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.checklists.tables"], exclude_imported=True),
    migration_dependencies=["inspection.projects.piccolo_app"],
    commands=[],
)
