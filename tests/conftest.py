"""Factories shared by the tests: images, datasets, learners."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.learners import Cancelled, ParamsMixin
from tests.test_journal_orientation import photo

MNIST = alw.datasets.MNIST_TEST_SET


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last, in their order. Playwright's sync API leaves its event loop
    running on the main thread for the rest of the session, and a panel built on a thread with a
    running event loop takes it for a kernel's: it hands the loop's news to that event loop
    (``widget/handoff.py``), where nothing would run them in a test after the browser tests."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


class CentroidLearner(ParamsMixin):
    """A tiny learner by scikit-learn's conventions: softmax over negative distances to class means."""

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes

    def fit(self, images, targets, progress, should_stop):
        x = images.reshape(len(images), -1).astype(np.float64) / 255
        self.centroids_ = np.stack(
            [
                x[targets == c].mean(0) if (targets == c).any() else np.full(x.shape[1], 0.5)
                for c in range(self.n_classes)
            ]
        )
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        self.fit_sizes_ = [*getattr(self, "fit_sizes_", []), len(images)]
        self.fit_shapes_ = [*getattr(self, "fit_shapes_", []), images.shape]
        self.input_size_ = images.shape[1:3]
        progress(1.0)
        return self

    def predict_proba(self, images, mc_samples=1):
        x = images.reshape(len(images), -1).astype(np.float64) / 255
        d = ((x[:, None, :] - self.centroids_[None]) ** 2).sum(-1)
        p = np.exp(-(d - d.min(1, keepdims=True)))
        p /= p.sum(1, keepdims=True)
        return np.repeat(p[:, :, None], mc_samples, axis=2)


class HeldLearner(CentroidLearner):
    """A centroid learner whose fit, while `hold` is set, waits until the test sets `release`
    (failing after 10 s) or the round is cancelled (then it raises Cancelled); `entered` is set
    once a fit waits."""

    def __init__(self, n_classes: int = 2, hold: bool = False) -> None:
        super().__init__(n_classes)
        self.hold = hold
        self.entered = threading.Event()
        self.release = threading.Event()

    def fit(self, images, targets, progress, should_stop):
        if self.hold:
            self.entered.set()
            deadline = time.monotonic() + 10
            while not self.release.wait(0.01):
                if should_stop():
                    raise Cancelled()
                assert time.monotonic() < deadline, "the test never released fit"
        return super().fit(images, targets, progress, should_stop)


def latin1_named_image(folder: Path, shape: tuple[int, int] = (4, 6)) -> Path:
    """A black image file of `shape` (H, W) whose name is Latin-1 bytes, not UTF-8 ("café"
    from an old zip): Python gives its é as the lone surrogate \\udce9."""
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.png"))
    Image.fromarray(np.zeros((*shape, 3), np.uint8)).save(path)
    return path


SQUARE_SCORE, NOISE_SCORE = 0.9, 0.2


class Untrained(ParamsMixin):
    """A fake learner whose outputs are fixed by its subclass: fitting only marks it fitted."""

    def fit(self, images, targets, progress, should_stop):
        self.fitted_ = True
        return self


class SquareAndNoise(Untrained):
    """Drafts the bright square of each image (confidence ``SQUARE_SCORE``) and the `noise`
    boxes, in empty corners (``NOISE_SCORE`` each)."""

    task = "detect"

    def __init__(self, n_classes=1, noise=((0, 0, 3, 3),)):
        self.n_classes = n_classes
        self.noise = noise

    def predict(self, images, mc_samples=1):
        out = []
        for image in images:
            ys, xs = np.nonzero(image[..., 0] > 100)
            found = [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], *map(list, self.noise)]
            scores = np.array([SQUARE_SCORE] + [NOISE_SCORE] * len(self.noise))
            probs = np.stack([scores, 1 - scores], axis=1)[..., None].repeat(mc_samples, axis=2)
            out.append(
                {
                    "boxes": np.array(found, float),
                    "labels": np.zeros(len(found), np.int64),
                    "scores": scores,
                    "probs": probs,
                }
            )
        return out


class BrightIsSquare(Untrained):
    """Paints bright pixels class 1 (probability 0.9), the rest background."""

    task = "segment"

    def __init__(self, n_classes=2):
        self.n_classes = n_classes

    def predict_proba(self, images, mc_samples=1):
        out = []
        for image in images:
            p = np.where(image[..., 0] > 100, 0.9, 0.1)
            out.append(np.stack([1 - p, p])[..., None].repeat(mc_samples, axis=3))
        return out


class SquareAndSpeck(Untrained):
    """Finds each image's bright square as one object (confidence ``SQUARE_SCORE``) and
    `specks` 2x2 specks in its corners (top left, then bottom right) as others
    (``NOISE_SCORE``), all of class 0."""

    task = "instances"

    def __init__(self, n_classes=1, specks=1):
        self.n_classes = n_classes
        self.specks = specks

    def predict(self, images, mc_samples=1):
        out = []
        for image in images:
            masks = [image[..., 0] > 100]
            for corner in (np.s_[:2, :2], np.s_[-2:, -2:])[: self.specks]:
                speck = np.zeros_like(masks[0])
                speck[corner] = True
                masks.append(speck)
            boxes = []
            for mask in masks:
                ys, xs = np.nonzero(mask)
                boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            scores = np.array([SQUARE_SCORE] + [NOISE_SCORE] * self.specks)
            probs = np.stack([scores, 1 - scores], axis=1)[..., None].repeat(mc_samples, axis=2)
            out.append(
                {
                    "boxes": np.array(boxes, float),
                    "labels": np.zeros(len(masks), np.int64),
                    "scores": scores,
                    "probs": probs,
                    "masks": np.stack(masks),
                    "mask_samples": np.ones((len(masks), mc_samples, 8, 8), bool),
                }
            )
        return out


@pytest.fixture
def gray_images() -> np.ndarray:
    """Twenty 6x5 grayscale images whose pixels encode their index."""
    return np.arange(20, dtype=np.uint8)[:, None, None] * np.ones((20, 6, 5), np.uint8)


@pytest.fixture
def two_class() -> tuple[np.ndarray, np.ndarray]:
    """A pool of 60 dark (class 0) and bright (class 1) 4x4 images."""
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 2
    images = (labels[:, None, None] * 150 + rng.integers(0, 100, (60, 4, 4))).astype(np.uint8)
    return images, labels


@pytest.fixture
def centroid() -> CentroidLearner:
    return CentroidLearner(2)


@pytest.fixture
def loop_factory():
    """Make ActiveLoops that are closed after the test."""
    made = []

    def make(*args, **kwargs):
        loop = alw.ActiveLoop(*args, **kwargs)
        made.append(loop)
        return loop

    yield make
    for loop in made:
        assert loop.close(timeout=10), "the loop's worker did not stop"


@pytest.fixture
def photo_panels(tmp_path: Path, loop_factory):
    """Make panels on four journaled JPEG photos of `size` (H, W) stored pixels, EXIF
    orientation 1, closed after the test: ``make(task, size)`` gives (the panel, the photos'
    paths, the journal). The other tasks' learners are the defaults; classify's is the tiny
    CentroidLearner."""
    made = []

    def make(
        task: str = "detect", size: tuple[int, int] = (16, 16)
    ) -> tuple[alw.Panel, list[str], Path]:
        classes = ["background", "thing"]
        paths = [photo(tmp_path / f"p{k}.jpg", 1, size) for k in range(4)]
        journal = tmp_path / "labels.jsonl"
        dataset = alw.Dataset(paths, classes, task=task, journal=journal)
        learner = CentroidLearner(len(classes)) if task == "classify" else None
        panel = alw.Panel(loop_factory(dataset, learner, start=False))
        made.append(panel)
        return panel, paths, journal

    yield make
    for panel in made:
        panel.close()


def nested(depth: int) -> list:
    """A list nested `depth` deep, as a forged JSON message may hold (``[[[...]]]``)."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def from_deep_stack(fn, frames: int = 200):
    """`fn()` called with `frames` more frames below it, as a kernel's comm handler runs."""
    return fn() if frames == 0 else from_deep_stack(fn, frames - 1)


DEEP = 900  # nesting that a kernel's JSON parser takes but repr() there cannot show
