"""The journal: one writer at a time, written before memory changes, never left torn or orphaned."""

import errno
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import al_widget as alw
from al_widget import _journal
from al_widget.dataset import DatasetClosed, JournalError, JournalLocked

CLASSES = ["cat", "milkshake"]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "labels.jsonl"


def test_restore_while_a_writer_is_open_is_refused_naming_the_holder(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(0, alw.Label("cat"))
    with pytest.raises(
        JournalLocked, match="is being written by this process: one writer at a time"
    ):
        alw.Dataset.restore(path, gray_images)


def test_the_open_writer_keeps_writing_to_disk_after_a_refused_restore(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(0, alw.Label("cat"))
    with pytest.raises(JournalLocked):
        alw.Dataset.restore(path, gray_images)
    ds.annotate(1, alw.Label("milkshake"))
    ds.close()
    assert alw.Dataset.restore(path, gray_images).labeled.tolist() == [0, 1]


def test_re_running_a_restore_cell_is_refused_while_the_first_is_open(path, gray_images):
    alw.Dataset(gray_images, CLASSES, journal=path).close()
    first = alw.Dataset.restore(path, gray_images)
    with pytest.raises(JournalLocked, match=r"Close the other Dataset \(ds.close\(\)\) first"):
        alw.Dataset.restore(path, gray_images)
    first.annotate(2, alw.Label("cat"))
    first.close()
    assert alw.Dataset.restore(path, gray_images).labeled.tolist() == [2]


def test_a_read_only_restore_reads_a_journal_another_dataset_writes(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(3, alw.Label("cat"))
    before = path.read_bytes()
    looked = alw.Dataset.restore(path, gray_images, read_only=True)
    assert looked.labeled.tolist() == [3]
    assert path.read_bytes() == before


def test_a_read_only_dataset_refuses_changes(path, gray_images):
    alw.Dataset(gray_images, CLASSES, journal=path).close()
    looked = alw.Dataset.restore(path, gray_images, read_only=True)
    with pytest.raises(DatasetClosed, match="it was restored read-only from"):
        looked.annotate(0, alw.Label("cat"))


def test_a_second_writer_in_another_process_is_refused_naming_its_pid(path, gray_images):
    alw.Dataset(gray_images, CLASSES, journal=path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, numpy as np, al_widget as alw; "
            "images = np.arange(20, dtype=np.uint8)[:, None, None] * np.ones((20, 6, 5), np.uint8); "
            f"ds = alw.Dataset.restore({str(path)!r}, images); "
            "print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(JournalLocked, match=f"being written by process {holder.pid}"):
            alw.Dataset.restore(path, gray_images)
    finally:
        holder.communicate("", timeout=30)


def forked(target, *args):
    """`target(*args)` in a child made by a real fork, started; with an Event that ends it."""
    context = multiprocessing.get_context("fork")
    release = context.Event()
    child = context.Process(target=target, args=(release, *args))
    child.start()
    return child, release


def wait_for(release):
    release.wait(30)


def try_to_write(release, ds, answers):
    try:
        ds.annotate(1, alw.Label("cat"))
        answers.put("written")
    except JournalError as error:
        answers.put(str(error))
    release.wait(30)


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="fork is a POSIX feature")
def test_a_process_forked_while_the_journal_is_open_does_not_keep_its_lock(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(0, alw.Label("cat"))
    child, release = forked(wait_for)  # e.g. a DataLoader worker
    try:
        ds.close()
        restored = alw.Dataset.restore(path, gray_images)
        restored.annotate(2, alw.Label("milkshake"))
        restored.close()
    finally:
        release.set()
        child.join(30)
    assert child.exitcode == 0
    assert alw.Dataset.restore(path, gray_images, read_only=True).labeled.tolist() == [0, 2]


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="fork is a POSIX feature")
def test_a_forked_process_cannot_write_the_journal_of_the_process_it_came_from(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    answers = multiprocessing.get_context("fork").Queue()
    child, release = forked(try_to_write, ds, answers)
    try:
        answer = answers.get(timeout=30)
    finally:
        release.set()
        child.join(30)
    assert "was forked from it and cannot write it" in answer
    ds.annotate(3, alw.Label("cat"))
    ds.close()
    assert alw.Dataset.restore(path, gray_images).labeled.tolist() == [3]


def test_a_lock_kept_by_a_copy_of_the_descriptor_is_not_blamed_on_this_process(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    copy = os.dup(ds._journal._fd)  # what a child forked from C code, past the fork hook, keeps
    ds.close()
    try:
        with pytest.raises(JournalLocked, match="by a process forked from this one while the"):
            alw.Dataset.restore(path, gray_images)
    finally:
        os.close(copy)
    alw.Dataset.restore(path, gray_images).close()


def test_two_datasets_creating_one_journal_at_once_make_one_writer(tmp_path, gray_images):
    for attempt in range(20):
        path = tmp_path / f"race{attempt}.jsonl"
        start = threading.Barrier(2)
        made, refused = [], []

        def create(path=path, start=start, made=made, refused=refused):
            start.wait()
            try:
                made.append(alw.Dataset(gray_images, CLASSES, journal=path))
            except (JournalLocked, ValueError) as error:
                refused.append(error)

        threads = [threading.Thread(target=create) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert (len(made), len(refused)) == (1, 1)
        made[0].annotate(0, alw.Label("cat"))
        made[0].close()
        assert alw.Dataset.restore(path, gray_images).labeled.tolist() == [0]


def full_disk(monkeypatch):
    def fail(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_journal, "_write_fd", fail)


def test_a_failed_journal_write_changes_nothing_in_memory(path, gray_images, monkeypatch):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(0, alw.Label("cat"))
    full_disk(monkeypatch)
    with pytest.raises(JournalError, match=r"No space left on device\); the change was not made"):
        ds.annotate(1, alw.Label("cat"))
    assert (ds.labeled.tolist(), ds.version, ds.annotation(1)) == ([0], 1, None)


def test_a_failed_removal_keeps_the_label(path, gray_images, monkeypatch):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(0, alw.Label("cat"))
    full_disk(monkeypatch)
    with pytest.raises(JournalError):
        ds.remove(0)
    assert ds.annotation(0) == alw.Label("cat")


def test_labeling_goes_on_once_the_disk_has_room_again(path, gray_images, monkeypatch):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    full_disk(monkeypatch)
    with pytest.raises(JournalError):
        ds.annotate(1, alw.Label("cat"))
    monkeypatch.undo()
    ds.annotate(1, alw.Label("milkshake"))
    ds.close()
    assert alw.Dataset.restore(path, gray_images).annotation(1) == alw.Label("milkshake")


def test_a_partial_write_is_cut_back_so_the_journal_stays_readable(path, gray_images, monkeypatch):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    real = os.write

    def half_then_fail(fd, data):
        real(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_journal, "_write_fd", half_then_fail)
    with pytest.raises(JournalError):
        ds.annotate(1, alw.Label("cat"))
    monkeypatch.undo()
    ds.annotate(2, alw.Label("cat"))
    ds.close()
    assert alw.Dataset.restore(path, gray_images).labeled.tolist() == [2]


def test_a_failed_write_through_the_loop_leaves_nothing_to_undo(
    path, gray_images, centroid, monkeypatch, loop_factory
):
    loop = loop_factory(alw.Dataset(gray_images, CLASSES, journal=path), centroid)
    full_disk(monkeypatch)
    with pytest.raises(JournalError):
        loop.commit(0, alw.Label("cat"))
    assert loop.undo() is None
    monkeypatch.undo()
    assert loop.commit(0, alw.Label("cat")) == alw.Label("cat")


def test_an_undo_the_journal_cannot_record_changes_nothing_and_can_be_retried(
    path, gray_images, centroid, monkeypatch, loop_factory
):
    loop = loop_factory(alw.Dataset(gray_images, CLASSES, journal=path), centroid)
    loop.commit(0, alw.Label("cat"))
    on_disk = path.read_bytes()
    full_disk(monkeypatch)
    with pytest.raises(JournalError, match="the change was not made"):
        loop.undo()
    assert loop.dataset.annotation(0) == alw.Label("cat")
    assert path.read_bytes() == on_disk
    monkeypatch.undo()
    assert loop.undo() == 0
    assert loop.dataset.annotation(0) is None
    assert loop.undo() is None
    loop.dataset.close()
    assert alw.Dataset.restore(path, gray_images).labeled.tolist() == []


def test_a_redo_the_journal_cannot_record_changes_nothing_and_can_be_retried(
    path, gray_images, centroid, monkeypatch, loop_factory
):
    loop = loop_factory(alw.Dataset(gray_images, CLASSES, journal=path), centroid)
    loop.commit(0, alw.Label("cat"))
    loop.undo()
    on_disk, version = path.read_bytes(), loop.dataset.version
    full_disk(monkeypatch)
    with pytest.raises(JournalError, match="the change was not made"):
        loop.redo()
    assert (loop.dataset.annotation(0), loop.dataset.version) == (None, version)
    assert path.read_bytes() == on_disk
    assert loop.undone == ("commit", 0, alw.Label("cat"))
    assert loop.undo() is None  # the failed redo left nothing new to undo
    monkeypatch.undo()
    assert loop.redo() == 0
    assert loop.redo() is None
    loop.dataset.close()
    assert alw.Dataset.restore(path, gray_images).annotation(0) == alw.Label("cat")


def test_an_unrecorded_undo_of_a_replacement_keeps_the_new_label_until_retried(
    path, gray_images, centroid, monkeypatch, loop_factory
):
    loop = loop_factory(alw.Dataset(gray_images, CLASSES, journal=path), centroid)
    loop.commit(0, alw.Label("cat"))
    loop.commit(0, alw.Label("milkshake"), replace=True)
    full_disk(monkeypatch)
    with pytest.raises(JournalError):
        loop.undo()
    assert loop.dataset.annotation(0) == alw.Label("milkshake")
    monkeypatch.undo()
    assert loop.undo() == 0
    assert loop.dataset.annotation(0) == alw.Label("cat")
    assert loop.undo() == 0
    assert loop.dataset.annotation(0) is None


def test_a_closed_dataset_refuses_changes(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.close()
    with pytest.raises(DatasetClosed, match="the dataset was closed"):
        ds.annotate(0, alw.Label("cat"))


def test_restore_cuts_a_torn_last_line_in_place(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(1, alw.Label("cat"))
    ds.close()
    inode = path.stat().st_ino
    with open(path, "a") as file:
        file.write('{"op":"annotate","i":2,"annot')
    restored = alw.Dataset.restore(path, gray_images)
    assert path.stat().st_ino == inode
    assert path.read_text().endswith('"cls":"cat"}}\n')
    assert restored.labeled.tolist() == [1]


def header_line(tmp_path, gray_images):
    """The header line a Dataset writes for these images and classes, newline included."""
    made = tmp_path / "made.jsonl"
    alw.Dataset(gray_images, CLASSES, journal=made).close()
    return made.read_bytes()


CUTS = [1, 10, 40, -1]  # bytes of the header kept: "{", inside its first key, inside classes, all


@pytest.mark.parametrize("cut", CUTS)
def test_restore_of_a_journal_whose_header_was_cut_says_how_to_start_it_again(
    path, gray_images, tmp_path, cut
):
    path.write_bytes(header_line(tmp_path, gray_images)[:cut])
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(
            ValueError,
            match=r"holds no labels: its header line was cut short .* start it again with "
            r"Dataset\(images, classes, journal=path\)",
        ):
            alw.Dataset.restore(path, gray_images, read_only=read_only)
    assert path.read_bytes() == before


@pytest.mark.parametrize("cut", [40, -1])  # past the header's '{"journal":"al_widget"'
def test_a_journal_whose_header_was_cut_is_started_again_by_dataset(
    path, gray_images, tmp_path, cut
):
    path.write_bytes(header_line(tmp_path, gray_images)[:cut])
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(3, alw.Label("cat"))
    ds.close()
    assert alw.Dataset.restore(path, gray_images).labeled.tolist() == [3]


@pytest.mark.parametrize("cut", [1, 10])  # '{', '{"journal"': a file of the user's may hold it
def test_a_file_holding_only_the_first_bytes_of_a_header_is_left_alone_by_dataset(
    path, gray_images, tmp_path, cut
):
    start = header_line(tmp_path, gray_images)[:cut]
    path.write_bytes(start)
    with pytest.raises(ValueError, match=r"holds only .*a file of yours; left as it is"):
        alw.Dataset(gray_images, CLASSES, journal=path)
    assert path.read_bytes() == start


def test_restore_of_an_empty_journal_says_how_to_start_it_again(path, gray_images):
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"is empty: it holds no labels; start it again with"):
        alw.Dataset.restore(path, gray_images)


def test_a_file_of_one_unfinished_line_that_is_no_journal_is_left_alone(path, gray_images):
    path.write_bytes(b'{"notes": "mine"')
    with pytest.raises(ValueError, match="is a file that is no al_widget journal, left as it is"):
        alw.Dataset(gray_images, CLASSES, journal=path)
    assert path.read_bytes() == b'{"notes": "mine"'


def test_restore_writes_no_file_beside_the_journal(path, gray_images, tmp_path):
    alw.Dataset(gray_images, CLASSES, journal=path).close()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.symlink(victim, str(path) + ".tmp")
    alw.Dataset.restore(path, gray_images).annotate(0, alw.Label("cat"))
    assert victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "labels.jsonl", "labels.jsonl.tmp", "victim.txt"
    ]  # fmt: skip


def test_a_journal_that_is_a_symbolic_link_is_refused(path, gray_images, tmp_path):
    alw.Dataset(gray_images, CLASSES, journal=path).close()
    link = tmp_path / "link.jsonl"
    os.symlink(path, link)
    with pytest.raises(JournalError, match="is a symbolic link; give the file's real path"):
        alw.Dataset.restore(link, gray_images)


@pytest.mark.parametrize("read_only", [False, True])
def test_restore_of_a_missing_journal_says_there_is_none_and_creates_nothing(
    path, gray_images, read_only
):
    with pytest.raises(FileNotFoundError, match=f"no journal at {path}$"):
        alw.Dataset.restore(path, gray_images, read_only=read_only)
    assert not path.exists()


@pytest.mark.parametrize("read_only", [False, True])
def test_restore_of_a_fifo_is_refused_without_waiting_on_it(path, gray_images, read_only):
    os.mkfifo(path)
    with pytest.raises(ValueError, match=r"is a FIFO \(named pipe\), not a regular file"):
        alw.Dataset.restore(path, gray_images, read_only=read_only)


def test_a_new_journal_on_a_fifo_is_refused_without_waiting_on_it(path, gray_images):
    os.mkfifo(path)
    with pytest.raises(ValueError, match=f"journal {path} is a FIFO"):
        alw.Dataset(gray_images, CLASSES, journal=path)


@pytest.mark.parametrize("read_only", [False, True])
def test_restore_of_a_directory_says_it_is_no_journal_file(tmp_path, gray_images, read_only):
    with pytest.raises(ValueError, match="is a directory, not a regular file"):
        alw.Dataset.restore(tmp_path, gray_images, read_only=read_only)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_images", "20", r"n_images must be a count of images \(an int\), got '20'"),
        ("n_images", True, r"n_images must be a count of images \(an int\), got True"),
        ("classes", "ab", r"classes must be a list of class names \(str\), got 'ab'"),
        ("classes", ["a", 1], r"classes must be a list of class names \(str\), got \['a', 1\]"),
    ],
)
def test_a_header_field_of_the_wrong_kind_is_refused_naming_the_journal_and_line_1(
    path, gray_images, field, value, message
):
    header = json.loads(header_line(path.parent, gray_images))
    path.write_text(json.dumps({**header, field: value}) + "\n")
    with pytest.raises(ValueError, match=f"journal {path} line 1: the header's {message}"):
        alw.Dataset.restore(path, gray_images, read_only=True)


@pytest.mark.parametrize(
    ("task", "shown"),
    [("foo", "'foo'"), (["detect"], r"\['detect'\]"), (None, "None")],
)
def test_an_unknown_task_in_the_header_is_refused_naming_the_journal_and_the_tasks(
    path, gray_images, task, shown
):
    header = json.loads(header_line(path.parent, gray_images))
    path.write_text(json.dumps({**header, "task": task}) + "\n")
    with pytest.raises(
        ValueError,
        match=rf"journal {path} line 1: the header has an unknown task {shown}; choose one of "
        r"\['classify', 'detect', 'instances', 'segment'\]",
    ):
        alw.Dataset.restore(path, gray_images, read_only=True)


def crafted(path, *lines):
    header = {
        "journal": "al_widget",
        "format": 1,
        "classes": CLASSES,
        "task": "segment",
        "n_images": 20,
    }
    path.write_text("\n".join([json.dumps(header), *lines]) + "\n")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "line 2: the line must be a JSON object, got list"),
        (
            '{"op": "annotate", "i": 99, "annotation": {}}',
            r"line 2: index must be an int in \[0, 20\), got 99",
        ),
        ('{"op": "annotate", "i": 1}', "line 2: 'annotation' must be a JSON object, got None"),
        ('{"op": "annotate", "i": 1, "annotation": {"type": "mask"}}', "line 2: 'shape'"),
        ('{"op": "erase", "i": 1}', "line 2: unknown op 'erase'"),
        (
            '{"op": "annotate", "i": 1, "annotation": {"type": "instances", '
            '"canvas_size": [6, 5], "classes": ["cat"], "counts": [[0, 31]]}}',
            r"line 2: object 0: run lengths cover 31 pixels",
        ),
        ("not json", "line 2 is not valid JSON"),
    ],
)
def test_a_crafted_journal_line_is_refused_naming_file_and_line(path, gray_images, line, message):
    crafted(path, line)
    with pytest.raises(ValueError, match=message) as caught:
        alw.Dataset.restore(path, gray_images)
    assert str(path) in str(caught.value)


def test_a_mask_claiming_billions_of_pixels_is_left_out_before_allocating(
    path, gray_images, caplog
):
    mask = {"type": "mask", "shape": [40000, 50000], "values": [0], "lengths": [2_000_000_000]}
    crafted(path, json.dumps({"op": "annotate", "i": 0, "annotation": mask}))
    tracemalloc.start()
    with caplog.at_level("WARNING", logger="al_widget"):
        restored = alw.Dataset.restore(path, gray_images)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10_000_000
    assert restored.labeled.tolist() == []
    assert "image 0 was 50000x40000 (width x height) when labeled, now 5x6" in caplog.text


def test_instances_claiming_billions_of_pixels_are_left_out_before_allocating(
    path, gray_images, caplog
):
    objects = {
        "type": "instances",
        "canvas_size": [40000, 50000],
        "classes": ["cat"],
        "counts": [[0, 2_000_000_000]],
    }
    crafted(path, json.dumps({"op": "annotate", "i": 0, "annotation": objects}))
    tracemalloc.start()
    with caplog.at_level("WARNING", logger="al_widget"):
        restored = alw.Dataset.restore(path, gray_images)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10_000_000
    assert restored.labeled.tolist() == []
    assert "image 0 was 50000x40000 (width x height) when labeled, now 5x6" in caplog.text


def test_a_refused_restore_releases_the_journal(path, gray_images):
    crafted(path, "[1]")
    with pytest.raises(ValueError, match="must be a JSON object"):
        alw.Dataset.restore(path, gray_images)
    path.write_text(path.read_text().replace("[1]\n", ""))
    assert alw.Dataset.restore(path, gray_images).labeled.tolist() == []


def count_fsyncs(monkeypatch):
    calls = []
    real = os.fsync
    monkeypatch.setattr(_journal.os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    return calls


def test_journal_sync_always_fsyncs_every_change(path, gray_images, monkeypatch):
    ds = alw.Dataset(gray_images, CLASSES, journal=path, journal_sync="always")
    calls = count_fsyncs(monkeypatch)
    ds.annotate(0, alw.Label("cat"))
    ds.annotate(1, alw.Label("cat"))
    assert len(calls) == 2


def test_journal_sync_never_leaves_fsync_to_the_os(path, gray_images, monkeypatch):
    ds = alw.Dataset(gray_images, CLASSES, journal=path, journal_sync="never")
    calls = count_fsyncs(monkeypatch)
    ds.annotate(0, alw.Label("cat"))
    ds.checkpoint()
    assert calls == []


def test_journal_sync_round_fsyncs_when_a_round_starts(
    path, gray_images, centroid, monkeypatch, loop_factory
):
    ds = alw.Dataset(gray_images, CLASSES, journal=path, journal_sync="round")
    calls = count_fsyncs(monkeypatch)
    loop = loop_factory(ds, centroid, query_size=2)
    loop.commit(0, alw.Label("cat"))
    loop.commit(1, alw.Label("milkshake"))
    assert loop.wait(10)
    assert len(calls) >= 1


def test_an_unknown_journal_sync_is_refused(path, gray_images):
    with pytest.raises(
        ValueError, match="journal_sync must be one of always, round, never, got 'often'"
    ):
        alw.Dataset(gray_images, CLASSES, journal=path, journal_sync="often")


def test_a_journal_survives_the_numbers_it_records(path, gray_images):
    ds = alw.Dataset(gray_images, CLASSES, task="detect", journal=path)
    ds.annotate(4, alw.Boxes(np.array([[0.5, 1.25, 3.0, 5.5]]), ["milkshake"]))
    ds.close()
    assert alw.Dataset.restore(path, gray_images).annotation(4) == ds.annotation(4)


def test_the_default_policy_fsyncs_on_close_not_per_label(path, gray_images, monkeypatch):
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    calls = count_fsyncs(monkeypatch)
    ds.annotate(0, alw.Label("cat"))
    ds.annotate(1, alw.Label("cat"))
    assert calls == []
    ds.close()
    assert len(calls) == 1


def test_a_mask_with_ignore_pixels_is_journaled_and_restored_exactly(path, gray_images):
    # gray_images are 6x5; VOC-style void (255) on the border of a class-1 square
    class_map = np.zeros((6, 5), np.uint8)
    class_map[1:5, 1:4] = 255
    class_map[2:4, 2] = 1
    ds = alw.Dataset(gray_images, ["background", "car"], task="segment", journal=path)
    ds.annotate(3, alw.Mask(class_map))
    ds.close()
    restored = alw.Dataset.restore(path, gray_images).annotation(3)
    assert np.array_equal(restored.class_map, class_map)


def test_a_journaled_mask_that_labels_no_pixel_is_left_out_of_a_restore_and_said(
    path, gray_images, caplog
):
    # earlier versions stored such a mask (and then failed the commit)
    labeled, void = alw.Mask(np.zeros((6, 5), np.uint8)), alw.Mask(np.full((6, 5), 255, np.uint8))
    crafted(
        path,
        json.dumps({"op": "annotate", "i": 1, "annotation": labeled.to_json()}),
        json.dumps({"op": "annotate", "i": 1, "annotation": void.to_json()}),
        json.dumps({"op": "annotate", "i": 2, "annotation": void.to_json()}),
    )
    with caplog.at_level("WARNING", logger="al_widget"):
        back = alw.Dataset.restore(path, gray_images, read_only=True)
    assert (back.annotation(1), back.annotation(2)) == (labeled, None)
    assert "line 3: image 1's mask labels no pixel" in caplog.text
    assert "line 4: image 2's mask labels no pixel" in caplog.text


def test_instances_are_journaled_and_restored_exactly(path, gray_images):
    masks = np.zeros((3, 6, 5), bool)
    masks[0, :3, :2] = masks[1, :3, 2:] = masks[2, 1:5, 1:4] = True  # touching and overlapping
    ds = alw.Dataset(gray_images, CLASSES, task="instances", journal=path)
    ds.annotate(3, alw.Instances(masks, ["cat", "cat", "milkshake"]))
    ds.close()
    restored = alw.Dataset.restore(path, gray_images).annotation(3)
    assert restored == alw.Instances(masks, ["cat", "cat", "milkshake"])


def _photo_files(folder, n=3, size=(12, 16)):
    """`n` small PNG files in `folder`, each another gray; their paths."""
    from PIL import Image

    paths = []
    for k in range(n):
        p = folder / f"img{k}.png"
        Image.fromarray(np.full((*size, 3), 40 * k, np.uint8)).save(p)
        paths.append(str(p))
    return paths


def test_a_mask_of_an_image_file_gone_is_restored_with_the_others_and_said(tmp_path, caplog):
    paths = _photo_files(tmp_path)
    journal = tmp_path / "labels.jsonl"
    ds = alw.Dataset(paths, ["bg", "cat"], task="segment", journal=journal)
    masks = [np.eye(12, 16, k, dtype=np.uint8) for k in range(2)]
    for i, m in enumerate(masks):
        ds.annotate(i, alw.Mask(m))
    ds.close()
    os.remove(paths[0])
    with caplog.at_level("WARNING", logger="al_widget"):
        back = alw.Dataset.restore(journal, paths, read_only=True)
    assert [np.array_equal(back.annotation(i).class_map, m) for i, m in enumerate(masks)] == [
        True,
        True,
    ]
    assert "image 0 cannot be read" in caplog.text


def test_boxes_of_an_image_file_gone_are_restored_as_journaled(tmp_path):
    paths = _photo_files(tmp_path)
    journal = tmp_path / "labels.jsonl"
    ds = alw.Dataset(paths, ["cat", "dog"], task="detect", journal=journal)
    ds.annotate(1, alw.Boxes([[1, 2, 8, 9]], ["dog"]))
    ds.close()
    os.remove(paths[1])
    back = alw.Dataset.restore(journal, paths)
    assert back.annotation(1).xyxy.tolist() == [[1.0, 2.0, 8.0, 9.0]]
    assert back.annotation(1).canvas_size == (12, 16)
    back.close()


def test_a_label_of_an_image_gone_is_refused_when_its_size_could_be_no_image_s(tmp_path):
    paths = _photo_files(tmp_path, n=1)
    journal = tmp_path / "labels.jsonl"
    ds = alw.Dataset(paths, ["bg", "cat"], task="segment", journal=journal)
    ds.close()
    huge = {"type": "mask", "shape": [100_000, 100_000], "values": [0], "lengths": [10**10]}
    with open(journal, "a") as f:
        f.write(json.dumps({"op": "annotate", "i": 0, "annotation": huge}) + "\n")
    os.remove(paths[0])
    with pytest.raises(ValueError, match="line 2: image 0 cannot be read .* at most"):
        alw.Dataset.restore(journal, paths, read_only=True)


def _turn_by_exif(path):
    """Rewrite the photo at `path` with EXIF orientation 6 (a quarter turn), as a photo manager
    turning it does: its pixels stay, its upright size swaps."""
    from PIL import Image

    with Image.open(path) as image:
        pixels = np.asarray(image)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(pixels).save(path, format="PNG", exif=exif.tobytes())


LABELS_OF_A_12x16_IMAGE = {
    "detect": alw.Boxes([[10, 2, 15, 6]], ["dog"]),  # in the right half: off a 16-high image
    "segment": alw.Mask(np.eye(12, 16, dtype=np.uint8)),
}


@pytest.mark.parametrize("task", list(LABELS_OF_A_12x16_IMAGE))
def test_a_label_of_an_image_whose_size_changed_is_left_out_and_the_rest_restored(
    tmp_path, caplog, task
):
    paths = _photo_files(tmp_path)
    journal = tmp_path / "labels.jsonl"
    ds = alw.Dataset(paths, ["bg", "dog"], task=task, journal=journal)
    for i in (0, 1):
        ds.annotate(i, LABELS_OF_A_12x16_IMAGE[task])
    ds.close()
    _turn_by_exif(paths[0])
    with caplog.at_level("WARNING", logger="al_widget"):
        back = alw.Dataset.restore(journal, paths, read_only=True)
    assert back.image_size(0) == (16, 12)
    assert back.labeled.tolist() == [1]
    assert "line 2: image 0 was 16x12 (width x height) when labeled, now 12x16: the file" in (
        caplog.text
    )
