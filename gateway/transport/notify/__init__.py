"""Server Alerted Notifications in Twisted: the queue worker, its admin endpoint, the carriers."""
