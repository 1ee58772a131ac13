"""Karaoke results: a song's analysis, and its lyrics with every version kept.

A job's result and a user's edit are both a new version of the lyrics: nothing is overwritten,
so an edit survives a later re-run (the editor can restore it), and an edit made from an older
version than the newest is refused (:class:`~domain.exceptions.LyricsConflict`) rather than
silently undoing what finished meanwhile.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from domain.exceptions import InvalidLyrics, LyricsConflict
from domain.lyrics import LyricsDoc
from domain.models import Analysis, Lyrics, LyricsVersion, Project

#: Languages a user can choose for lyrics (Whisper's codes); the model detects others too.
LYRICS_LANGUAGES = ("en", "pt", "es", "fr", "de", "it")
#: Versions of a song's lyrics kept (the newest); an older one is deleted as a new one is saved.
VERSIONS_KEPT = 50


def analysis_save(*, project: Project, result: dict[str, Any], engine: str) -> Analysis:
    """Record what the analysis measured (``AnalysisResult.to_json()``); a re-run replaces it."""
    analysis, _created = Analysis.objects.update_or_create(
        project=project,
        defaults={
            "tempo_bpm": float(result["tempo_bpm"]),
            "beats": list(result["beats"]),
            "downbeats": list(result["downbeats"]),
            "time_signature": result["time_signature"],
            "key": result["key"],
            "key_confidence": float(result["key_confidence"]),
            "loudness_lufs": float(result["loudness_lufs"]),
            "peak_dbfs": float(result["peak_dbfs"]),
            "engine": engine,
        },
    )
    return analysis


def lyrics_save(
    *,
    project: Project,
    doc: LyricsDoc,
    source: str,
    language: str,
    model_name: str = "",
    from_version: int | None = None,
) -> Lyrics:
    """Save ``doc`` as the newest version of ``project``'s lyrics.

    ``from_version``: the version an edit was made from; when a newer one exists the edit is
    refused with ``LyricsConflict`` (409) and nothing is written. Jobs pass ``None``.
    """
    if not doc.lines:
        message = _("Lyrics need at least one line. To start again, paste them or transcribe the song again.")
        raise InvalidLyrics(message, field="lines")
    lines = doc.to_json()
    with transaction.atomic():
        # The project's row is the lock: the first save has no lyrics row to lock yet, and two
        # first saves at once would both write version 1.
        Project.objects.select_for_update().filter(pk=project.pk).exists()
        lyrics = Lyrics.objects.select_for_update().filter(project=project).first()
        if lyrics is None:
            if from_version not in (None, 0):
                raise LyricsConflict(_("These lyrics were removed meanwhile. Reload them."), version=0)
            lyrics = Lyrics(project=project, version=0)
        elif from_version is not None and from_version != lyrics.version:
            raise LyricsConflict(
                _("A newer version of these lyrics was saved meanwhile (version %(version)d). Reload it first.")
                % {"version": lyrics.version},
                version=lyrics.version,
            )
        lyrics.version += 1
        lyrics.lines = lines
        lyrics.source = source
        lyrics.language = language
        if model_name:
            lyrics.model_name = model_name
        lyrics.full_clean()
        lyrics.save()
        version = LyricsVersion(lyrics=lyrics, number=lyrics.version, source=source, language=language, lines=lines)
        version.full_clean()
        version.save(force_insert=True)
        # Only the newest VERSIONS_KEPT are kept (numbers run 1, 2, 3...): each holds a whole copy of the lines.
        LyricsVersion.objects.filter(lyrics=lyrics, number__lte=lyrics.version - VERSIONS_KEPT).delete()
    return lyrics
