"""The session engine: Django's cached_db, with a database that cannot be reached while a
session is saved reported as what it is.

Django's database session store turns every DatabaseError of an update into UpdateError,
which SessionMiddleware answers with 400 ("the session was deleted"): during a PostgreSQL
restart the fault suite saw a shopper's checkout answered 400. A connection that failed is
re-raised instead, so handler500 answers 503 with Retry-After (core/errors_views.py) and the
shopper tries again; a session row that is really gone keeps Django's answer.
"""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore
from django.db import InterfaceError, OperationalError


class SessionStore(CachedDbSessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create)
        except UpdateError as error:
            cause = error.__context__
            if isinstance(cause, OperationalError | InterfaceError):
                raise cause from None
            raise
