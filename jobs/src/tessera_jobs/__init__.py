"""The job kinds and the policy every runner of them follows (see this package's README).

Kept empty: importing `errors`, `request_checks` or `attempts` (as the processing API does)
must not load pyvips and fpdf2 into processes that never run a job; `registry` loads them.
"""
