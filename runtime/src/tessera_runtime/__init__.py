"""How every Tessera component runs: the runtime both Django projects and the functions share.

Import the submodule you need; this package imports nothing on its own, so a webhook function
that uses only ``tessera_runtime.problems.wsgi`` never loads Django or OpenTelemetry.
"""

__version__ = "1.0.0"
