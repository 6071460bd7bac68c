"""The suite's one table (text and Markdown), its chart, and the machine it ran on."""

import datetime
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

LIBRARIES = ("strawberry-graphql", "sqlalchemy", "graphql-core", "asyncpg", "aiosqlite")


@dataclass(frozen=True)
class Row:
    """One scenario's result. `ratio` is ours relative to the baseline, oriented so that
    higher is better (raw time ÷ our time, our rate ÷ raw rate); `target` is the ratio the
    target asks for, None where there is none."""

    scenario: str
    unit: str
    ours: float | None
    ours_p99: float | None
    baseline: float | None
    ratio: float | None
    target: float | None
    target_text: str = ""
    statements: str = ""

    @property
    def met(self) -> str:
        if self.target is None or self.ratio is None:
            return ""
        return "met" if self.ratio >= self.target else "MISSED"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(engine: str, size: str) -> list[str]:
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (absent)")
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"Trackline benchmark suite: engine {engine}, size {size}, {now}",
        f"Machine: {cpu_model()}, {platform.machine()}, {os.cpu_count()} cores",
        f"Python {platform.python_version()}; " + ", ".join(versions),
    ]


COLUMNS = ["scenario", "unit", "ours median", "ours p99", "baseline", "ratio", "target", "", "SQL"]


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):  # counts (B3)
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def cells(row: Row) -> list[str]:
    return [
        row.scenario,
        row.unit,
        _number(row.ours),
        _number(row.ours_p99),
        _number(row.baseline),
        "-" if row.ratio is None else f"{row.ratio:.2f}",
        row.target_text,
        row.met,
        row.statements,
    ]


def text_table(rows: list[Row]) -> str:
    table = [COLUMNS, *(cells(r) for r in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(c or "met?" for c in COLUMNS) + " |"]
    lines.append("|" + "---|" * len(COLUMNS))
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def chart(rows: list[Row], path: Path, title: str) -> None:
    """Ratios as bars (higher is better), each bar's target as a line across it."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")  # no display here, and none needed
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.ratio is not None]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(shown)), 4.5))
    colors = ["#4c72b0" if r.met != "MISSED" else "#c44e52" for r in shown]
    xs = range(len(shown))
    bars = ax.bar(xs, [r.ratio or 0.0 for r in shown], color=colors, width=0.6)
    ax.bar_label(bars, fmt="%.2f", fontsize=8)
    for x, r in zip(xs, shown, strict=True):
        if r.target is not None:
            ax.hlines(r.target, x - 0.4, x + 0.4, colors="black", linestyles="dashed")
    ax.set_xticks(list(xs), _tick_labels(shown), fontsize=8)
    ax.set_ylabel("ours relative to baseline (higher is better)")
    ax.set_title(title + "\n(dashed: target; red: missed)", fontsize=10)
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(matplotlib.ticker.FixedLocator([0.05, 0.1, 0.2, 0.5, 1, 2, 5]))
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tick_labels(rows: list[Row]) -> list[str]:
    """The scenario id, numbered where one id has several rows (B3's shapes, B5's clients)."""
    ids = [r.scenario.split(" ", 1)[0] for r in rows]
    seen: dict[str, int] = {}
    labels = []
    for i in ids:
        seen[i] = seen.get(i, 0) + 1
        labels.append(f"{i}.{seen[i]}" if ids.count(i) > 1 else i)
    return labels
