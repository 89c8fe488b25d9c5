"""Shared test support for Tessera's suites; see testsupport/README.md."""

from .servers import IN_CI, free_port, rabbitmq_vhost_url, run_id, run_scoped, service_missing

__all__ = ["IN_CI", "free_port", "rabbitmq_vhost_url", "run_id", "run_scoped", "service_missing"]
