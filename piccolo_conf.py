"""Piccolo's engine and app registry, built from siteinspect's settings (config.toml + SITEINSPECT_*)."""

from piccolo.conf.apps import AppRegistry

from inspection.db import build_engine
from inspection.settings import get_settings

DB = build_engine(get_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "inspection.sync.piccolo_app",
        "inspection.changefeed.piccolo_app",
        "inspection.audit.piccolo_app",
        "inspection.projects.piccolo_app",
        "inspection.evidence.piccolo_app",
        "inspection.rectification.piccolo_app",
        "inspection.checklists.piccolo_app",
        "inspection.samples.piccolo_app",
        "inspection.warranty.piccolo_app",
        "inspection.alerts.piccolo_app",
        "inspection.reports.piccolo_app",
        "inspection.complaints.piccolo_app",
        "inspection.programme.piccolo_app",
        "inspection.notifications.piccolo_app",
    ]
)
