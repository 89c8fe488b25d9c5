"""Real workers on the machine's RabbitMQ: a SIGKILLed worker's job completes exactly once, and a
poison job ends dead-lettered after N attempts while the other queues keep flowing.

Everything runs as it does in production: the API under gunicorn, one worker per queue, the
job results posted to a real HTTP receiver that verifies their Standard Webhooks signatures.
"""

import time
from typing import Any

import pytest

from .stack_testing import DOCUMENTS_QUEUE, REPORTS_QUEUE, RESULTS_QUEUE, Stack, kill_process_group

TERMINAL = {"succeeded", "failed", "cancelled", "dead_lettered"}


def orders_export(stack: Stack, name: str, rows: int) -> str:
    folder = stack.media_root / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w") as export:
        export.write("order_number,placed_at,currency,total_minor\n")
        for number in range(rows):
            day = 1 + number % 28
            export.write(f"TS-{number:08d},2026-10-{day:02d}T09:30:00+00:00,EUR,{number % 9000}\n")
    return f"exports/{name}"


def report_request(location: str) -> dict[str, Any]:
    return {
        "kind": "sales_report",
        "subject": {"type": "sales_report", "reference": "october"},
        "input": {
            "date_from": "2026-10-01",
            "date_to": "2026-10-31",
            "currency": "EUR",
            "source_location": location,
            "formats": ["csv"],
        },
    }


def test_a_job_whose_worker_is_killed_completes_exactly_once_after_restart(stack: Stack) -> None:
    job = stack.job_create(
        report_request(orders_export(stack, "big.csv", 1_500_000)), key="report-oct"
    )
    stack.worker_start(RESULTS_QUEUE)
    worker = stack.worker_start(REPORTS_QUEUE)
    # Killed in the middle: it has written its first checkpoint, far from its last row.
    stack.job_wait(job["job_id"], lambda seen: seen["status"] == "running" and seen["progress"])
    kill_process_group(worker)
    assert stack.job_get(job["job_id"])["status"] == "running"  # nobody finished it

    stack.worker_start(REPORTS_QUEUE)
    done = stack.job_wait(
        job["job_id"], lambda seen: seen["status"] in {"succeeded", "failed", "dead_lettered"}
    )

    assert done["status"] == "succeeded"
    assert done["attempts"] == 2
    assert [location["name"] for location in done["result_locations"]] == [
        "sales-20261001-20261031.csv"
    ]
    assert sorted(p.name for p in (stack.media_root / "results" / job["job_id"]).iterdir()) == [
        "sales-20261001-20261031.csv"
    ]
    assert stack.receiver.wait_for(1)
    time.sleep(1)  # a second, duplicate completion would be delivered by now
    assert [(d["job_id"], d["status"]) for d in stack.receiver.deliveries] == [
        (job["job_id"], "succeeded")
    ]
    assert stack.receiver.refused == 0


INVOICE = {
    "kind": "invoice_pdf",
    "subject": {"type": "order", "reference": "TS-2026-000001"},
    "input": {
        "order_number": "TS-2026-000001",
        "issued_at": "2026-11-23T10:00:00Z",
        "currency": "EUR",
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "billing_address": {
            "line1": "1 Road",
            "city": "Paris",
            "postal_code": "75001",
            "country_code": "FR",
        },
        "lines": [
            {
                "sku": "MUG-1",
                "description": "Mug",
                "quantity": 1,
                "unit_price_minor": 1000,
                "line_total_minor": 1000,
            }
        ],
        "totals": {
            "subtotal_minor": 1000,
            "shipping_minor": 0,
            "tax_minor": 200,
            "total_minor": 1200,
        },
    },
}


@pytest.mark.parametrize(
    # The hard limit right on the soft one: Celery sends SIGKILL just after the soft limit's
    # signal, so an attempt is usually killed before it can count itself failed.
    "stack_env",
    [{"PROCESSING_SOFT_TIME_LIMITS": "sales_report=1", "PROCESSING_TIME_LIMITS": "sales_report=1"}],
)
def test_a_job_killed_at_its_hard_time_limit_is_retried_then_dead_lettered(stack: Stack) -> None:
    stack.worker_start(REPORTS_QUEUE)
    stack.worker_start(RESULTS_QUEUE)
    job = stack.job_create(report_request(orders_export(stack, "huge.csv", 2_000_000)), key="hard")

    dead = stack.job_wait(job["job_id"], lambda seen: seen["status"] in TERMINAL)

    # Killed attempts go back to the queue and count; those that caught the soft limit in
    # time retried. Either way the job ends dead-lettered, never `running` for ever.
    assert dead["status"] == "dead_lettered"
    assert dead["attempts"] == dead["max_attempts"] == 3
    assert dead["error"]["code"] in {"attempts_exhausted", "processing_crashed"}
    assert stack.receiver.wait_for(1)
    assert [(d["job_id"], d["status"]) for d in stack.receiver.deliveries] == [
        (job["job_id"], "dead_lettered")
    ]


@pytest.mark.parametrize(
    # Reports get a 3 s soft limit here, so a big export is a job that can never finish. Three
    # attempts of 3 s leave the invoice a wide margin, even when its worker's first import of
    # fpdf takes a second or two on a loaded machine (1 s limits made this race flaky in CI).
    "stack_env",
    [{"PROCESSING_SOFT_TIME_LIMITS": "sales_report=3", "PROCESSING_TIME_LIMITS": "sales_report=5"}],
)
def test_a_poison_job_is_dead_lettered_after_n_attempts_while_other_queues_flow(
    stack: Stack,
) -> None:
    stack.worker_start(REPORTS_QUEUE)
    stack.worker_start(f"{DOCUMENTS_QUEUE},{RESULTS_QUEUE}")
    poison = stack.job_create(
        report_request(orders_export(stack, "huge.csv", 2_000_000)), key="poison"
    )
    stack.job_wait(poison["job_id"], lambda seen: seen["attempts"] >= 1)
    invoice = stack.job_create(INVOICE, key="invoice-1")

    invoiced = stack.job_wait(
        invoice["job_id"], lambda seen: seen["status"] == "succeeded", timeout=20
    )
    dead = stack.job_wait(poison["job_id"], lambda seen: seen["status"] == "dead_lettered")

    assert invoiced["finished_at"] < dead["finished_at"]  # the documents queue did not wait
    assert dead["attempts"] == dead["max_attempts"] == 3
    # processing_crashed from the soft limit; attempts_exhausted only if on a loaded machine
    # the hard limit killed every attempt before its soft limit could be handled.
    assert dead["error"]["code"] in {"processing_crashed", "attempts_exhausted"}
    expected = {(invoice["job_id"], "succeeded"), (poison["job_id"], "dead_lettered")}
    assert stack.receiver.wait_for(len(expected))
    assert {(d["job_id"], d["status"]) for d in stack.receiver.deliveries} == expected
