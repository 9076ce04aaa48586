"""A label drawn on a photo is journaled with the EXIF orientation the photo was shown in, and
restored only onto a photo still shown that way: a photo app that turns a photo rewrites its
Orientation tag, and a square photo (or one turned half way round) keeps its size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw

ORIENTATION = 0x0112  # the EXIF tag


def photo(path: Path, orientation: int, size: tuple[int, int] = (16, 16)) -> str:
    """A JPEG of `size` (H, W) stored pixels with EXIF `orientation`, as a camera writes it.
    Written again with another orientation, its pixels are the same (JPEG encodes the same
    pixels the same way): only the tag changes, as when a photo app turns it."""
    stored = np.zeros((*size, 3), np.uint8)
    stored[: size[0] // 2, : size[1] // 2] = 255  # a white block in the stored top-left
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    Image.fromarray(stored).save(path, format="JPEG", quality=95, exif=exif.tobytes())
    return str(path)


LABELS = {
    "detect": lambda size: alw.Boxes([[0, 0, 6, 5]], ["thing"]),
    "segment": lambda size: alw.Mask(np.eye(*size, dtype=np.uint8)),
    "instances": lambda size: alw.Instances(np.eye(*size, dtype=bool)[None], ["thing"]),
}


def labeled(tmp_path: Path, task: str, orientation: int, size: tuple[int, int]):
    """Two photos of `size` with `orientation`, both labeled, the journal closed: (paths,
    journal, labels)."""
    paths = [photo(tmp_path / f"p{k}.jpg", orientation, size) for k in range(2)]
    journal = tmp_path / "labels.jsonl"
    dataset = alw.Dataset(paths, ["background", "thing"], task=task, journal=journal)
    labels = [dataset.annotate(i, LABELS[task](dataset.image_size(i))) for i in (0, 1)]
    dataset.close()
    return paths, journal, labels


def entries(journal: Path) -> list[dict]:
    return [json.loads(line) for line in journal.read_text().splitlines()[1:]]


def test_a_box_is_journaled_with_the_orientation_its_photo_was_shown_in(tmp_path: Path) -> None:
    _, journal, _ = labeled(tmp_path, "detect", 6, (16, 16))
    assert [entry["orientation"] for entry in entries(journal)] == [6, 6]


@pytest.mark.parametrize("task", list(LABELS))
@pytest.mark.parametrize(
    ("size", "before", "after"),
    [((16, 16), 6, 1), ((16, 16), 1, 8), ((12, 16), 1, 3)],
    ids=["square-turned-upright", "square-turned-a-quarter", "wide-turned-half-way"],
)
def test_a_label_of_a_photo_turned_since_is_left_out_and_the_rest_restored(
    tmp_path: Path, caplog, task: str, size, before: int, after: int
) -> None:
    paths, journal, labels = labeled(tmp_path, task, before, size)
    photo(Path(paths[0]), after, size)  # the photo app turns it: same size, other pixels shown
    with caplog.at_level("WARNING", logger="al_widget"):
        back = alw.Dataset.restore(journal, paths, read_only=True)
    assert back.labeled.tolist() == [1]
    assert back.annotation(1) == labels[1]
    assert (
        f"line 2: image 0 ({paths[0]}) was shown turned by EXIF orientation {before} when "
        f"labeled, now by {after}: the file changed since?"
    ) in caplog.text


def test_a_label_of_a_photo_shown_as_it_was_is_restored(tmp_path: Path, caplog) -> None:
    paths, journal, labels = labeled(tmp_path, "detect", 6, (16, 16))
    photo(Path(paths[0]), 6)  # written again, the same way
    with caplog.at_level("WARNING", logger="al_widget"):
        back = alw.Dataset.restore(journal, paths, read_only=True)
    assert [back.annotation(i) for i in (0, 1)] == labels
    assert "orientation" not in caplog.text


def test_a_journal_of_an_earlier_version_without_orientations_restores_as_before(
    tmp_path: Path,
) -> None:
    paths, journal, labels = labeled(tmp_path, "detect", 6, (16, 16))
    header = journal.read_text().splitlines()[0]
    earlier = [{k: v for k, v in entry.items() if k != "orientation"} for entry in entries(journal)]
    journal.write_text("".join(f"{line}\n" for line in [header, *map(json.dumps, earlier)]))
    photo(Path(paths[0]), 1)
    back = alw.Dataset.restore(journal, paths, read_only=True)
    assert [back.annotation(i) for i in (0, 1)] == labels


def test_a_class_label_is_journaled_without_an_orientation_and_kept_when_turned(
    tmp_path: Path,
) -> None:
    # a class names the whole photo, however it is turned
    paths = [photo(tmp_path / "p.jpg", 6)]
    journal = tmp_path / "labels.jsonl"
    dataset = alw.Dataset(paths, ["cat", "dog"], journal=journal)
    dataset.annotate(0, alw.Label("dog"))
    dataset.close()
    assert "orientation" not in entries(journal)[0]
    photo(Path(paths[0]), 1)
    assert alw.Dataset.restore(journal, paths, read_only=True).annotation(0) == alw.Label("dog")


def test_a_label_of_an_image_given_in_memory_is_journaled_without_an_orientation(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "labels.jsonl"
    dataset = alw.Dataset(np.zeros((1, 8, 8, 3), np.uint8), ["thing"], "detect", journal=journal)
    dataset.annotate(0, alw.Boxes([[0, 0, 4, 4]], ["thing"]))
    dataset.close()
    assert "orientation" not in entries(journal)[0]


def test_a_label_committed_with_an_orientation_its_photo_no_longer_has_is_refused(
    tmp_path: Path,
) -> None:
    # drawn on the pixels read in orientation 1; the photo was turned before the commit
    paths = [photo(tmp_path / "p.jpg", 6)]
    journal = tmp_path / "labels.jsonl"
    loop = alw.ActiveLoop(
        alw.Dataset(paths, ["thing"], "detect", journal=journal), None, start=False
    )
    with pytest.raises(
        ValueError,
        match=r"image 0: the label was drawn on the photo shown by EXIF orientation 1, and its "
        r"file is turned by 6 now \(another program turned it since\)",
    ):
        loop.commit(0, alw.Boxes([[0, 0, 6, 5]], ["thing"]), orientation=1)
    loop.close()
    assert loop.dataset.annotation(0) is None
    assert entries(journal) == []


def test_a_label_committed_with_the_orientation_its_photo_still_has_is_journaled_with_it(
    tmp_path: Path,
) -> None:
    paths = [photo(tmp_path / "p.jpg", 6)]
    journal = tmp_path / "labels.jsonl"
    loop = alw.ActiveLoop(
        alw.Dataset(paths, ["thing"], "detect", journal=journal), None, start=False
    )
    loop.commit(0, alw.Boxes([[0, 0, 6, 5]], ["thing"]), orientation=6)
    loop.close()
    assert [entry["orientation"] for entry in entries(journal)] == [6]


def test_a_dataset_without_a_journal_records_no_orientation_whatever_it_is_given(
    tmp_path: Path,
) -> None:
    dataset = alw.Dataset([photo(tmp_path / "p.jpg", 6)], ["thing"], "detect")
    dataset.annotate(0, alw.Boxes([[0, 0, 6, 5]], ["thing"]), orientation=6)
    assert dataset.drawn_in(0) is None


@pytest.mark.parametrize("value", [0, 9, "6", 6.0, True, None])
def test_a_journaled_orientation_that_is_no_exif_orientation_is_refused_naming_its_line(
    tmp_path: Path, value
) -> None:
    paths, journal, _ = labeled(tmp_path, "detect", 6, (16, 16))
    lines = journal.read_text().splitlines()
    entry = {**json.loads(lines[1]), "orientation": value}
    journal.write_text(f"{lines[0]}\n{json.dumps(entry)}\n")
    with pytest.raises(ValueError, match=r"line 2: 'orientation' must be an EXIF orientation"):
        alw.Dataset.restore(journal, paths, read_only=True)


@pytest.mark.parametrize("value", [0, 9, "6", 1.0, True, None, [6]])
def test_a_journaled_orientation_of_an_image_that_cannot_be_read_is_checked_too(
    tmp_path: Path, value
) -> None:
    paths, journal, _ = labeled(tmp_path, "detect", 6, (16, 16))
    lines = journal.read_text().splitlines()
    entry = {**json.loads(lines[1]), "orientation": value}
    journal.write_text(f"{lines[0]}\n{json.dumps(entry)}\n")
    Path(paths[0]).rename(tmp_path / "moved.jpg")
    with pytest.raises(ValueError, match=r"line 2: 'orientation' must be an EXIF orientation"):
        alw.Dataset.restore(journal, paths, read_only=True)


@pytest.mark.parametrize("value", [0, 9, "6", 1.0, True, None, [6]])
def test_a_journaled_orientation_of_a_class_label_is_checked_too(tmp_path: Path, value) -> None:
    paths = [photo(tmp_path / "p.jpg", 6)]
    journal = tmp_path / "labels.jsonl"
    dataset = alw.Dataset(paths, ["cat", "dog"], journal=journal)
    dataset.annotate(0, alw.Label("dog"))
    dataset.close()
    lines = journal.read_text().splitlines()
    entry = {**json.loads(lines[1]), "orientation": value}
    journal.write_text(f"{lines[0]}\n{json.dumps(entry)}\n")
    with pytest.raises(ValueError, match=r"line 2: 'orientation' must be an EXIF orientation"):
        alw.Dataset.restore(journal, paths, read_only=True)
