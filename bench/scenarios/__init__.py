"""The suite's scenarios. Each module's `run` takes the shared `Bench` and returns table rows."""

from dataclasses import dataclass

from bench.seed import Seeded
from trackline.db import Engines


@dataclass(frozen=True)
class Bench:
    engine: str  # "sqlite" or "postgresql"
    engines: Engines
    seeded: Seeded
    # Repetitions are multiples of this: 1 with --quick (CI), 5 otherwise.
    reps: int

    @property
    def url(self) -> str:
        return self.engines.write.url.render_as_string(hide_password=False)
