"""A local stand-in for Amazon SQS, for the tests of the `sqs://` broker.

SQS lies outside the platform, so it is the one broker the tests replace: moto's threaded
server answers SQS's API on a loopback port. Everything of the platform's runs unchanged
against it (kombu's SQS transport, the functions' publisher, the monolith's worker), pointed
there by boto's own `AWS_ENDPOINT_URL_SQS` variable, as one would point it at a VPC endpoint.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from moto.server import ThreadedMotoServer

from .servers import free_port

# Any region will do; the credentials only need to be present for boto to sign requests.
REGION = "eu-west-1"


@dataclass(frozen=True)
class SqsEndpoint:
    """A running endpoint: the broker URL to use and the environment that points boto at it."""

    url: str
    environment: dict[str, str] = field(default_factory=dict)


@contextmanager
def sqs_endpoint_running() -> Iterator[SqsEndpoint]:
    """Start an empty SQS endpoint on a free loopback port; stop it on exit."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint_url = f"http://127.0.0.1:{port}"
    # moto keeps its queues per process, not per server: empty them, so each endpoint starts
    # with none (and PurgeQueue's once-a-minute limit restarts).
    reset = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset, timeout=10).close()  # noqa: S310 - the loopback URL above
    try:
        yield SqsEndpoint(
            url="sqs://",
            environment={
                "AWS_ENDPOINT_URL_SQS": endpoint_url,
                "AWS_ACCESS_KEY_ID": "tessera-tests",
                "AWS_SECRET_ACCESS_KEY": "tessera-tests",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
            },
        )
    finally:
        server.stop()


@contextmanager
def environment_pointing_at(endpoint: SqsEndpoint) -> Iterator[None]:
    """This process's boto clients talk to ``endpoint`` inside the block."""
    saved = {name: os.environ.get(name) for name in endpoint.environment}
    os.environ.update(endpoint.environment)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
