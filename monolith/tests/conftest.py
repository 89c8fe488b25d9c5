"""Shared fixtures, and the rule that a missing service fails CI instead of being skipped."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from tessera_testsupport import IN_CI, service_missing

from .factories import make_category, make_product, make_user


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("TESSERA_REQUIRE_POSTGRES") != "1":
        return
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=database["HOST"],
            port=database["PORT"] or 5432,
            user=database["USER"],
            password=database["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {database['HOST']}:{database['PORT']} is unreachable: {error}"
        if IN_CI:
            pytest.exit(f"{message} (CI=true: a missing service is a failure)", returncode=1)
        print(f"\nSKIPPING the PostgreSQL pass: {message}")
        pytest.exit("PostgreSQL pass skipped", returncode=0)


@pytest.fixture(autouse=True)
def _postgres_marker_needs_postgres(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        service_missing("needs PostgreSQL: set DATABASE_URL=postgres://... (make test-postgres)")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and other cached state never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(params=["locmem", "files", "redis"])
def page_cache(request, settings, tmp_path):
    """The cache a page test runs on, each in turn: the test settings' own memory, files (the
    embedded default of `make run`, whose `add` is not atomic) and Redis (the distributed run's).
    """
    if request.param == "files":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    elif request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": request.getfixturevalue("redis_url"),
            }
        }
    from django.core.cache import cache

    cache.clear()
    return request.param


@pytest.fixture
def category():
    return make_category()


@pytest.fixture
def product(category):
    return make_product(category=category, price="12.50", stock=10)


@pytest.fixture
def lamp():
    """A product the page tests change and watch: in stock, in its own category."""
    return make_product(category=make_category("Lighting"), name="Brass lamp", price="30.00")


@pytest.fixture
def shopper():
    return make_user("alice")


@pytest.fixture
def staff_user():
    return make_user("sam", is_staff=True)


@pytest.fixture
def media_root(tmp_path, settings):
    """Uploaded files go to a fresh folder per test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def sandbox_extra_return_origins() -> list[str]:
    """Shops besides the live server that the pay page may send shoppers back to."""
    return []


@pytest.fixture
def running_stack(
    request,
    transactional_db,
    live_server,
    rabbitmq_url,
    tmp_path,
    settings,
    sandbox_extra_return_origins,
):
    """Sandbox, webhook functions and a monolith worker as subprocesses on real RabbitMQ,
    around the live server and its test database (see running_stack.py).

    Worker settings can be overridden per test with indirect parametrization:
    ``@pytest.mark.parametrize("running_stack", [{"INBOX_SWEEP_GRACE_SECONDS": "1"}],
    indirect=True)``; the key ``workers`` (not a setting) starts that many workers, and the
    key ``placement`` (``hybrid``, ``hybrid-cloud-function`` or ``monolith``) starts that
    deployment's parts, with the live server configured to match.
    """
    from .running_stack import StackPlacement, live_server_place, running_stack_start

    worker_environment = dict(getattr(request, "param", None) or {})
    workers_count = int(worker_environment.pop("workers", 1))
    placement_name = worker_environment.pop("placement", None)
    placement = None
    if placement_name is not None:
        settings.MEDIA_ROOT = tmp_path / "media"
        settings.MEDIA_ROOT.mkdir()
        placement = StackPlacement(
            name=placement_name,
            monolith_url=live_server.url,
            media_root=settings.MEDIA_ROOT,
            cache_folder=tmp_path / "cache",
        )
    with running_stack_start(
        rabbitmq_url=rabbitmq_url,
        return_origins=[live_server.url, *sandbox_extra_return_origins],
        logs=tmp_path / "stack",
        worker_environment=worker_environment,
        workers_count=workers_count,
        placement=placement,
    ) as stack:
        settings.PAYMENT_PROVIDER_URL = stack.sandbox_url
        settings.CARRIER_API_URL = stack.sandbox_url
        if placement is not None:
            live_server_place(settings, stack=stack, placement=placement)
        yield stack
