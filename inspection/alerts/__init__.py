"""Scheduled jobs that raise alerts, inspection schedules, and delivery (in-app, webhook, e-mail)."""
