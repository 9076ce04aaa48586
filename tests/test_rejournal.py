"""Dataset.rejournal writes every label the dataset holds to a new journal and journals later
changes there: the way on from a journal replaced, moved or deleted while open, and the way to
start journaling a dataset made without one. All or nothing."""

import errno
import json

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget import _journal
from al_widget.dataset import JournalError, JournalLocked

CLASSES = ["cat", "milkshake"]


@pytest.fixture
def labeled(tmp_path, gray_images):
    """A dataset writing tmp_path/labels.jsonl: image 5 labeled, then 2, then 5 again."""
    dataset = alw.Dataset(gray_images, CLASSES, journal=tmp_path / "labels.jsonl")
    dataset.annotate(5, alw.Label("cat"))
    dataset.annotate(2, alw.Label("milkshake"))
    dataset.annotate(5, alw.Label("milkshake"))
    yield dataset
    dataset.close()


def photo(path, orientation):
    """A 16x16 JPEG with EXIF `orientation`, as a camera writes it."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(path, "JPEG", exif=exif.tobytes())
    return str(path)


def labels(dataset):
    return {int(i): dataset.annotation(int(i)).cls for i in dataset.labeled}


def test_rejournal_writes_every_label_held_to_the_new_journal(labeled, tmp_path, gray_images):
    labeled.rejournal(tmp_path / "new.jsonl")
    labeled.close()
    restored = alw.Dataset.restore(tmp_path / "new.jsonl", gray_images)
    assert labels(restored) == {2: "milkshake", 5: "milkshake"}


def test_rejournal_writes_the_labels_in_the_order_they_were_last_given(
    labeled, tmp_path, gray_images
):
    labeled.rejournal(tmp_path / "new.jsonl")
    labeled.close()
    restored = alw.Dataset.restore(tmp_path / "new.jsonl", gray_images)
    assert restored.labeled_at(2) < restored.labeled_at(5)


def test_later_changes_go_to_the_new_journal(labeled, tmp_path, gray_images):
    labeled.rejournal(tmp_path / "new.jsonl")
    labeled.annotate(7, alw.Label("cat"))
    labeled.remove(2)
    labeled.close()
    restored = alw.Dataset.restore(tmp_path / "new.jsonl", gray_images)
    assert labels(restored) == {5: "milkshake", 7: "cat"}
    assert labeled.journal_path == str(tmp_path / "new.jsonl")


def test_rejournal_closes_the_journal_before_and_leaves_it_as_it_was(
    labeled, tmp_path, gray_images
):
    before = (tmp_path / "labels.jsonl").read_bytes()
    labeled.rejournal(tmp_path / "new.jsonl")
    labeled.annotate(7, alw.Label("cat"))
    assert (tmp_path / "labels.jsonl").read_bytes() == before
    alw.Dataset.restore(tmp_path / "labels.jsonl", gray_images).close()  # its lock is let go


def test_rejournal_refuses_a_journal_that_holds_labels(labeled, tmp_path, gray_images):
    other = alw.Dataset(gray_images, CLASSES, journal=tmp_path / "other.jsonl")
    other.annotate(0, alw.Label("cat"))
    other.close()
    with pytest.raises(ValueError, match="already holds labels"):
        labeled.rejournal(tmp_path / "other.jsonl")
    assert labeled.journal_path == str(tmp_path / "labels.jsonl")


def test_rejournal_refuses_a_users_file_that_is_no_journal_and_leaves_it_as_it_is(
    labeled, tmp_path
):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    with pytest.raises(ValueError, match=f"{notes} is a file that is no al_widget journal"):
        labeled.rejournal(notes)
    assert notes.read_text() == "my notes\n"
    assert labeled.journal_path == str(tmp_path / "labels.jsonl")


def test_rejournal_to_the_datasets_own_journal_is_refused_saying_so(labeled, tmp_path, gray_images):
    with pytest.raises(ValueError, match="is this dataset's journal already"):
        labeled.rejournal(tmp_path / "labels.jsonl")
    labeled.annotate(0, alw.Label("cat"))  # it goes on writing there
    labeled.close()
    back = alw.Dataset.restore(tmp_path / "labels.jsonl", gray_images, read_only=True)
    assert 0 in back.labeled


def test_rejournal_refuses_a_journal_another_dataset_writes(labeled, tmp_path, gray_images):
    other = alw.Dataset(gray_images, CLASSES, journal=tmp_path / "other.jsonl")
    with pytest.raises(JournalLocked):
        labeled.rejournal(tmp_path / "other.jsonl")
    other.close()


def test_a_rejournal_that_cannot_be_written_leaves_the_dataset_on_its_journal(
    labeled, tmp_path, gray_images, monkeypatch
):
    real, writes = _journal._write_fd, []

    def header_then_full(fd, data):
        writes.append(fd)
        if len(writes) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(_journal, "_write_fd", header_then_full)
    with pytest.raises(JournalError, match="No space left on device"):
        labeled.rejournal(tmp_path / "new.jsonl")
    monkeypatch.undo()
    assert (tmp_path / "new.jsonl").read_bytes() == b""  # a new journal may start there
    labeled.annotate(7, alw.Label("cat"))
    labeled.close()
    restored = alw.Dataset.restore(tmp_path / "labels.jsonl", gray_images)
    assert labels(restored) == {2: "milkshake", 5: "milkshake", 7: "cat"}


def test_rejournal_starts_a_journal_for_a_dataset_made_without_one(tmp_path, gray_images):
    dataset = alw.Dataset(gray_images, CLASSES)
    dataset.annotate(3, alw.Label("cat"))
    dataset.rejournal(tmp_path / "new.jsonl")
    dataset.annotate(4, alw.Label("milkshake"))
    dataset.close()
    restored = alw.Dataset.restore(tmp_path / "new.jsonl", gray_images)
    assert labels(restored) == {3: "cat", 4: "milkshake"}


def test_rejournal_keeps_the_orientation_each_label_was_drawn_in(tmp_path):
    paths = [photo(tmp_path / f"p{k}.jpg", 6) for k in range(2)]
    dataset = alw.Dataset(paths, ["thing"], task="detect", journal=tmp_path / "labels.jsonl")
    dataset.annotate(1, alw.Boxes([[0, 0, 6, 5]], ["thing"]))
    dataset.rejournal(tmp_path / "new.jsonl")
    dataset.close()
    lines = (tmp_path / "new.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["orientation"] == 6
    assert alw.Dataset.restore(tmp_path / "new.jsonl", paths).drawn_in(1) == 6


def test_rejournal_keeps_the_journal_sync_policy(labeled, tmp_path):
    labeled.rejournal(tmp_path / "new.jsonl", journal_sync="always")
    assert labeled._journal.sync_policy == "always"


def test_a_closed_dataset_refuses_rejournal(labeled, tmp_path):
    labeled.close()
    with pytest.raises(alw.dataset.DatasetClosed):
        labeled.rejournal(tmp_path / "new.jsonl")
    assert not (tmp_path / "new.jsonl").exists()
