"""A journal knows which images it was written for: restore refuses others, nothing restored."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

import al_widget as alw

CLASSES = ["cat", "milkshake"]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "labels.jsonl"


def image_files(folder, names):
    """A small PNG per name in `folder`, each of its own gray; their paths, sorted."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(names):
        Image.fromarray(np.full((4, 4), 10 * k, np.uint8)).save(folder / name)
    return sorted(folder / name for name in names)


def journal_of(path, images, labeled):
    """A journal written for `images`, `labeled` (index -> class) annotated; its bytes."""
    dataset = alw.Dataset(images, CLASSES, journal=path)
    for i, name in labeled.items():
        dataset.annotate(i, alw.Label(name))
    dataset.close()
    return path.read_bytes()


NAMES = [f"{k:03d}.png" for k in range(6)]


def test_restore_refuses_other_files_of_the_same_number_and_leaves_the_journal(tmp_path, path):
    files = image_files(tmp_path / "photos", NAMES)
    written = journal_of(path, files, {5: "cat"})
    files[-1].unlink()  # between sessions one photo goes and another comes
    others = image_files(tmp_path / "photos", ["000a.png"]) + files[:-1]
    with pytest.raises(ValueError, match=r"journal .*labels.jsonl does not match these images: "
                       r"the names of the files given \(under .*photos/\) are not those it was "
                       r"written for") as caught:  # fmt: skip
        alw.Dataset.restore(path, sorted(others))
    assert "Nothing was restored and the journal is unchanged" in str(caught.value)
    assert path.read_bytes() == written
    files[-1].write_bytes(others[0].read_bytes())
    assert alw.Dataset.restore(path, files).labeled.tolist() == [5]  # the lock was released


def test_restore_refuses_the_same_files_in_another_order(tmp_path, path):
    files = image_files(tmp_path / "photos", NAMES)
    journal_of(path, files, {0: "cat"})
    with pytest.raises(
        ValueError, match="are not those it was written for.*or not in the same order"
    ):
        alw.Dataset.restore(path, files[::-1])


def test_a_read_only_restore_refuses_other_files_too(tmp_path, path):
    files = image_files(tmp_path / "photos", NAMES)
    journal_of(path, files, {0: "cat"})
    with pytest.raises(ValueError, match="does not match these images"):
        alw.Dataset.restore(path, files[1:] + files[:1], read_only=True)


def test_a_moved_folder_still_restores(tmp_path, path):
    files = image_files(tmp_path / "photos" / "cats", NAMES[:3]) + image_files(
        tmp_path / "photos" / "dogs", NAMES[3:]
    )
    journal_of(path, files, {1: "cat", 4: "milkshake"})
    shutil.move(tmp_path / "photos", tmp_path / "moved")
    moved = [tmp_path / "moved" / f.parent.name / f.name for f in files]
    restored = alw.Dataset.restore(path, moved)
    assert {i: restored.annotation(i).cls for i in restored.labeled.tolist()} == {
        1: "cat",
        4: "milkshake",
    }


def test_which_files_a_journal_is_for_is_told_by_their_names_alone(tmp_path, path):
    absent = [tmp_path / "not yet" / name for name in NAMES]  # no file is opened
    journal_of(path, absent, {2: "cat"})
    assert alw.Dataset.restore(path, absent).labeled.tolist() == [2]
    renamed = [*absent[:-1], tmp_path / "not yet" / "zzz.png"]
    with pytest.raises(ValueError, match="are not those it was written for"):
        alw.Dataset.restore(path, renamed)


def test_restore_refuses_an_array_whose_pixels_differ(path, gray_images):
    written = journal_of(path, gray_images, {2: "cat"})
    with pytest.raises(
        ValueError, match=r"the pixels of the array given \(an array of shape 20x6x5 \(uint8\)\) "
    ):
        alw.Dataset.restore(path, gray_images[::-1])
    assert path.read_bytes() == written


def test_restore_refuses_an_array_of_another_shape(path, gray_images):
    journal_of(path, gray_images, {2: "cat"})
    with pytest.raises(
        ValueError,
        match=r"it was written for an array of shape 20x6x5 \(uint8\), got an array of shape "
        r"20x5x6 \(uint8\)",
    ):
        alw.Dataset.restore(path, np.ascontiguousarray(gray_images.transpose(0, 2, 1)))


def test_restore_refuses_an_array_for_a_journal_of_files(tmp_path, path):
    files = image_files(tmp_path / "photos", NAMES)
    journal_of(path, files, {0: "cat"})
    with pytest.raises(
        ValueError, match=r"it was written for image files under .*photos/, got an array"
    ):
        alw.Dataset.restore(path, np.zeros((6, 4, 4), np.uint8))


def test_a_journal_without_an_image_fingerprint_restores_as_before(tmp_path, path):
    # written as al_widget wrote journals before they recorded which images they were for
    files = image_files(tmp_path / "photos", NAMES)
    header = {"journal": "al_widget", "format": 1, "classes": CLASSES, "task": "classify",
              "n_images": 6}  # fmt: skip
    entry = {"op": "annotate", "i": 3, "annotation": alw.Label("cat").to_json()}
    lines = [json.dumps(line, separators=(",", ":")) for line in (header, entry)]
    path.write_text("\n".join(lines) + "\n")
    restored = alw.Dataset.restore(path, files)
    assert restored.annotation(3).cls == "cat"
    restored.annotate(4, alw.Label("milkshake"))
    restored.close()
    assert alw.Dataset.restore(path, files).labeled.tolist() == [3, 4]
