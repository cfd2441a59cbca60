"""Piccolo app for alerts, their deliveries, webhook subscriptions, inspection schedules and job runs."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="alerts",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.alerts.tables"], exclude_imported=True),
    migration_dependencies=["inspection.projects.piccolo_app", "inspection.rectification.piccolo_app"],
    commands=[],
)
