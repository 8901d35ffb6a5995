"""What every benchmark shares: a private sandbox, timing, rows and the table.

A benchmark here is a script, not a test: it measures a figure of omar-tui and
the same figure of a baseline in the same run, on the same machine, and
reports both with their ratio. Figures are medians of several runs; every
sample is kept in the JSON so a reader can judge the spread.

Nothing here touches the operator's own state: :func:`sandbox` makes a
temporary folder and points ``OMAR_TUI_CONFIG_DIR`` at it (in this process
and in every subprocess it starts), and the only server contacted is the
simulator started on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"

CONFIG_DIR_VAR = "OMAR_TUI_CONFIG_DIR"
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@dataclass
class Row:
    """One figure of omar-tui beside its baseline."""

    bench: str
    measure: str
    value: float | None
    """Median of ``samples`` (``None`` when the measure was skipped)."""
    unit: str
    baseline: str = ""
    """What the figure is compared with ("" for an absolute target only)."""
    baseline_value: float | None = None
    target: str = ""
    """The target as text, e.g. ``<= 1.25x`` or ``<= 10 s``."""
    met: bool | None = None
    """Whether the target is met (``None``: no target, or not measured)."""
    samples: list[float] = field(default_factory=list)
    baseline_samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline_value:
            return None
        return self.value / self.baseline_value

    def as_dict(self) -> dict[str, object]:
        record = asdict(self)
        record["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        return record


@dataclass
class Report:
    """The rows and notes of one benchmark script, written as one JSON file."""

    bench: str
    options: dict[str, object]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: dict[str, object] = field(default_factory=dict)
    """Correctness facts measured on the way (connections used, bytes equal...)."""
    seconds: float = 0.0
    load_average: list[float] = field(default_factory=list)
    """1, 5 and 15 minute load averages before, then after the run."""

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def as_dict(self) -> dict[str, object]:
        return {
            "bench": self.bench,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "options": self.options,
            "seconds": round(self.seconds, 1),
            "load_average_before_after": self.load_average,
            "rows": [r.as_dict() for r in self.rows],
            "checks": self.checks,
            "notes": self.notes,
        }

    def write(self, folder: Path = RESULTS) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.bench}.json"
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")
        return path


def machine() -> dict[str, object]:
    """Enough about the machine to tell whether two result files compare."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


# --- the sandbox ------------------------------------------------------------


@contextlib.contextmanager
def sandbox(prefix: str = "omar-bench-") -> Iterator[Path]:
    """A temporary folder that holds all state, removed afterwards.

    ``OMAR_TUI_CONFIG_DIR`` points into it for this process and its children
    while it lives, so nothing of the operator's settings or history is read
    or written.
    """
    root = Path(tempfile.mkdtemp(prefix=prefix))
    changes = {
        CONFIG_DIR_VAR: str(root / "config"),
        # Bytecode for the subprocesses, cached in the sandbox: an installed
        # omar-tui has its .pyc files (pip compiles them), so a run must not
        # pay for compiling its sources, even where PYTHONDONTWRITEBYTECODE
        # is set. Warm-up runs fill the cache for every contender alike.
        "PYTHONPYCACHEPREFIX": str(root / "pycache"),
        "PYTHONDONTWRITEBYTECODE": None,
    }
    before = {name: os.environ.get(name) for name in changes}
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield root
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def memory_folder(prefix: str = "omar-bench-") -> Iterator[Path]:
    """A temporary folder on tmpfs (``/dev/shm``) when there is one.

    For data a benchmark reads warm anyway (a big history database) or that
    belongs on another machine (the simulator's stored files): it keeps the
    figures free of the disk's write-back and of other processes' fsyncs.
    """
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def child_env(config_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a subprocess: private config, no proxy, loopback.

    Proxy variables are dropped and ``NO_PROXY`` names loopback, so neither
    omar-tui, httpx nor curl can route the simulator's traffic anywhere else.
    """
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env.pop("OMAR_TUI_CERT_PASSWORD", None)
    env[CONFIG_DIR_VAR] = str(config_dir)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    env.update(extra)
    return env


def venv_script(name: str) -> list[str]:
    """The command of a console script installed beside this Python."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    found = shutil.which(name)
    if found:
        return [found]
    return [sys.executable, "-m", name.replace("-", "_")]


# --- timing -----------------------------------------------------------------


def timed(call: Callable[[], object]) -> float:
    """Seconds ``call`` took, by the monotonic high-resolution clock."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio_row(
    bench: str,
    measure: str,
    samples: Sequence[float],
    baseline: str,
    baseline_samples: Sequence[float],
    *,
    unit: str = "s",
    max_ratio: float | None = None,
    note: str = "",
) -> Row:
    """A row whose target, if any, is a ratio to the baseline's median."""
    row = Row(
        bench,
        measure,
        median(samples),
        unit,
        baseline,
        median(baseline_samples),
        samples=[round(s, 6) for s in samples],
        baseline_samples=[round(s, 6) for s in baseline_samples],
        note=note,
    )
    if max_ratio is not None and row.ratio is not None:
        row.target = f"<= {max_ratio:g}x"
        row.met = row.ratio <= max_ratio
    return row


def limit_row(
    bench: str,
    measure: str,
    samples: Sequence[float],
    limit: float,
    *,
    unit: str = "s",
    baseline: str = "",
    baseline_samples: Sequence[float] = (),
    note: str = "",
) -> Row:
    """A row whose target is an absolute limit on the median."""
    value = median(samples)
    return Row(
        bench,
        measure,
        value,
        unit,
        baseline,
        median(baseline_samples) if baseline_samples else None,
        target=f"<= {_fmt(limit, unit)}",
        met=value <= limit,
        samples=[round(s, 6) for s in samples],
        baseline_samples=[round(s, 6) for s in baseline_samples],
        note=note,
    )


def skipped_row(bench: str, measure: str, target: str, why: str) -> Row:
    return Row(bench, measure, None, "", target=target, note=f"skipped: {why}")


# --- the table --------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        if value < 0.001:
            return f"{value * 1e6:.0f} us"
        if value < 1:
            return f"{value * 1000:.1f} ms"
        return f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:g} {unit}".strip()


def table(rows: Sequence[Row], *, markdown: bool = False) -> str:
    """The rows as a plain-text (or Markdown) table, one figure a line."""
    head = ["bench", "measure", "omar-tui", "baseline", "baseline value", "ratio"]
    head += ["target", "met"]
    lines: list[list[str]] = []
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        lines.append(
            [
                r.bench,
                r.measure,
                _fmt(r.value, r.unit) if r.value is not None else r.note or "-",
                r.baseline or "-",
                _fmt(r.baseline_value, r.unit),
                ratio,
                r.target or "-",
                met,
            ]
        )
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines]
        return "\n".join(out)

    widths = [max(len(x[i]) for x in [head, *lines]) for i in range(len(head))]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    for cells in lines:
        out.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    return "\n".join(out)


def say(*parts: object) -> None:
    """Progress on stderr, so stdout keeps only the tables."""
    print(*parts, file=sys.stderr, flush=True)


def script_main(
    doc: str | None,
    options: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], Report],
) -> int:
    """The ``main`` of every ``bench_*.py``: parse, run, print, write JSON."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    options(parser)
    report = run(parser.parse_args())
    print(table(report.rows))
    print(f"results: {report.write()}")
    return 0
