"""What the loop tells the panel about one image: `ActiveLoop.describe`."""

import pytest

import al_widget as alw

CLASSES = ["dark", "bright"]


@pytest.fixture
def trained(two_class, centroid, loop_factory):
    """A loop whose first model ranked the whole unlabeled pool."""
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, pool_sample=None, query_size=4)
    for i in range(4):
        loop.commit(i, alw.Label(int(labels[i])))
    assert loop.wait(10)
    return loop


def test_before_any_model_an_image_is_described_as_picked_at_random(
    two_class, centroid, loop_factory
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    described = loop.describe(loop.next())
    assert described.model_version == 0
    assert described.why == "picked at random: there is no model yet"


def test_a_ranked_image_is_described_with_its_score_rank_and_model(trained):
    head = trained.next()
    described = trained.describe(head)
    assert (described.rank, described.model_version, described.heuristic) == (0, 1, "margin")
    assert described.score == trained.ranking.scores[0]
    assert described.why.startswith("the 1st most uncertain of 56 images model v1 scored (margin ")


def test_the_description_carries_the_models_prediction(trained):
    head = trained.next()
    assert trained.describe(head).predicted == trained.ranking.predicted_of(head)


def test_a_labeled_image_is_described_as_labeled_with_its_annotation(trained):
    described = trained.describe(0)
    assert described.labeled
    assert described.annotation == trained.dataset.annotation(0)
    assert described.why == "already labeled"


def test_an_image_outside_the_pool_sample_says_it_was_not_scored(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, pool_sample=5, query_size=2)
    loop.commit(0, alw.Label(int(labels[0])))
    loop.commit(1, alw.Label(int(labels[1])))
    assert loop.wait(10)
    outside = next(i for i in loop.dataset.unlabeled if loop.ranking.position_of(i) is None)
    assert loop.describe(int(outside)).why == "not scored yet: model v1 scored 5 other images"


def test_an_image_brought_back_by_undo_says_so(trained):
    head = trained.next()
    trained.skip(head)
    trained.undo()
    assert trained.describe(head).why == "brought back by undo"


def test_a_broken_image_is_described_with_its_reason(trained):
    trained.mark_broken(9, "truncated file")
    assert trained.describe(9).why == "left out: the image could not be read (truncated file)"


def test_describing_an_index_out_of_range_is_refused(trained):
    with pytest.raises(IndexError, match="index 60 is out of range"):
        trained.describe(60)


def test_the_panel_header_is_the_loops_description(trained):
    panel = alw.Panel(trained)
    try:
        why = trained.describe(panel.current).why
        assert panel.header.value == f"<b>image {panel.current}</b> · {why}"
    finally:
        panel.close()


def test_an_ordinal_reads_as_english():
    from al_widget.description import _ordinal

    assert [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"
    ]  # fmt: skip
