"""Helpers for the inbox tests: the tasks a commit queued, and a batch whose database goes away."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import OperationalError


def queued_after_commit(callback: Callable[[], object]) -> tuple[str, tuple[object, ...]] | None:
    """The task name and arguments an enqueue_after_commit callback will queue, if it is one."""
    if callback.__qualname__ != "enqueue_after_commit.<locals>.enqueue":
        return None
    cells = dict(zip(callback.__code__.co_freevars, callback.__closure__ or (), strict=True))
    return cells["task_name"].cell_contents, cells["args"].cell_contents


def tasks_queued(callbacks: Iterable[Callable[[], object]]) -> list[tuple[str, tuple[object, ...]]]:
    """The tasks these on-commit callbacks queue, in order."""
    return [task for task in map(queued_after_commit, callbacks) if task is not None]


def database_lost_after_recording(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """An execute wrapper: the database goes away between a batch's recording and its applying."""
    if sql.lstrip().startswith("SELECT") and "inbox_inboxevent" in sql:
        raise OperationalError("server closed the connection unexpectedly")
    return execute(sql, params, many, context)
