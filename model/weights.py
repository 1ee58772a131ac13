"""Fetching model weights ahead of time, on a machine that has the network.

Nothing here runs during a job: the workers only read weights that are already on disk.
``fetch_models`` lays Demucs weights out as a local model repository (the bag's
``{name}.yaml`` and each ``{signature}-{checksum}.th``), which is what
``ISOMIX_DEMUCS_MODEL_DIR`` points the Demucs engine at.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

DEMUCS_MODELS = ("htdemucs", "htdemucs_ft", "htdemucs_6s")


def demucs_remote_files(name: str) -> tuple[Path, dict[str, str]]:
    """The bag's YAML in the installed demucs package and {file name: URL} of its weights."""
    import yaml
    from demucs import pretrained

    bag_yaml = pretrained.REMOTE_ROOT / f"{name}.yaml"
    if not bag_yaml.is_file():
        raise ValueError(f"unknown Demucs model {name!r}; known: {', '.join(DEMUCS_MODELS)}")
    signatures = yaml.safe_load(bag_yaml.read_text())["models"]
    urls = pretrained._parse_remote_files(pretrained.REMOTE_ROOT / "files.txt")
    return bag_yaml, {urls[sig].rsplit("/", 1)[1]: urls[sig] for sig in signatures}


def demucs_weights_fetch(*, names: tuple[str, ...], dest: Path, log: Callable[[str], None] = print) -> list[Path]:
    """Download the weights of the Demucs models ``names`` into ``dest``; skip files already there.

    Each file is downloaded to a temporary name and moved into place whole, and its
    checksum (the suffix of its name) is verified by demucs when it loads.
    """
    from torch.hub import download_url_to_file

    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        bag_yaml, files = demucs_remote_files(name)
        for filename, url in files.items():
            target = dest / filename
            if target.exists():
                log(f"{name}: {filename} already present")
                continue
            log(f"{name}: downloading {filename}")
            partial = target.with_suffix(".part")
            download_url_to_file(url, str(partial), progress=False)
            partial.replace(target)
            written.append(target)
        shutil.copyfile(bag_yaml, dest / bag_yaml.name)
    return written
