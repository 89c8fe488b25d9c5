"""Shared test support for Tessera's suites; see testsupport/README.md."""

from .services import IN_CI, service_missing

__all__ = ["IN_CI", "service_missing"]
