"""twistd glue: options and ``makeService``, which only composes the service tree."""

from __future__ import annotations

from twisted.application import service
from twisted.logger import Logger
from twisted.python import usage

from gateway.config import ConfigError, load_settings

log = Logger(namespace="omads")


class Options(usage.Options):
    optParameters = [
        ["config", "c", "conf/omads-gateway.toml", "Path of the TOML configuration file."],
    ]


class _ConfigLogger(service.Service):
    name = "config"

    def __init__(self, settings):
        self.settings = settings

    def startService(self):
        super().startService()
        log.info("omads-gateway started with configuration {source} (log level {log_level})",
                 source=self.settings.source, log_level=self.settings.log_level)


def makeService(options) -> service.MultiService:
    try:
        settings = load_settings(options["config"])
    except ConfigError as e:
        # twistd shows this before it daemonizes.
        raise usage.UsageError(str(e)) from None
    top = service.MultiService()
    _ConfigLogger(settings).setServiceParent(top)
    return top
