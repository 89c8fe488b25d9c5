"""Problem answers for a plain WSGI application (the webhook functions): no framework."""

from collections.abc import Iterable, Mapping

from tessera_runtime.problems.answers import ProblemType, problem_answer

__all__ = ["WsgiAnswer", "problem_wsgi_answer"]

# status, headers as start_response takes them, body
WsgiAnswer = tuple[int, list[tuple[str, str]], bytes]


def problem_wsgi_answer(
    status: int,
    problem_type: ProblemType,
    detail: str | None = None,
    *,
    errors: Iterable[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> WsgiAnswer:
    """The problem answer with Content-Length, ready for ``start_response``."""
    answer = problem_answer(status, problem_type, detail, errors=errors, headers=headers)
    header_list = [*answer.headers.items(), ("Content-Length", str(len(answer.body)))]
    return answer.status, header_list, answer.body
