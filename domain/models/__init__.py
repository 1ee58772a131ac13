"""The nouns of IsoMix: projects, their stems, the background jobs, exports and saved mixes
(:mod:`domain.models.core`), and the granular remix's style sounds and remixes
(:mod:`domain.models.remix`)."""

from domain.models.core import (
    ENGINE_MODELS,
    ENGINE_NOTES,
    MODEL_LABELS,
    STEM_ORDER,
    Analysis,
    Export,
    Job,
    Lyrics,
    LyricsVersion,
    MixPreset,
    MixState,
    Project,
    Stem,
    StemKind,
    WorkerBeat,
    engine_label,
)
from domain.models.remix import REVOICED_KINDS, Remix, RemixStem, StyleSound, remix_track

__all__ = [
    "ENGINE_MODELS",
    "ENGINE_NOTES",
    "MODEL_LABELS",
    "REVOICED_KINDS",
    "STEM_ORDER",
    "Analysis",
    "Export",
    "Job",
    "Lyrics",
    "LyricsVersion",
    "MixPreset",
    "MixState",
    "Project",
    "Remix",
    "RemixStem",
    "Stem",
    "StemKind",
    "StyleSound",
    "WorkerBeat",
    "engine_label",
    "remix_track",
]
