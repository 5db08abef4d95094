"""omads-gateway: an OMA Data Synchronization (SyncML DS) gateway on Twisted."""

__version__ = "0.1.0"
