"""Piccolo app for organisations, people, projects, sites, buildings, work items and memberships."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="projects",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.projects.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
