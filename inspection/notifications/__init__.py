"""Notifications: who hears about what, once, at once or in a daily digest, in-app, by webhook and e-mail."""
