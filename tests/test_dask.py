"""Scoring a pool on a Dask cluster (worker processes) gives the ranking the loop computes locally."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import al_widget as alw

from conftest import MNIST

distributed = pytest.importorskip("distributed")

DIGITS = [str(d) for d in range(10)]
N_IMAGES, N_LABELS = 600, 40


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory):
    """600 MNIST digits as PNG files, with their labels."""
    images, labels = alw.datasets.mnist(MNIST)
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for i in range(N_IMAGES):
        path = folder / f"{i:04d}.png"
        Image.fromarray(images[i]).save(path)
        paths.append(str(path))
    return paths, labels[:N_IMAGES]


@pytest.fixture(scope="module")
def client():
    """A local cluster of two worker processes, one thread each."""
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def ranked_after_labels(paths, labels, **kwargs) -> alw.ranking.Ranking:
    """The ranking of the whole pool after the first N_LABELS labels, default learner, seed 0."""
    loop = alw.ActiveLoop(
        alw.Dataset(paths, DIGITS), pool_sample=None, query_size=N_LABELS, chunk_size=64, **kwargs
    )
    try:
        for i in range(N_LABELS):
            loop.commit(i, alw.Label(int(labels[i])))
        assert loop.wait(120)
        assert loop.history[-1].error is None, loop.history[-1].error
        return loop.ranking
    finally:
        loop.close()


def assert_same_ranking(ranked, expected, rtol):
    """The same images with the same scores and predictions (near-equal scores may swap places)."""
    mine, theirs = np.argsort(ranked.indices), np.argsort(expected.indices)
    np.testing.assert_array_equal(ranked.indices[mine], expected.indices[theirs])
    np.testing.assert_allclose(ranked.scores[mine], expected.scores[theirs], rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(ranked.predicted[mine], expected.predicted[theirs])


@pytest.mark.slow
def test_a_dask_cluster_ranks_a_file_pool_as_the_loop_does_locally(digit_files, client):
    paths, labels = digit_files
    local = ranked_after_labels(paths, labels)
    with distributed.get_task_stream(client) as stream:
        on_cluster = ranked_after_labels(paths, labels, executor=client.get_executor())
    ran = [task for task in stream.data if task["key"].startswith("run_chunk")]
    assert len({task["worker"] for task in ran}) == 2  # both workers read and scored chunks
    assert len(ran) == -(-(N_IMAGES - N_LABELS) // 64)
    assert on_cluster.model_version == local.model_version == 1
    assert len(on_cluster) == N_IMAGES - N_LABELS
    assert_same_ranking(on_cluster, local, rtol=1e-5)


@pytest.mark.slow
def test_a_dask_cluster_leaves_unreadable_files_out_with_their_reason(
    digit_files, client, tmp_path
):
    paths, labels = digit_files
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    pool = [*paths[:100], str(broken)]
    loop = alw.ActiveLoop(
        alw.Dataset(pool, DIGITS),
        pool_sample=None,
        query_size=20,
        chunk_size=32,
        executor=client.get_executor(),
    )
    try:
        for i in range(20):
            loop.commit(i, alw.Label(int(labels[i])))
        assert loop.wait(120)
        assert 100 not in loop.ranking.indices
        assert "broken.png" in loop.broken[100]
        assert len(loop.ranking) == 80
    finally:
        loop.close()


@pytest.mark.slow
def test_a_dask_cluster_embeds_and_ranks_a_file_pool_as_the_loop_does_locally(
    digit_files, client, tmp_path
):
    paths, labels = digit_files

    def embedded_and_ranked(cache_dir, **kwargs):
        learner = alw.learners.EmbeddingClassifier(
            10, backbone="resnet18", weights=None, input_size=(32, 32), seed=0
        )
        ranked = ranked_after_labels(paths, labels, learner=learner, cache_dir=cache_dir, **kwargs)
        (folder,) = [p for p in cache_dir.iterdir() if p.is_dir()]
        return np.load(folder / "embeddings.npy"), ranked

    local_rows, local = embedded_and_ranked(tmp_path / "local")
    with distributed.get_task_stream(client) as stream:
        cluster_rows, on_cluster = embedded_and_ranked(
            tmp_path / "cluster", executor=client.get_executor()
        )
    assert {t["key"].split("-")[0] for t in stream.data} >= {"run_chunk"}
    assert cluster_rows.shape == local_rows.shape == (N_IMAGES, 512)
    np.testing.assert_allclose(
        cluster_rows.astype(np.float32), local_rows.astype(np.float32), rtol=1e-2, atol=1e-3
    )
    assert on_cluster.model_version == local.model_version == 1
    assert_same_ranking(on_cluster, local, rtol=1e-3)
