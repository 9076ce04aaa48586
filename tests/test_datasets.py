import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import al_widget as alw

from conftest import MNIST


def test_bundled_digits_are_scikit_learns_digits_scaled_to_bytes():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    images, labels = alw.datasets.digits()
    assert images.shape == (1797, 8, 8)
    assert images.dtype == np.uint8
    np.testing.assert_array_equal(labels, reference.target)
    np.testing.assert_array_equal(images, np.round(reference.images * 255 / 16).astype(np.uint8))


def test_mnist_reads_the_real_test_set():
    images, labels = alw.datasets.mnist(MNIST)
    assert images.shape == (10_000, 28, 28)
    assert labels.shape == (10_000,)
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]


def test_mnist_without_a_path_reads_the_test_set_that_ships_in_the_package():
    images, labels = alw.datasets.mnist()
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]
    assert alw.datasets.MNIST_TEST_SET.parent == Path(alw.__file__).parent / "data"


@pytest.mark.slow
def test_mnist_needs_no_source_checkout_only_the_installed_package(tmp_path):
    """A copy of the package as a wheel installs it, imported from elsewhere: no tests/ beside it."""
    site, elsewhere = tmp_path / "site-packages", tmp_path / "class"
    shutil.copytree(
        Path(alw.__file__).parent,
        site / "al_widget",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    elsewhere.mkdir()
    code = (
        "import al_widget as alw\n"
        "images, labels = alw.datasets.mnist()\n"
        "print(alw.__file__, images.shape, len(set(labels.tolist())))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        str(site / "al_widget" / "__init__.py"),
        "(10000,",
        "28,",
        "28)",
        "10",
    ]


def _idx(array):
    """The bytes of an IDX file of uint8 `array`: magic 0x0000 08 ndim, big-endian counts, data."""
    counts = np.array(array.shape, ">i4").tobytes()
    return bytes((0, 0, 8, array.ndim)) + counts + array.tobytes()


def _two_digits():
    return np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)


def test_mnist_reads_uncompressed_idx_files(tmp_path):
    images = _two_digits()
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(images))
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(_idx(np.array([3, 7], np.uint8)))
    got, labels = alw.datasets.mnist(tmp_path)
    np.testing.assert_array_equal(got, images)
    assert labels.tolist() == [3, 7]


def test_mnist_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no MNIST file t10k-images-idx3-ubyte"):
        alw.datasets.mnist(tmp_path)


@pytest.mark.parametrize(
    ("damage", "found"),
    [
        (lambda data: data[:1000], "promises 2 x 28 x 28 = 1568 bytes of data, it holds 984"),
        (lambda data: data + bytes(28 * 28), "1568 bytes of data, it holds 2352"),
        (lambda data: data[:10], "10 bytes, shorter than its 16-byte header"),
        (lambda data: bytes(4) + data[4:], "magic number 00000000, expected 00000803"),
    ],
    ids=["truncated", "too_long", "header_cut", "bad_magic"],
)
def test_a_damaged_mnist_file_is_refused_naming_it(tmp_path, damage, found):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(damage(_idx(_two_digits())))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.array([3, 7], np.uint8)))
    path = tmp_path / "t10k-images-idx3-ubyte"
    with pytest.raises(
        ValueError, match=rf"MNIST file {re.escape(str(path))} is truncated or corrupt: .*{found}"
    ):
        alw.datasets.mnist(tmp_path)


def test_mnist_images_other_than_28_by_28_are_refused(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(np.zeros((2, 27, 27), np.uint8)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.array([3, 7], np.uint8)))
    with pytest.raises(ValueError, match=r"MNIST images must be 28 x 28, got \(27, 27\)"):
        alw.datasets.mnist(tmp_path)


def test_a_cut_gzipped_mnist_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx(_two_digits()))[:200])
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.array([3, 7], np.uint8)))
    with pytest.raises(
        ValueError, match=rf"MNIST file {re.escape(str(path))} is truncated or corrupt: .*ended"
    ):
        alw.datasets.mnist(tmp_path)


def test_the_toy_pool_is_two_classes_of_points_drawn_as_dots():
    toy = alw.datasets.cats_vs_milkshakes(200, seed=1)
    assert toy.points.shape == (200, 2)
    assert set(toy.labels.tolist()) == {0, 1}
    assert toy.images.shape == (200, 16, 16)
    brightest = np.unravel_index(toy.images[0].argmax(), (16, 16))
    x, y = toy.points[0]
    assert abs(brightest[1] - x * 16) <= 1.5
    assert abs(brightest[0] - (1 - y) * 16) <= 1.5


def test_the_toy_boundary_is_a_line_through_the_centre_tilted_off_vertical():
    toy = alw.datasets.cats_vs_milkshakes(tilt=12)
    assert toy.boundary == alw.datasets.Line((0.5, 0.5), 78.0)


def test_without_noise_cats_are_exactly_the_points_on_the_fluffy_side_of_the_boundary():
    toy = alw.datasets.cats_vs_milkshakes(500, noise=0, seed=3)
    cats = toy.boundary.side(toy.points) > 0
    np.testing.assert_array_equal(toy.labels, np.where(cats, 0, 1))
    assert toy.points[cats, 0].mean() > toy.points[~cats, 0].mean()


def test_noise_mixes_the_classes_only_near_the_boundary():
    toy = alw.datasets.cats_vs_milkshakes(2000, noise=0.02, seed=1)
    distance = toy.boundary.side(toy.points)
    crossed = (distance > 0) != (toy.labels == 0)
    assert 0 < crossed.sum() < 0.05 * len(toy.labels)
    assert np.abs(distance[crossed]).max() < 0.1


def test_both_toy_classes_are_well_represented():
    counts = np.bincount(alw.datasets.cats_vs_milkshakes(400).labels)
    assert counts.min() > 150


def test_a_clumped_toy_keeps_only_a_few_points_near_its_boundary():
    clumped = alw.datasets.cats_vs_milkshakes(20_000, clumped=0.997, seed=0)
    even = alw.datasets.cats_vs_milkshakes(20_000, seed=0)
    near = [int((np.abs(toy.boundary.side(toy.points)) < 0.1).sum()) for toy in (clumped, even)]
    assert near[0] < 100 < 3_000 < near[1]
    assert np.bincount(clumped.labels).min() > 9_000  # one clump on each side


@pytest.mark.parametrize("share", [-0.1, 1.0, float("nan"), "half"])
def test_a_clumped_share_outside_0_to_1_is_refused(share):
    with pytest.raises(
        ValueError, match="clumped must be None or a finite number >= 0.0 and < 1.0"
    ):
        alw.datasets.cats_vs_milkshakes(100, clumped=share)


def test_line_side_is_positive_to_the_right_of_its_direction():
    upward = alw.datasets.Line((0.5, 0.5), 90.0)
    assert upward.side(np.array([[0.9, 0.5], [0.1, 0.5]])).tolist() == pytest.approx([0.4, -0.4])


@pytest.mark.parametrize(
    ("a", "b", "between"), [(80, 90, 10), (10, 170, 20), (0, 180, 0), (45, 135, 90)]
)
def test_the_angle_between_lines_ignores_direction_and_is_at_most_90_degrees(a, b, between):
    line = alw.datasets.Line((0.5, 0.5), a)
    assert line.angle_to(alw.datasets.Line((0.2, 0.1), b)) == pytest.approx(between)


def test_moons_are_the_curved_toy_without_a_straight_boundary():
    toy = alw.datasets.moons(400)
    cats, shakes = toy.points[toy.labels == 0], toy.points[toy.labels == 1]
    assert toy.boundary is None
    assert cats[:, 1].mean() > shakes[:, 1].mean()
    assert toy.images.shape == (400, 16, 16)
