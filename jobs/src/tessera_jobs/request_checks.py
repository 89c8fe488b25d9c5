"""What the job kinds refuse before any work starts, whoever runs them.

The processing API calls it at job creation (a 422), and the monolith's inline placement
before it runs a kind in its own worker.
"""

from __future__ import annotations

from tessera_contract.models.jobs import JobCreateRequest, SalesReportJobCreate


class JobRequestUnsupportedError(Exception):
    """The request matches the schema but asks for what the service refuses (422).

    ``errors`` are the problem's field errors: a JSON pointer into the body and a detail.
    """

    def __init__(self, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.errors = errors


def job_request_check(*, request: JobCreateRequest) -> None:
    """Refuse, before a job exists, what the schema cannot say: a sales report's range must
    not end before it starts, and only the csv format is produced.

    PDF reports are listed in the contract but not made: a paginated PDF of a million orders
    cannot be written with constant memory by fpdf2, which keeps every page until output.
    Refused at creation (422) rather than accepted and then failed, or silently skipped next
    to a csv.
    """
    if not isinstance(request, SalesReportJobCreate):
        return
    errors = [
        {"pointer": f"/input/formats/{index}", "detail": "Only csv reports are produced."}
        for index, name in enumerate(request.input.formats)
        if name != "csv"
    ]
    if request.input.date_to < request.input.date_from:
        errors.append({"pointer": "/input/date_to", "detail": "date_to is before date_from."})
    if errors:
        raise JobRequestUnsupportedError("The sales report cannot be made as asked.", errors)
