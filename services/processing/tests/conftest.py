"""Fixtures: service tokens for callers, and a job source written into the service's storage."""

import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from tessera_contract.signing.service_tokens import ServiceTokenIssuer, ServiceTokenKeyring


def keyring() -> ServiceTokenKeyring:
    return ServiceTokenKeyring.parse(settings.PROCESSING_SERVICE_TOKEN_KEYS)


def authorization(
    *, issuer: str = "monolith", audience: str = "processing", now: float | None = None
) -> str:
    return ServiceTokenIssuer(keyring(), issuer=issuer, audience=audience).authorization_header(
        now=time.time() if now is None else now
    )


@pytest.fixture
def monolith_headers() -> dict[str, str]:
    return {"Authorization": authorization()}


@pytest.fixture
def source_write(settings, tmp_path) -> Callable[[str, bytes], str]:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"

    def write(name: str, data: bytes) -> str:
        return default_storage.save(f"sources/{name}", ContentFile(data))

    return write
