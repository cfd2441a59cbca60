"""Piccolo app for residents' complaints sent from a site's public notice page."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="complaints",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.complaints.tables"], exclude_imported=True),
    # its data migration moves complaint rows (and their photos) in the change index
    migration_dependencies=[
        "inspection.projects.piccolo_app",
        "inspection.evidence.piccolo_app",
        "inspection.sync.piccolo_app",
    ],
    commands=[],
)
