"""A label that undo or redo puts back is journaled with the EXIF orientation it was first
journaled with, the one its photo was shown in when it was drawn; one the photo no longer has
is refused, and a restore leaves it out once the photo is turned otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

import al_widget as alw
from tests.test_journal_orientation import entries, photo

OLD = alw.Boxes([[0, 0, 8, 8]], ["thing"])  # drawn on the photo shown by orientation 1
NEW = alw.Boxes([[8, 8, 16, 16]], ["thing"])  # drawn on it once turned half way round (3)


def relabeled_turned(tmp_path: Path) -> tuple[alw.ActiveLoop, list[str], Path]:
    """A photo labeled with OLD in orientation 1, turned half way round by a photo app (same
    size), then relabeled with NEW: (the loop, the paths, the journal)."""
    paths = [photo(tmp_path / f"p{k}.jpg", 1) for k in range(2)]
    journal = tmp_path / "labels.jsonl"
    dataset = alw.Dataset(paths, ["bg", "thing"], task="detect", journal=journal)
    loop = alw.ActiveLoop(dataset, None, start=False)
    loop.commit(0, OLD)
    photo(Path(paths[0]), 3)
    loop.commit(0, NEW, replace=True)
    return loop, paths, journal


def undone_turned_back(tmp_path: Path) -> tuple[alw.ActiveLoop, list[str], Path]:
    """`relabeled_turned`, the photo turned back as OLD was drawn (1), and NEW undone: OLD is
    the label again."""
    loop, paths, journal = relabeled_turned(tmp_path)
    photo(Path(paths[0]), 1)
    loop.undo()
    return loop, paths, journal


def test_the_label_an_undo_puts_back_is_journaled_with_the_orientation_it_was_drawn_in(
    tmp_path: Path,
) -> None:
    loop, _, journal = undone_turned_back(tmp_path)
    loop.close()
    assert [entry["orientation"] for entry in entries(journal)] == [1, 3, 1]
    assert loop.dataset.drawn_in(0) == 1


def test_an_undo_that_would_put_a_label_back_on_a_photo_turned_since_is_refused(
    tmp_path: Path,
) -> None:
    loop, _, journal = relabeled_turned(tmp_path)  # OLD was drawn in 1, the photo is in 3
    with pytest.raises(
        ValueError,
        match=r"image 0: the label was drawn on the photo shown by EXIF orientation 1, and its "
        r"file is turned by 3 now",
    ):
        loop.undo()
    loop.close()
    assert loop.dataset.annotation(0) == NEW.bind(image_size=(16, 16), classes=["bg", "thing"])
    assert [entry["orientation"] for entry in entries(journal)] == [1, 3]


def test_the_label_an_undo_put_back_is_not_restored_onto_the_photo_turned_since(
    tmp_path: Path, caplog
) -> None:
    loop, paths, journal = undone_turned_back(tmp_path)
    loop.close()
    photo(Path(paths[0]), 3)  # turned again once the session is over
    with caplog.at_level("WARNING", logger="al_widget"):
        back = alw.Dataset.restore(journal, paths, read_only=True)
    assert back.annotation(0) != OLD.bind(image_size=(16, 16), classes=["bg", "thing"])
    assert (
        f"line 4: image 0 ({paths[0]}) was shown turned by EXIF orientation 1 when labeled, "
        "now by 3"
    ) in caplog.text


def test_the_label_the_undo_took_back_is_not_restored_either(tmp_path: Path) -> None:
    # The labeler's last word on the image (OLD, put back by the undo) no longer fits it, and
    # NEW is a label the labeler took back: the image comes back unlabeled, to label again
    loop, paths, journal = undone_turned_back(tmp_path)
    loop.close()
    photo(Path(paths[0]), 3)
    assert alw.Dataset.restore(journal, paths, read_only=True).annotation(0) is None


def test_an_undo_that_would_put_boxes_back_on_a_photo_replaced_since_is_refused(
    tmp_path: Path,
) -> None:
    paths = [photo(tmp_path / f"p{k}.jpg", 1) for k in range(2)]
    journal = tmp_path / "labels.jsonl"
    loop = alw.ActiveLoop(
        alw.Dataset(paths, ["bg", "thing"], task="detect", journal=journal), None, start=False
    )
    loop.commit(0, OLD)
    photo(Path(paths[0]), 1, size=(16, 24))  # replaced by a wider photo, then labeled again
    loop.commit(0, NEW, replace=True)
    with pytest.raises(ValueError, match=r"image 0: boxes were drawn on a \(16, 16\) canvas"):
        loop.undo()  # OLD was drawn on the 16 x 16 photo: it does not fit this one
    assert loop.dataset.annotation(0) == NEW.bind(image_size=(16, 24), classes=["bg", "thing"])
    loop.close()


def test_the_label_a_redo_puts_back_keeps_the_orientation_it_was_drawn_in(
    tmp_path: Path,
) -> None:
    loop, paths, journal = undone_turned_back(tmp_path)
    photo(Path(paths[0]), 3)  # turned as NEW was drawn, before the redo
    loop.redo()
    loop.close()
    assert entries(journal)[-1]["orientation"] == 3
    assert loop.dataset.drawn_in(0) == 3


def test_a_redo_that_would_put_a_label_back_on_a_photo_turned_since_is_refused(
    tmp_path: Path,
) -> None:
    loop, _, journal = undone_turned_back(tmp_path)  # NEW was drawn in 3, the photo is in 1
    with pytest.raises(
        ValueError,
        match=r"image 0: the label was drawn on the photo shown by EXIF orientation 3, and its "
        r"file is turned by 1 now",
    ):
        loop.redo()
    loop.close()
    assert loop.dataset.annotation(0) == OLD.bind(image_size=(16, 16), classes=["bg", "thing"])
    assert [entry["orientation"] for entry in entries(journal)] == [1, 3, 1]


def test_a_label_restored_keeps_the_orientation_journaled_with_it(tmp_path: Path) -> None:
    loop, paths, journal = relabeled_turned(tmp_path)
    loop.close()
    assert alw.Dataset.restore(journal, paths, read_only=True).drawn_in(0) == 3


@pytest.mark.parametrize("how", ["removed", "a class label"])
def test_an_image_without_a_label_drawn_on_its_pixels_was_drawn_in_no_orientation(
    tmp_path: Path, how: str
) -> None:
    paths = [photo(tmp_path / "p.jpg", 6)]
    task, label = ("detect", OLD) if how == "removed" else ("classify", alw.Label("thing"))
    dataset = alw.Dataset(paths, ["bg", "thing"], task=task, journal=tmp_path / "j.jsonl")
    dataset.annotate(0, label)
    if how == "removed":
        assert dataset.drawn_in(0) == 6
        dataset.remove(0)
    assert dataset.drawn_in(0) is None


def test_an_entry_a_later_line_relabels_is_left_out_without_a_warning(
    tmp_path: Path, caplog
) -> None:
    # OLD (drawn in 1) no longer fits the turned photo, but NEW (drawn in 3) replaced it: the
    # image is restored labeled, and no label was lost to warn of
    loop, paths, journal = relabeled_turned(tmp_path)
    loop.close()
    with caplog.at_level("WARNING", logger="al_widget"):
        back = alw.Dataset.restore(journal, paths, read_only=True)
    assert back.annotation(0) == NEW.bind(image_size=(16, 16), classes=["bg", "thing"])
    assert "left out" not in caplog.text


def test_an_entry_a_later_line_takes_back_is_left_out_without_a_warning(
    tmp_path: Path, caplog
) -> None:
    paths = [photo(tmp_path / f"p{k}.jpg", 1) for k in range(2)]
    journal = tmp_path / "labels.jsonl"
    loop = alw.ActiveLoop(
        alw.Dataset(paths, ["bg", "thing"], task="detect", journal=journal), None, start=False
    )
    loop.commit(0, OLD)
    photo(Path(paths[0]), 6)
    loop.undo()  # OLD taken back: the image was unlabeled before it
    loop.close()
    with caplog.at_level("WARNING", logger="al_widget"):
        back = alw.Dataset.restore(journal, paths, read_only=True)
    assert back.annotation(0) is None
    assert "left out" not in caplog.text
