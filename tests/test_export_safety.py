"""Folder exports (YOLO, VOC, PNG masks) never touch the user's files and replace an export whole."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import _replace, read_masks, read_voc

CHILD = Path(__file__).with_name("export_child.py")


def checksums(folder: Path) -> dict[str, str]:
    """Every file below `folder` (hidden ones too), by its path below it: its SHA-256."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def photo(path: Path, value: int, size: tuple[int, int] = (24, 32), kind: str = "JPEG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((*size, 3), value, np.uint8)
    pixels[::3, ::5] = 255 - value
    Image.fromarray(pixels).save(path, format=kind)
    return path


def yolo_source(root: Path) -> Path:
    """A YOLO folder as Ultralytics lays it out: three JPEGs, two labeled (one with no boxes)."""
    for k, name in enumerate(("a", "b", "c")):
        photo(root / "images" / f"{name}.jpg", 40 * k + 20)
    (root / "labels").mkdir()
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.25 0.5\n1 0.25 0.25 0.125 0.25\n")
    (root / "labels" / "b.txt").write_text("")
    (root / "classes.txt").write_text("cat\ndog\n")
    return root


def voc_source(root: Path) -> Path:
    """A VOC folder as LabelImg writes it: two JPEGs, one with an XML file."""
    photo(root / "JPEGImages" / "a.jpg", 30)
    photo(root / "JPEGImages" / "b.jpg", 90)
    (root / "Annotations").mkdir()
    (root / "Annotations" / "a.xml").write_text(
        "<annotation><folder>JPEGImages</folder><filename>a.jpg</filename>"
        "<size><width>32</width><height>24</height><depth>3</depth></size>"
        "<object><name>cat</name><bndbox><xmin>3</xmin><ymin>4</ymin><xmax>20</xmax>"
        "<ymax>18</ymax></bndbox></object></annotation>"
    )
    return root


def boxes_of(dataset: alw.Dataset) -> dict[int, alw.Boxes]:
    return {int(i): dataset.annotation(int(i)) for i in dataset.labeled}  # type: ignore[misc]


@pytest.mark.parametrize("link", [False, True])
def test_a_yolo_export_into_its_own_folder_keeps_every_source_byte(
    tmp_path: Path, link: bool
) -> None:
    root = yolo_source(tmp_path / "yolo")
    before = {k: v for k, v in checksums(root).items() if k.startswith("images/")}
    dataset = alw.Dataset.from_yolo(root)
    expected = boxes_of(dataset)
    with pytest.raises(FileExistsError, match=r"a\.txt is in the way and no earlier export"):
        dataset.to_yolo(root, link=link, overwrite=True)  # the label files are the user's
    assert {k: v for k, v in checksums(root).items() if k.startswith("images/")} == before
    for name in ("labels/a.txt", "labels/b.txt", "classes.txt"):
        (root / name).rename(tmp_path / name.replace("/", "-"))  # the user moves them aside
    for _ in range(2):  # a first export, then one replacing it
        dataset.to_yolo(root, link=link, overwrite=True)
        after = checksums(root)
        assert {k: after[k] for k in before} == before
        assert boxes_of(alw.Dataset.from_yolo(root)) == expected


@pytest.mark.parametrize("link", [False, True])
def test_a_voc_export_into_its_own_folder_keeps_every_source_byte(
    tmp_path: Path, link: bool
) -> None:
    root = voc_source(tmp_path / "voc")
    before = {k: v for k, v in checksums(root).items() if k.startswith("JPEGImages/")}
    dataset = read_voc(root)
    expected = boxes_of(dataset)
    (root / "Annotations" / "a.xml").rename(tmp_path / "a.xml")  # keep the user's file aside
    for _ in range(2):
        dataset.to_voc(root, link=link, overwrite=True)
        after = checksums(root)
        assert {k: after[k] for k in before} == before
        assert boxes_of(read_voc(root)) == expected


def test_an_export_of_an_export_read_back_keeps_its_images(tmp_path: Path) -> None:
    # The images are then files the earlier export wrote (its manifest lists them); a label
    # removed meanwhile must not take its image away: it is the dataset's own image.
    first = yolo_source(tmp_path / "src")
    alw.Dataset.from_yolo(first).to_yolo(tmp_path / "out", link=True)
    dataset = alw.Dataset.from_yolo(tmp_path / "out")
    images = {k: v for k, v in checksums(tmp_path / "out").items() if k.startswith("images/")}
    dataset.remove(0)
    dataset.to_yolo(tmp_path / "out", link=True, overwrite=True)
    after = checksums(tmp_path / "out")
    assert {k: after[k] for k in images} == images
    back = alw.Dataset.from_yolo(tmp_path / "out")
    assert back.labeled.tolist() == [1]


def test_masks_exported_onto_the_datasets_own_images_are_refused_untouched(
    tmp_path: Path,
) -> None:
    paths = [photo(tmp_path / f"{name}.png", 50, kind="PNG") for name in ("a", "b")]
    dataset = alw.Dataset(paths, ["background", "thing"], task="segment")
    dataset.annotate(0, alw.Mask(np.ones((24, 32), np.uint8)))
    before = checksums(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match=r"a\.png is one of the dataset's own images"):
            dataset.to_masks(tmp_path, overwrite=overwrite)
        assert checksums(tmp_path) == before


def detect_dataset(n: int = 5) -> alw.Dataset:
    dataset = alw.Dataset(np.zeros((n, 20, 30, 3), np.uint8), ["cat", "dog"], task="detect")
    for i in range(n):
        dataset.annotate(i, alw.Boxes([[1, 1, 5 + i, 6]], ["dog" if i % 2 else "cat"]))
    return dataset


def segment_dataset(n: int = 5) -> alw.Dataset:
    dataset = alw.Dataset(np.zeros((n, 20, 30, 3), np.uint8), ["bg", "thing"], task="segment")
    for i in range(n):
        mask = np.zeros((20, 30), np.uint8)
        mask[: i + 1, :3] = 1
        dataset.annotate(i, alw.Mask(mask))
    return dataset


def by_exported_name(dataset: alw.Dataset) -> dict[int, object]:
    """The labels of a dataset read back from an export of in-memory images (``000042.png``),
    by the index of the image they were exported from."""
    return {
        int(Path(str(dataset.source_file(int(k)))).stem): dataset.annotation(int(k))
        for k in dataset.labeled
    }


READ_BACK: dict[str, Callable[[Path, alw.Dataset], dict[int, object]]] = {
    "yolo": lambda folder, _: by_exported_name(alw.Dataset.from_yolo(folder)),
    "voc": lambda folder, _: by_exported_name(read_voc(folder, classes=["cat", "dog"])),
    "masks": lambda folder, dataset: read_masks(folder, dataset),  # type: ignore[dict-item]
}


def export(kind: str, dataset: alw.Dataset, folder: Path, overwrite: bool = False) -> object:
    if kind == "yolo":
        return dataset.to_yolo(folder, overwrite=overwrite)
    if kind == "voc":
        return dataset.to_voc(folder, overwrite=overwrite)
    return dataset.to_masks(folder, overwrite=overwrite)


@pytest.mark.parametrize("kind", ["yolo", "voc", "masks"])
def test_overwrite_drops_the_labels_removed_since_the_last_export(
    tmp_path: Path, kind: str
) -> None:
    dataset = segment_dataset() if kind == "masks" else detect_dataset()
    export(kind, dataset, tmp_path / "out")
    dataset.remove(1)
    dataset.remove(3)
    export(kind, dataset, tmp_path / "out", overwrite=True)
    back = READ_BACK[kind](tmp_path / "out", dataset)
    assert sorted(back) == [0, 2, 4]
    assert all(back[i] == dataset.annotation(i) for i in back)


@pytest.mark.parametrize("kind", ["yolo", "voc", "masks"])
def test_overwrite_keeps_what_else_the_user_put_in_the_folder(tmp_path: Path, kind: str) -> None:
    dataset = segment_dataset() if kind == "masks" else detect_dataset()
    export(kind, dataset, tmp_path / "out")
    (tmp_path / "out" / "notes.md").write_text("mine")
    (tmp_path / "out" / "extra").mkdir()
    (tmp_path / "out" / "extra" / "keep.bin").write_bytes(b"\x00\x01")
    inode = (tmp_path / "out" / "notes.md").stat().st_ino
    dataset.remove(0)
    export(kind, dataset, tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "notes.md").read_text() == "mine"
    assert (tmp_path / "out" / "notes.md").stat().st_ino == inode  # the same file, not a copy
    assert (tmp_path / "out" / "extra" / "keep.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing left beside it


def test_without_overwrite_an_earlier_export_stops_a_new_one_untouched(tmp_path: Path) -> None:
    dataset = detect_dataset()
    dataset.to_yolo(tmp_path / "out")
    before = checksums(tmp_path / "out")
    dataset.remove(0)
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        dataset.to_yolo(tmp_path / "out")
    assert checksums(tmp_path / "out") == before


def stem_sharing_dataset(folder: Path, task: str) -> alw.Dataset:
    """`a.jpg`, `a.png` and `b.jpg` under `folder`, all labeled."""
    paths = [
        photo(folder / "a.jpg", 10),
        photo(folder / "a.png", 200, kind="PNG"),
        photo(folder / "b.jpg", 90),
    ]
    classes = ["bg", "thing"] if task == "segment" else ["cat", "dog"]
    dataset = alw.Dataset(paths, classes, task=task)
    for i in range(3):
        if task == "segment":
            mask = np.zeros((24, 32), np.uint8)
            mask[: 4 * (i + 1)] = 1
            dataset.annotate(i, alw.Mask(mask))
        else:
            dataset.annotate(i, alw.Boxes([[1, 2, 5 + 3 * i, 9]], ["dog"]))
    return dataset


@pytest.mark.parametrize("kind", ["yolo", "voc", "masks"])
def test_images_sharing_a_stem_are_exported_under_unique_names(tmp_path: Path, kind: str) -> None:
    dataset = stem_sharing_dataset(tmp_path / "photos", "segment" if kind == "masks" else "detect")
    with pytest.warns(
        UserWarning, match=r"1 image\(s\) share a name stem .*: a\.png as a\.png\.png"
    ):
        written = export(kind, dataset, tmp_path / "out")
    assert written.renamed == (("a.png", "a.png.png"),)  # type: ignore[attr-defined]
    if kind == "masks":
        back = read_masks(tmp_path / "out", dataset)
        assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [
            "a.png",
            "a.png.png",
            "b.png",
        ]
        assert all(back[i] == dataset.annotation(i) for i in range(3))
        return
    read = alw.Dataset.from_yolo if kind == "yolo" else read_voc
    back_dataset = read(tmp_path / "out")
    assert boxes_of(back_dataset) == boxes_of(dataset)
    for i in range(3):
        assert np.array_equal(back_dataset.image(i), dataset.image(i))


@pytest.mark.parametrize("kind", ["yolo", "voc"])
def test_images_with_hidden_names_are_exported_under_visible_ones_and_read_back(
    tmp_path: Path, kind: str
) -> None:
    paths = [
        photo(tmp_path / "photos" / ".a.jpg", 10),
        photo(tmp_path / "photos" / ".cache" / "b.jpg", 90),
        photo(tmp_path / "photos" / "c.jpg", 150),
    ]
    dataset = alw.Dataset(paths, ["cat", "dog"], task="detect")
    for i in range(3):
        dataset.annotate(i, alw.Boxes([[1, 2, 5 + 3 * i, 9]], ["dog"]))
    with pytest.warns(
        UserWarning, match=r"2 image\(s\) have a hidden name .*\.a\.jpg as _\.a\.jpg"
    ):
        written = export(kind, dataset, tmp_path / "out")
    assert written.renamed == (  # type: ignore[attr-defined]
        (".a.jpg", "_.a.jpg"),
        (".cache/b.jpg", "_.cache/b.jpg"),
    )
    back = (alw.Dataset.from_yolo if kind == "yolo" else read_voc)(tmp_path / "out")
    names = [
        Path(str(back.source_file(i))).relative_to(tmp_path / "out").as_posix() for i in range(3)
    ]
    assert [name.split("/", 1)[1] for name in names] == ["_.a.jpg", "_.cache/b.jpg", "c.jpg"]
    assert boxes_of(back) == boxes_of(dataset)


def test_an_image_with_a_hidden_name_in_its_own_export_folder_is_refused_untouched(
    tmp_path: Path,
) -> None:
    dataset = alw.Dataset([photo(tmp_path / "images" / ".a.jpg", 10)], ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 2, 5, 9]], ["cat"]))
    before = checksums(tmp_path)
    with pytest.raises(FileExistsError, match=r"\.a\.jpg\) has a hidden name and would be expo"):
        dataset.to_yolo(tmp_path)
    assert checksums(tmp_path) == before


def test_an_image_in_a_folder_named_images_in_its_own_export_folder_is_refused_untouched(
    tmp_path: Path,
) -> None:
    paths = [photo(tmp_path / "images" / "x" / "a.jpg", 10)]
    paths.append(photo(tmp_path / "images" / "images" / "b.jpg", 90))
    dataset = alw.Dataset(paths, ["cat"], task="detect")
    for i in range(2):
        dataset.annotate(i, alw.Boxes([[1, 2, 5, 9]], ["cat"]))
    before = checksums(tmp_path)
    with pytest.raises(
        FileExistsError,
        match=r"b\.jpg\) lies in a folder named like one of the export's own and would be "
        r"exported as images/_images/b\.jpg beside itself",
    ):
        dataset.to_yolo(tmp_path)
    assert checksums(tmp_path) == before


def snapshot_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def run_until_killed(folder: Path, version: int, delay: float) -> bool:
    """Export `version` in a child, SIGKILLed `delay` s after its dataset is ready; whether it
    finished first."""
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(folder), str(version)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=CHILD.parent,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        return child.stdout.read().strip() == "done"
    finally:
        if child.poll() is None:
            child.kill()


@pytest.mark.slow
def test_a_killed_export_leaves_exactly_the_old_export_or_the_new_one(tmp_path: Path) -> None:
    sys.path.insert(0, str(CHILD.parent))
    try:
        from export_child import dataset
    finally:
        sys.path.remove(str(CHILD.parent))
    folder = tmp_path / "yolo"
    exports, took = [], []
    for version in (1, 0):  # each export as the child writes it, ending with version 0 in place
        start = time.perf_counter()
        dataset(version).to_yolo(folder, overwrite=True)
        took.append(time.perf_counter() - start)
        exports.append(checksums(folder))
    states = {0: exports[1], 1: exports[0]}
    assert states[0] != states[1]
    rng = np.random.default_rng(3)
    current, finished, killed = 0, 0, 0
    for _ in range(8):
        target = 1 - current
        done = run_until_killed(folder, target, float(rng.uniform(0.0, 1.5 * max(took))))
        found = checksums(folder)
        assert found in (states[0], states[1]), "the folder holds a mix of two exports"
        if found == states[target]:
            current = target
        assert not done or current == target
        finished += done
        killed += not done
    assert killed > 0  # some kills landed before the export finished
    dataset(1 - current).to_yolo(folder, overwrite=True)  # cleans what the kills left beside it
    assert snapshot_names(tmp_path) == ["yolo"]
    assert checksums(folder) == states[1 - current]


@pytest.mark.parametrize("kind", ["yolo", "voc", "masks", "coco"])
def test_every_round_trip_keeps_images_labeled_with_no_objects(tmp_path: Path, kind: str) -> None:
    task = "segment" if kind == "masks" else "detect"
    dataset = segment_dataset(4) if task == "segment" else detect_dataset(4)
    empty = (
        alw.Mask(np.zeros((20, 30), np.uint8))
        if task == "segment"
        else alw.Boxes(np.zeros((0, 4)), [])
    )
    dataset.annotate(2, empty)
    dataset.remove(3)
    if kind == "coco":
        written = dataset.to_coco(tmp_path / "out" / "labels.json")
        back_dataset = alw.Dataset.from_coco(tmp_path / "out" / "labels.json", written.images_root)
        back = by_exported_name(back_dataset)
    else:
        export(kind, dataset, tmp_path / "out")
        back = READ_BACK[kind](tmp_path / "out", dataset)
    assert sorted(back) == [0, 1, 2]
    assert back[2] == empty.bind(image_size=(20, 30), classes=dataset.classes)
    assert all(back[i] == dataset.annotation(i) for i in back)


def test_without_an_atomic_exchange_the_export_is_swapped_in_by_two_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_replace, "_exchange", lambda a, b: False)  # as on macOS, Windows
    dataset = detect_dataset()
    dataset.to_yolo(tmp_path / "out")
    (tmp_path / "out" / "notes.md").write_text("mine")
    dataset.remove(0)
    dataset.to_yolo(tmp_path / "out", overwrite=True)
    assert sorted(by_exported_name(alw.Dataset.from_yolo(tmp_path / "out"))) == [1, 2, 3, 4]
    assert (tmp_path / "out" / "notes.md").read_text() == "mine"
    assert snapshot_names(tmp_path) == ["out"]


def test_a_folder_left_aside_by_a_kill_between_the_two_renames_comes_back(tmp_path: Path) -> None:
    dataset = detect_dataset()
    dataset.to_yolo(tmp_path / "out")
    (tmp_path / "out" / "notes.md").write_text("mine")
    (tmp_path / "out").rename(tmp_path / ".out.al_widget-old-0123abcd")  # killed right here
    dataset.remove(0)
    dataset.to_yolo(tmp_path / "out", overwrite=True)
    assert sorted(by_exported_name(alw.Dataset.from_yolo(tmp_path / "out"))) == [1, 2, 3, 4]
    assert (tmp_path / "out" / "notes.md").read_text() == "mine"
    assert snapshot_names(tmp_path) == ["out"]


def test_an_unfinished_export_beside_the_folder_is_cleaned_without_touching_the_users_files(
    tmp_path: Path,
) -> None:
    dataset = detect_dataset()
    dataset.to_yolo(tmp_path / "out")
    (tmp_path / "out" / "notes.md").write_text("mine")
    left = tmp_path / ".out.al_widget-new-89abcdef"  # as a kill during the carry leaves it
    (left / "labels").mkdir(parents=True)
    (left / ".al_widget-export.json").write_text('{"files": ["labels/000001.txt"]}')
    (left / "labels" / "000001.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    os.link(tmp_path / "out" / "notes.md", left / "notes.md")
    dataset.to_yolo(tmp_path / "out", overwrite=True)
    assert snapshot_names(tmp_path) == ["out"]
    assert (tmp_path / "out" / "notes.md").read_text() == "mine"


def test_images_sharing_a_stem_in_their_own_folder_are_refused_untouched(tmp_path: Path) -> None:
    photo(tmp_path / "yolo" / "images" / "a.jpg", 10)
    photo(tmp_path / "yolo" / "images" / "a.png", 200, kind="PNG")
    dataset = alw.Dataset(sorted((tmp_path / "yolo" / "images").iterdir()), ["cat"], "detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 5, 5]], ["cat"]))
    dataset.annotate(1, alw.Boxes([[2, 2, 6, 6]], ["cat"]))
    before = checksums(tmp_path)
    with pytest.raises(FileExistsError, match=r"would be exported as images/a\.png\.png beside"):
        dataset.to_yolo(tmp_path / "yolo")
    assert checksums(tmp_path) == before
