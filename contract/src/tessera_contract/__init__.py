"""Tessera's shared API contract, as a Python package.

Import the submodule you need; this package imports nothing on its own, so a webhook
function that uses only ``tessera_contract.signing`` never loads the HTTP client.
"""

__version__ = "1.0.0"
