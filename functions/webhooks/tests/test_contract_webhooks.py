"""The functions against contract/openapi.yaml: schemathesis over the webhooks and health tags.

Generated requests carry no valid signature, so the webhook operations answer 401 (which
the contract documents); health and every status code, content type and body are checked
against the document. Runs in-process on the WSGI application. The operations and checks are
tessera_testsupport.webhook_contract's: the monolith's suite runs the same against the
receivers mounted inline.
"""

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from tessera_functions.app import WebhookApplication, webhook_application_create
from tessera_testsupport.webhook_contract import (
    HEALTH_TAG,
    WEBHOOKS_TAG,
    contract_case_check,
    contract_operations,
)
from webhook_testing import CONTRACT_PATH, settings_for

schema = contract_operations(CONTRACT_PATH, tag=WEBHOOKS_TAG)
health_schema = contract_operations(CONTRACT_PATH, tag=HEALTH_TAG)


@pytest.fixture(scope="module")
def contract_app() -> Iterator[WebhookApplication]:
    application = webhook_application_create(settings_for("memory://"))
    yield application
    application.publisher.close()


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_webhook_operations_conform_to_the_contract(case, contract_app):  # type: ignore[no-untyped-def]
    contract_case_check(case, contract_app)


@health_schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_health_operations_conform_to_the_contract(case, contract_app):  # type: ignore[no-untyped-def]
    contract_case_check(case, contract_app)
