"""twistd plugin: ``twistd omads-gateway``. Names the service module as a string only."""

from twisted.application.service import ServiceMaker

omads_gateway = ServiceMaker(
    "omads-gateway",
    "gateway.service",
    "OMA Data Synchronization (SyncML) gateway",
    "omads-gateway",
)
