"""Song analysis (placeholder docstring, rewritten below)."""

from __future__ import annotations

from model.pipelines.analysis.params import METERS, AnalysisParams, AnalysisResult
from model.pipelines.analysis.pipeline import analyse, warm_up

__all__ = ["METERS", "AnalysisParams", "AnalysisResult", "analyse", "warm_up"]
