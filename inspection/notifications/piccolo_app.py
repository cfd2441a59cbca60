"""Piccolo app for notification preferences and digests (the outbox's own tables are older apps')."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.notifications.tables"], exclude_imported=True),
    migration_dependencies=["inspection.projects.piccolo_app"],
    commands=[],
)
