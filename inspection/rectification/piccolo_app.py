"""Piccolo app for rectification and stop-work orders, their responses, history, stops and notifications."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

from inspection.notifications.outbox_tables import Notification

APP_CONFIG = AppConfig(
    app_name="rectification",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    # `notification` was made by this app's migrations; its code is the notifications domain's
    table_classes=[*table_finder(modules=["inspection.rectification.tables"], exclude_imported=True), Notification],
    migration_dependencies=["inspection.projects.piccolo_app"],
    commands=[],
)
