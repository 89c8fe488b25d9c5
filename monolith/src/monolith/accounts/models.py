from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The shop's user. Its own model from day one, so fields can be added without a rewrite."""
