"""Rectification and stop-work orders (整改通知单 / 停工通知): responses, reviews, deadlines, escalation."""
