"""Piccolo app for joint acceptance, its participants, warranty items and warranty claims."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="warranty",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.warranty.tables"], exclude_imported=True),
    migration_dependencies=["inspection.projects.piccolo_app", "inspection.rectification.piccolo_app"],
    commands=[],
)
