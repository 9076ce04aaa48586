"""Pretrained weights: the one downloader into torch's cache and the state dict reader."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from al_widget.learners import Cancelled
from al_widget.learners._weights import download, is_path, read_state_dict


def served(tmp_path: Path, content: bytes, name: str) -> str:
    """A file:// URL serving `content` under `name`."""
    folder = tmp_path / "server"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(content)
    return (folder / name).as_uri()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_a_download_lands_in_torchs_cache_and_is_read_from_there_next_time(tmp_path, cache):
    url = served(tmp_path, b"weights", "net.pth")
    assert download(url, timeout=5) == cache / "net.pth"
    Path(url.removeprefix("file://")).unlink()  # the server is gone: the cached file is used
    assert download(url, timeout=5).read_bytes() == b"weights"


def test_a_file_whose_hash_does_not_match_its_name_is_refused_and_not_kept(tmp_path, cache):
    wrong = hashlib.sha256(b"other").hexdigest()[:8]
    url = served(tmp_path, b"weights", f"net-{wrong}.pth")
    with pytest.raises(OSError, match="corrupt"):
        download(url, timeout=5)
    assert not cache.exists() or not list(cache.iterdir())


def test_a_stopped_download_leaves_no_file(tmp_path, cache):
    url = served(tmp_path, b"weights", "net.pth")
    with pytest.raises(Cancelled):
        download(url, timeout=5, should_stop=lambda: True)
    assert not list(cache.iterdir())


@pytest.mark.parametrize("wrapper", [None, "state_dict", "model"])
def test_a_state_dict_is_read_bare_or_from_a_checkpoint(tmp_path, wrapper):
    state = {"weight": torch.ones(2)}
    torch.save(state if wrapper is None else {wrapper: state, "epoch": 3}, tmp_path / "s.pth")
    assert torch.equal(read_state_dict(tmp_path / "s.pth")["weight"], torch.ones(2))


def test_a_file_holding_no_state_dict_is_refused(tmp_path):
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="holds a list, not a state dict"):
        read_state_dict(tmp_path / "list.pth")


@pytest.mark.parametrize(
    ("weights", "expected"),
    [("DEFAULT", False), ("IMAGENET1K_V1", False), ("net.pth", True), ("a/b", True)],
)
def test_a_path_is_told_from_a_torchvision_weights_name(weights, expected):
    assert is_path(weights) is expected
    assert is_path(Path("DEFAULT"))
