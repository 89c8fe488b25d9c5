"""`manage.py seed_demo [--products N] [--skip-users]`: the demo catalog and logins."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from monolith.demo.services import DEMO_SHOPPER, DEMO_STAFF, demo_catalog_seed, demo_users_ensure


class Command(BaseCommand):
    help = "Seed demo categories, products with placeholder images, and demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=200, help="catalog size (default 200)")
        parser.add_argument(
            "--skip-users", action="store_true", help="do not create the demo logins"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["products"] < 0:
            raise CommandError("--products must be zero or more.")
        if not options["skip_users"] and not settings.DEBUG:
            # Known passwords must never reach a deployment that serves real users.
            raise CommandError(
                "Demo logins have public passwords: use --skip-users when DEBUG is off."
            )

        reported: set[int] = set()

        def progress(done: int, total: int) -> None:
            # One line per tenth of the work, so a long seed shows it is alive without flooding.
            tenth = done * 10 // total
            if tenth not in reported:
                reported.add(tenth)
                self.stdout.write(f"  products {done:,}/{total:,}")

        result = demo_catalog_seed(products=options["products"], progress=progress)
        self.stdout.write(
            f"Catalog: {result.categories} categories, {result.products_total:,} products "
            f"({result.products_created:,} new)."
        )
        if not options["skip_users"]:
            demo_users_ensure()
            self.stdout.write(
                f"Logins: shopper {DEMO_SHOPPER[0]} / {DEMO_SHOPPER[2]}, "
                f"staff {DEMO_STAFF[0]} / {DEMO_STAFF[2]}"
            )
