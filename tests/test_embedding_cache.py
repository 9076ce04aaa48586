"""The embedding cache: each image embedded once per backbone, kept across rounds and restarts, filled in
priority order with rankings published as it grows."""

import builtins
import errno
import io
import json
import logging
import multiprocessing
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import al_widget as alw
from al_widget.embedding_cache import EmbeddingCache
from al_widget.embedding_fill import embed_chunk, file_stamps, fill
from al_widget.learners import EmbeddingClassifier
from al_widget.scoring import Inline
from al_widget.tasks import cached


class Counting(EmbeddingClassifier):
    """An EmbeddingClassifier that records its calls to embed and the first pixel of each image."""

    def embed(self, images):
        self.calls_ = getattr(self, "calls_", 0) + 1
        self.seen_ = [*getattr(self, "seen_", []), *images[:, 0, 0, 0].tolist()]
        return super().embed(images)


def backbone(width=4, seed=None):
    """A tiny backbone, the same weights every time for a width (and seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(width if seed is None else seed)
        return nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )


def learner(net=None, size=(8, 8)):
    return Counting(
        2, backbone=net if net is not None else backbone(), weights=None, input_size=size
    )


@pytest.fixture
def pool():
    """120 8x8 RGB images whose first pixel is their index; even ones bright (class 1)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 100, (120, 8, 8, 3)).astype(np.uint8)
    images[::2] += 120
    images[:, 0, 0, 0] = np.arange(120)
    labels = np.array(["dark", "bright"])[(np.arange(120) % 2 == 0).astype(int)]
    return images, labels


def _label(loop, labels, indices):
    for i in indices:
        loop.commit(int(i), alw.Label(str(labels[i])))
    assert loop.wait(60)


def test_rounds_embed_each_image_once_and_reuse_the_cache(pool, loop_factory):
    images, labels = pool
    model = learner()
    loop = loop_factory(alw.Dataset(images, ["dark", "bright"]), model, pool_sample=None)
    for start in (0, 10, 20):
        _label(loop, labels, loop.queue[:10])
        assert loop.history[-1].error is None, start
    assert sorted(model.seen_) == list(range(120))
    assert loop.ranking.pending == 0
    assert len(loop.ranking) == 120 - 30


def test_a_new_loop_on_the_same_cache_dir_embeds_nothing_again(pool, loop_factory, tmp_path):
    images, labels = pool
    first = learner()
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), first, pool_sample=None, cache_dir=tmp_path
    )
    _label(loop, labels, range(10))
    loop.close()
    again = learner()  # a kernel restart: new objects, the same parameters
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), again, pool_sample=None, cache_dir=tmp_path
    )
    _label(loop, labels, range(10))
    assert getattr(again, "seen_", []) == []
    assert loop.ranking.pending == 0
    (folder,) = tmp_path.iterdir()
    assert folder.name == again.embedding_key()
    assert np.load(folder / "embeddings.npy", mmap_mode="r").dtype == np.float16
    assert json.loads((folder / "meta.json").read_text())["n_images"] == 120


@pytest.mark.parametrize(
    "changed", [{"net": backbone(width=5)}, {"size": (12, 12)}], ids=["backbone", "input size"]
)
def test_a_backbone_or_input_size_change_embeds_everything_again(
    changed, pool, loop_factory, tmp_path
):
    images, labels = pool
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), learner(), pool_sample=None, cache_dir=tmp_path
    )
    _label(loop, labels, range(10))
    other = learner(**changed)
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), other, pool_sample=None, cache_dir=tmp_path
    )
    _label(loop, labels, range(10))
    assert sorted(other.seen_) == list(range(120))
    assert len(list(tmp_path.iterdir())) == 2


def test_an_image_changed_at_the_same_index_is_embedded_again(pool, loop_factory, tmp_path):
    images, labels = pool
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), learner(), pool_sample=None, cache_dir=tmp_path
    )
    _label(loop, labels, range(10))
    assert loop.close(timeout=10)  # a later session: one open loop per cache folder
    edited = images.copy()
    edited[50, 4, 4] = 255 - edited[50, 4, 4]
    again = learner()
    loop = loop_factory(
        alw.Dataset(edited, ["dark", "bright"]), again, pool_sample=None, cache_dir=tmp_path
    )
    _label(loop, labels, range(10))
    assert again.seen_ == [50]


def _saved(images, folder):
    paths = [folder / f"{i:02d}.png" for i in range(len(images))]
    for path, image in zip(paths, images, strict=True):
        Image.fromarray(image).save(path)
    return paths


def test_a_file_changed_while_its_loop_is_open_is_embedded_anew_in_the_next_round(
    pool, loop_factory, tmp_path
):
    images, labels = pool
    paths = _saved(images[:30], tmp_path)
    model = learner()
    dataset = alw.Dataset([str(p) for p in paths], ["dark", "bright"])
    loop = loop_factory(dataset, model, pool_sample=None, query_size=4)
    _label(loop, labels, [0, 1, 2, 3])
    assert sorted(model.seen_) == list(range(30))
    before = os.stat(paths[20])
    changed = images[20].copy()
    changed[0, 0, 0] = 200
    Image.fromarray(changed).save(paths[20])
    os.utime(paths[20], ns=(before.st_atime_ns, before.st_mtime_ns))  # the old mtime kept
    _label(loop, labels, [4, 5])
    assert loop.history[-1].error is None
    assert model.seen_[30:] == [200]


def test_a_file_touched_but_unchanged_is_hashed_again_not_embedded(pool, tmp_path):
    images, _ = pool
    paths = _saved(images[:6], tmp_path)
    dataset = alw.Dataset([str(p) for p in paths], ["dark", "bright"])
    cache, model = EmbeddingCache(len(dataset)), learner()
    fill(cache, model, dataset, np.arange(6), executor=Inline())
    os.utime(paths[2], ns=(1, 1))
    assert cache.recheck(np.arange(6), file_stamps(dataset, np.arange(6))).tolist() == [2]
    fill(cache, model, dataset, np.arange(6), executor=Inline())
    assert model.calls_ == 1
    assert cache.n_ready == 6


def test_fill_embeds_in_the_order_it_is_given_and_skips_what_is_cached(pool):
    images, _ = pool
    dataset = alw.Dataset(images, ["dark", "bright"])
    cache, model = EmbeddingCache(len(dataset)), learner()
    order = np.array([7, 3, 99, 42, 5])
    fill(cache, model, dataset, order, executor=Inline(), chunk_size=2)
    assert model.seen_ == [7, 3, 99, 42, 5]
    fill(cache, model, dataset, np.array([3, 8, 99, 9]), executor=Inline(), chunk_size=2)
    assert model.seen_[5:] == [8, 9]
    assert cache.n_ready == 7
    assert cache.get(np.array([8, 7])).dtype == np.float16


def test_fill_can_stop_after_a_wave_and_keeps_what_it_embedded(pool):
    images, _ = pool
    dataset = alw.Dataset(images, ["dark", "bright"])
    cache, model = EmbeddingCache(len(dataset)), learner()
    fill(
        cache,
        model,
        dataset,
        np.arange(100),
        executor=Inline(),
        chunk_size=4,
        after_wave=lambda: True,
    )
    assert model.seen_ == [0, 1, 2, 3]  # the first wave is one chunk
    assert cache.ready(np.arange(100)).sum() == 4


def test_a_round_publishes_rankings_of_the_embedded_part_as_the_cache_grows(
    pool, loop_factory, monkeypatch
):
    monkeypatch.setattr(cached, "PUBLISH_EVERY", 0.0)
    images, labels = pool
    published = []
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]),
        learner(),
        pool_sample=None,
        chunk_size=8,
        start=False,
        cold_start="random",  # the first ranking is the random one, the cache empty
    )
    loop.on_ranking(published.append)
    shown = loop.ranking.indices
    loop.start()
    _label(loop, labels, range(4))
    model_ranked = [r for r in published if r.model_version == 1]
    first, last = model_ranked[0], model_ranked[-1]
    pool_order = shown[~np.isin(shown, range(4))]
    assert sorted(first.indices.tolist()) == sorted(pool_order[:8].tolist())
    assert first.pending == 116 - 8
    assert last.pending == 0
    assert len(last) == 116


def test_labeled_images_are_embedded_before_the_pool(pool, loop_factory):
    images, labels = pool
    model = learner()
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]),
        model,
        pool_sample=None,
        query_size=3,
        cold_start="random",
    )
    _label(loop, labels, [90, 17, 64])
    assert sorted(model.seen_[:3]) == [17, 64, 90]


def test_embed_chunk_gives_float16_and_names_a_learner_that_returns_nan():
    class Broken:
        def embed(self, images):
            out = np.ones((len(images), 3))
            out[1] = np.nan
            return out

    assert embed_chunk(learner(), np.zeros((2, 8, 8, 3), np.uint8)).dtype == np.float16
    with pytest.raises(ValueError, match=r"Broken.embed returned NaN .* positions \[1\]"):
        embed_chunk(Broken(), np.zeros((3, 8, 8, 3), np.uint8))


def test_a_new_key_starts_an_empty_cache_in_memory():
    cache = EmbeddingCache(10)
    cache.bind("a")
    cache.put(np.array([1, 2]), np.array([5, 6], np.uint64), np.ones((2, 3), np.float16))
    assert cache.ready(np.arange(4)).tolist() == [False, True, True, False]
    cache.bind("b")
    assert cache.n_ready == 0
    assert cache.missing(np.array([1, 2])).tolist() == [1, 2]
    with pytest.raises(KeyError, match="not embedded yet"):
        cache.get(np.array([1]))


def test_an_unreadable_file_is_left_out_with_its_reason_and_the_rest_embedded(
    pool, loop_factory, tmp_path
):
    images, labels = pool
    paths = []
    for i, image in enumerate(images[:30]):
        paths.append(tmp_path / f"{i:02d}.png")
        Image.fromarray(image).save(paths[-1])
    paths[12].write_bytes(b"not a png")
    model = learner()
    dataset = alw.Dataset([str(p) for p in paths], ["dark", "bright"])
    loop = loop_factory(dataset, model, pool_sample=None, query_size=4)
    _label(loop, labels, [0, 1, 2, 3])
    assert "12.png" in loop.broken[12]
    assert loop.history[-1].error is None
    assert 12 not in loop.ranking.indices
    assert sorted(model.seen_) == [i for i in range(30) if i != 12]
    assert loop.ranking.pending == 0


def test_a_round_still_embedding_yields_to_new_labels_and_the_next_round_goes_on(
    pool, loop_factory, monkeypatch
):
    monkeypatch.setattr(cached, "PUBLISH_EVERY", 0.0)
    images, labels = pool
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]),
        learner(),
        pool_sample=None,
        query_size=2,
        chunk_size=8,
        start=False,
        cold_start="random",
    )
    extra = []

    @loop.on_ranking
    def label_more(ranking):  # the user labels two more as soon as the first model ranking shows
        if ranking.model_version == 1 and ranking.pending and not extra:
            extra.extend(int(i) for i in ranking.indices[:2])
            for i in extra:
                loop.commit(i, alw.Label(str(labels[i])))

    loop.start()
    _label(loop, labels, [0, 1])
    assert extra
    assert loop.wait(60)  # now covering the two labels given during the first round
    first, *later = [r for r in loop.history if r.retrained]
    assert first.n_scored == 8  # one chunk embedded, then it yielded
    assert later[-1].n_labels == 4
    assert loop.ranking.pending == 0
    assert len(loop.ranking) == 116


@pytest.mark.slow
def test_a_dask_cluster_embeds_the_pool_as_this_process_does(pool):
    distributed = pytest.importorskip("dask.distributed")
    images, _ = pool
    dataset = alw.Dataset(images, ["dark", "bright"])
    here, there = EmbeddingCache(len(dataset)), EmbeddingCache(len(dataset))
    fill(here, learner(), dataset, np.arange(120), executor=Inline(), chunk_size=16)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        fill(
            there, learner(), dataset, np.arange(120), executor=client.get_executor(), chunk_size=16
        )
    assert there.n_ready == 120
    assert np.array_equal(here.get(np.arange(120)), there.get(np.arange(120)))


# -- a cache on disk proves it belongs before it is used -------------------------------------------


def _filled(model, images, labels, loop_factory, cache_dir):
    """`model`'s cache folder in `cache_dir` after a loop labeled 10 images and embedded the pool."""
    loop = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), model, pool_sample=None, cache_dir=cache_dir
    )
    _label(loop, labels, range(10))
    assert loop.history[-1].error is None
    assert loop.ranking.pending == 0
    assert loop.close(timeout=10)
    return cache_dir / model.embedding_key()


def _truncate(first, folder):
    path = folder / "embeddings.npy"
    os.truncate(path, path.stat().st_size - 3 * 4 * 2)  # the last three rows, partly


def _tamper(first, folder):
    rows = np.load(folder / "embeddings.npy", mmap_mode="r+")
    rows[[5, 50]] += np.float16(3)
    rows.flush()


def _copy_of(first, folder):
    shutil.copytree(first, folder)


def _copy_renamed(first, folder):
    shutil.copytree(first, folder)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "key": folder.name}))


def _edit_meta(change):
    def edit(first, folder):
        meta = json.loads((folder / "meta.json").read_text())
        (folder / "meta.json").write_text(json.dumps(change(meta)))

    return edit


def _delete_meta(first, folder):
    (folder / "meta.json").unlink()


def _garble_meta(first, folder):
    (folder / "meta.json").write_text('{"key": "abc", "n_ima')


def _stopped_by_an_older_version(*made):
    """As an older version (09d69aa) left a folder it was stopped in while making its arrays:
    it removed meta.json first, then made the arrays one by one, so only those `made` are
    there (the last, where it says "header", holding its header alone)."""

    def stop(first, folder):
        (folder / "meta.json").unlink()
        for name in ("embeddings.npy", "hashes.npy", "checksums.npy"):
            path = folder / name
            if name not in made and f"{name} header" not in made:
                path.unlink()
            elif f"{name} header" in made:
                with open(path, "rb") as file:
                    np.lib.format.read_magic(file)
                    np.lib.format.read_array_header_1_0(file)
                    os.truncate(path, file.tell())

    return stop


def _fortran_order(first, folder):
    rows = np.load(folder / "embeddings.npy")
    np.save(folder / "embeddings.npy", np.asfortranarray(rows))


CORRUPTIONS = {
    "truncated file": ({}, _truncate, "embeddings.npy has"),
    "Fortran order": ({}, _fortran_order, "embeddings.npy has memory order Fortran, expected C"),
    "tampered rows": ({}, _tamper, "2 rows do not match their checksums (images [5, 50])"),
    "another backbone's rows": (
        {"net": backbone(seed=7)},
        _copy_of,
        "meta.json names the embedding key",
    ),
    "another width": (
        {"net": backbone(width=5)},
        _copy_renamed,
        "its embeddings have length 4, this learner's have 5",
    ),
    "meta.json without dim": (
        {},
        _edit_meta(lambda meta: {k: v for k, v in meta.items() if k != "dim"}),
        "meta.json's dim must be a positive int, got None",
    ),
    "an older format": (
        {},
        _edit_meta(lambda meta: {k: v for k, v in meta.items() if k != "format"}),
        "meta.json has format None",
    ),
    "an older version stopped before meta.json": (
        {},
        _stopped_by_an_older_version("embeddings.npy", "hashes.npy", "checksums.npy"),
        "meta.json is missing",
    ),
    "an older version stopped after embeddings.npy": (
        {},
        _stopped_by_an_older_version("embeddings.npy"),
        "meta.json is missing",
    ),
    "an older version stopped in a header": (
        {},
        _stopped_by_an_older_version("embeddings.npy header"),
        "meta.json is missing",
    ),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_damaged_or_foreign_cache_is_embedded_again_with_a_warning_naming_its_folder(
    corruption, pool, loop_factory, tmp_path, caplog
):
    changed, corrupt, problem = CORRUPTIONS[corruption]
    images, labels = pool
    first = _filled(learner(), images, labels, loop_factory, tmp_path)
    folder = tmp_path / learner(**changed).embedding_key()
    corrupt(first, folder)
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        again = _filled(learner(**changed), images, labels, loop_factory, tmp_path)
    assert again == folder
    fresh = embed_chunk(learner(**changed), images)
    served = np.load(folder / "embeddings.npy")
    np.testing.assert_allclose(served.astype(np.float32), fresh, rtol=1e-3, atol=1e-3)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(folder) in w and problem in w for w in warnings), warnings


def test_tampered_rows_alone_are_embedded_again(pool, loop_factory, tmp_path):
    images, labels = pool
    folder = _filled(learner(), images, labels, loop_factory, tmp_path)
    _tamper(None, folder)
    again = learner()
    _filled(again, images, labels, loop_factory, tmp_path)
    assert sorted(again.seen_) == [5, 50]


def test_an_intact_cache_is_served_without_calling_the_backbone_or_warning(
    pool, loop_factory, tmp_path, caplog
):
    images, labels = pool
    _filled(learner(), images, labels, loop_factory, tmp_path)
    again = learner()
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        _filled(again, images, labels, loop_factory, tmp_path)
    assert getattr(again, "calls_", 0) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_embed_gives_the_rows_the_cache_holds_for_images_of_another_size(pool):
    images, _ = pool  # 8 x 8, the learner reads 12 x 12
    model = learner(size=(12, 12))
    cache = EmbeddingCache(len(images))
    fill(cache, model, alw.Dataset(images, ["dark", "bright"]), np.arange(120), executor=Inline())
    np.testing.assert_array_equal(cache.get(np.arange(120)), embed_chunk(model, images))


# -- one open loop per cache folder ----------------------------------------------------------------


def _refused_beside(first, pool, loop_factory, tmp_path):
    """A second loop, on other images of the same length, opened on the cache folder `first`
    (an open loop's) uses; its first round's error."""
    images, labels = pool
    second = loop_factory(
        alw.Dataset(255 - images, ["dark", "bright"]),
        learner(),
        pool_sample=None,
        cache_dir=tmp_path,
    )
    _label(second, labels, range(10))
    return second.history[-1].error


def test_a_loop_on_the_cache_folder_of_an_open_loop_is_refused_naming_folder_and_holder(
    pool, loop_factory, tmp_path
):
    images, labels = pool
    first = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), learner(), pool_sample=None, cache_dir=tmp_path
    )
    _label(first, labels, range(10))
    error = _refused_beside(first, pool, loop_factory, tmp_path)
    folder = tmp_path / learner().embedding_key()
    assert f"CacheLocked: embedding cache {folder} is in use by another loop in this process" in (
        error or ""
    )
    assert "a loop made by a cell run before goes on until it is closed" in (error or "")


def test_a_refused_loop_leaves_the_open_loops_embeddings_as_they_were(pool, loop_factory, tmp_path):
    images, labels = pool
    first = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), learner(), pool_sample=None, cache_dir=tmp_path
    )
    _label(first, labels, range(10))
    _refused_beside(first, pool, loop_factory, tmp_path)
    served = np.load(tmp_path / learner().embedding_key() / "embeddings.npy")
    fresh = embed_chunk(learner(), images)
    np.testing.assert_allclose(served.astype(np.float32), fresh, rtol=1e-3, atol=1e-3)


def test_a_cache_folder_is_free_for_another_loop_once_the_first_is_closed(
    pool, loop_factory, tmp_path
):
    images, labels = pool
    first = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), learner(), pool_sample=None, cache_dir=tmp_path
    )
    _label(first, labels, range(10))
    second = loop_factory(
        alw.Dataset(images, ["dark", "bright"]), learner(), pool_sample=None, cache_dir=tmp_path
    )
    _label(second, labels, range(10))
    assert "CacheLocked" in (second.history[-1].error or "")
    assert first.close(timeout=10)
    second.retrain()
    assert second.wait(60)
    assert second.history[-1].error is None


@pytest.mark.slow
def test_a_loop_on_a_cache_folder_another_process_holds_is_refused_naming_its_pid(
    pool, loop_factory, tmp_path
):
    tests = os.path.dirname(os.path.abspath(__file__))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {tests!r}); import numpy as np, al_widget as alw; "
            "from test_embedding_cache import learner; "
            "images = np.zeros((120, 8, 8, 3), np.uint8); "
            f"loop = alw.ActiveLoop(alw.Dataset(images, ['dark', 'bright']), learner(), "
            f"pool_sample=None, cache_dir={str(tmp_path)!r}); "
            "[loop.commit(i, alw.Label(i % 2)) for i in range(4)]; loop.wait(60); "
            "print('held' if loop.history[-1].error is None else loop.history[-1].error, "
            "flush=True); sys.stdin.read(); loop.close()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        error = _refused_beside(None, pool, loop_factory, tmp_path)
        assert f"is in use by process {holder.pid}" in (error or "")
    finally:
        holder.communicate("", timeout=60)


def _keep_alive(release):
    release.wait(30)


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="fork is a POSIX feature")
def test_a_process_forked_while_a_cache_is_open_does_not_keep_its_folder(tmp_path):
    cache = EmbeddingCache(10, tmp_path)
    cache.bind("k")
    context = multiprocessing.get_context("fork")
    release = context.Event()
    child = context.Process(target=_keep_alive, args=(release,))
    child.start()
    try:
        cache.close()
        EmbeddingCache(10, tmp_path).bind("k")  # refused if the child kept the lock
    finally:
        release.set()
        child.join(30)


@pytest.mark.parametrize("under", [False, True], ids=["a file", "a folder under a file"])
def test_a_cache_dir_that_is_no_folder_is_refused_when_the_loop_is_made(under, pool, tmp_path):
    images, _ = pool
    user_file = tmp_path / "notes.txt"
    user_file.write_text("user data")
    cache_dir = user_file / "cache" if under else user_file
    with pytest.raises(NotADirectoryError, match=f"cache_dir {cache_dir} .*needs a folder"):
        alw.ActiveLoop(
            alw.Dataset(images, ["dark", "bright"]),
            learner(),
            pool_sample=None,
            cache_dir=cache_dir,
        )
    assert user_file.read_text() == "user data"


@pytest.mark.parametrize("under", [False, True], ids=["the link", "a folder under it"])
def test_a_cache_dir_at_a_broken_symlink_is_refused_when_the_loop_is_made(under, pool, tmp_path):
    images, _ = pool
    link, target = tmp_path / "cache", tmp_path / "unmounted" / "cache"
    link.symlink_to(target)
    cache_dir = link / "sub" if under else link
    with pytest.raises(
        NotADirectoryError, match=f"cache_dir {cache_dir} .*broken symlink \\(to {target}\\)"
    ):
        alw.ActiveLoop(
            alw.Dataset(images, ["dark", "bright"]),
            learner(),
            pool_sample=None,
            cache_dir=cache_dir,
        )
    assert link.is_symlink()
    assert not (tmp_path / "unmounted").exists()


def test_an_error_opening_a_valid_cache_leaves_its_rows_for_the_next_fill(
    pool, tmp_path, monkeypatch
):
    images, _ = pool
    dataset = alw.Dataset(images, ["dark", "bright"])
    first = EmbeddingCache(120, tmp_path)
    fill(first, learner(), dataset, np.arange(120), executor=Inline())
    first.close()
    real_open, failed = builtins.open, []

    def once_too_many_open_files(file, *args, **kwargs):
        if str(file).endswith("embeddings.npy") and not failed:
            failed.append(file)
            raise OSError(errno.EMFILE, "Too many open files", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", once_too_many_open_files)
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    folder = tmp_path / model.embedding_key()
    with pytest.raises(OSError, match=f"embedding cache {folder} cannot be opened .*next round"):
        fill(cache, model, dataset, np.arange(120), executor=Inline())
    assert cache.key is None
    fill(cache, model, dataset, np.arange(120), executor=Inline())
    assert getattr(model, "calls_", 0) == 0
    assert cache.n_ready == 120


# -- a cache folder that cannot be written --------------------------------------------------------


@pytest.fixture
def read_only(monkeypatch):
    """``read_only(root)``: writes under root fail with EROFS, as on a read-only mount (a test run
    as root ignores chmod); reads go on."""

    def make(root):
        real_open, real_mkdir, real_unlink = builtins.open, os.mkdir, os.unlink

        def refused(path):
            if str(os.fspath(path)).startswith(str(root)):
                raise OSError(errno.EROFS, "Read-only file system", os.fspath(path))

        def ro_open(file, mode="r", *args, **kwargs):
            if any(c in mode for c in "wax+"):
                refused(file)
            return real_open(file, mode, *args, **kwargs)

        def ro_mkdir(path, *args, **kwargs):
            if not os.path.lexists(path):  # else EEXIST, as Linux says first
                refused(path)
            return real_mkdir(path, *args, **kwargs)

        def ro_unlink(path, *args, **kwargs):
            if os.path.lexists(path):
                refused(path)
            return real_unlink(path, *args, **kwargs)

        for module, name, fake in (
            (builtins, "open", ro_open),
            (io, "open", ro_open),
            (os, "mkdir", ro_mkdir),
            (os, "unlink", ro_unlink),
        ):
            monkeypatch.setattr(module, name, fake)

    return make


def _stored(images, tmp_path, indices):
    """The cache folder in tmp_path after a fill of `indices`, and its files' bytes."""
    cache = EmbeddingCache(len(images), tmp_path)
    fill(cache, learner(), alw.Dataset(images, ["dark", "bright"]), indices, executor=Inline())
    cache.close()
    folder = tmp_path / learner().embedding_key()
    return folder, {path.name: path.read_bytes() for path in folder.iterdir()}


def test_a_read_only_cache_serves_its_rows_with_a_warning_that_new_ones_are_not_stored(
    pool, tmp_path, read_only, caplog
):
    images, _ = pool
    folder, _ = _stored(images, tmp_path, np.arange(120))
    read_only(tmp_path)
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        fill(
            cache, model, alw.Dataset(images, ["dark", "bright"]), np.arange(120), executor=Inline()
        )
    assert getattr(model, "calls_", 0) == 0
    assert cache.n_ready == 120
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        f"embedding cache {folder} is read-only" in w and "not cached" in w for w in warnings
    )


def test_what_a_read_only_cache_lacks_is_embedded_in_memory_and_its_files_stay(
    pool, tmp_path, read_only
):
    images, _ = pool
    folder, before = _stored(images, tmp_path, np.arange(60))
    read_only(tmp_path)
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    fill(cache, model, alw.Dataset(images, ["dark", "bright"]), np.arange(120), executor=Inline())
    cache.flush()
    assert sorted(model.seen_) == list(range(60, 120))
    fresh = embed_chunk(learner(), images)
    np.testing.assert_allclose(cache.get(np.arange(120)), fresh, rtol=1e-3, atol=1e-3)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


@pytest.mark.parametrize(
    ("stored", "problem"),
    [("nothing", "cannot be made"), ("a damaged cache", "cannot be written")],
)
def test_a_read_only_cache_dir_with_no_usable_cache_is_refused_naming_its_folder(
    stored, problem, pool, tmp_path, read_only
):
    images, _ = pool
    if stored != "nothing":
        folder, _ = _stored(images, tmp_path, np.arange(120))
        _edit_meta(lambda meta: {**meta, "format": 1})(None, folder)
    read_only(tmp_path)
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    folder = tmp_path / model.embedding_key()
    with pytest.raises(OSError, match=f"embedding cache {folder} {problem} .*cache_dir=None"):
        fill(
            cache, model, alw.Dataset(images, ["dark", "bright"]), np.arange(120), executor=Inline()
        )


def test_an_error_making_the_cache_files_is_raised_naming_the_folder_and_the_next_fill_makes_them(
    pool, tmp_path, monkeypatch
):
    images, _ = pool
    dataset = alw.Dataset(images, ["dark", "bright"])
    real_open, failed = builtins.open, []

    def once_no_space(file, mode="r", *args, **kwargs):
        if str(file).endswith("hashes.npy") and "+" in mode and not failed:
            failed.append(file)
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", once_no_space)
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    folder = tmp_path / model.embedding_key()
    with pytest.raises(OSError, match=f"embedding cache {folder} cannot be written .*next round"):
        fill(cache, model, dataset, np.arange(120), executor=Inline())
    fill(cache, model, dataset, np.arange(120), executor=Inline())
    assert cache.n_ready == 120


@pytest.mark.parametrize("name", ["meta.json", "embeddings.npy"])
def test_a_folder_where_the_cache_keeps_a_file_is_refused_naming_it_and_left_as_it_is(
    name, pool, tmp_path
):
    images, _ = pool
    folder, _ = _stored(images, tmp_path, np.arange(120))
    (folder / name).unlink()
    (folder / name).mkdir()
    (folder / name / "notes.txt").write_text("user data")
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    with pytest.raises(IsADirectoryError, match=f"embedding cache {folder}: {name} is a folder"):
        fill(
            cache, model, alw.Dataset(images, ["dark", "bright"]), np.arange(120), executor=Inline()
        )
    assert cache.key is None
    assert (folder / name / "notes.txt").read_text() == "user data"


def test_a_file_where_the_cache_keeps_a_keys_folder_is_refused_naming_it_and_left_as_it_is(
    pool, tmp_path
):
    images, _ = pool
    model = learner()
    user_file = tmp_path / model.embedding_key()
    user_file.write_text("user data")
    with pytest.raises(NotADirectoryError, match=f"embedding cache folder {user_file} is a file"):
        fill(
            EmbeddingCache(120, tmp_path),
            model,
            alw.Dataset(images, ["dark", "bright"]),
            np.arange(120),
            executor=Inline(),
        )
    assert user_file.read_text() == "user data"


def test_a_cache_file_that_is_a_link_to_a_users_file_is_refused_and_the_file_left_as_it_is(
    pool, tmp_path
):
    images, _ = pool
    folder, _ = _stored(images, tmp_path, np.arange(120))
    users = tmp_path / "notes.json"
    users.write_text("user data")
    (folder / "meta.json").unlink()
    (folder / "meta.json").symlink_to(users)  # the cache would write its meta through it
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    with pytest.raises(
        FileExistsError, match=f"embedding cache {folder}: meta.json is a symbolic link"
    ):
        fill(
            cache, model, alw.Dataset(images, ["dark", "bright"]), np.arange(120), executor=Inline()
        )
    assert users.read_text() == "user data"


def test_a_keys_folder_that_is_a_link_to_a_users_folder_is_refused_and_left_as_it_is(
    pool, tmp_path
):
    images, _ = pool
    model = learner()
    users = tmp_path / "mine"
    users.mkdir()
    (users / "meta.json").write_text("user data")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / model.embedding_key()).symlink_to(users)
    with pytest.raises(FileExistsError, match="is a symbolic link"):
        fill(
            EmbeddingCache(120, tmp_path / "cache"),
            model,
            alw.Dataset(images, ["dark", "bright"]),
            np.arange(120),
            executor=Inline(),
        )
    assert [p.name for p in users.iterdir()] == ["meta.json"]
    assert (users / "meta.json").read_text() == "user data"


def _users_array(first, folder):
    _delete_meta(first, folder)
    np.save(folder / "embeddings.npy", np.arange(5.0))  # no array of the cache's kind


def _beside_a_users_file(first, folder):
    _delete_meta(first, folder)
    (folder / "notes.txt").write_text("user data")


FOREIGN = {
    "an array of another kind without meta.json": (
        _users_array,
        "embeddings.npy is there without the meta.json",
    ),
    "arrays without meta.json beside a user's file": (
        _beside_a_users_file,
        "embeddings.npy is there without the meta.json",
    ),
    "garbled meta.json": (_garble_meta, "meta.json is not one the cache wrote"),
    "a user's meta.json": (
        lambda first, folder: (folder / "meta.json").write_text('{"mine": true}'),
        "meta.json is not one the cache wrote",
    ),
    "a JSON list": (
        lambda first, folder: (folder / "meta.json").write_text("[1, 2]"),
        "meta.json is not one the cache wrote",
    ),
}


@pytest.mark.parametrize("foreign", list(FOREIGN))
def test_files_the_cache_cannot_tell_for_its_own_are_refused_naming_them_and_left_as_they_are(
    foreign, pool, tmp_path
):
    change, problem = FOREIGN[foreign]
    images, _ = pool
    folder, _ = _stored(images, tmp_path, np.arange(120))
    change(None, folder)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    with pytest.raises(FileExistsError, match=f"embedding cache {folder}: {problem}"):
        fill(
            cache, model, alw.Dataset(images, ["dark", "bright"]), np.arange(120), executor=Inline()
        )
    assert cache.key is None
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_an_array_the_cache_cannot_tell_for_its_own_is_refused_saying_which_folder_to_delete(
    pool, tmp_path
):
    images, _ = pool
    folder, _ = _stored(images, tmp_path, np.arange(120))
    _users_array(None, folder)
    with pytest.raises(
        FileExistsError, match=f"if the folder is an old cache's, delete {re.escape(str(folder))}"
    ):
        EmbeddingCache(120, tmp_path).bind(learner().embedding_key(), 4)


def test_a_cache_killed_while_making_its_files_is_still_known_for_its_own(pool, tmp_path):
    images, _ = pool
    model, cache = learner(), EmbeddingCache(120, tmp_path)
    dataset = alw.Dataset(images, ["dark", "bright"])
    cache.bind(model.embedding_key(), 4)
    folder = tmp_path / model.embedding_key()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(np.lib.format, "open_memmap", _killed)
        with pytest.raises(KeyboardInterrupt):
            cache.put(np.arange(2), np.arange(1, 3, dtype=np.uint64), np.ones((2, 4)))
    cache.close()
    assert json.loads((folder / "meta.json").read_text())["key"] == model.embedding_key()
    fill(EmbeddingCache(120, tmp_path), model, dataset, np.arange(120), executor=Inline())
    assert json.loads((folder / "meta.json").read_text())["dim"] == 4


def _killed(*args, **kwargs):
    raise KeyboardInterrupt  # as if the kernel were stopped while the arrays are made


# -- a key is one plain folder name -----------------------------------------------------------------


def _users_files(*folders):
    """A meta.json and an embeddings.npy of the user's in each of `folders`; their bytes."""
    found = {}
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "meta.json").write_text('{"mine": true}')
        np.save(folder / "embeddings.npy", np.arange(5.0))
        found.update({path: path.read_bytes() for path in folder.iterdir() if path.is_file()})
    return found


@pytest.mark.parametrize("key", ["", ".", "..", "../elsewhere", "a/b", "a\\b", "ABSOLUTE"])
def test_a_key_that_is_no_plain_folder_name_is_refused_and_no_users_file_touched(key, tmp_path):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    before = _users_files(project / "cache", project, elsewhere)
    key = str(elsewhere) if key == "ABSOLUTE" else key
    cache = EmbeddingCache(3, project / "cache")
    with pytest.raises(
        ValueError, match=f"returned {re.escape(repr(key))}, which is not one plain"
    ):
        cache.bind(key, 4)
    assert cache.key is None
    assert {path: path.read_bytes() for path in before} == before
    assert sorted(p.name for p in (project / "cache").iterdir()) == ["embeddings.npy", "meta.json"]


def test_a_refused_key_names_the_learner_that_gave_it(pool, tmp_path):
    class Dotted(EmbeddingClassifier):
        def embedding_key(self):
            return ".."

    images, _ = pool
    model = Dotted(2, backbone=backbone(), weights=None, input_size=(8, 8))
    with pytest.raises(ValueError, match=r"embedding_key\(\) of Dotted returned '\.\.'"):
        fill(
            EmbeddingCache(120, tmp_path / "cache"),
            model,
            alw.Dataset(images, ["dark", "bright"]),
            np.arange(120),
            executor=Inline(),
        )
    assert not (tmp_path / "meta.json").exists()


def test_a_key_that_is_no_plain_folder_name_is_refused_in_memory_too():
    cache = EmbeddingCache(3)
    with pytest.raises(ValueError, match="not one plain folder name"):
        cache.bind("", 4)
