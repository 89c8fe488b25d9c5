"""Fixtures of the functions' suite: the application on each broker, and a broker to switch off."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from tessera_functions.app import WebhookApplication, webhook_application_create
from tessera_testsupport import rabbitmq_vhost_url
from tessera_testsupport.proxies import SwitchableBrokerProxy
from webhook_testing import (
    CARRIER_NEXT_SECRET,
    CARRIER_SECRET,
    PAYMENT_NEXT_SECRET,
    PAYMENT_SECRET,
    queued_envelopes,
    settings_for,
)


@pytest.fixture
def memory_app() -> Iterator[WebhookApplication]:
    """The application on kombu's in-process broker: for checks that never reach a server."""
    application = webhook_application_create(settings_for("memory://"))
    queued_envelopes("memory://")
    yield application
    application.publisher.close()
    queued_envelopes("memory://")


# The monolith's worker may be consuming tessera.webhooks on the shared "/" vhost (make run,
# its own suite); in a vhost of their own, these tests are the queue's only reader.
RABBITMQ_TEST_VHOST = "tessera-functions-tests"


@pytest.fixture(scope="session")
def rabbitmq_isolated_url(rabbitmq_url: str) -> str:
    """The real RabbitMQ, in a vhost no other Tessera process uses."""
    return rabbitmq_vhost_url(rabbitmq_url, RABBITMQ_TEST_VHOST)


BROKER_FIXTURES = {"redis": "redis_url", "rabbitmq": "rabbitmq_isolated_url", "sqs": "sqs_url"}


@pytest.fixture(params=list(BROKER_FIXTURES))
def real_broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The machine's real Redis and RabbitMQ, in turn, with ``tessera.webhooks`` drained; then
    ``sqs://`` on a local stand-in for Amazon SQS (the broker on Lambda), reached through
    boto's ``AWS_ENDPOINT_URL_SQS``."""
    url: str = request.getfixturevalue(BROKER_FIXTURES[request.param])
    queued_envelopes(url)
    yield url
    queued_envelopes(url)


@pytest.fixture
def broker_proxy(real_broker_url: str) -> Iterator[tuple[SwitchableBrokerProxy, str]]:
    """A relay to the real broker and the broker URL that goes through it.

    SQS is an HTTP endpoint named by the environment, not by the URL: the relay stands in
    front of that endpoint, and every SQS client made from then on (the application's and
    the test's own) goes through it.
    """
    if not real_broker_url.startswith("sqs"):
        proxy = SwitchableBrokerProxy.in_front_of(real_broker_url)
        proxy.start()
        yield proxy, proxy.url_through(real_broker_url)
        proxy.stop()
        return
    endpoint = os.environ["AWS_ENDPOINT_URL_SQS"]
    proxy = SwitchableBrokerProxy.in_front_of(endpoint)
    proxy.start()
    os.environ["AWS_ENDPOINT_URL_SQS"] = proxy.url_through(endpoint)
    try:
        yield proxy, real_broker_url
    finally:
        # Restored here, before real_broker_url drains the queue on its way out.
        os.environ["AWS_ENDPOINT_URL_SQS"] = endpoint
        proxy.stop()


@pytest.fixture
def entry_point_environment(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Iterator[str]:
    """The environment the deployed entry point reads, on the real Redis; yields its URL."""
    monkeypatch.setenv("WEBHOOKS_BROKER_URL", redis_url)
    monkeypatch.setenv("PAYMENT_WEBHOOK_SECRETS", f"{PAYMENT_NEXT_SECRET},{PAYMENT_SECRET}")
    monkeypatch.setenv("CARRIER_WEBHOOK_SECRETS", f"{CARRIER_NEXT_SECRET},{CARRIER_SECRET}")
    monkeypatch.delenv("WEBHOOK_MAX_BODY_BYTES", raising=False)
    queued_envelopes(redis_url)
    yield redis_url
    queued_envelopes(redis_url)
