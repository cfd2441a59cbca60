"""Piccolo app for alerts, their deliveries, webhook subscriptions, inspection schedules and job runs."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

from inspection.notifications.outbox_tables import AlertDelivery, WebhookSubscription

APP_CONFIG = AppConfig(
    app_name="alerts",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    # `alert_delivery` and `webhook_subscription` were made by this app's migrations; their code is
    # the notifications domain's
    table_classes=[
        *table_finder(modules=["inspection.alerts.tables"], exclude_imported=True),
        AlertDelivery,
        WebhookSubscription,
    ],
    migration_dependencies=["inspection.projects.piccolo_app", "inspection.rectification.piccolo_app"],
    commands=[],
)
