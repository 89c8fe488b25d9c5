"""The compose stack as a fixture: docker-compose.yml built and started by a real engine.

`container_stack` does what `make distributed` does (scripts/container_stack.py): the engine
installed and started when missing, the Debian stand-in images, then `docker compose up
--build --wait` of docker-compose.yml with infra/compose/debian-images.yml, in a project of the
tests' own with fresh secrets; the demo catalog and a staff login are loaded, and at the end the
stack is torn down and nothing of the project may be left: no container, network or volume.
Without an engine the tests skip, and fail under CI=true.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from tessera_testsupport import service_missing

from scripts.container_stack import (
    PUBLISHED_PORTS,
    REPO_ROOT,
    RunningStack,
    Stack,
    StackError,
    engine_ensure,
    env_file_ensure,
    ports_taken,
    run,
    stand_ins_build,
)

PROJECT = "tessera-test"
ENV_FILE = REPO_ROOT / "var" / "containers-test" / "compose.env"


@pytest.fixture(scope="session")
def container_stack() -> Iterator[RunningStack]:
    try:
        engine_ensure()
        stand_ins_build()
    except StackError as error:
        service_missing(str(error))
    stack = Stack(project=PROJECT, env_file=ENV_FILE)
    values = env_file_ensure(ENV_FILE, fresh=True)
    # A run that was interrupted leaves its project behind: remove it before starting anew.
    run(stack.compose("down", "--volumes", "--remove-orphans"), capture_output=True)
    if taken := ports_taken(PUBLISHED_PORTS):
        pytest.fail(f"ports the stack publishes are in use: {taken} (make run? make distributed?)")
    started = time.monotonic()
    try:
        up_seconds = stack.up()
        print(f"\ncontainer stack: every service healthy {up_seconds:.0f} s after `up`")
        stack.demo_data_load(values["TESSERA_STAFF_PASSWORD"])
        yield RunningStack(stack, values["TESSERA_STAFF_PASSWORD"])
    except StackError as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        stack.down()
        print(f"\ncontainer stack: {time.monotonic() - started:.0f} s from `up` to torn down")
    leftovers = stack.leftovers()
    assert leftovers == [], f"left behind after `docker compose down`: {leftovers}"
