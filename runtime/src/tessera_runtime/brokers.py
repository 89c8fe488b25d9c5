"""How every Tessera component talks to the broker: transport options and Celery's defaults.

The broker is configuration: ``filesystem://`` (the embedded default, which needs no server,
with messages as files), ``redis://…``, ``amqp://…``, or ``sqs://`` on AWS. Both Celery
applications (the monolith's and the processing service's) take their transport options and
reliability settings from here, so a message is kept and delivered the same way in both.

``filesystem://`` keeps messages as files. Producers and consumers meet only if they use the
same folder for writing and reading, and kombu needs every folder to exist, including the one
for its exchange-to-queue table (its default, ``./control``, would land in whatever directory
the process started in).
"""

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

__all__ = [
    "CELERY_RELIABILITY_SETTINGS",
    "REDIS_VISIBILITY_TIMEOUT_SECONDS",
    "broker_transport_options",
    "filesystem_transport_options",
]

# Redis hands a message that was not acknowledged within this time to another worker, even when
# its task is still running or still waiting for its retry countdown (tasks are acknowledged
# after the work). So it must outlast the longest task: the hard time limits (per-kind ones such
# as a 600 s sales report included) plus a retry's countdown. An hour, Celery's own default,
# does; the price is that a killed worker's message waits up to an hour on Redis (RabbitMQ
# gives it back as soon as the worker's connection drops).
REDIS_VISIBILITY_TIMEOUT_SECONDS: Final = 3600

# Celery settings both workers share, as Django settings under the CELERY namespace that both
# Celery applications read (``config_from_object("django.conf:settings", namespace="CELERY")``):
# JSON only; acknowledged after the work and given back when the worker dies, so a killed
# worker's task is delivered again; one message at a time per process, so a long task holds no
# others hostage; results ignored (outcomes are recorded in the database, not a result backend).
CELERY_RELIABILITY_SETTINGS: Final[Mapping[str, object]] = MappingProxyType(
    {
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
        "CELERY_TASK_SERIALIZER": "json",
        "CELERY_RESULT_SERIALIZER": "json",
        "CELERY_ACCEPT_CONTENT": ["json"],
        "CELERY_TASK_IGNORE_RESULT": True,
        "CELERY_TASK_ACKS_LATE": True,
        "CELERY_TASK_REJECT_ON_WORKER_LOST": True,
        "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
    }
)


def broker_transport_options(
    url: str,
    *,
    filesystem_folder: Path,
    visibility_timeout: int = REDIS_VISIBILITY_TIMEOUT_SECONDS,
) -> dict[str, object]:
    """kombu transport options that make each broker kind durable and confirmed.

    ``filesystem_folder`` is where the embedded broker keeps its messages (created here);
    ``visibility_timeout`` is Redis's redelivery delay for unacknowledged messages.
    """
    scheme = url.split("://", 1)[0]
    if scheme == "filesystem":
        return filesystem_transport_options(filesystem_folder)
    if scheme in {"amqp", "pyamqp"}:
        return {"confirm_publish": True}  # publish returns only once RabbitMQ has the message
    if scheme in {"redis", "rediss"}:
        return {"visibility_timeout": visibility_timeout}
    return {}


FILESYSTEM_TRANSPORT = "tessera_runtime.filesystem_broker:Transport"


def filesystem_transport_options(folder: Path) -> dict[str, object]:
    """kombu transport options for a filesystem broker in ``folder``; creates its folders.

    Also has kombu use, for ``filesystem://`` in this process, the transport whose publish is
    atomic (filesystem_broker.py): kombu's own can hand a reader a half-written message.
    """
    # Imported here: only a process on the filesystem broker needs kombu from this package.
    from kombu.transport import TRANSPORT_ALIASES

    TRANSPORT_ALIASES["filesystem"] = FILESYSTEM_TRANSPORT
    processed, control = folder / "processed", folder / "control"
    for path in (folder, processed, control):
        path.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(processed),
        "control_folder": str(control),
        "store_processed": False,
    }
