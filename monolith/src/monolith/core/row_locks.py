"""Every row lock the monolith takes, and the one order it takes them in.

A transaction that locks rows of several kinds takes them in the order below, and the rows of
one kind in primary-key order. Two transactions then never each hold a row the other waits
for: a deadlock, which PostgreSQL breaks only after its ``deadlock_timeout`` (a second) by
aborting one of them. Every lock goes through this module, which refuses a model the list
does not name: a new lock starts by finding its place here.

1. ``cart.Cart``: one change of a cart at a time (two quick clicks, a merge at sign-in).
2. ``cart.CartLine``: the lines of the cart a session cart is merged into.
3. ``inbox.InboxEvent``: the events a batch, the sweep or a staff replay applies, and the
   known events whose duplicate hits a batch counts.
4. ``orders.Order``: the orders of those events, every one before any changes (a batch locks
   them all up front); an order changing status.
5. ``orders.Payment``: with its order, by the order's id.
6. Payment subjects (PostgreSQL advisory locks, by name): a refund deciding to park, and a
   payment looking for the refunds parked for it (``payment_subjects_locked``).
7. ``inbox.InboxEvent`` once more: the refunds parked for a payment, applied with it. The
   payment's transaction holds their order, so no other batch applies them; another
   transaction holding one of these rows is counting its duplicate hits, which locks no order.
8. ``jobs.ProcessingJob``: an outbox row, while a submission or a result is recorded on it.

Checkout's stock reservation takes products' row locks by its conditional UPDATE, in
product id order, and a cancelled order puts its units back after its own lock (4); no
transaction takes a product's lock before any of the above.

On SQLite, which runs one writing transaction at a time, these are plain reads.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

# The models whose rows are locked, in the order above (a kind locked twice is listed once).
LOCK_ORDER: tuple[str, ...] = (
    "cart.Cart",
    "cart.CartLine",
    "inbox.InboxEvent",
    "orders.Order",
    "orders.Payment",
    "jobs.ProcessingJob",
)

_Row = TypeVar("_Row", bound=Model)


class UndocumentedLock(TypeError):
    def __init__(self, label: str) -> None:
        super().__init__(f"{label} rows are locked nowhere in LOCK_ORDER: add them in their place")


def _documented(model: type[Model]) -> None:
    if model._meta.label not in LOCK_ORDER:
        raise UndocumentedLock(model._meta.label)


def rows_locked(
    rows: QuerySet[_Row],
    *,
    skip_held: bool = False,
    with_related: str | None = None,
    limit: int | None = None,
) -> list[_Row]:
    """Lock ``rows`` until the transaction ends, in primary-key order, and return them.

    ``skip_held`` leaves out the rows another transaction holds (SKIP LOCKED) instead of
    waiting for them. ``with_related`` names a foreign key whose rows are locked with these
    (a payment's order), in that key's order. ``limit`` takes the first rows only.
    """
    _documented(rows.model)
    ordering: tuple[str, ...] = ("pk",)
    of: tuple[str, ...] = ()
    if with_related is not None:
        related = rows.model._meta.get_field(with_related).related_model
        if not isinstance(related, type) or not issubclass(related, Model):
            raise TypeError(f"{rows.model._meta.label}.{with_related} is not a foreign key")
        _documented(related)
        rows = rows.select_related(with_related)
        ordering, of = (f"{with_related}__pk", "pk"), ("self", with_related)
    locked = rows.select_for_update(skip_locked=skip_held, of=of).order_by(*ordering)
    return list(locked if limit is None else locked[:limit])


def row_locked(rows: QuerySet[_Row]) -> _Row:
    """Lock the one row ``rows`` selects and return it (``DoesNotExist`` when there is none)."""
    _documented(rows.model)
    return rows.select_for_update().get()


def payment_subjects_locked(*, subjects: Collection[str]) -> None:
    """Serialise a refund deciding to park with its payment looking for parked refunds (6).

    Held to the end of the transaction: PostgreSQL's transaction-level advisory locks, one per
    subject (a payment's reference or the provider's id for it), taken in sorted order, in one
    statement. A row lock cannot do this: a refund that names the provider's id has no row to
    lock until its payment is applied.
    """
    names = sorted({f"inbox-payment:{subject}" for subject in subjects if subject})
    if connection.vendor != "postgresql" or not names:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(name)) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS subjects(name, position) "
            "ORDER BY position",
            [names],
        )
