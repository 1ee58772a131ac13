"""One row per benchmark (what, figure, goal, a same-run baseline, a verdict) and the table that prints them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    what: str
    figure: str
    goal: str
    baseline: str
    met: bool | None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "info"}[self.met]


def table(rows: list[Row]) -> str:
    """``rows`` as a Markdown table, each column as wide as its widest cell."""
    headers = ("benchmark", "figure", "goal", "baseline (same run)", "verdict")
    cells = [headers] + [(r.what, r.figure, r.goal, r.baseline, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c[i].ljust(widths[i]) for i in range(len(headers))) + " |" for c in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
