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
    np.testing.assert_allclose(on_cluster.scores, local.scores, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(on_cluster.indices[:50], local.indices[:50])
    np.testing.assert_array_equal(on_cluster.predicted, local.predicted)


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
