"""Tessera's serverless webhook receivers.

``tessera_functions.app.application`` is the WSGI application: Zappa's handler serves it on
AWS Lambda, ``python -m tessera_functions.serve`` on port 8002 locally. Importing this package
imports nothing else, so the cold start pays only for what a request needs.
"""

__version__ = "0.1.0"
