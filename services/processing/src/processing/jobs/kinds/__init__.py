"""The kinds of work, one module each; `registry.handler_for` looks one up by the job's kind.

Kept empty: importing `kinds.base` (as the services do) must not load pyvips and fpdf2 into
processes that never run a job, such as the jobs API.
"""
