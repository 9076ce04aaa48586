"""How far the model agreed with each label: the metric a loop without an eval set records."""

import numpy as np

import al_widget as alw
from al_widget import ranking
from al_widget.metrics import mean_iou
from al_widget.session import Session, agreement

CLASSES = ["background", "thing"]


def ranked_with(i, *, predicted=None, draft=None):
    """A ranking of image `i` alone, with the model's class or draft for it."""
    return ranking.build(
        np.array([i]),
        np.zeros(1),
        None if predicted is None else np.array([predicted]),
        rng=np.random.default_rng(0),
        temperature=None,
        model_version=1,
        data_version=1,
        heuristic="margin",
        drafts={} if draft is None else {i: draft},
    )


def test_a_class_agrees_when_it_is_the_class_predicted():
    assert agreement(ranked_with(3, predicted=1), 3, alw.Label("thing"), CLASSES) == 1.0
    assert agreement(ranked_with(3, predicted=0), 3, alw.Label("thing"), CLASSES) == 0.0


def test_boxes_agree_by_their_f1_against_the_models_boxes():
    draft = alw.Boxes([[0, 0, 10, 10], [20, 20, 30, 30]], ["thing", "thing"])
    kept_one = alw.Boxes([[0, 0, 10, 10]], ["thing"])
    assert agreement(ranked_with(3, draft=draft), 3, kept_one, CLASSES) == 2 / 3


def test_a_large_masks_agreement_is_its_mean_iou_over_every_pixel():
    truth = np.zeros((3000, 4000), np.uint8)
    truth[500:1500, 1000:2500] = 1
    drawn = truth.copy()
    drawn[500:800] = 0
    got = agreement(ranked_with(3, draft=alw.Mask(truth)), 3, alw.Mask(drawn), CLASSES)
    assert got == mean_iou(truth, drawn, 2)


def small_squares(corners, size=(3000, 4000), side=30):
    """Objects of class "thing": a `side`-pixel square at each (y, x) corner, on a big image."""
    masks = np.zeros((len(corners), *size), bool)
    for k, (y, x) in enumerate(corners):
        masks[k, y : y + side, x : x + side] = True
    return alw.Instances(masks, ["thing"] * len(corners))


def test_objects_agree_by_their_f1_against_the_models_objects_by_exact_mask_iou():
    # 30-pixel squares on a 4000 x 3000 photo: shifted by 3 pixels they overlap by 0.68 (a
    # match), by 12 pixels by 0.27 (none), however few pixels a sample would catch of them.
    draft = small_squares([(100, 100), (500, 500)])
    drawn = small_squares([(103, 103), (512, 512)])
    assert agreement(ranked_with(3, draft=draft), 3, drawn, CLASSES) == 0.5


def test_nothing_offered_by_the_model_records_nothing():
    assert agreement(ranked_with(3), 3, alw.Label("thing"), CLASSES) is None
    assert agreement(ranked_with(3), 3, alw.Mask(np.zeros((4, 4), np.uint8)), CLASSES) is None


def predicting_thing_everywhere(n=10):
    """A session over `n` images and a ranking whose model predicts "thing" for each."""
    dataset = alw.Dataset(np.zeros((n, 4, 4), np.uint8), CLASSES)
    ranked = ranking.build(
        np.arange(n),
        np.zeros(n),
        np.ones(n, np.int64),
        rng=np.random.default_rng(0),
        temperature=None,
        model_version=1,
        data_version=1,
        heuristic="margin",
    )
    return Session(dataset, np.random.default_rng(0)), ranked


def five_agreeing_labels():
    session, ranked = predicting_thing_everywhere()
    for i in range(5):
        session.commit(i, alw.Label("thing"), ranked)
    assert session.agreement() == 1.0
    return session, ranked


def test_an_undone_label_no_longer_counts_in_the_agreement():
    session, ranked = five_agreeing_labels()
    session.commit(5, alw.Label("background"), ranked)  # a slip, taken back
    session.undo()
    assert session.agreement() == 1.0


def test_a_redone_label_counts_once_in_the_agreement():
    session, ranked = five_agreeing_labels()
    session.commit(5, alw.Label("background"), ranked)
    session.undo()
    session.redo(ranked)
    assert session.agreement() == 5 / 6


def test_a_replaced_label_no_longer_counts_in_the_agreement():
    session, ranked = five_agreeing_labels()
    session.commit(5, alw.Label("background"), ranked)
    session.commit(5, alw.Label("thing"), ranked, replace=True)
    assert session.agreement() == 1.0


def test_undoing_a_replacement_counts_the_label_it_replaced_again():
    session, ranked = five_agreeing_labels()
    session.commit(5, alw.Label("background"), ranked)
    session.commit(5, alw.Label("thing"), ranked, replace=True)
    session.undo()
    assert session.agreement() == 5 / 6
