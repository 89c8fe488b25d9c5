"""The outbox on the machine's real RabbitMQ: a job committed while the broker is down is
answered 201 queued and runs once the broker is back; a job message published twice runs once.

The broker is switched off for the service only, through a TCP proxy in front of it.
"""

import json
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tessera_contract.messaging import JOB_RUN_TASK
from tessera_testsupport.proxies import SwitchableBrokerProxy

from scripts import components

from .stack_testing import REPORTS_QUEUE, RESULTS_QUEUE, SERVICE_DIR, Stack
from .test_workers import orders_export, report_request

FINISHED = {"succeeded", "failed", "dead_lettered", "cancelled"}


@pytest.fixture
def broker_proxy(processing_rabbitmq_url: str) -> Iterator[SwitchableBrokerProxy]:
    proxy = SwitchableBrokerProxy.in_front_of(processing_rabbitmq_url)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def stack_broker_url(broker_proxy: SwitchableBrokerProxy, processing_rabbitmq_url: str) -> str:
    return broker_proxy.url_through(processing_rabbitmq_url)


@pytest.fixture
def stack_env() -> dict[str, str]:
    # A relay that looks often, so the test waits seconds, not minutes.
    return {
        "PROCESSING_OUTBOX_RELAY_INTERVAL_SECONDS": "0.5",
        "PROCESSING_OUTBOX_GRACE_SECONDS": "1",
        "PROCESSING_OUTBOX_MAX_BACKOFF_SECONDS": "1",
    }


def outbox_size(stack: Stack) -> int:
    database = stack.env["PROCESSING_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM jobs_outboxmessage").fetchone()
    return int(count)


def test_a_job_created_while_the_broker_is_down_is_queued_and_runs_once_it_is_back(
    stack: Stack, broker_proxy: SwitchableBrokerProxy
) -> None:
    stack.worker_start(f"{REPORTS_QUEUE},{RESULTS_QUEUE}")
    before = stack.job_create(report_request(orders_export(stack, "a.csv", 100)), key="before")
    stack.job_wait(before["job_id"], lambda seen: seen["status"] == "succeeded")  # worker is up
    assert stack.receiver.wait_for(1)  # and its result is out of the outbox

    broker_proxy.stop()
    job = stack.job_create(report_request(orders_export(stack, "b.csv", 100)), key="while-down")

    assert job["status"] == "queued"  # answered 201 as the contract says, nothing lost:
    assert outbox_size(stack) == 1  # its message waits in the outbox
    assert stack.job_get(job["job_id"])["status"] == "queued"

    broker_proxy.start()
    done = stack.job_wait(job["job_id"], lambda seen: seen["status"] in FINISHED)

    assert (done["status"], done["attempts"]) == ("succeeded", 1)
    assert stack.receiver.wait_for(2)
    deadline = time.monotonic() + 10
    while outbox_size(stack) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert outbox_size(stack) == 0
    time.sleep(1)  # a duplicate completion would be delivered by now
    delivered = Counter((d["job_id"], d["status"]) for d in stack.receiver.deliveries)
    assert set(delivered) == {(before["job_id"], "succeeded"), (job["job_id"], "succeeded")}
    # The job that waited in the outbox is delivered once. The first one's result may come
    # twice: when the broker goes away between its callback and the acknowledgement of its
    # message, RabbitMQ delivers that message again. Results are at least once by contract, and
    # the monolith records each once (webhook-id is derived from the job id).
    assert delivered[(job["job_id"], "succeeded")] == 1


def test_a_job_message_published_twice_runs_the_job_once(stack: Stack) -> None:
    # No reports worker yet: the API's message waits in the queue.
    job = stack.job_create(report_request(orders_export(stack, "c.csv", 150_000)), key="twice")
    copy = {
        "job_id": job["job_id"],
        "kind": "sales_report",
        "attempt": 1,
        "enqueued_at": datetime.now(UTC).isoformat(),
    }
    # A second publication of the same message, as the outbox makes when a publish reached
    # the broker but its confirmation was lost: sent with the service's own Celery app.
    subprocess.run(
        components.celery(
            "processing",
            "call",
            JOB_RUN_TASK,
            "--args",
            json.dumps([copy]),
            "--queue",
            REPORTS_QUEUE,
        ),
        env=stack.env,
        cwd=SERVICE_DIR,
        check=True,
        capture_output=True,
    )
    # Two processes: both copies are delivered at once, one to each.
    stack.worker_start(REPORTS_QUEUE, concurrency=2)
    stack.worker_start(RESULTS_QUEUE)

    done = stack.job_wait(job["job_id"], lambda seen: seen["status"] in FINISHED)

    assert (done["status"], done["attempts"]) == ("succeeded", 1)
    assert stack.receiver.wait_for(1)
    time.sleep(1)  # a second run's completion would be delivered by now
    assert [(d["job_id"], d["status"]) for d in stack.receiver.deliveries] == [
        (job["job_id"], "succeeded")
    ]
    results = Path(stack.media_root, "results", job["job_id"])
    assert [path.name for path in results.iterdir()] == ["sales-20261001-20261031.csv"]
