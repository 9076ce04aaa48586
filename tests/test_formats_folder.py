"""Image folders in: torchvision's ImageFolder layout, a flat folder, stable order, bad folders."""

from __future__ import annotations

import re
import struct
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import FormatError, read_csv


def save(path: Path, value: int = 0, size: tuple[int, int] = (6, 5)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size, value, np.uint8)).save(path)
    return path


def image_folder(root: Path) -> Path:
    """dog/ (2 images), cat/ (1, in a sub-folder), unlabeled/ (2), one loose image, one text file."""
    save(root / "dog" / "b.png", 10)
    save(root / "dog" / "a.png", 20)
    save(root / "cat" / "kittens" / "c.jpg", 30)
    save(root / "unlabeled" / "z.png", 40)
    save(root / "unlabeled" / "y.png", 50)
    save(root / "loose.png", 60)
    (root / "dog" / "notes.txt").write_text("not an image")
    return root


def test_class_folders_label_their_images_and_give_the_classes(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_folder(image_folder(tmp_path))
    assert dataset.classes == ["cat", "dog"]
    labels = {int(i): dataset.annotation(int(i)).cls for i in dataset.labeled}
    assert labels == {0: "cat", 1: "dog", 2: "dog"}


def test_files_are_sorted_by_their_path_so_indices_are_stable(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_folder(image_folder(tmp_path))
    assert [int(dataset.image(i)[0, 0, 0]) for i in range(len(dataset))] == [30, 20, 10, 60, 50, 40]


def test_the_unlabeled_folder_and_loose_images_are_the_pool(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_folder(image_folder(tmp_path))
    assert dataset.unlabeled.tolist() == [3, 4, 5]


def test_the_unlabeled_folder_can_have_another_name(tmp_path: Path) -> None:
    save(tmp_path / "cat" / "a.png")
    save(tmp_path / "todo" / "b.png")
    dataset = alw.Dataset.from_folder(tmp_path, unlabeled="todo")
    assert dataset.classes == ["cat"]
    assert dataset.unlabeled.tolist() == [1]


def test_an_empty_class_folder_is_a_class_with_no_example_yet(tmp_path: Path) -> None:
    (image_folder(tmp_path) / "bird").mkdir()
    dataset = alw.Dataset.from_folder(tmp_path)
    assert dataset.classes == ["bird", "cat", "dog"]
    assert dataset.unlabeled.tolist() == [3, 4, 5]


def test_hidden_folders_and_the_unlabeled_folder_are_no_classes(tmp_path: Path) -> None:
    (image_folder(tmp_path) / ".thumbnails").mkdir()
    save(tmp_path / ".cache" / "x.png")
    dataset = alw.Dataset.from_folder(tmp_path)
    assert dataset.classes == ["cat", "dog"]


def apple_double() -> bytes:
    """A resource-fork file as macOS's Finder stores it in a zip (AppleDouble: magic, version,
    filler, one Finder-info entry)."""
    header = struct.pack(">II16sH", 0x00051607, 0x00020000, b"Mac OS X        ", 1)
    return header + struct.pack(">III", 9, 26 + 12, 32) + bytes(32)


def unzip_from_macos(root: Path) -> Path:
    """A class folder zip as Finder's "Compress" writes it (each file's resource fork under
    ``__MACOSX/``), extracted into `root`."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("__MACOSX/", b"")
        for name, value in (("cat/a.png", 30), ("dog/d.png", 10)):
            image = BytesIO()
            Image.fromarray(np.full((5, 6), value, np.uint8)).save(image, format="PNG")
            folder, file = name.split("/")
            archive.writestr(f"{folder}/", b"")
            archive.writestr(name, image.getvalue())
            archive.writestr(f"__MACOSX/{folder}/", b"")
            archive.writestr(f"__MACOSX/{folder}/._{file}", apple_double())
    with zipfile.ZipFile(out) as archive:
        archive.extractall(root)
    return root


def test_a_macos_zips_resource_fork_folder_is_no_class(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="__MACOSX"):
        dataset = alw.Dataset.from_folder(unzip_from_macos(tmp_path))
    assert dataset.classes == ["cat", "dog"]
    assert [Path(dataset.source_file(i) or "").name for i in range(len(dataset))] == [
        "a.png",
        "d.png",
    ]


def test_a_macos_zips_resource_fork_folder_is_left_out_with_a_warning_naming_it(
    tmp_path: Path,
) -> None:
    with pytest.warns(
        UserWarning, match=re.escape(f"left out {tmp_path / '__MACOSX'}: the resource forks")
    ):
        alw.Dataset.from_folder(unzip_from_macos(tmp_path))


def test_classes_given_may_name_classes_without_a_folder(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_folder(image_folder(tmp_path), classes=["dog", "cat", "bird"])
    assert dataset.classes == ["dog", "cat", "bird"]
    assert dataset.annotation(0) == alw.Label("cat")


def test_a_class_folder_not_in_the_classes_is_named(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"sub-folder 'dog' is not one of the classes \['cat'\]"):
        alw.Dataset.from_folder(image_folder(tmp_path), classes=["cat"])


def test_a_flat_folder_is_an_unlabeled_pool_of_the_classes_given(tmp_path: Path) -> None:
    for k in range(3):
        save(tmp_path / f"{k}.png")
    dataset = alw.Dataset.from_folder(tmp_path, classes=["cat", "dog"])
    assert len(dataset) == 3
    assert dataset.unlabeled.tolist() == [0, 1, 2]


def test_a_flat_folder_without_classes_says_to_pass_them(tmp_path: Path) -> None:
    save(tmp_path / "0.png")
    with pytest.raises(ValueError, match=r"has no class sub-folders: pass classes=\[...\]"):
        alw.Dataset.from_folder(tmp_path)


def test_a_detection_pool_from_a_folder_is_unlabeled(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_folder(image_folder(tmp_path), "detect", classes=["cat", "dog"])
    assert dataset.task == "detect"
    assert len(dataset.unlabeled) == 6


def test_a_folder_without_images_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(FormatError, match=f"image folder {tmp_path} holds no image files"):
        alw.Dataset.from_folder(tmp_path)


def test_an_unreadable_file_is_named_when_its_image_is_read(tmp_path: Path) -> None:
    image_folder(tmp_path)
    (tmp_path / "unlabeled" / "y.png").write_bytes(b"not a png")
    dataset = alw.Dataset.from_folder(tmp_path)  # files are decoded on use, not here
    with pytest.raises(alw.ImageError, match=r"image 4 \(.*y\.png\) could not be decoded"):
        dataset.image(4)


def test_a_class_folder_linked_to_another_class_folder_is_refused_naming_both(
    tmp_path: Path,
) -> None:
    save(tmp_path / "cat" / "a.png")
    save(tmp_path / "dog" / "d.png")
    (tmp_path / "kitten").symlink_to(tmp_path / "cat")  # whichever os.walk lists first
    with pytest.raises(FormatError, match="are one folder") as refused:
        alw.Dataset.from_folder(tmp_path)
    named = re.search(r": (\S+) and (\S+) are one folder", str(refused.value))
    assert named is not None
    assert {named[1], named[2]} == {str(tmp_path / "cat"), str(tmp_path / "kitten")}
    classes = re.search(r"two classes, ('\w+') and ('\w+')", str(refused.value))
    assert classes is not None
    assert {classes[1], classes[2]} == {"'cat'", "'kitten'"}


def test_a_class_folder_linked_into_the_unlabeled_pool_is_refused(tmp_path: Path) -> None:
    save(tmp_path / "cat" / "a.png")
    (tmp_path / "unlabeled").mkdir()
    (tmp_path / "unlabeled" / "more").symlink_to(tmp_path / "cat")
    with pytest.raises(FormatError, match="'unlabeled' is the unlabeled pool"):
        alw.Dataset.from_folder(tmp_path)


def test_a_link_within_a_class_folder_to_its_own_sub_folder_lists_its_images_once(
    tmp_path: Path,
) -> None:
    save(tmp_path / "cat" / "2019" / "a.png")
    (tmp_path / "cat" / "latest").symlink_to(tmp_path / "cat" / "2019")
    dataset = alw.Dataset.from_folder(tmp_path)
    assert len(dataset) == 1
    assert dataset.annotation(0) == alw.Label("cat")


def test_an_image_file_linked_from_another_class_folder_is_refused_naming_both(
    tmp_path: Path,
) -> None:
    save(tmp_path / "cat" / "a.png")
    save(tmp_path / "dog" / "d.png")
    (tmp_path / "dog" / "link_to_a.png").symlink_to(tmp_path / "cat" / "a.png")
    with pytest.raises(
        FormatError,
        match=re.escape(
            f"{tmp_path / 'cat' / 'a.png'} and {tmp_path / 'dog' / 'link_to_a.png'} are one "
            "image file (reached through a symbolic link), so it would have two classes, "
            "'cat' and 'dog'"
        ),
    ):
        alw.Dataset.from_folder(tmp_path)


def test_an_image_file_linked_into_the_unlabeled_pool_is_refused(tmp_path: Path) -> None:
    save(tmp_path / "cat" / "a.png")
    save(tmp_path / "unlabeled" / "u.png")
    (tmp_path / "unlabeled" / "a.png").symlink_to(tmp_path / "cat" / "a.png")
    with pytest.raises(FormatError, match="'unlabeled' is the unlabeled pool"):
        alw.Dataset.from_folder(tmp_path)


def test_two_links_in_two_class_folders_to_one_file_are_refused(tmp_path: Path) -> None:
    save(tmp_path / "store" / "a.png")
    for name in ("cat", "dog"):
        (tmp_path / "photos" / name).mkdir(parents=True)
        (tmp_path / "photos" / name / "a.png").symlink_to(tmp_path / "store" / "a.png")
    with pytest.raises(FormatError, match="are one image file"):
        alw.Dataset.from_folder(tmp_path / "photos")


def test_an_image_file_linked_from_outside_the_folder_is_an_image_of_its_class(
    tmp_path: Path,
) -> None:
    save(tmp_path / "store" / "a.png")
    save(tmp_path / "photos" / "dog" / "d.png")
    (tmp_path / "photos" / "cat").mkdir()
    (tmp_path / "photos" / "cat" / "a.png").symlink_to(tmp_path / "store" / "a.png")
    dataset = alw.Dataset.from_folder(tmp_path / "photos")
    assert [dataset.annotation(i) for i in range(len(dataset))] == [
        alw.Label("cat"),
        alw.Label("dog"),
    ]


def test_an_image_file_linked_within_its_class_is_listed_twice_with_its_class(
    tmp_path: Path,
) -> None:
    save(tmp_path / "cat" / "a.png")
    (tmp_path / "cat" / "best").mkdir()
    (tmp_path / "cat" / "best" / "a.png").symlink_to(tmp_path / "cat" / "a.png")
    dataset = alw.Dataset.from_folder(tmp_path)
    assert len(dataset) == 2
    assert dataset.annotation(0) == dataset.annotation(1) == alw.Label("cat")


def folder_with_a_dangling_link(root: Path) -> Path:
    """image_folder, and dog/gone.png: a symbolic link (as ``ln -s`` makes) to a file since
    deleted."""
    image_folder(root)
    save(root / "elsewhere" / "gone.png")
    (root / "dog" / "gone.png").symlink_to(root / "elsewhere" / "gone.png")
    (root / "elsewhere" / "gone.png").unlink()
    (root / "elsewhere").rmdir()
    return root


def test_an_image_link_to_no_file_is_left_out(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="symbolic links to no file"):
        dataset = alw.Dataset.from_folder(folder_with_a_dangling_link(tmp_path))
    names = [dataset.source_file(i) for i in range(len(dataset))]
    assert str(tmp_path / "dog" / "gone.png") not in names
    assert len(dataset) == 6


def test_an_image_link_to_no_file_is_named_in_one_warning(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="symbolic links to no file") as warned:
        alw.Dataset.from_folder(folder_with_a_dangling_link(tmp_path))
    assert [str(w.message) for w in warned] == [
        f"{tmp_path}: left out 1 image file(s) that are symbolic links to no file: "
        f"{tmp_path / 'dog' / 'gone.png'}"
    ]


def test_folder_labels_round_trip_through_csv(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_folder(image_folder(tmp_path / "photos"))
    dataset.to_csv(tmp_path / "labels.csv")
    assert read_csv(tmp_path / "labels.csv", dataset) == {
        int(i): dataset.annotation(int(i)) for i in dataset.labeled
    }


def roboflow_folder_structure(
    root: Path, splits: tuple[str, ...] = ("train", "valid", "test")
) -> Path:
    """Roboflow's classification export in "Folder Structure" format, unzipped: one folder per
    split, one class folder in each, Roboflow's file names, and its two README files."""
    for split in splits:
        save(root / split / "cat" / f"{split}-1_jpg.rf.0a1b2c3d.jpg", 30)
        save(root / split / "dog" / f"{split}-2_jpg.rf.4e5f6a7b.jpg", 10)
    (root / "README.dataset.txt").write_text("# pets > 2024-05-02\n")
    (root / "README.roboflow.txt").write_text(
        "pets - v1\nThis dataset was exported via roboflow.com\n"
    )
    return root


def test_a_roboflow_folder_structure_export_read_at_its_root_is_refused_naming_its_splits(
    tmp_path: Path,
) -> None:
    with pytest.raises(
        FormatError,
        match=r"its folders \['test', 'train', 'valid'\] hold no image directly, only "
        r"sub-folders \(cat, dog\).*read one split, e\.g\. Dataset\.from_folder\('.*train'\)",
    ):
        alw.Dataset.from_folder(roboflow_folder_structure(tmp_path))


def test_a_folder_holding_one_split_of_class_folders_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"its one folder 'train' holds no image directly"):
        alw.Dataset.from_folder(roboflow_folder_structure(tmp_path, ("train",)))


def test_a_lone_folder_named_test_is_refused_saying_classes_reads_it_as_the_one_class(
    tmp_path: Path,
) -> None:
    save(tmp_path / "test" / "left" / "a.png")
    with pytest.raises(FormatError, match=r"or pass classes=\['test'\] if it is the one class$"):
        alw.Dataset.from_folder(tmp_path)


def test_one_split_of_a_roboflow_export_reads_its_class_folders(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_folder(roboflow_folder_structure(tmp_path) / "train")
    assert dataset.classes == ["cat", "dog"]
    assert [dataset.annotation(i).cls for i in range(len(dataset))] == ["cat", "dog"]


def test_class_folders_of_the_same_sub_folders_read_as_imagefolder_reads_them(
    tmp_path: Path,
) -> None:
    for top in ("cat", "dog"):
        for year in ("2019", "2020"):
            save(tmp_path / top / year / "a.png")
    dataset = alw.Dataset.from_folder(tmp_path)
    assert dataset.classes == ["cat", "dog"]
    assert [dataset.annotation(i).cls for i in range(len(dataset))] == ["cat"] * 2 + ["dog"] * 2


def test_class_folders_holding_two_sides_each_read_as_classes(tmp_path: Path) -> None:
    for top in ("healthy", "sick"):
        for side in ("left", "right"):
            save(tmp_path / top / side / "a.png")
    assert alw.Dataset.from_folder(tmp_path).classes == ["healthy", "sick"]


def test_split_folders_beside_a_class_folder_read_as_classes(tmp_path: Path) -> None:
    for top in ("test", "other"):
        save(tmp_path / top / "inner" / "a.png")
    assert alw.Dataset.from_folder(tmp_path).classes == ["other", "test"]


def test_class_folders_of_the_same_sub_folders_read_as_classes_when_given(tmp_path: Path) -> None:
    for top in ("cat", "dog"):
        for year in ("2019", "2020"):
            save(tmp_path / top / year / "a.png")
    dataset = alw.Dataset.from_folder(tmp_path, classes=["cat", "dog"])
    assert [dataset.annotation(i).cls for i in range(len(dataset))] == ["cat"] * 2 + ["dog"] * 2
