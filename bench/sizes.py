"""The three account sizes the benchmark syncs, and the window that covers each whole account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sandbox.large import PAST_DAYS

AS_OF = date(2026, 11, 24)  # the sandbox's default as-of: every figure is for the same, reproducible account
# The large scenario starts PAST_DAYS before as-of at midnight UTC; local dates can sit a day earlier (UTC-12) and
# the seed scenario spans one year back, so two more days than PAST_DAYS cover both whole accounts.
SINCE = AS_OF - timedelta(days=PAST_DAYS + 2)


@dataclass(frozen=True)
class Size:
    name: str
    scenario: str
    appointments: int | None
    clients: int | None
    orders: int | None
    timeout_seconds: float  # per child process (one sync incl. dbt, or one floor step)
    # no-change daily syncs to run; the median is reported. A few seconds on a shared machine swing by 10 to 30%.
    daily_runs: int = 1

    def cache_name(self) -> str:
        """The capture directory's name: one per distinct account, so a changed size is captured again."""
        counts = "-".join(str(n) for n in (self.appointments, self.clients, self.orders))
        return f"{self.scenario}-{AS_OF.isoformat()}-{counts}"

    def serve_args(self) -> list[str]:
        args = ["--scenario", self.scenario, "--as-of", AS_OF.isoformat()]
        counts = {"--appointments": self.appointments, "--clients": self.clients, "--orders": self.orders}
        for flag, value in counts.items():
            if value is not None:
                args += [flag, str(value)]
        return args


SIZES = {
    "seed": Size("seed", "seed", None, None, None, timeout_seconds=300, daily_runs=5),
    "medium": Size("medium", "large", 100_000, 10_000, 20_000, timeout_seconds=900),
    "large": Size("large", "large", 1_000_000, 100_000, 200_000, timeout_seconds=1800),
}


def parse_sizes(text: str) -> list[Size]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown or not names:
        raise ValueError(f"--sizes takes a comma list of {', '.join(SIZES)}; got {text!r}")
    return [SIZES[n] for n in names]
