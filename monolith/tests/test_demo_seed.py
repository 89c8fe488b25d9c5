import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from monolith.catalog.models import Category, Product, ProductImage

pytestmark = pytest.mark.django_db


def test_seed_creates_products_with_images_and_the_demo_logins(media_root, settings):
    settings.DEBUG = True
    call_command("seed_demo", products=30, stdout=None)
    assert Product.objects.count() == 30
    assert Category.objects.count() == 6
    assert ProductImage.objects.count() == 30
    image = ProductImage.objects.first()
    assert image is not None
    assert image.image.name
    assert image.image.storage.exists(image.image.name)
    users = get_user_model().objects
    assert users.get(username="staff").is_staff
    assert users.get(username="shopper").check_password("tessera-shopper")


def test_seeding_again_tops_up_without_duplicating(media_root, settings):
    settings.DEBUG = True
    call_command("seed_demo", products=10)
    call_command("seed_demo", products=25)
    call_command("seed_demo", products=25)
    assert Product.objects.count() == 25
    assert Product.objects.values("slug").distinct().count() == 25


def test_demo_logins_are_refused_when_debug_is_off(media_root, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--skip-users"):
        call_command("seed_demo", products=1)
    call_command("seed_demo", products=1, skip_users=True)
    assert not get_user_model().objects.exists()
