"""The queue names every component imports are the channels asyncapi.yaml documents."""

from typing import Any, get_args

import yaml
from contract_testing import CONTRACT_DIR
from tessera_contract import messaging
from tessera_contract.models.base import JobKind

# Deprecated since 1.1.0: kept in the document for compatibility, no component publishes there.
RETIRED_CHANNELS = {"processingJobs"}


def _channels() -> dict[str, Any]:
    document = yaml.safe_load((CONTRACT_DIR / "asyncapi.yaml").read_text())
    return {
        name: channel
        for name, channel in document["channels"].items()
        if name not in RETIRED_CHANNELS
    }


def test_every_queue_the_components_use_is_a_channel_of_the_document_and_back() -> None:
    addresses = sorted(channel["address"] for channel in _channels().values())

    defined = sorted([messaging.WEBHOOK_QUEUE, *messaging.PROCESSING_QUEUES])

    assert defined == addresses


def test_each_job_kind_has_the_queue_its_channel_names() -> None:
    documented = {
        channel["title"].removeprefix("Jobs of kind "): channel["address"]
        for channel in _channels().values()
        if channel["title"].startswith("Jobs of kind ")
    }

    assert documented == dict(messaging.PROCESSING_JOB_QUEUES)
    assert set(documented) == set(get_args(JobKind))


def test_the_monolith_task_queue_stays_out_of_the_document() -> None:
    addresses = {channel["address"] for channel in _channels().values()}

    assert messaging.MONOLITH_TASK_QUEUE not in addresses
