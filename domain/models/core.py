"""The nouns of IsoMix: projects, their stems, the background jobs, exports, and saved mixes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from domain.mix import MIX_PRESET_NAME_MAX, MixSettings, export_basename


class StemKind(models.TextChoices):
    VOCALS = "vocals", _("Vocals")
    DRUMS = "drums", _("Drums")
    BASS = "bass", _("Bass")
    OTHER = "other", _("Other")
    GUITAR = "guitar", _("Guitar")
    PIANO = "piano", _("Piano")
    #: Everything but the vocals, of a two-stem separation (vocals + instrumental, for karaoke).
    INSTRUMENTAL = "instrumental", _("Instrumental")


STEM_ORDER = [k.value for k in StemKind]


class Project(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    original_key = models.CharField(max_length=255)
    original_filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=16)
    duration_s = models.FloatField()
    sample_rate = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    engine = models.CharField(max_length=32, blank=True)
    model_name = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True, help_text=_("Shown to the user when the project failed."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    #: The owner's plan limits when the song was uploaded (business.selectors.PlanLimits): its
    #: jobs run under them, so a downgrade after the upload does not fail work already accepted.
    limits = models.JSONField(default=dict, blank=True, help_text=_("Plan limits at upload."))

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def engine_label(self) -> str:
        """How the stems were made, in a musician's words (the engine's id is for operators)."""
        return engine_label(engine=self.engine, model_name=self.model_name)


#: Plain words for each separation model a project can record (Project.model_name).
MODEL_LABELS = {
    "spleeter-2stems+net": _("Fast separation (built in)"),
    "spleeter-2stems+dsp": _("Fast separation (built in, first release)"),
    "htdemucs": _("Demucs, high quality"),
    "htdemucs_ft": _("Demucs fine-tuned, best quality"),
    "htdemucs_6s": _("Demucs, 6 stems (with guitar and piano)"),
    "demucs_unittest": _("Demucs test model (untrained)"),
}

#: The model each separation engine a user can choose records (the keys are the choices' ids).
ENGINE_MODELS = {
    "offline": "spleeter-2stems+net",
    "htdemucs": "htdemucs",
    "htdemucs_ft": "htdemucs_ft",
    "htdemucs_6s": "htdemucs_6s",
    "demucs_unittest": "demucs_unittest",
}

#: What to expect of each engine, in one line (shown with its name where a user chooses).
ENGINE_NOTES = {
    "offline": _("Ready in seconds on any server. Clean vocals; drums, bass and other are rougher."),
    "htdemucs": _("Studio-grade stems. A few minutes per song without a GPU."),
    "htdemucs_ft": _("The cleanest stems, and about four times slower than Demucs high quality."),
    "htdemucs_6s": _("Adds guitar and piano stems to the four; the piano is the least clean."),
    "demucs_unittest": _("Checks that Demucs runs on this server. Its stems are not music."),
}


def engine_label(*, engine: str, model_name: str) -> str:
    """The plain-words name of a separation; empty before one ran."""
    if not engine:
        return ""
    label = MODEL_LABELS.get(model_name)
    if label is not None:
        return str(label)
    return str(_("Demucs") if engine == "demucs" else _("Fast separation (built in)"))


class Stem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stems")
    kind = models.CharField(max_length=16, choices=StemKind.choices)
    file_key = models.CharField(max_length=255)
    preview_key = models.CharField(max_length=255)
    peaks = models.JSONField(default=list, help_text=_("[[min, max], ...] of the mono signal."))
    peaks_per_second = models.PositiveIntegerField(default=100)
    duration_s = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "kind"], name="stem_unique_kind")]

    def __str__(self) -> str:
        return f"{self.project} · {self.kind}"

    @property
    def order(self) -> int:
        return STEM_ORDER.index(self.kind)


class Job(models.Model):
    class Kind(models.TextChoices):
        SEPARATE = "separate", _("Separate stems")
        ANALYSE = "analyse", _("Analyse beats and key")
        LYRICS = "lyrics", _("Lyrics")
        EXPORT = "export", _("Export mix")
        STYLE = "style", _("Grain library")
        REMIX = "remix", _("Remix")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (State.DONE, State.FAILED, State.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: What the job works on: a song (every kind but ``style``) or a style sound (``style``).
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs", null=True, blank=True)
    style = models.ForeignKey("domain.StyleSound", on_delete=models.CASCADE, related_name="jobs", null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text=_("Technical detail, for operators."))
    user_error = models.TextField(blank=True, help_text=_("Shown to the user."))
    engine = models.CharField(max_length=32, blank=True)
    model_name = models.CharField(max_length=64, blank=True)
    #: Sent to the priority queues (the plan's), ahead of the others.
    priority = models.BooleanField(default=False)
    #: What the job was asked to do beyond its kind (a lyrics job: the user's text and language).
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text=_("When its message reached the broker."))
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Last sign of life from the worker running it.")
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="style", project__isnull=True, style__isnull=False)
                    | (~models.Q(kind="style") & models.Q(project__isnull=False, style__isnull=True))
                ),
                name="job_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.state}"

    @property
    def owner_id(self) -> int:
        """Whose work this is (its song's or its style sound's owner)."""
        return self.style.owner_id if self.project_id is None else self.project.owner_id

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED


class Export(models.Model):
    class Format(models.TextChoices):
        MP3 = "mp3", "MP3"
        WAV = "wav", "WAV"
        FLAC = "flac", "FLAC"
        #: A zip of the mix as MP3 and the song's lyrics as LRC (line and word timed), for players.
        KARAOKE = "karaoke", _("Karaoke bundle")

    class Region(models.TextChoices):
        ALL = "all", _("Whole song")
        LOOP = "loop", _("Loop region")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="export")
    format = models.CharField(max_length=8, choices=Format.choices)
    settings = models.JSONField(
        help_text=_("Mixer settings: master gain, per stem gain, mute, solo and pan, tempo, transpose and loop.")
    )
    bitrate_kbps = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("MP3 bit rate in kb/s; empty for lossless formats.")
    )
    region = models.CharField(max_length=8, choices=Region.choices, default=Region.ALL)
    #: The remix whose re-voiced stems were in the mixer when the export was asked for (they render
    #: with the song's own); none when there was none.
    remix = models.ForeignKey("domain.Remix", on_delete=models.SET_NULL, null=True, blank=True, related_name="exports")
    file_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.project} · {self.format}"

    @property
    def filename(self) -> str:
        """The name the download is saved under: the song and what the export holds."""
        base = export_basename(
            project_name=self.project.name, settings=MixSettings.from_json(self.settings), region=self.region
        )
        return f"{base}.{self.extension}"

    @property
    def extension(self) -> str:
        return "zip" if self.format == self.Format.KARAOKE else self.format


class Analysis(models.Model):
    """What the analysis job measured of a song: its beat grid, meter, key and loudness."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="analysis")
    tempo_bpm = models.FloatField(help_text=_("Beats per minute; 0 when no beat was found."))
    beats = models.JSONField(default=list, help_text=_("Beat times in seconds."))
    downbeats = models.JSONField(default=list, help_text=_("The first beat of each bar, in seconds."))
    time_signature = models.CharField(max_length=8)
    key = models.CharField(max_length=16, blank=True)
    key_confidence = models.FloatField(default=0.0)
    loudness_lufs = models.FloatField(help_text=_("Integrated loudness (EBU R 128 / BS.1770)."))
    peak_dbfs = models.FloatField()
    engine = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("analyses")

    def __str__(self) -> str:
        return str(self.project)


class Lyrics(models.Model):
    """A song's word-timed lyrics: the newest version's lines, with every earlier version kept."""

    class Source(models.TextChoices):
        TRANSCRIBED = "transcribed", _("Transcribed")
        ALIGNED = "aligned", _("Aligned to your text")
        EDITED = "edited", _("Edited")

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="lyrics")
    language = models.CharField(max_length=8, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    lines = models.JSONField(default=list, help_text=_("[{start, end, text, words: [{word, start, end}]}]"))
    version = models.PositiveIntegerField(default=1)
    model_name = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("lyrics")

    def __str__(self) -> str:
        return str(self.project)


class LyricsVersion(models.Model):
    """One saved state of a song's lyrics (a transcription, an alignment or a user's edit)."""

    lyrics = models.ForeignKey(Lyrics, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=Lyrics.Source.choices)
    language = models.CharField(max_length=8, blank=True)
    lines = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["lyrics", "number"], name="lyricsversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.lyrics} · v{self.number}"


class MixState(models.Model):
    """The mixer as its owner left it on the project's page (one per project), restored on reload."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="mix_state")
    settings = models.JSONField(help_text=_("Mixer settings, as the export takes them."))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.project)


class MixPreset(models.Model):
    """A named mixer setting of one project ("Practice: no drums, 80 %")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mix_presets")
    name = models.CharField(max_length=MIX_PRESET_NAME_MAX)
    settings = models.JSONField(help_text=_("Mixer settings, as the export takes them."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="mixpreset_unique_name")]

    def __str__(self) -> str:
        return f"{self.project} · {self.name}"


class WorkerBeat(models.Model):
    """A background worker's last sign of life, for /health and the admin."""

    name = models.CharField(max_length=200, primary_key=True, help_text=_("host:pid"))
    queues = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.name
