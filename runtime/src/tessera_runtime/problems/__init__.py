"""RFC 9457 problem+json answers, built the same way by every component.

- ``answers``: the framework-free builder, ``problem_answer`` (status, headers, bytes);
- ``django``: the answer as a Django response, and the handlers of URLs that serve only an API;
- ``drf``: Django REST framework's errors as problems (``EXCEPTION_HANDLER``), and its JSON
  parser bounded in nesting depth;
- ``wsgi``: the answer for a plain WSGI application's ``start_response`` (the functions).

Each adapter imports its framework itself; this package imports nothing.
"""
