"""Fixtures for the contract tests; the helpers themselves live in contract_testing."""

from collections.abc import Iterator

import pytest
from contract_testing import ScriptedServer


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A real HTTP server on 127.0.0.1 that answers from a script, stopped after the test."""
    server = ScriptedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
