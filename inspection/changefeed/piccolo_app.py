"""Piccolo app for the change feed: ordering scopes and the per-bucket change index."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="changefeed",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.changefeed.tables"], exclude_imported=True),
    migration_dependencies=[
        "inspection.sync.piccolo_app",
        "inspection.audit.piccolo_app",
        "inspection.projects.piccolo_app",
    ],
    commands=[],
)
