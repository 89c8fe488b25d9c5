"""The broker options every component uses, and the embedded broker's folders, created before
kombu needs them."""

import threading
import time
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from tessera_contract.brokers import (
    REDIS_VISIBILITY_TIMEOUT_SECONDS,
    broker_transport_options,
    filesystem_transport_options,
)


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


def test_every_celery_worker_gets_the_same_options_for_each_broker(tmp_path: Path) -> None:
    folder = tmp_path / "broker"

    assert broker_transport_options(
        "amqp://guest:guest@127.0.0.1:5672//", filesystem_folder=folder
    ) == {"confirm_publish": True}
    assert broker_transport_options("redis://127.0.0.1:6379/0", filesystem_folder=folder) == {
        "visibility_timeout": REDIS_VISIBILITY_TIMEOUT_SECONDS
    }
    assert broker_transport_options("filesystem://", filesystem_folder=folder) == (
        filesystem_transport_options(folder)
    )
    assert broker_transport_options("sqs://", filesystem_folder=folder) == {}


def test_a_reader_polling_while_a_writer_publishes_never_gets_a_half_written_message(
    tmp_path: Path,
) -> None:
    # kombu's own filesystem transport lost about 1 message in 200 here: read while empty.
    options = filesystem_transport_options(tmp_path / "broker")
    queue = Queue("tessera.test", Exchange("tessera.test"), routing_key="tessera.test")
    count, padding = 2000, "x" * 20_000
    received: list[int] = []
    failures: list[BaseException] = []

    def read() -> None:
        with Connection("filesystem://", transport_options=options) as connection:
            bound = queue(connection.default_channel)
            bound.declare()
            deadline = time.monotonic() + 60
            while len(received) + len(failures) < count and time.monotonic() < deadline:
                try:
                    message = bound.get(no_ack=True)
                except Exception as error:  # what a half-written file raises
                    failures.append(error)
                    continue
                if message is not None:
                    received.append(message.payload["n"])

    reader = threading.Thread(target=read)
    reader.start()
    with Connection("filesystem://", transport_options=options) as connection:
        for number in range(count):
            publish(connection, queue, {"n": number, "padding": padding})
    reader.join()

    assert failures == []
    # Each message once; the order is kombu's: by the millisecond of publishing, not finer.
    assert sorted(received) == list(range(count))
