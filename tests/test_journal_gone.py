"""A journal whose file is no longer at its path (replaced by a renamed copy, as editors and sync
tools save; moved; deleted; its folder removed) refuses later changes, saying what happened and
how to go on: nothing labeled is lost, and a second writer on the file now at the path loses no
label of the first, nor the first of the second."""

import os
import shutil

import pytest

import al_widget as alw
from al_widget import _journal
from al_widget.dataset import JournalError

CLASSES = ["cat", "milkshake"]


@pytest.fixture
def path(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    return folder / "labels.jsonl"


@pytest.fixture
def labeled(path, gray_images):
    """A dataset writing `path`, images 0 and 1 labeled."""
    dataset = alw.Dataset(gray_images, CLASSES, journal=path)
    dataset.annotate(0, alw.Label("cat"))
    dataset.annotate(1, alw.Label("milkshake"))
    yield dataset
    dataset.close()


def replace_by_copy(path):
    """Save `path` as an editor or a sync tool does: a copy written beside it, renamed over it."""
    copy = path.with_name(path.name + ".tmp")
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)


def labels(dataset):
    return {int(i): dataset.annotation(int(i)).cls for i in dataset.labeled}


def test_a_label_after_the_journal_is_replaced_by_a_renamed_copy_is_refused(path, labeled):
    replace_by_copy(path)
    with pytest.raises(JournalError, match="was replaced by another file since it was opened"):
        labeled.annotate(2, alw.Label("cat"))


def test_a_label_after_the_journal_is_deleted_is_refused(path, labeled):
    path.unlink()
    with pytest.raises(JournalError, match=r"was deleted since it was opened.*was not made"):
        labeled.annotate(2, alw.Label("cat"))


def test_a_label_after_the_journal_s_folder_is_removed_is_refused(path, labeled):
    shutil.rmtree(path.parent)
    with pytest.raises(JournalError, match=r"\(or its folder removed\)"):
        labeled.annotate(2, alw.Label("cat"))


def test_a_label_after_the_journal_is_moved_is_refused_naming_restore(path, labeled, tmp_path):
    path.rename(tmp_path / "moved.jsonl")
    with pytest.raises(
        JournalError,
        match=r"was moved or renamed since it was opened .*Dataset\.restore\(its new path",
    ):
        labeled.annotate(2, alw.Label("cat"))


def test_the_refusal_names_the_journal_and_how_to_go_on(path, labeled):
    path.unlink()
    with pytest.raises(JournalError) as refused:
        labeled.annotate(2, alw.Label("cat"))
    assert f"the journal {path} " in str(refused.value)
    assert "ds.rejournal(new_path) writes them to a new journal" in str(refused.value)


def test_a_label_whose_journal_is_replaced_while_it_is_written_is_refused(
    path, labeled, gray_images, monkeypatch
):
    real = _journal._write_fd

    def replaced_then_written(fd, data):
        replace_by_copy(path)
        return real(fd, data)

    monkeypatch.setattr(_journal, "_write_fd", replaced_then_written)
    with pytest.raises(JournalError, match="was replaced by another file"):
        labeled.annotate(2, alw.Label("cat"))
    monkeypatch.undo()
    labeled.close()
    assert labeled.annotation(2) is None
    assert labels(alw.Dataset.restore(path, gray_images)) == {0: "cat", 1: "milkshake"}


def test_a_label_refused_for_a_journal_gone_is_not_kept_in_memory(path, labeled):
    path.unlink()
    version = labeled.version
    with pytest.raises(JournalError):
        labeled.annotate(2, alw.Label("cat"))
    assert (labels(labeled), labeled.version) == ({0: "cat", 1: "milkshake"}, version)


def test_a_removal_refused_for_a_journal_gone_keeps_the_label(path, labeled):
    path.unlink()
    with pytest.raises(JournalError):
        labeled.remove(0)
    assert labeled.annotation(0) == alw.Label("cat")


def test_a_commit_through_the_loop_after_a_replace_leaves_nothing_to_undo(
    path, labeled, centroid, loop_factory
):
    loop = loop_factory(labeled, centroid)
    replace_by_copy(path)
    with pytest.raises(JournalError):
        loop.commit(2, alw.Label("cat"))
    assert (labeled.annotation(2), loop.undo()) == (None, None)


def test_labels_before_a_replace_are_restored_from_the_file_at_the_path(path, labeled, gray_images):
    replace_by_copy(path)
    with pytest.raises(JournalError):
        labeled.annotate(2, alw.Label("cat"))
    labeled.close()
    assert labels(alw.Dataset.restore(path, gray_images)) == {0: "cat", 1: "milkshake"}


def test_labels_before_a_move_are_restored_from_where_it_went_without_the_refused_one(
    path, labeled, tmp_path, gray_images
):
    moved = tmp_path / "moved.jsonl"
    path.rename(moved)
    with pytest.raises(JournalError):
        labeled.annotate(2, alw.Label("cat"))
    labeled.close()
    assert labels(alw.Dataset.restore(moved, gray_images)) == {0: "cat", 1: "milkshake"}


def test_labels_before_a_deletion_are_kept_by_rejournal(path, labeled, tmp_path, gray_images):
    path.unlink()
    with pytest.raises(JournalError):
        labeled.annotate(2, alw.Label("cat"))
    labeled.rejournal(tmp_path / "again.jsonl")
    labeled.close()
    restored = alw.Dataset.restore(tmp_path / "again.jsonl", gray_images)
    assert labels(restored) == {0: "cat", 1: "milkshake"}


def test_a_second_writer_on_the_file_that_replaced_the_journal_loses_no_label_of_either(
    path, labeled, tmp_path, gray_images
):
    replace_by_copy(path)
    second = alw.Dataset.restore(path, gray_images)
    second.annotate(3, alw.Label("cat"))
    with pytest.raises(JournalError):  # said, not lost: the first stores it nowhere
        labeled.annotate(2, alw.Label("milkshake"))
    second.annotate(4, alw.Label("milkshake"))
    labeled.rejournal(tmp_path / "first.jsonl")
    labeled.annotate(2, alw.Label("milkshake"))
    second.close()
    labeled.close()
    at_path = labels(alw.Dataset.restore(path, gray_images))
    first = labels(alw.Dataset.restore(tmp_path / "first.jsonl", gray_images))
    assert at_path == {0: "cat", 1: "milkshake", 3: "cat", 4: "milkshake"}
    assert first == {0: "cat", 1: "milkshake", 2: "milkshake"}


def test_a_journal_given_by_a_relative_path_takes_labels_after_a_chdir(
    tmp_path, gray_images, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    dataset = alw.Dataset(gray_images, CLASSES, journal="labels.jsonl")
    monkeypatch.chdir(tmp_path.parent)
    dataset.annotate(0, alw.Label("cat"))
    dataset.close()
    assert labels(alw.Dataset.restore(tmp_path / "labels.jsonl", gray_images)) == {0: "cat"}
