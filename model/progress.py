"""Splits a job into weighted stages and reports whole percents, only when they change."""

from __future__ import annotations

from collections.abc import Callable, Sequence


class Progress:
    """Progress over stages with weights, e.g. ``[("decode", 10), ("separate", 80), ("encode", 10)]``.

    ``emit(percent, stage)`` is called only when the integer percent or the stage changes.
    """

    def __init__(
        self,
        stages: Sequence[tuple[str, float]],
        emit: Callable[[int, str], None],
        *,
        check: Callable[[], None] | None = None,
    ) -> None:
        total = float(sum(w for _, w in stages))
        self._starts: dict[str, float] = {}
        self._weights: dict[str, float] = {}
        acc = 0.0
        for name, weight in stages:
            self._starts[name] = acc / total
            self._weights[name] = weight / total
            acc += weight
        self._emit = emit
        self._check = check
        self._last: tuple[int, str] | None = None

    def update(self, stage: str, fraction: float = 0.0) -> None:
        """Report that ``stage`` is ``fraction`` (0..1) done.

        ``check()``, when given, runs on every update, emitted or not: it raises to stop the
        work (the job was cancelled), so a long step stops at its next report.
        """
        if self._check is not None:
            self._check()
        fraction = min(max(fraction, 0.0), 1.0)
        percent = int(100 * (self._starts[stage] + self._weights[stage] * fraction))
        percent = min(percent, 99)  # 100 is reserved for "done"
        if (percent, stage) != self._last:
            self._last = (percent, stage)
            self._emit(percent, stage)

    def callback(self, stage: str) -> Callable[[float], None]:
        return lambda fraction: self.update(stage, fraction)
