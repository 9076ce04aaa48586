"""COCO's run-length codec: byte-equal to faster-coco-eval's strings, and lossless."""

import numpy as np
import pytest
from faster_coco_eval.core import mask as coco_mask
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from al_widget import _rle

masks = st.tuples(st.integers(1, 20), st.integers(1, 20)).flatmap(lambda shape: arrays(bool, shape))


@settings(max_examples=200, deadline=None)
@given(masks)
def test_strings_are_the_ones_faster_coco_eval_writes(mask):
    expected = coco_mask.encode(np.asfortranarray(mask, dtype=np.uint8))["counts"].decode()
    assert _rle.to_string(_rle.counts(mask)) == expected


@settings(max_examples=200, deadline=None)
@given(masks)
def test_a_mask_comes_back_from_its_string(mask):
    runs = _rle.from_string(_rle.to_string(_rle.counts(mask)))
    assert np.array_equal(_rle.decode(runs, mask.shape), mask)


@settings(max_examples=200, deadline=None)
@given(masks)
def test_the_box_is_the_set_pixels_edges(mask):
    box = _rle.box(_rle.counts(mask), mask.shape[0])
    if not mask.any():
        assert box.tolist() == [0, 0, 0, 0]
        return
    rows, cols = np.nonzero(mask)
    assert box.tolist() == [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]


def test_empty_runs_inside_are_merged_away():
    assert _rle.canonical(np.array([0, 2, 0, 3, 5])).tolist() == [0, 5, 5]
    assert _rle.canonical(np.array([4, 0, 2, 3])).tolist() == [6, 3]


@pytest.mark.parametrize("text", ["0" + "\x7f", "1" + "o" * 20])
def test_a_string_that_is_no_rle_is_refused(text):
    with pytest.raises(ValueError, match="RLE"):
        _rle.from_string(text)
