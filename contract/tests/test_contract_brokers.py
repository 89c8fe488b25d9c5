"""The embedded broker's folders: one place for every component, created before kombu needs them."""

from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from tessera_contract.brokers import filesystem_transport_options


def test_a_message_published_with_the_options_is_read_with_them(tmp_path: Path) -> None:
    options = filesystem_transport_options(tmp_path / "broker")
    queue = Queue("tessera.test", Exchange("tessera.test"), routing_key="tessera.test")
    with Connection("filesystem://", transport_options=options) as connection:
        publish(connection, queue, {"hello": "world"})
        message = queue(connection.default_channel).get(no_ack=True)
    assert message is not None
    assert message.payload == {"hello": "world"}


def test_nothing_is_written_outside_the_broker_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    options = filesystem_transport_options(tmp_path / "broker")
    queue = Queue("tessera.test", Exchange("tessera.test"), routing_key="tessera.test")
    with Connection("filesystem://", transport_options=options) as connection:
        publish(connection, queue, {"n": 1})
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broker"]


def publish(connection: Connection, queue: Queue, body: dict[str, int | str]) -> None:
    connection.Producer().publish(
        body, declare=[queue], exchange=queue.exchange, routing_key=queue.routing_key
    )
