"""``manage.py separate SONG --out DIR [--engine NAME] [--two-stems]``: stems from the command line."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from domain.audio import audio_probe
from domain.exceptions import IsoMixError
from model.engines import ENGINE_NAMES, get_engine, two_stems_of
from model.pipelines.media import MediaError, decode_audio

#: The operator's own tool on the server: no plan applies; this only bounds the memory a decode takes.
MAX_DURATION_S = 60 * 60.0


class Command(BaseCommand):
    help = "Separate a song into stems and write DIR/{vocals,drums,bass,other}.wav."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--engine", default=settings.ISOMIX_SEPARATION_ENGINE, choices=ENGINE_NAMES)
        parser.add_argument("--two-stems", action="store_true", help="Write vocals.wav and instrumental.wav only.")

    def handle(self, *args, input: Path, out: Path, engine: str, two_stems: bool = False, **options) -> None:
        if not input.is_file():
            raise CommandError(f"{input}: no such file.")
        try:
            info = audio_probe(path=input, max_duration_s=MAX_DURATION_S)
            audio = decode_audio(path=input, sr=info.sample_rate, max_duration_s=MAX_DURATION_S)
        except IsoMixError as exc:
            raise CommandError(f"{input}: {exc.message}") from exc
        except MediaError as exc:
            raise CommandError(f"{input}: {exc.user_message}") from exc
        separator = get_engine(engine, model_dir=settings.ISOMIX_DEMUCS_MODEL_DIR, device=settings.ISOMIX_TORCH_DEVICE)
        self.stderr.write(f"Separating {input.name} ({info.duration_s:.1f} s) with {separator.model_name}…")
        last = [-1]

        def report(fraction: float) -> None:
            percent = int(fraction * 100)
            if percent // 10 != last[0] // 10:
                last[0] = percent
                self.stderr.write(f"  {percent}%")

        stems = separator.separate(audio, sr=info.sample_rate, progress=report)
        if two_stems:
            stems = two_stems_of(stems)
        out.mkdir(parents=True, exist_ok=True)
        for kind, signal in stems.items():
            sf.write(str(out / f"{kind}.wav"), signal.T, info.sample_rate, subtype="PCM_16")
            self.stdout.write(str(out / f"{kind}.wav"))
