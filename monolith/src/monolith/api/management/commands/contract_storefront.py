"""`manage.py contract_storefront [--write]`: compare (or update) the contract's storefront API."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monolith.api.contract_drift import CONTRACT_PATH, storefront_drift, storefront_write


class Command(BaseCommand):
    help = "Check that contract/openapi.yaml describes the storefront API the monolith serves."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--write", action="store_true", help="rewrite the contract's storefront section"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["write"]:
            storefront_write()
            self.stdout.write(f"Wrote the storefront section of {CONTRACT_PATH}.")
        drift = storefront_drift()
        if drift:
            raise CommandError(f"The storefront API drifted from the contract:\n{drift}")
        self.stdout.write("The storefront API matches the contract.")
