"""The interop fixtures (real SyncEvolution server, our gateway daemon) for client tests."""

from tests.interop.conftest import gateway, syncevo_server  # noqa: F401  (fixtures)
