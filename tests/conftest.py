"""Suite-wide settings."""

from hypothesis import HealthCheck, settings

# No test reads outside the repository; a test that starts a third-party peer is marked interop.
pytest_plugins = ["tests.support.boundaries"]

# No per-example deadlines: on a loaded 2-core CI machine they only make tests flaky.
# Speed is measured by bench/, never by tests.
settings.register_profile("omads", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("omads")
