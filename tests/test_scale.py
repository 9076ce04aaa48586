"""Big pools: paths kept compactly, chunks that carry their own paths, a first suggestion at once."""

from __future__ import annotations

import multiprocessing
import pickle
import tracemalloc
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget._paths import PathTable
from al_widget.session import Session

CLASSES = ["dark", "bright"]


@pytest.fixture
def png_files(tmp_path) -> list[Path]:
    """Twelve 6x5 grayscale PNG files whose pixels encode their index."""
    paths = []
    for i in range(12):
        path = tmp_path / f"img_{i:02d}.png"
        Image.fromarray(np.full((6, 5), 20 * i, np.uint8)).save(path)
        paths.append(path)
    return paths


def fake_paths(n: int) -> list[str]:
    return [f"/data/photos/batch_{i // 1000:04d}/IMG_{i:07d}.jpg" for i in range(n)]


def test_a_path_table_gives_back_each_path_as_given():
    given = [Path("a/b.png"), "ü/ç.jpg", b"raw\xffbytes.png", "/abs/x.png"]
    table = PathTable(given)
    assert list(table) == ["a/b.png", "ü/ç.jpg", "raw\udcffbytes.png", "/abs/x.png"]
    assert table[-1] == "/abs/x.png"
    assert list(table.take(np.array([3, 0]))) == ["/abs/x.png", "a/b.png"]
    assert list(pickle.loads(pickle.dumps(table))) == list(table)


def test_an_empty_path_table_is_empty():
    assert len(PathTable([])) == 0
    assert len(PathTable(["x"]).take(np.array([], np.int64))) == 0


def test_a_path_with_a_nul_character_is_refused_with_its_index():
    with pytest.raises(ValueError, match=r"path 1 \('b\\x00c'\) contains a NUL"):
        PathTable(["a", "b\0c"])


def test_a_dataset_over_paths_holds_about_their_length_in_bytes_per_image():
    tracemalloc.start()
    try:
        paths = fake_paths(100_000)
        dataset = alw.Dataset(paths, CLASSES)
        del paths  # the dataset keeps its own copy: one blob, not a str object per path
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    length = len(fake_paths(1)[0])
    assert held / len(dataset) < length + 24  # a list of str would take length + 57
    with pytest.raises(alw.ImageError, match=r"image 99999 \(/data/photos/batch_0099/IMG_0099999"):
        dataset.image(99_999)


def test_a_dataset_over_paths_reads_each_file_when_asked(png_files):
    dataset = alw.Dataset(png_files, CLASSES)
    assert dataset.image(7).shape == (6, 5, 3)
    assert dataset.image(7)[0, 0, 0] == 140
    assert dataset.image_size(3) == (6, 5)


def test_a_missing_file_is_named_with_its_index_and_path(png_files):
    png_files[5].unlink()
    dataset = alw.Dataset(png_files, CLASSES)
    with pytest.raises(alw.ImageError, match=r"image 5 \(.*img_05\.png\): file not found"):
        dataset.image(5)


def test_a_chunk_of_a_file_dataset_pickles_as_its_paths_and_reads_the_files_after(png_files):
    dataset = alw.Dataset(png_files, CLASSES)
    chunk = dataset.chunk([2, 9, 4])
    shipped = pickle.dumps(chunk)
    assert len(shipped) < 1_000  # three paths, no pixels
    loaded = pickle.loads(shipped).load(None)
    np.testing.assert_array_equal(loaded.indices, [2, 9, 4])
    np.testing.assert_array_equal(loaded.images, dataset.batch([2, 9, 4]))


def test_a_chunk_read_elsewhere_names_an_unreadable_file_by_its_dataset_index(png_files):
    png_files[9].write_bytes(b"not a png")
    chunk = pickle.loads(pickle.dumps(alw.Dataset(png_files, CLASSES).chunk([2, 9, 4])))
    loaded = chunk.load((6, 5))
    np.testing.assert_array_equal(loaded.indices, [2, 4])
    assert list(loaded.broken) == [9]
    assert "image 9 (" in loaded.broken[9]
    assert "img_09.png" in loaded.broken[9]


def test_a_chunk_of_an_array_dataset_pickles_only_its_own_pixels():
    images = np.zeros((1_000, 32, 32), np.uint8)
    chunk = alw.Dataset(images, CLASSES).chunk(np.arange(10, 20))
    assert len(pickle.dumps(chunk)) < 2 * 10 * 32 * 32


def test_a_loop_over_a_million_paths_suggests_an_image_at_once():
    dataset = alw.Dataset(fake_paths(1_000_000), CLASSES)
    with alw.ActiveLoop(dataset, pool_sample=None) as loop:
        first = loop.next()
        assert first is not None
        assert 0 <= first < 1_000_000
        assert loop.ranking.model_version == 0
        assert len(loop.ranking) == 1_000_000
        assert "at random" in loop.describe(first).why


@pytest.fixture
def big_two_class() -> tuple[np.ndarray, np.ndarray]:
    """A pool of 400 dark (class 0) and bright (class 1) 4x4 images."""
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 2
    images = (labels[:, None, None] * 150 + rng.integers(0, 100, (400, 4, 4))).astype(np.uint8)
    return images, labels


def labeled_loop(loop_factory, images, labels, learner, n_labels=4, **kwargs):
    """A started loop on `images` after `n_labels` labels and the round they start."""
    loop = loop_factory(
        alw.Dataset(images, CLASSES), learner, pool_sample=None, query_size=n_labels, **kwargs
    )
    for i in range(n_labels):
        loop.commit(i, alw.Label(int(labels[i])))
    assert loop.wait(30)
    return loop


def test_a_big_pool_is_ranked_part_by_part_while_scoring_goes_on(
    big_two_class, centroid, loop_factory
):
    images, labels = big_two_class
    seen = []
    loop = loop_factory(
        alw.Dataset(images, CLASSES), centroid, pool_sample=None, query_size=4, chunk_size=16
    )
    loop.on_ranking(seen.append)
    for i in range(4):
        loop.commit(i, alw.Label(int(labels[i])))
    assert loop.wait(30)
    by_model = [r for r in seen if r.model_version == 1]
    assert [len(r) for r in by_model][:4] == [16, 48, 112, 176]  # 1, 2, 4 chunks, then 4 (1/8)
    assert [len(r) + r.pending for r in by_model] == [396] * len(by_model)
    assert by_model[-1].pending == 0
    assert loop.ranking is by_model[-1]


def test_a_partly_scored_ranking_says_how_much_is_left_to_score(
    big_two_class, centroid, loop_factory
):
    images, labels = big_two_class
    loop = labeled_loop(loop_factory, images, labels, centroid)
    whole = loop.ranking
    partial = alw.ranking.Ranking(
        whole.indices[:16],
        whole.scores[:16],
        whole.predicted[:16],
        model_version=1,
        data_version=whole.data_version,
        heuristic="margin",
        pending=380,
    )
    session = Session(loop.dataset, np.random.default_rng(0))
    head, outside = int(partial.indices[0]), int(whole.indices[-1])
    assert session.describe(head, partial).why.startswith(
        "the 1st most uncertain of 16 images model v1 scored so far (margin "
    )
    assert session.describe(head, partial).why.endswith("; 380 still to score)")
    assert session.describe(outside, partial).why == (
        "not scored yet: model v1 scored 16 other images so far; 380 still to score"
    )


def test_a_dask_executor_gets_the_learner_once_per_round_however_many_parts(
    big_two_class, centroid, loop_factory
):
    images, labels = big_two_class
    scattered = []

    class Client:
        """Stands in for a Dask client: scatter records what it was given."""

        def scatter(self, data, broadcast=False, hash=True):
            scattered.append((data, broadcast))
            return data

    class DaskLike(ThreadPoolExecutor):
        _client = Client()  # where Dask's ClientExecutor keeps its client

    with DaskLike(2) as pool:
        loop = labeled_loop(loop_factory, images, labels, centroid, executor=pool, chunk_size=16)
        assert len(loop.history) == 1
        assert loop.history[0].n_scored == 396
        assert scattered == [(loop.learner, True)]


def test_next_looks_past_a_long_labeled_and_skipped_head(big_two_class, loop_factory):
    images, _ = big_two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), pool_sample=None, query_size=1_000)
    ranked = loop.ranking.indices
    for i in ranked[:70]:
        loop.commit(int(i), alw.Label("dark"))
    for i in ranked[70:100]:
        loop.skip(int(i))
    assert loop.ranking.indices is ranked  # no round ran
    assert loop.next() == ranked[100]
    assert loop.queue[0] == ranked[100]


def test_a_numpy_array_of_paths_is_read_as_files(png_files):
    dataset = alw.Dataset(np.array([str(p) for p in png_files]), CLASSES)
    assert len(dataset) == 12
    assert dataset.image(3)[0, 0, 0] == 60


def test_a_process_pool_ranks_a_file_pool_as_the_loop_does_inline(tmp_path, centroid):
    rng = np.random.default_rng(0)
    labels = np.arange(80) % 2
    paths = []
    for i, label in enumerate(labels):
        path = tmp_path / f"{i:02d}.png"
        Image.fromarray((label * 150 + rng.integers(0, 100, (4, 4))).astype(np.uint8)).save(path)
        paths.append(path)

    def ranked(**kwargs):
        with alw.ActiveLoop(
            alw.Dataset(paths, CLASSES), centroid, pool_sample=None, query_size=4, **kwargs
        ) as loop:
            for i in range(4):
                loop.commit(i, alw.Label(int(labels[i])))
            assert loop.wait(60)
            return loop.ranking

    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        far = ranked(executor=pool, chunk_size=16)
    near = ranked()
    np.testing.assert_array_equal(far.indices, near.indices)
    np.testing.assert_allclose(far.scores, near.scores)
