"""The names every component uses on the broker: queues, the processing exchange, task names.

The queues are the channel addresses of ``asyncapi.yaml`` (a contract test holds them equal), so
that the publishers, the consumers, the run scripts, compose and the benchmarks meet on the same
queues. Plain strings, no dependency: the webhook functions import this on their hot path.
"""

from types import MappingProxyType
from typing import Final

__all__ = [
    "JOB_RESULT_DELIVER_TASK",
    "JOB_RUN_TASK",
    "MONOLITH_TASK_QUEUE",
    "PROCESSING_EXCHANGE",
    "PROCESSING_JOB_QUEUES",
    "PROCESSING_QUEUES",
    "PROCESSING_RESULTS_QUEUE",
    "WEBHOOK_QUEUE",
]

# Verified webhook envelopes: the functions publish, the monolith's workers apply.
WEBHOOK_QUEUE: Final = "tessera.webhooks"

# One queue per job kind (models.base.JobKind), so that a flood of one kind cannot starve the
# others.
PROCESSING_JOB_QUEUES: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "image_renditions": "tessera.processing.renditions",
        "invoice_pdf": "tessera.processing.documents",
        "sales_report": "tessera.processing.reports",
    }
)
# Finished jobs' results wait here until the monolith's callback accepts them.
PROCESSING_RESULTS_QUEUE: Final = "tessera.processing.job-results"
# Every queue a processing worker may be asked to consume, jobs first.
PROCESSING_QUEUES: Final = (*PROCESSING_JOB_QUEUES.values(), PROCESSING_RESULTS_QUEUE)
# The direct exchange the processing queues are bound to, each by its own name.
PROCESSING_EXCHANGE: Final = "tessera.processing"

# Celery's default queue, where the monolith's own tasks go. It stays inside the monolith, so it
# is no channel of asyncapi.yaml; the run scripts, the metrics and the benchmarks name it.
MONOLITH_TASK_QUEUE: Final = "celery"

# The processing worker's Celery tasks. The outbox stores a task's name with each message it
# relays, and the worker's metrics and traces pick job attempts out by name.
JOB_RUN_TASK: Final = "processing.job_run"
JOB_RESULT_DELIVER_TASK: Final = "processing.job_result_deliver"
