"""The Celery task names of the processing worker, written once.

The outbox stores a task's name with each message it relays, and the worker's metrics pick
the job attempts out by name, so the tasks, the outbox and the metrics must agree on them.
"""

JOB_RUN_TASK = "processing.job_run"
JOB_RESULT_DELIVER_TASK = "processing.job_result_deliver"
