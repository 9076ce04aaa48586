"""Classification labels as records and CSV: columns, round trip, bad rows named."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import FormatError, read_csv

from conftest import latin1_named_image


def labeled_arrays() -> alw.Dataset:
    """Five 4x4 images, three labeled (2 "cat", then 0 "dog", then 4 "cat")."""
    dataset = alw.Dataset(
        np.arange(5, dtype=np.uint8)[:, None, None] * np.ones((5, 4, 4), np.uint8), ["cat", "dog"]
    )
    dataset.annotate(2, alw.Label("cat"))
    dataset.annotate(0, alw.Label(1))
    dataset.annotate(4, alw.Label("cat"))
    return dataset


def test_records_list_each_labeled_image_with_its_class_and_version() -> None:
    assert labeled_arrays().to_records() == [
        {"index": 0, "file": "", "class": "dog", "labeled_at": 2},
        {"index": 2, "file": "", "class": "cat", "labeled_at": 1},
        {"index": 4, "file": "", "class": "cat", "labeled_at": 3},
    ]


def test_records_name_the_image_files(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    dataset = alw.Dataset([path], ["cat"])
    dataset.annotate(0, alw.Label("cat"))
    assert dataset.to_records()[0]["file"] == str(path)


def test_csv_has_a_header_and_one_row_per_label(tmp_path: Path) -> None:
    written = labeled_arrays().to_csv(tmp_path / "labels.csv")
    assert (tmp_path / "labels.csv").read_text() == (
        "index,file,class,labeled_at\n0,,dog,2\n2,,cat,1\n4,,cat,3\n"
    )
    assert (written.n_images, written.n_annotations) == (3, 3)


def test_a_csv_names_each_file_by_its_path_below_the_images_common_folder(
    tmp_path: Path,
) -> None:
    for name in ("cat/a.png", "dog/more/b.png"):
        (tmp_path / "photos" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "photos" / name)
    alw.Dataset.from_folder(tmp_path / "photos").to_csv(tmp_path / "labels.csv")
    assert (tmp_path / "labels.csv").read_text() == (
        "index,file,class,labeled_at\n0,cat/a.png,cat,1\n1,dog/more/b.png,dog,2\n"
    )


def test_csv_export_then_import_gives_equal_labels(tmp_path: Path) -> None:
    dataset = labeled_arrays()
    dataset.to_csv(tmp_path / "labels.csv")
    labels = read_csv(tmp_path / "labels.csv", dataset)
    assert labels == {int(i): dataset.annotation(int(i)) for i in dataset.labeled}


def test_an_unknown_class_in_the_csv_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("index,file,class,labeled_at\n0,,dog,1\n1,,horse,2\n")
    with pytest.raises(
        FormatError,
        match=re.escape(f"CSV file {path} line 3: unknown class 'horse'; choose one of"),
    ):
        read_csv(path, labeled_arrays())


def test_a_row_for_another_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("index,file,class,labeled_at\n1,/data/x.png,dog,1\n")
    with pytest.raises(
        FormatError, match=r"line 2: file '/data/x.png' is not image 1 \(an in-memory"
    ):
        read_csv(path, labeled_arrays())


def test_an_index_beyond_the_dataset_is_named(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("index,file,class,labeled_at\n9,,dog,1\n")
    with pytest.raises(FormatError, match=r"line 2: index '9': index 9 is out of range"):
        read_csv(path, labeled_arrays())


def test_an_existing_csv_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("mine")
    with pytest.raises(FileExistsError, match=r"labels\.csv already exists"):
        labeled_arrays().to_csv(tmp_path / "labels.csv")
    assert (tmp_path / "labels.csv").read_text() == "mine"


def image_files(folder: Path) -> alw.Dataset:
    """Two PNG files in `folder`, the first labeled "cat"."""
    paths = []
    for k in range(2):
        paths.append(folder / f"im{k}.png")
        Image.fromarray(np.full((4, 4), 60 * k, np.uint8)).save(paths[-1])
    dataset = alw.Dataset(paths, ["cat", "dog"])
    dataset.annotate(0, alw.Label("cat"))
    return dataset


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_csv_export_onto_one_of_the_datasets_images_is_refused_untouched(
    tmp_path: Path, overwrite: bool
) -> None:
    dataset = image_files(tmp_path)
    before = (tmp_path / "im1.png").read_bytes()
    with pytest.raises(FileExistsError, match=r"im1\.png is one of the dataset's own images"):
        dataset.to_csv(tmp_path / "im1.png", overwrite=overwrite)
    assert (tmp_path / "im1.png").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["im0.png", "im1.png"]


def test_a_csv_export_onto_a_folder_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError, match=r"out is a folder where the export writes a file"):
        labeled_arrays().to_csv(tmp_path / "out", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert list((tmp_path / "out").iterdir()) == []


def test_a_csv_export_below_a_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"notes\.txt is in the way of .*x\.csv: it is not a"):
        labeled_arrays().to_csv(tmp_path / "notes.txt" / "sub" / "x.csv", overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_detection_dataset_has_no_label_table() -> None:
    dataset = alw.Dataset(np.zeros((1, 4, 4), np.uint8), ["a"], task="detect")
    with pytest.raises(ValueError, match="a label table holds classify annotations"):
        dataset.to_records()


def test_a_csv_export_of_a_file_name_that_is_not_utf8_is_refused_naming_the_image(
    tmp_path: Path,
) -> None:
    dataset = alw.Dataset([latin1_named_image(tmp_path / "photos")], ["cat", "dog"])
    dataset.annotate(0, alw.Label("cat"))
    with pytest.raises(ValueError, match=r"cannot hold the file name of image 0, .*caf\\udce9"):
        dataset.to_csv(tmp_path / "labels.csv")
    assert not (tmp_path / "labels.csv").exists()
