"""The grading limits of an assignment, one rule for ``coursekit check`` and ``autograde``.

Read from the notebook's ``metadata["coursekit"]`` (instructor's source, copied into the
release): ``cell_timeout`` (s, each answer / set-up cell and each graded call),
``scratch_budget`` (s, shared by the student's own extra cells; default: ``cell_timeout``),
``total_timeout`` / ``fast_total_timeout`` (s, everything graded), ``memory_mb`` and
``total_memory_mb`` (MiB of resident memory of all the student's processes).

Sized so that honest habits never cost points: the address-space cap (``RLIMIT_AS``) is at
least :data:`ADDRESS_SPACE_MB`, far above what importing numpy, scipy, matplotlib, sklearn
and torch maps (about 3.5 GB, ~0.6 GB resident), and the real bound is resident memory,
polled by the sandbox and reported with the limit, the amount used and the cell. Output
beyond :data:`OUTPUT_KEPT_BYTES` per stream is dropped, never fatal.
"""
from __future__ import annotations

from dataclasses import dataclass

ADDRESS_SPACE_MB = 16384
OUTPUT_KEPT_BYTES = 1_000_000
START_UP_S = 20.0  # interpreter + IPython start-up margin on a busy machine


@dataclass(frozen=True)
class GradingLimits:
    cell_timeout: float = 30.0
    scratch_budget: float = 30.0
    total_timeout: float = 120.0
    memory_mb: int = 3072

    @classmethod
    def from_settings(cls, settings: dict, fast: bool = False) -> "GradingLimits":
        cell = float(settings.get("cell_timeout", 30))
        total = float(settings.get("fast_total_timeout" if fast else "total_timeout",
                                   settings.get("total_timeout", 120)))
        memory = int(settings.get("total_memory_mb", settings.get("memory_mb", 3072)))
        return cls(cell, float(settings.get("scratch_budget", cell)), total, memory)

    @property
    def wall_s(self) -> float:
        """The whole run's wall clock: graded work + scratch budget + start-up margin (only a
        child that defeats its own per-cell alarms ever reaches it)."""
        return self.total_timeout + self.scratch_budget + START_UP_S

    @property
    def address_space_mb(self) -> int:
        return max(ADDRESS_SPACE_MB, 4 * self.memory_mb)

    def describe(self) -> list[str]:
        return [
            f"each answer cell and each graded call: {self.cell_timeout:g} s",
            f"your own extra (scratch) cells: {self.scratch_budget:g} s in total; one that runs past "
            "it is stopped and skipped with a note, never a zero",
            f"all graded work together: {self.total_timeout:g} s",
            f"memory: {self.memory_mb} MiB resident (numpy, scipy, matplotlib and torch imports fit)",
            f"printed output: the first {OUTPUT_KEPT_BYTES // 1000} kB of each stream are kept, the rest "
            "is dropped (printing never costs points)",
            "plots (%matplotlib inline/widget), %timeit, %load_ext autoreload and !shell commands "
            "never cost points: they are no-ops where they cannot act",
        ]
