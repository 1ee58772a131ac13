"""The weights fetcher knows every model's files from the installed demucs package."""

from __future__ import annotations

import pytest

from model.weights import DEMUCS_MODELS, demucs_remote_files


@pytest.mark.parametrize("name", DEMUCS_MODELS)
def test_each_model_names_its_weight_files(name):
    bag_yaml, files = demucs_remote_files(name)

    assert bag_yaml.name == f"{name}.yaml"
    assert files  # at least one signature
    assert all(f.endswith(".th") and "-" in f for f in files)
    assert all(url.endswith(f) for f, url in files.items())


def test_htdemucs_ft_is_a_bag_of_four():
    assert len(demucs_remote_files("htdemucs_ft")[1]) == 4


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="unknown Demucs model"):
        demucs_remote_files("htdemucs_xl")
