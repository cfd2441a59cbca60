"""Piccolo app for residents' complaints sent from a site's public notice page."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="complaints",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.complaints.tables"], exclude_imported=True),
    migration_dependencies=["inspection.projects.piccolo_app"],
    commands=[],
)
