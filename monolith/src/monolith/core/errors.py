"""Domain errors: raised by services, translated into 4xx answers by the views."""


class DomainError(Exception):
    """A business rule refused the operation; the message is safe to show to the user."""
