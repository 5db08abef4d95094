"""The Data Sync client engine (DS-2), I/O-free: our messages out, the server's in."""
