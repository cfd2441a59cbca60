"""Piccolo app for rectification and stop-work orders, their responses, history, stops and notifications."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="rectification",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.rectification.tables"], exclude_imported=True),
    migration_dependencies=["inspection.projects.piccolo_app"],
    commands=[],
)
