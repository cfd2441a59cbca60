"""Piccolo app for the append-only, hash-chained audit log; it plugs the log into the change feed."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

from inspection.audit.service import chain_entries
from inspection.changefeed.pending import add_sink

# Every write transaction's commit chains its entries (the app registry loads this module before
# any query runs: the engine is found through piccolo_conf, which lists the apps).
add_sink(chain_entries)

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(modules=["inspection.audit.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
