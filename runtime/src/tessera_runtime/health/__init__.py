"""``GET /healthz`` and ``GET /readyz``, answered the same way by every component.

- ``answers``: the framework-free bodies and status codes (the webhook functions use these);
- ``django``: the two views both Django projects route, given their readiness checks.
"""
