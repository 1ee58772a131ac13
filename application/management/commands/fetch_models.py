"""``manage.py fetch_models``: download Demucs weights once, on a machine with the network."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from model.weights import DEMUCS_MODELS, demucs_weights_fetch


class Command(BaseCommand):
    help = "Download Demucs weights into ISOMIX_DEMUCS_MODEL_DIR (or --dir) for offline use."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("models", nargs="*", default=["htdemucs"], choices=DEMUCS_MODELS)
        parser.add_argument("--dir", type=Path, default=settings.ISOMIX_DEMUCS_MODEL_DIR)

    def handle(self, *args, models: list[str], dir: Path | None, **options) -> None:
        if dir is None:
            raise CommandError("Say where the weights go: --dir DIR or ISOMIX_DEMUCS_MODEL_DIR.")
        try:
            written = demucs_weights_fetch(names=tuple(models), dest=Path(dir), log=self.stdout.write)
        except OSError as exc:
            raise CommandError(f"Download failed ({exc}); this command needs the network.") from exc
        self.stdout.write(f"{len(written)} file(s) written to {dir}; set ISOMIX_DEMUCS_MODEL_DIR={dir}")
