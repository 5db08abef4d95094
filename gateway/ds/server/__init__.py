"""The Data Sync server (DS-1): one client message and the session state in, the reply out."""
