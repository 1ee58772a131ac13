"""A stem as local files, between the pipeline that writes it and the service that stores it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StemFiles:
    kind: str
    lossless: Path
    preview: Path
    peaks: list[list[float]]
    peaks_per_second: int
    duration_s: float
