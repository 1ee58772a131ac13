"""Granular remix: the user's style sounds (each with its grain library) and the remixes of a song."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from domain.models.core import Job, Project
from domain.remix import REVOICED_KINDS


class StyleSound(models.Model):
    """A sound of the user's ("a trap kit", "a funk bass"), cut into grains by its job."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="style_sounds")
    name = models.CharField(max_length=200)
    original_filename = models.CharField(max_length=255, blank=True)
    file_key = models.CharField(max_length=255)
    format = models.CharField(max_length=16)
    duration_s = models.FloatField()
    size_bytes = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    #: The grain library (``.npz`` of arrays, never pickled), written by the style job.
    grains_key = models.CharField(max_length=255, blank=True)
    grain_count = models.PositiveIntegerField(default=0)
    grains_duration_s = models.FloatField(default=0.0, help_text=_("Seconds of audio in all its grains."))
    scatter = models.JSONField(
        default=list, blank=True, help_text=_("[{i, f0_hz, rms_db, start_s, duration_s}] of its grains, for the plot.")
    )
    user_error = models.TextField(blank=True, help_text=_("Shown to the user when its grains could not be made."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name


class Remix(models.Model):
    """A song's stems re-voiced with style sounds: the request as made, and what it produced."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="remixes")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="remix")
    stems = models.JSONField(help_text=_("Per stem: style sound, gain (dB), enabled, dry/wet."))
    settings = models.JSONField(help_text=_("Grain size, pitch mapping, envelopes, beat snap, seed."))
    #: The mix of the re-voiced stems with the rest (FLAC), once the job is done.
    file_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.project} · {self.created_at:%Y-%m-%d %H:%M}"


class RemixStem(models.Model):
    """One re-voiced stem of a remix, played in the mixer beside the song's own stems."""

    remix = models.ForeignKey(Remix, on_delete=models.CASCADE, related_name="tracks")
    kind = models.CharField(max_length=16, choices=[(k, k) for k in REVOICED_KINDS])
    file_key = models.CharField(max_length=255)
    preview_key = models.CharField(max_length=255)
    peaks = models.JSONField(default=list, help_text=_("[[min, max], ...] of the mono signal."))
    peaks_per_second = models.PositiveIntegerField(default=100)
    duration_s = models.FloatField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["remix", "kind"], name="remixstem_unique_kind")]

    def __str__(self) -> str:
        return f"{self.remix} · {self.kind}"

    @property
    def label(self) -> str:
        """Its strip's name in the mixer ("Drums (re-voiced)")."""
        return str(REMIX_TRACK_LABELS.get(self.kind, self.kind))

    @property
    def track(self) -> str:
        """Its key among the mixer's stems (``remix_drums``): never a stem kind of the song."""
        return remix_track(self.kind)


REMIX_TRACK_LABELS = {
    "drums": _("Drums (re-voiced)"),
    "bass": _("Bass (re-voiced)"),
    "other": _("Other (re-voiced)"),
}


def remix_track(kind: str) -> str:
    return f"remix_{kind}"
