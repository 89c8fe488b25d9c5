"""Work left waiting past its budget is shown to staff in the admin and to alerts on /metrics.

An event or a job that the retries and sweeps have not settled within its budget
(INBOX_EVENT_BUDGET_SECONDS, PROCESSING_JOB_BUDGET_SECONDS) is the one thing nothing else
will report: the changelists' "Past its budget" filter lists it and ``tessera_overdue``
counts it by kind and status.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monolith.inbox.intake import inbox_envelopes_take
from monolith.inbox.models import InboxEvent
from monolith.jobs.models import ProcessingJob
from monolith.orders.services import order_mark_paid

from .factories import make_order
from .webhook_envelopes import inbox_event_of, payment_event, refund_event

pytestmark = pytest.mark.django_db


def _recorded_ago(rows, seconds: float) -> None:
    rows.update(created_at=timezone.now() - timedelta(seconds=seconds))


@pytest.fixture
def overdue_and_fresh(product, settings):
    """A refund parked for an hour, one parked a minute ago, a payment applied an hour ago,
    and an invoice job pending for an hour next to a fresh one."""
    settings.INBOX_EVENT_BUDGET_SECONDS = 600
    settings.PROCESSING_JOB_BUDGET_SECONDS = 900
    stuck, fresh, paid = (make_order((product, 1)) for _ in range(3))
    stuck_refund, fresh_refund = refund_event(stuck.payment), refund_event(fresh.payment)
    applied_payment = payment_event(paid.payment)
    inbox_envelopes_take([stuck_refund, fresh_refund, applied_payment])
    for envelope in (stuck_refund, applied_payment):
        _recorded_ago(InboxEvent.objects.filter(pk=inbox_event_of(envelope).pk), 3600)
    order_mark_paid(payment=fresh.payment, provider_payment_id="pi_fresh", cause="test")
    stuck_job = ProcessingJob.objects.get(subject_reference=paid.number)
    _recorded_ago(ProcessingJob.objects.filter(pk=stuck_job.pk), 3600)
    return inbox_event_of(stuck_refund), stuck_job


def _overdue_samples(client) -> dict[tuple[str, str], float]:
    text = client.get("/metrics").content.decode()
    return {
        (sample.labels["kind"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "tessera_overdue"
        for sample in family.samples
    }


def test_metrics_count_the_events_and_jobs_waiting_past_their_budget(
    client, overdue_and_fresh
) -> None:
    assert _overdue_samples(client) == {
        ("inbox_event", "received"): 0,
        ("inbox_event", "failed"): 0,
        ("inbox_event", "parked"): 1,
        ("processing_job", "pending"): 1,
        ("processing_job", "submitted"): 0,
    }
    assert "tessera_overdue_up 1.0" in client.get("/metrics").content.decode()


def test_staff_filter_the_inbox_and_the_jobs_to_what_waits_past_its_budget(
    client, staff_user, overdue_and_fresh
) -> None:
    stuck_refund, stuck_job = overdue_and_fresh
    client.force_login(staff_user)
    for row, others in ((stuck_refund, InboxEvent.objects), (stuck_job, ProcessingJob.objects)):
        changelist = reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_changelist")
        page = client.get(changelist, {"overdue": "yes"})
        assert page.status_code == 200
        assert "Past its budget" in page.content.decode()
        assert list(page.context["cl"].result_list) == [row]
        assert others.count() > 1  # the filter did the choosing
