"""Demo data that needs no download: digits and the MNIST test set (both bundled), a 2-D teaching
toy, synthetic shapes for detection and segmentation."""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._shapes import Shapes as Shapes
from ._shapes import shapes as shapes
from .settings import check_number

_DATA = Path(__file__).parent / "data"
DIGIT_CLASSES = [str(d) for d in range(10)]
TOY_CLASSES = ["cat", "milkshake"]
MNIST_TEST_SET = _DATA / "mnist-t10k"  # the 10,000 MNIST test digits, shipped with the package


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 real 8x8 handwritten digits of UCI/scikit-learn: (N, 8, 8) uint8 images, (N,) labels."""
    with np.load(_DATA / "digits.npz") as data:
        return data["images"], data["labels"].astype(np.int64)


def mnist(path: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST from a folder holding the IDX files (gzipped or not): (N, 28, 28) uint8, (N,) labels.

    Parameters
    ----------
    path : str or PathLike, optional
        The folder (the test set's files ``t10k-*`` or the training set's ``train-*``). None: the
        10,000 test digits that ship with al_widget (`MNIST_TEST_SET`; CC BY-SA 3.0), so a
        ``pip install`` is all a class needs.

    A file that is truncated or corrupt (a cut download, a gzip stream that ends early, a
    header whose magic number or counts do not fit the data) is refused with a ValueError
    naming it.
    """
    folder = MNIST_TEST_SET if path is None else Path(path)
    images = _read_idx(_find(folder, ("t10k-images-idx3-ubyte", "train-images-idx3-ubyte")), 3)
    labels = _read_idx(_find(folder, ("t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte")), 1)
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{folder}: MNIST images must be 28 x 28, got {images.shape[1:]}")
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels")
    return images, labels.astype(np.int64)


def _find(folder: Path, stems: tuple[str, ...]) -> Path:
    for stem in stems:
        for name in (stem + ".gz", stem):
            if (folder / name).exists():
                return folder / name
    raise FileNotFoundError(f"no MNIST file {' or '.join(stems)}[.gz] in {folder}")


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """The uint8 array of an IDX file (gzipped or not) with `ndim` dimensions, checked whole.

    Raises ValueError naming the file when it is truncated or corrupt: a gzip stream that ends
    early or is damaged, a magic number that is not uint8 data of `ndim` dimensions, or data
    shorter or longer than its header's counts.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            raw = file.read()
        return _parse_idx(raw, ndim)
    except (OSError, EOFError, ValueError, zlib.error) as error:
        raise ValueError(f"MNIST file {path} is truncated or corrupt: {error}") from error


def _parse_idx(raw: bytes, ndim: int) -> np.ndarray:
    """IDX bytes as an array: magic 0x0000 08 `ndim` (uint8), `ndim` big-endian int32 counts, data."""
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{len(raw)} bytes, shorter than its {header}-byte header")
    magic = bytes(raw[:4])
    if magic != bytes((0, 0, 8, ndim)):
        raise ValueError(
            f"magic number {magic.hex()}, expected {bytes((0, 0, 8, ndim)).hex()} "
            f"(uint8 data of {ndim} dimensions)"
        )
    shape = tuple(int(n) for n in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise ValueError(
            f"its header promises {' x '.join(map(str, shape))} = {expected} bytes of data, "
            f"it holds {len(raw) - header}"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


@dataclass(frozen=True)
class Line:
    """A straight line in the plane: a point on it and its direction, in degrees from the x axis.

    Parameters
    ----------
    point : tuple of float
        (x, y), a point on the line.
    angle : float
        Its direction, in degrees counterclockwise from the x axis.
    """

    point: tuple[float, float]
    angle: float

    @property
    def direction(self) -> np.ndarray:
        """The unit vector along the line."""
        theta = np.deg2rad(self.angle)
        return np.array([np.cos(theta), np.sin(theta)])

    def side(self, points: np.ndarray) -> np.ndarray:
        """Signed distance of each point from the line: positive to the right of its direction.

        Parameters
        ----------
        points : numpy.ndarray
            (n, 2) points (x, y).
        """
        dx, dy = self.direction
        offset = np.asarray(points, dtype=np.float64) - self.point
        return offset[:, 0] * dy - offset[:, 1] * dx

    def angle_to(self, other: Line) -> float:
        """The angle between the two lines, in degrees, in [0, 90].

        Parameters
        ----------
        other : Line
            The other line.
        """
        difference = (self.angle - other.angle) % 180
        return float(min(difference, 180 - difference))


@dataclass(frozen=True)
class Toy:
    """A 2-D teaching pool: points (fluffiness, sweetness), their labels, their images and,
    when it is a straight line, the true boundary between the classes.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 2) points in [0, 1]^2.
    labels : numpy.ndarray
        (N,) their class ids.
    images : numpy.ndarray
        (N, size, size) uint8, each point drawn as a dot (``render_points``).
    classes : tuple of str, default ("cat", "milkshake")
        The class names.
    boundary : Line, optional
        The true boundary between the classes, when it is a straight line.
    """

    points: np.ndarray
    labels: np.ndarray
    images: np.ndarray
    classes: tuple[str, ...] = tuple(TOY_CLASSES)
    boundary: Line | None = None


def render_points(points: np.ndarray, size: int = 16) -> np.ndarray:
    """Each 2-D point in [0, 1]^2 drawn as a bright dot in a (size, size) uint8 image.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 2) points (x, y); y grows upwards.
    size : int, default 16
        The images' side, in pixels.
    """
    points = np.asarray(points, dtype=np.float64)
    grid = (np.arange(size) + 0.5) / size
    dx = grid[None, None, :] - points[:, 0, None, None]
    dy = grid[None, :, None] - (1 - points[:, 1, None, None])
    sigma = 1.2 / size
    return np.round(255 * np.exp(-(dx**2 + dy**2) / (2 * sigma**2))).astype(np.uint8)


def cats_vs_milkshakes(
    n: int = 400,
    *,
    tilt: float = 10.0,
    noise: float = 0.02,
    seed: int = 0,
    size: int = 16,
    clumped: float = 0.0,
) -> Toy:
    """Cats are fluffy, milkshakes are not, and the sweeter a thing the fluffier a cat must be.

    The points are spread evenly over the unit square (all but the `clumped` share); the true
    boundary is a straight line through its centre, `tilt` degrees off vertical, with cats
    (class 0) on its fluffy side.

    Parameters
    ----------
    n : int, default 400
        The number of points.
    tilt : float, default 10.0
        The boundary's angle from vertical, in degrees (positive: sweet things need more fluff
        to be cats).
    noise : float, default 0.02
        Each point takes the class of a spot this far (a standard deviation) from it, so the
        classes overlap a little near the boundary; 0 separates them exactly.
    seed : int, default 0
        Seeds the points and the noise.
    size : int, default 16
        The side of each point's image, in pixels.
    clumped : float, default 0.0
        The share of the points gathered in two tight clumps far from the boundary, one on each
        side; the rest are spread evenly. Of 20,000 points clumped at 0.997, about 20 lie within
        0.1 of the boundary (over 4,000 do when all are spread evenly): the few points worth
        asking about in a big pool.

    Returns
    -------
    Toy
        The points, labels (0: cat, 1: milkshake), images and the true boundary.
    """
    check_number("clumped", clumped, minimum=0.0, below=1.0)
    rng = np.random.default_rng(seed)
    points = rng.uniform(0.02, 0.98, (n, 2))
    if clumped:
        gathered = rng.random(n) < clumped
        centres = np.array([[0.15, 0.5], [0.85, 0.5]])[rng.integers(0, 2, n)]
        near = np.clip(centres + rng.normal(0, 0.04, (n, 2)), 0.02, 0.98)
        points = np.where(gathered[:, None], near, points)
    boundary = Line((0.5, 0.5), 90.0 - tilt)
    blurred = points + rng.normal(0, noise, (n, 2)) if noise > 0 else points
    labels = (boundary.side(blurred) < 0).astype(np.int64)
    return Toy(points, labels, render_points(points, size), boundary=boundary)


def moons(n: int = 400, *, noise: float = 0.08, seed: int = 0, size: int = 16) -> Toy:
    """Two interleaved half moons that overlap a little: a curved boundary, for contrast.

    Parameters
    ----------
    n : int, default 400
        The number of points.
    noise : float, default 0.08
        The spread of the points around each moon.
    seed : int, default 0
        Seeds the points.
    size : int, default 16
        The side of each point's image, in pixels.

    Returns
    -------
    Toy
        The points, labels, images; no straight boundary.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    angle = rng.uniform(0, np.pi, n)
    x = np.where(labels == 0, np.cos(angle), 1 - np.cos(angle))
    y = np.where(labels == 0, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], axis=1) + rng.normal(0, noise * 2, (n, 2))
    points = (points - [-1.3, -1.1]) / [3.6, 2.3]
    points = points.clip(0.02, 0.98)
    return Toy(points, labels.astype(np.int64), render_points(points, size))
