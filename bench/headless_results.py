"""What a run of the headless benchmark was asked and what it measured, and the figures the
reports derive from it (bench/headless_report.py writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.headless_browser import RunVisits
from bench.headless_storefronts import HEADLESS, SERVER_RENDERED, TransferredFile
from bench.percentiles import percentile


@dataclass(frozen=True)
class HeadlessOptions:
    """Everything that shapes a run of this benchmark."""

    database_url: str
    products: int
    repeats: int
    output_dir: Path


@dataclass(frozen=True)
class RunFacts:
    """What the report says about the run besides the figures."""

    machine: dict[str, object]
    software: dict[str, str]
    served: dict[str, object]
    seed_s: float
    elapsed_s: float


@dataclass(frozen=True)
class Results:
    """Everything one run measured, and the figures the reports derive from it."""

    options: HeadlessOptions
    origins: dict[str, str]
    transfers: dict[str, list[TransferredFile]]
    run_visits: RunVisits
    facts: RunFacts
    # Scripts and stylesheets of the headless build that its first page does not load.
    headless_not_loaded_first: list[str]

    def values(self, key: str, visit: str, metric: str) -> list[float]:
        """Every timed visit's figure for one storefront, cold or warm, in ms."""
        return [one.times_ms[metric] for one in self.run_visits.visits[key][visit]]

    def quantile(self, key: str, visit: str, metric: str, share: float) -> float:
        """The nearest-rank percentile (share in 0..1) of those figures."""
        return percentile(self.values(key, visit, metric), share)

    def ratio(self, visit: str, metric: str, share: float) -> float:
        """Headless ÷ server-rendered at that percentile."""
        return self.quantile(HEADLESS, visit, metric, share) / self.quantile(
            SERVER_RENDERED, visit, metric, share
        )

    def total(self, key: str, measure: str) -> int:
        """The sum of one byte measure (raw_bytes, gzip_bytes, served_bytes) over the page."""
        return sum(getattr(file, measure) for file in self.transfers[key])

    def products_api_p50_ms(self, visit: str) -> float | None:
        """When the headless app's product list had arrived from the API, median, in ms."""
        arrived = [
            one.products_api_ms
            for one in self.run_visits.visits[HEADLESS][visit]
            if one.products_api_ms is not None
        ]
        return round(percentile(arrived, 0.5), 1) if arrived else None

    def cards(self, key: str) -> int:
        """How many product cards the storefront's first catalog page shows."""
        return self.run_visits.visits[key]["cold"][0].cards
