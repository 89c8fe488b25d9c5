"""Fixtures of the functions' suite: the application on each broker, and a broker to switch off."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from tessera_functions.app import WebhookApplication, webhook_application_create
from tessera_testsupport import service_missing
from webhook_testing import (
    CARRIER_NEXT_SECRET,
    CARRIER_SECRET,
    PAYMENT_NEXT_SECRET,
    PAYMENT_SECRET,
    SwitchableBrokerProxy,
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
    """The real RabbitMQ, in a vhost no other Tessera process uses (created when missing)."""
    parts = urlsplit(rabbitmq_url)
    if parts.path not in {"", "/", "//"}:
        return rabbitmq_url  # TEST_RABBITMQ_URL already names a vhost of its own
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        service_missing("rabbitmqctl is needed to create the functions' test vhost")
    for command in (
        ["add_vhost", RABBITMQ_TEST_VHOST],
        ["set_permissions", "-p", RABBITMQ_TEST_VHOST, parts.username or "guest", ".*", ".*", ".*"],
    ):
        # add_vhost fails harmlessly when the vhost exists; set_permissions is idempotent.
        subprocess.run([rabbitmqctl, *command], capture_output=True, timeout=60, check=False)
    return urlunsplit(parts._replace(path=f"/{RABBITMQ_TEST_VHOST}"))


@pytest.fixture(params=["redis", "rabbitmq"])
def real_broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The machine's real Redis and RabbitMQ, in turn, with ``tessera.webhooks`` drained."""
    fixture = "redis_url" if request.param == "redis" else "rabbitmq_isolated_url"
    url: str = request.getfixturevalue(fixture)
    queued_envelopes(url)
    yield url
    queued_envelopes(url)


@pytest.fixture
def broker_proxy(real_broker_url: str) -> Iterator[tuple[SwitchableBrokerProxy, str]]:
    """A relay to the real broker and the broker URL that goes through it."""
    parts = urlsplit(real_broker_url)
    proxy = SwitchableBrokerProxy(parts.hostname or "127.0.0.1", parts.port or 0)
    proxy.start()
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
    yield proxy, urlunsplit(parts._replace(netloc=netloc))
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
