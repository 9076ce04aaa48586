"""Images of every PIL mode and of wider types shown without losing what they show: 12-bit
data not near black, 8-bit data in a wider type kept, 0..1 floats scaled, transparency
composited on white, and a warning naming the image wherever something cannot be shown."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw

CLASSES = ["a", "b"]
RAMP_12_BIT = np.linspace(0, 4095, 64).reshape(8, 8).astype(np.uint16)


def shown(items) -> np.ndarray:
    """Image 0 of a dataset over `items`, gray (one channel), read with no warning allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = alw.Dataset(items, CLASSES).image(0)
    assert (image == image[..., :1]).all()
    return image[..., 0]


def test_12_bit_data_in_a_16_bit_png_fills_0_to_255(tmp_path: Path) -> None:
    Image.fromarray(RAMP_12_BIT).save(tmp_path / "scan.png")
    np.testing.assert_array_equal(shown([tmp_path / "scan.png"]), RAMP_12_BIT >> 4)


def test_12_bit_data_in_a_uint16_array_shows_as_its_file_does() -> None:
    np.testing.assert_array_equal(shown(RAMP_12_BIT[None]), RAMP_12_BIT >> 4)


def test_full_range_16_bit_data_shows_its_high_byte() -> None:
    deep = np.linspace(0, 65535, 64).reshape(1, 8, 8).astype(np.uint16)
    np.testing.assert_array_equal(shown(deep), deep[0] >> 8)


def test_8_bit_values_in_a_mode_i_image_are_kept_exact() -> None:
    values = (np.arange(64).reshape(8, 8) * 4).astype(np.int32)  # 0..252
    np.testing.assert_array_equal(shown([Image.fromarray(values)]), values)


def test_a_mode_f_image_of_0_to_1_is_scaled_to_0_to_255() -> None:
    values = np.linspace(0, 1, 64).reshape(8, 8).astype(np.float32)
    np.testing.assert_array_equal(shown([Image.fromarray(values)]), np.rint(values * 255))


def test_a_mode_f_image_of_0_to_255_is_kept(tmp_path: Path) -> None:
    values = np.arange(0, 256, 4, dtype=np.float32).reshape(8, 8)
    Image.fromarray(values).save(tmp_path / "float.tif")
    np.testing.assert_array_equal(shown([tmp_path / "float.tif"]), values)


def test_values_below_0_are_shown_as_0_with_a_warning_naming_the_image(tmp_path: Path) -> None:
    values = np.full((8, 8), 100, np.int32)
    values[0] = -3
    Image.fromarray(values).save(tmp_path / "signed.tif")
    match = r"image 0 \(.*signed.tif\) has values below 0 \(down to -3\).*shown as 0"
    with pytest.warns(UserWarning, match=match):
        image = alw.Dataset([tmp_path / "signed.tif"], CLASSES).image(0)
    assert image[0].max() == 0  # not wrapped round to white
    assert image[1:].min() == 100


def test_nan_values_are_shown_as_0_with_a_warning_naming_the_image(tmp_path: Path) -> None:
    values = np.full((8, 8), 0.5, np.float32)
    values[0, 0] = np.nan
    Image.fromarray(values).save(tmp_path / "nan.tif")
    with pytest.warns(UserWarning, match=r"image 0 \(.*nan.tif\) has 1 NaN or infinite values"):
        image = alw.Dataset([tmp_path / "nan.tif"], CLASSES).image(0)
    assert image[0, 0, 0] == 0
    assert image[1, 1, 0] == 128


def half_red_palette_image() -> Image.Image:
    """A P image: its top half palette entry 1 (red), the rest entry 0 (black)."""
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 200, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 8, 4))
    return image


@pytest.mark.parametrize("suffix", ["png", "gif"])
def test_a_palette_image_with_a_transparent_entry_is_composited_on_white(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"logo.{suffix}"
    half_red_palette_image().save(path, transparency=0)
    image = alw.Dataset([path], CLASSES).image(0)
    assert image[0, 0].tolist() == [200, 0, 0]
    assert image[7, 7].tolist() == [255, 255, 255]


def test_a_gray_image_with_a_transparent_level_is_composited_on_white(tmp_path: Path) -> None:
    gray = np.zeros((8, 8), np.uint8)
    gray[:4] = 90
    Image.fromarray(gray).save(tmp_path / "gray.png", transparency=0)
    image = alw.Dataset([tmp_path / "gray.png"], CLASSES).image(0)
    assert image[0, 0].tolist() == [90, 90, 90]
    assert image[7, 7].tolist() == [255, 255, 255]


def two_frames(path: Path) -> Path:
    frames = [Image.fromarray(np.full((5, 7, 3), level, np.uint8)) for level in (10, 200)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


@pytest.mark.parametrize("suffix", ["gif", "tif"])
def test_an_animation_or_multi_page_file_shows_its_first_frame_with_a_warning(
    tmp_path: Path, suffix: str
) -> None:
    path = two_frames(tmp_path / f"clip.{suffix}")
    match = rf"image 0 \(.*clip.{suffix}\) has 2 frames .*only frame 1 is used"
    with pytest.warns(UserWarning, match=match):
        image = alw.Dataset([path], CLASSES).image(0)
    assert image.max() == 10


def test_a_warning_is_given_once_per_image_however_often_it_is_read(tmp_path: Path) -> None:
    paths = [two_frames(tmp_path / "one.gif"), two_frames(tmp_path / "two.gif")]
    dataset = alw.Dataset(paths, CLASSES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            dataset.image(0)
            dataset.image(1)
            dataset.batch([0, 1])
    assert sorted(str(w.message).split(" has ")[0] for w in caught) == [
        f"image 0 ({paths[0]})",
        f"image 1 ({paths[1]})",
    ]
