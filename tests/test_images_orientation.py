"""EXIF orientation applied once wherever pixels are read: TIFF files (which Pillow turns as it
loads them), PIL images given in a list, and their sizes read without decoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

import al_widget as alw
from al_widget._images import read_image, read_size

ORIENTATIONS = [2, 3, 4, 5, 6, 7, 8]


def stored_pixels() -> np.ndarray:
    """A 10-high, 20-wide image in which every pixel differs, so any turn or flip shows."""
    return np.random.default_rng(1).integers(0, 256, (10, 20, 3), dtype=np.uint8)


def upright_pixels(orientation: int) -> np.ndarray:
    """`stored_pixels()` as ``ImageOps.exif_transpose`` shows them under `orientation`, from an
    image in memory (no file plugin involved, so the same on every Pillow)."""
    image = Image.fromarray(stored_pixels())
    image.getexif()[0x0112] = orientation
    return np.asarray(ImageOps.exif_transpose(image))


def tiff(path: Path, orientation: int) -> Path:
    Image.fromarray(stored_pixels()).save(path, tiffinfo={274: orientation})
    return path


def jpeg(path: Path, orientation: int) -> Path:
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored_pixels()).save(path, quality=95, exif=exif.tobytes())
    return path


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_a_tiff_with_an_orientation_is_turned_once_as_exif_transpose_turns_it(
    tmp_path: Path, orientation: int
) -> None:
    path = tiff(tmp_path / "scan.tif", orientation)
    np.testing.assert_array_equal(read_image(path, "scan"), upright_pixels(orientation))


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_a_tiff_with_an_orientation_has_its_upright_size_read_from_its_header(
    tmp_path: Path, orientation: int
) -> None:
    path = tiff(tmp_path / "scan.tif", orientation)
    assert read_size(path, "scan") == upright_pixels(orientation).shape[:2]


@pytest.mark.parametrize("orientation", [3, 6])
def test_a_dataset_of_tiffs_gives_upright_pixels_and_size(tmp_path: Path, orientation: int) -> None:
    dataset = alw.Dataset([tiff(tmp_path / "scan.tif", orientation)], ["a"], task="detect")
    assert dataset.image_size(0) == upright_pixels(orientation).shape[:2]
    np.testing.assert_array_equal(dataset.image(0), upright_pixels(orientation))


@pytest.mark.parametrize("make", [jpeg, tiff], ids=["jpeg", "tiff"])
@pytest.mark.parametrize("orientation", [3, 6])
def test_a_pil_image_in_a_list_is_turned_upright_as_its_file_is(
    tmp_path: Path, make, orientation: int
) -> None:
    path = make(tmp_path / f"photo.{make.__name__}", orientation)
    from_file = alw.Dataset([path], ["a"])
    with Image.open(path) as image:
        from_image = alw.Dataset([image], ["a"])
        assert from_image.image_size(0) == from_file.image_size(0)
        np.testing.assert_array_equal(from_image.image(0), from_file.image(0))
    assert from_file.image(0).shape[:2] == upright_pixels(orientation).shape[:2]


def test_a_pil_image_already_turned_by_exif_transpose_is_not_turned_again(tmp_path: Path) -> None:
    with Image.open(jpeg(tmp_path / "photo.jpg", 6)) as image:
        turned = ImageOps.exif_transpose(image)
    dataset = alw.Dataset([turned], ["a"])
    assert dataset.image_size(0) == (20, 10)
    np.testing.assert_array_equal(dataset.image(0), np.asarray(turned))
