import pytest
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_dependencies(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency(client, media_root):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "storage": "ok"},
    }


def test_readyz_is_503_with_retry_after_when_migrations_are_missing(client, media_root):
    MigrationRecorder.Migration.objects.filter(app="orders").delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["checks"]["migrations"] == "unavailable"
