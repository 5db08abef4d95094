"""Notification policy, I/O-free: what a notification carries, when it is retried, what triggers one."""
