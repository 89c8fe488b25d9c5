"""The jobs API as a Django Lambda: the zip ``zappa package`` builds with ``django_settings``,
driven through Zappa's own ``lambda_handler`` with API Gateway v1 and v2 events.

The function is configured as its stage deploys it (``services/processing/zappa_settings.json``:
production settings, ``aws_environment_variables``) plus the secrets an operator sets, on a
PostgreSQL database of its own that Zappa's ``manage`` event migrates, and RabbitMQ standing
in for SQS in a vhost of its own. Each batch of events is one cold interpreter that sees only
the unpacked zip and what Lambda's runtime provides.
"""

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from kombu import Connection, Exchange, Queue
from tessera_contract.messaging import PROCESSING_EXCHANGE, PROCESSING_JOB_QUEUES
from tessera_contract.signing.service_tokens import ServiceTokenIssuer, ServiceTokenKeyring
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE, ProblemType
from tessera_testsupport import rabbitmq_vhost_url
from tessera_testsupport.zappa_lambda import (
    EVENT_FORMATS,
    LambdaEvent,
    UnpackedLambda,
    lambda_answer_body,
    lambda_answer_headers,
    lambda_invoke,
    lambda_unpacked,
    packaging_script_load,
)

from .stack_testing import SERVICE_DIR
from .test_jobs_api import RENDITIONS

REPO_ROOT = SERVICE_DIR.parents[1]
PACKAGING_SCRIPT = REPO_ROOT / "functions" / "scripts" / "package_processing_lambda.py"
DATABASE_NAME = "tessera_lambda_processing"
RABBITMQ_VHOST = "tessera-processing-lambda-tests"
SERVICE_TOKEN_KEYS = "lambda-test:lambda-tests-only-service-token-key-of-32-bytes"
WORKERS_ONLY = ["pyvips", "pyvips_binary.libs", "_libvips.abi3.so", "fpdf", "fontTools", "PIL"]


@pytest.fixture(scope="module")
def processing_lambda(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UnpackedLambda]:
    """The zip built once by the real script, unpacked as Lambda's /var/task."""
    build = tmp_path_factory.mktemp("processing-lambda")
    packaging = packaging_script_load(PACKAGING_SCRIPT)
    archive = packaging.processing_zip_build("dev", build / "processing.zip", build / "build")
    with lambda_unpacked(archive, build) as unpacked:
        yield unpacked


@pytest.fixture(scope="module")
def lambda_database_url(postgres_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of this module's own."""
    with psycopg.connect(postgres_url, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        server.execute(f"CREATE DATABASE {DATABASE_NAME}")
    yield postgres_url.rsplit("/", 1)[0] + f"/{DATABASE_NAME}"
    with psycopg.connect(postgres_url, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")


@pytest.fixture(scope="module")
def lambda_broker_url(rabbitmq_url: str) -> str:
    return rabbitmq_vhost_url(rabbitmq_url, RABBITMQ_VHOST)


@pytest.fixture(scope="module")
def function_environment(
    processing_lambda: UnpackedLambda, lambda_database_url: str, lambda_broker_url: str
) -> dict[str, str]:
    """The function's configuration: its stage's variables, the operator's secrets, and the
    database and broker this machine has in place of RDS and SQS. Migrated, as
    ``zappa manage dev migrate`` does it, through the handler."""
    stage = json.loads((SERVICE_DIR / "zappa_settings.json").read_text())["dev"]
    environment = {
        **stage["aws_environment_variables"],
        "DJANGO_SECRET_KEY": "lambda-tests-only-not-a-secret",
        "SERVICE_TOKEN_KEYS": SERVICE_TOKEN_KEYS,
        "JOB_RESULT_CALLBACK_SECRETS": "whsec_bGFtYmRhLXRlc3RzLW9ubHktY2FsbGJhY2s=",
        "PROCESSING_DATABASE_URL": lambda_database_url,
        "CELERY_BROKER_URL": lambda_broker_url,
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    assert lambda_invoke(processing_lambda, [{"manage": "migrate --noinput -v 0"}], environment)
    return environment


def monolith_authorization() -> str:
    """A service token as the monolith signs it for processing."""
    issuer = ServiceTokenIssuer(
        ServiceTokenKeyring.parse(SERVICE_TOKEN_KEYS), issuer="monolith", audience="processing"
    )
    return issuer.authorization_header(now=time.time())


def jobs_in_database(database_url: str, idempotency_key: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT id, kind, status, attempts FROM jobs_job WHERE idempotency_key = %s",
            [idempotency_key],
        ).fetchall()


def outbox_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT count(*) FROM jobs_outboxmessage").fetchone()
    assert row is not None
    return int(row[0])


def queued_job_ids(broker_url: str, queue: str) -> list[str]:
    """Take every message off ``queue`` (declared as the service declares it); the job ids
    they carry."""
    job_ids = []
    with Connection(broker_url) as connection:
        channel = connection.default_channel
        Queue(queue, Exchange(PROCESSING_EXCHANGE, type="direct"), routing_key=queue)(
            channel
        ).declare()
        while (message := channel.basic_get(queue=queue, no_ack=True)) is not None:
            arguments = json.loads(message.body)[0]
            job_ids.append(arguments[0]["job_id"])
    return job_ids


def test_the_zip_leaves_out_the_workers_libraries_and_names_the_django_settings(
    processing_lambda: UnpackedLambda,
) -> None:
    code = processing_lambda.code

    assert processing_lambda.zip_bytes < 50 * 1024 * 1024
    assert (
        "DJANGO_SETTINGS='processing.settings.production'"
        in (code / "zappa_settings.py").read_text()
    )
    assert (code / "processing" / "jobs" / "views.py").is_file()
    assert (code / "psycopg_binary").is_dir()
    assert [name for name in WORKERS_ONLY if (code / name).exists()] == []
    assert not (code / "boto3").exists()


@pytest.mark.parametrize("event_for", EVENT_FORMATS.values(), ids=EVENT_FORMATS.keys())
def test_zappas_handler_serves_the_jobs_api_on_postgresql(
    processing_lambda: UnpackedLambda,
    function_environment: dict[str, str],
    event_for: LambdaEvent,
) -> None:
    database_url = function_environment["PROCESSING_DATABASE_URL"]
    broker_url = function_environment["CELERY_BROKER_URL"]
    queue = PROCESSING_JOB_QUEUES["image_renditions"]
    queued_job_ids(broker_url, queue)
    key = f"renditions-{uuid.uuid4()}"
    body = json.dumps(RENDITIONS).encode()
    signed = {"Authorization": monolith_authorization(), "Content-Type": "application/json"}

    health, created, unsigned, too_large = lambda_invoke(
        processing_lambda,
        [
            event_for("GET", "/healthz", b"", {}),
            event_for("POST", "/api/v1/jobs", body, {**signed, "Idempotency-Key": key}),
            event_for("POST", "/api/v1/jobs", body, {"Idempotency-Key": f"{key}-unsigned"}),
            event_for(
                "POST",
                "/api/v1/jobs",
                b"{" + b" " * (1024 * 1024) + b"}",
                {**signed, "Idempotency-Key": f"{key}-too-large"},
            ),
        ],
        function_environment,
    )

    assert health["statusCode"] == 200
    assert json.loads(lambda_answer_body(health))["status"] == "ok"

    assert created["statusCode"] == 201, lambda_answer_body(created)
    job = json.loads(lambda_answer_body(created))
    assert lambda_answer_headers(created)["location"] == f"/api/v1/jobs/{job['job_id']}"
    assert jobs_in_database(database_url, key) == [
        (uuid.UUID(job["job_id"]), "image_renditions", "queued", 0)
    ]
    # Published to the broker after the commit, so the outbox kept nothing.
    assert outbox_rows(database_url) == 0
    assert queued_job_ids(broker_url, queue) == [job["job_id"]]

    for refused, status, problem_type in [
        (unsigned, 401, ProblemType.TOKEN_INVALID),
        (too_large, 413, ProblemType.PAYLOAD_TOO_LARGE),
    ]:
        assert refused["statusCode"] == status
        assert lambda_answer_headers(refused)["content-type"] == PROBLEM_MEDIA_TYPE
        assert json.loads(lambda_answer_body(refused))["type"] == problem_type
    assert lambda_answer_headers(unsigned)["www-authenticate"].startswith("Bearer")
    assert jobs_in_database(database_url, f"{key}-unsigned") == []
    assert jobs_in_database(database_url, f"{key}-too-large") == []
