"""The functions against contract/openapi.yaml: schemathesis over the webhooks and health tags.

Generated requests carry no valid signature, so the webhook operations answer 401 (which
the contract documents); health and every status code, content type and body are checked
against the document. Runs in-process on the WSGI application.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from tessera_functions.app import WebhookApplication, webhook_application_create
from webhook_testing import CONTRACT_PATH, settings_for

schema = schemathesis.openapi.from_path(CONTRACT_PATH).include(tag="webhooks")
health_schema = schemathesis.openapi.from_path(CONTRACT_PATH).include(tag="health")
for fuzzed in (schema, health_schema):
    fuzzed.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=40
    )


@pytest.fixture(scope="module")
def contract_app() -> Iterator[WebhookApplication]:
    application = webhook_application_create(settings_for("memory://"))
    yield application
    application.publisher.close()


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_webhook_operations_conform_to_the_contract(case, contract_app):  # type: ignore[no-untyped-def]
    case.call_and_validate(app=contract_app)


@health_schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_health_operations_conform_to_the_contract(case, contract_app):  # type: ignore[no-untyped-def]
    case.call_and_validate(app=contract_app)
