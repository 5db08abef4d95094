"""Features that plug into the configuration, the service tree and ``omads-admin``.

Each feature (OBEX links, notifications...) lives in its own module and offers, where it
needs them:

* ``SECTION`` (the TOML table name), ``Settings`` (a frozen dataclass whose defaults are
  the feature's defaults) and ``parse(checker, doc) -> Settings`` (report problems with
  ``checker.problems.append``; ``checker.table``/``checker.get`` as in gateway/config.py);
* ``make_services(settings, *, reactor, store, engine, run) -> list[IService]`` (named
  services added after the HTTP listeners; ``settings`` is the whole Settings, the
  feature's own part at ``settings.features[SECTION]``; ``run(f, *a)`` runs a blocking
  call in the engine's thread pool and returns a Deferred);
* ``add_admin_commands(device_subparsers)`` and ``run_admin(args, store, out) -> bool``
  (True when it handled the parsed command) for ``omads-admin device ...``.

The table below is the only place that lists them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

class FeatureError(Exception):
    """A feature's admin command failed: ``omads-admin`` prints it and exits 1."""


class FeatureUsageError(Exception):
    """Bad arguments or configuration for a feature's admin command: exit 2."""


FEATURES: tuple[str, ...] = (
    "gateway.config.obex",
    "gateway.service.notify",
)


def modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in FEATURES]


def config_sections() -> dict[str, ModuleType]:
    return {m.SECTION: m for m in modules() if hasattr(m, "SECTION")}
