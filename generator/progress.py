"""Progress of long work (build, import, gather): a bar on a terminal, a line per phase in
logs, nothing with --quiet.

On a terminal, tqdm draws each phase's bar (count, rate, time left). tqdm is small, has no
dependencies of its own and handles terminal widths, redraws and non-UTF-8 consoles, which
hand-written escape codes would not. Elsewhere (CI logs, pipes), each phase ends with one
plain line: "build: cases 1,234 in 5.6 s (220/s)".
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from generator.site.engine import Progress

MIN_SECONDS = 2.0  # a phase shorter than this draws no bar on a terminal


class TerminalProgress(Progress):
    """A tqdm bar per phase, shown once the phase has run for MIN_SECONDS."""

    def __init__(self, task: str, stream: TextIO) -> None:
        self.task, self.stream = task, stream
        self.bar: Any = None

    def start(self, phase: str, total: int | None = None) -> None:
        from tqdm import tqdm  # imported only when a bar may be drawn

        self.finish()
        self.bar = tqdm(
            total=total,
            desc=f"{self.task}: {phase}",
            unit=" items",
            file=self.stream,
            delay=MIN_SECONDS,
            leave=False,
            dynamic_ncols=True,
        )

    def advance(self, steps: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(steps)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class LogProgress(Progress):
    """One line per phase, for logs (CI) where bars would be noise; a task that ends within
    MIN_SECONDS prints nothing."""

    def __init__(self, task: str, stream: TextIO) -> None:
        self.task, self.stream = task, stream
        self.phase: str | None = None
        self.count = 0
        self.began = self.task_began = time.monotonic()
        self.pending: list[str] = []

    def start(self, phase: str, total: int | None = None) -> None:
        self.finish()
        self.phase, self.count, self.began = phase, 0, time.monotonic()

    def advance(self, steps: int = 1) -> None:
        self.count += steps

    def finish(self) -> None:
        if self.phase is None:
            return
        took = time.monotonic() - self.began
        rate = f" ({self.count / took:,.0f}/s)" if self.count and took > 0 else ""
        self.pending.append(f"{self.task}: {self.phase} {self.count:,} in {took:.1f} s{rate}")
        self.phase = None
        if time.monotonic() - self.task_began >= MIN_SECONDS:
            print("\n".join(self.pending), file=self.stream, flush=True)
            self.pending = []


@contextmanager
def progress_for(
    quiet: bool, task: str = "build", stream: TextIO | None = None
) -> Iterator[Progress]:
    """The progress display for a command: none when quiet, a bar on a terminal, else lines."""
    out = stream or sys.stderr
    shown: Progress
    if quiet:
        shown = Progress()
    elif out.isatty():
        shown = TerminalProgress(task, out)
    else:
        shown = LogProgress(task, out)
    try:
        yield shown
    finally:
        shown.finish()
