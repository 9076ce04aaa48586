"""No export writes over, replaces or deletes the dataset's journal: its labels survive."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import al_widget as alw


def pixels(n: int = 3) -> np.ndarray:
    return np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((n, 20, 30, 3), np.uint8)


def box(name: str) -> alw.Boxes:
    return alw.Boxes([[1, 1, 6, 5]], [name])


def labels_of(dataset: alw.Dataset) -> dict[int, object]:
    return {int(i): dataset.annotation(int(i)) for i in dataset.labeled}


def restored_labels(journal: Path, images: np.ndarray) -> dict[int, object]:
    return labels_of(alw.Dataset.restore(journal, images, read_only=True))


def test_the_journal_path_is_the_datasets_journal_file(tmp_path: Path) -> None:
    dataset = alw.Dataset(pixels(), ["cat", "dog"], task="detect", journal=tmp_path / "j.jsonl")
    assert dataset.journal_path == str(tmp_path / "j.jsonl")
    assert alw.Dataset(pixels(), ["cat"]).journal_path is None
    dataset.close()
    restored = alw.Dataset.restore(tmp_path / "j.jsonl", pixels(), read_only=True)
    assert restored.journal_path == str(tmp_path / "j.jsonl")


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_csv_export_onto_the_journal_is_refused_and_the_journal_kept(
    tmp_path: Path, overwrite: bool
) -> None:
    images = pixels()[..., 0]
    journal = tmp_path / "labels.jsonl"
    dataset = alw.Dataset(images, ["cat", "dog"], journal=journal)
    dataset.annotate(0, alw.Label("cat"))
    before = journal.read_bytes()
    with pytest.raises(FileExistsError, match=r"labels\.jsonl is the dataset's journal"):
        dataset.to_csv(journal, overwrite=overwrite)
    assert journal.read_bytes() == before
    dataset.annotate(1, alw.Label("dog"))
    dataset.close()
    assert restored_labels(journal, images) == {0: alw.Label("cat"), 1: alw.Label("dog")}


def test_a_coco_export_onto_the_journal_is_refused_and_the_journal_kept(tmp_path: Path) -> None:
    journal = tmp_path / "labels.jsonl"
    dataset = alw.Dataset(pixels(), ["cat", "dog"], task="detect", journal=journal)
    dataset.annotate(0, box("cat"))
    before = journal.read_bytes()
    with pytest.raises(FileExistsError, match=r"labels\.jsonl is the dataset's journal"):
        dataset.to_coco(journal, overwrite=True)
    assert journal.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.jsonl"]  # no images/ written


def test_an_export_onto_the_journal_of_a_read_only_restored_dataset_is_refused(
    tmp_path: Path,
) -> None:
    images = pixels()[..., 0]
    journal = tmp_path / "labels.jsonl"
    writer = alw.Dataset(images, ["cat", "dog"], journal=journal)  # another notebook, say
    writer.annotate(0, alw.Label("cat"))
    reader = alw.Dataset.restore(journal, images, read_only=True)
    with pytest.raises(FileExistsError, match="is the dataset's journal"):
        reader.to_csv(journal, overwrite=True)
    writer.close()
    assert restored_labels(journal, images) == {0: alw.Label("cat")}


def export(kind: str, dataset: alw.Dataset, folder: Path, overwrite: bool = False) -> object:
    if kind == "yolo":
        return dataset.to_yolo(folder, overwrite=overwrite)
    if kind == "voc":
        return dataset.to_voc(folder, overwrite=overwrite)
    return dataset.to_masks(folder, overwrite=overwrite)


def annotation(kind: str, k: int) -> alw.Annotation:
    if kind == "masks":
        mask = np.zeros((20, 30), np.uint8)
        mask[: k + 1, :4] = 1
        return alw.Mask(mask)
    return box("dog" if k else "cat")


@pytest.mark.parametrize("kind", ["yolo", "voc", "masks"])
def test_a_folder_export_never_replaces_a_journal_at_a_path_an_earlier_export_wrote(
    tmp_path: Path, kind: str
) -> None:
    task, classes = ("segment", ["bg", "thing"]) if kind == "masks" else ("detect", ["cat", "dog"])
    images = pixels()
    out = tmp_path / "out"
    earlier = alw.Dataset(images, classes, task=task)
    earlier.annotate(0, annotation(kind, 0))
    export(kind, earlier, out)
    (out / "classes.txt").unlink()  # the path is free again, and the journal goes there
    journal = out / "classes.txt"
    dataset = alw.Dataset(images, classes, task=task, journal=journal)
    dataset.annotate(0, annotation(kind, 0))
    with pytest.raises(FileExistsError, match=r"classes\.txt is the dataset's journal"):
        export(kind, dataset, out, overwrite=True)
    dataset.annotate(1, annotation(kind, 1))
    dataset.close()
    assert restored_labels(journal, images) == labels_of(dataset)
    assert len(labels_of(dataset)) == 2


@pytest.mark.parametrize("kind", ["yolo", "voc", "masks"])
def test_a_folder_export_into_the_folder_holding_the_journal_keeps_it_written(
    tmp_path: Path, kind: str
) -> None:
    task, classes = ("segment", ["bg", "thing"]) if kind == "masks" else ("detect", ["cat", "dog"])
    images = pixels()
    journal = tmp_path / "out" / "labels.jsonl"
    journal.parent.mkdir()
    dataset = alw.Dataset(images, classes, task=task, journal=journal)
    dataset.annotate(0, annotation(kind, 0))
    export(kind, dataset, tmp_path / "out")
    dataset.annotate(1, annotation(kind, 1))
    export(kind, dataset, tmp_path / "out", overwrite=True)  # the folder is swapped whole
    dataset.annotate(2, annotation(kind, 2))
    dataset.close()
    assert restored_labels(journal, images) == labels_of(dataset)
    assert len(labels_of(dataset)) == 3
