"""Storage keys: the only place that knows where a file lives in the storage."""

from __future__ import annotations

from uuid import UUID


def original_key(*, project_id: UUID, ext: str) -> str:
    return f"uploads/{project_id}/original.{ext}"


def stem_key(*, project_id: UUID, kind: str, version: str = "") -> str:
    """A stem's file; a separation run again writes its stems under a ``version`` folder of their own,
    so the ones the mixer plays stay whole until the new set replaces them."""
    return f"stems/{project_id}/{version}/{kind}.flac" if version else f"stems/{project_id}/{kind}.flac"


def preview_key(*, project_id: UUID, kind: str, ext: str = "mp3", version: str = "") -> str:
    folder = f"previews/{project_id}/{version}" if version else f"previews/{project_id}"
    return f"{folder}/{kind}.{ext}"


def export_key(*, export_id: UUID, ext: str) -> str:
    return f"exports/{export_id}.{ext}"


def project_prefixes(*, project_id: UUID) -> list[str]:
    """Folders holding only this project's files."""
    return [f"uploads/{project_id}", f"stems/{project_id}", f"previews/{project_id}"]


def style_key(*, style_id: UUID, ext: str) -> str:
    return f"styles/{style_id}/original.{ext}"


def style_grains_key(*, style_id: UUID) -> str:
    return f"styles/{style_id}/grains.npz"


def remix_key(*, remix_id: UUID, ext: str = "flac") -> str:
    return f"remixes/{remix_id}.{ext}"


def remix_stem_key(*, remix_id: UUID, kind: str) -> str:
    return f"remixes/{remix_id}/{kind}.flac"


def remix_preview_key(*, remix_id: UUID, kind: str, ext: str = "mp3") -> str:
    return f"remixes/{remix_id}/{kind}.{ext}"
