"""Crafted and broken label files: refused early, naming the file and the entry, reading
nothing outside the folder given and allocating nothing a declared size asks for."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import FormatError


def png(path: Path, size: tuple[int, int] = (30, 40)) -> Path:
    """A grey PNG of (height, width) `size`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), 90, np.uint8)).save(path)
    return path


def coco(path: Path, images: list, annotations: list | None = None) -> Path:
    document = {
        "images": images,
        "annotations": annotations or [],
        "categories": [{"id": 1, "name": "cat"}],
    }
    path.write_text(json.dumps(document))
    return path


def entry(file_name: object = "a.png", **changes: object) -> dict:
    return {"id": 1, "file_name": file_name, "width": 40, "height": 30, **changes}


def box(image_id: object = 1, category_id: object = 1) -> dict:
    return {"id": 5, "image_id": image_id, "category_id": category_id, "bbox": [1, 1, 5, 5]}


# -- COCO: images that are not there, or not where they should be -------------------------------


def test_a_coco_image_missing_on_disk_is_refused_even_without_annotations(tmp_path: Path) -> None:
    png(tmp_path / "a.png")
    path = coco(tmp_path / "c.json", [entry(), entry("gone.png", id=2)], [box()])
    with pytest.raises(FormatError, match=r"image 2 \(gone\.png\): file .*gone\.png not found"):
        alw.Dataset.from_coco(path, tmp_path)


@pytest.mark.parametrize("outside", ["../x.png", "ABSOLUTE"])
def test_a_coco_file_name_leading_out_of_the_root_is_refused(tmp_path: Path, outside: str) -> None:
    root = tmp_path / "root"
    png(tmp_path / "x.png")
    name = str(tmp_path / "x.png") if outside == "ABSOLUTE" else outside
    path = coco(tmp_path / "c.json", [entry(name)])
    with pytest.raises(
        FormatError, match=r"image 1 .*lies outside the images root .*allow_outside_root=True"
    ):
        alw.Dataset.from_coco(path, root)
    dataset = alw.Dataset.from_coco(path, root, allow_outside_root=True)
    assert dataset.image_size(0) == (30, 40)


# -- COCO: sizes declared in the file ------------------------------------------------------------


def test_a_coco_image_declaring_a_huge_size_is_refused_before_anything_is_allocated(
    tmp_path: Path,
) -> None:
    png(tmp_path / "a.png")
    rle = {"size": [40000, 40000], "counts": "PPYo1"}
    annotation = {"id": 1, "image_id": 1, "category_id": 1, "segmentation": rle}
    path = coco(tmp_path / "c.json", [entry(width=40000, height=40000)], [annotation])
    tracemalloc.start()
    try:
        with pytest.raises(
            FormatError,
            match=r"image 1 \(a\.png\): the entry declares 40000x40000 but the file is 30x40",
        ):
            alw.Dataset.from_coco(path, tmp_path, task="segment")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # a 40000x40000 class map alone is 1.6 GB


def test_a_coco_rle_declaring_another_size_than_its_image_is_refused_before_decoding(
    tmp_path: Path,
) -> None:
    png(tmp_path / "a.png")
    rle = {"size": [40000, 40000], "counts": "PPYo1"}
    annotation = {"id": 9, "image_id": 1, "category_id": 1, "segmentation": rle}
    path = coco(tmp_path / "c.json", [{"id": 1, "file_name": "a.png"}], [annotation])
    tracemalloc.start()
    try:
        with pytest.raises(
            FormatError,
            match=r"annotation 0 \(id 9\) of image a\.png: its RLE 'size' \[40000, 40000\] is not the image's \[30, 40\]",
        ):
            alw.Dataset.from_coco(path, tmp_path, task="segment")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


@pytest.mark.parametrize("key", ["width", "height"])
def test_a_negative_coco_image_size_is_named(tmp_path: Path, key: str) -> None:
    png(tmp_path / "a.png")
    path = coco(tmp_path / "c.json", [entry(**{key: -5})], [box()])
    with pytest.raises(FormatError, match=rf"image 0 \(id 1\): '{key}' must be an int > 0, got -5"):
        alw.Dataset.from_coco(path, tmp_path, task="segment")


# -- COCO: entries of the wrong type -------------------------------------------------------------


def test_a_coco_file_name_that_is_not_a_string_is_named(tmp_path: Path) -> None:
    path = coco(tmp_path / "c.json", [entry(17)])
    with pytest.raises(
        FormatError,
        match=re.escape(
            f"COCO file {path}: image 0 (id 1): 'file_name' must be a non-empty string, got 17"
        ),
    ):
        alw.Dataset.from_coco(path, tmp_path)


def test_a_list_valued_image_id_is_named(tmp_path: Path) -> None:
    png(tmp_path / "a.png")
    path = coco(tmp_path / "c.json", [entry()], [box(image_id=[1])])
    with pytest.raises(
        FormatError,
        match=re.escape(f"COCO file {path}: annotation 0 (id 5): image_id [1] is not in 'images'"),
    ):
        alw.Dataset.from_coco(path, tmp_path)


def test_a_dict_category_id_is_named(tmp_path: Path) -> None:
    png(tmp_path / "a.png")
    path = coco(tmp_path / "c.json", [entry()], [box(category_id={"id": 1})])
    with pytest.raises(
        FormatError,
        match=re.escape(
            f"COCO file {path}: annotation 0 (id 5): category_id {{'id': 1}} is not in 'categories'"
        ),
    ):
        alw.Dataset.from_coco(path, tmp_path)


@pytest.mark.parametrize("value", [True, 2.0, "2"], ids=["bool", "float", "string"])
def test_a_category_id_that_is_not_an_int_is_named_with_its_category(
    tmp_path: Path, value: object
) -> None:
    png(tmp_path / "a.png")
    path = coco(tmp_path / "c.json", [entry()], [box()])
    document = json.loads(path.read_text())
    document["categories"].append({"id": value, "name": "dog"})
    path.write_text(json.dumps(document))
    with pytest.raises(
        FormatError,
        match=re.escape(
            f"COCO file {path}: category 1 ('dog') has id {value!r}; a category id must be an int"
        ),
    ):
        alw.Dataset.from_coco(path, tmp_path)


# -- YOLO: label files that are not label files --------------------------------------------------


def yolo(root: Path) -> Path:
    png(root / "images" / "a.png")
    (root / "labels").mkdir()
    (root / "classes.txt").write_text("cat\n")
    return root


def test_a_yolo_label_linked_to_a_device_is_refused_unread(tmp_path: Path) -> None:
    root = yolo(tmp_path)
    (root / "labels" / "a.txt").symlink_to("/dev/zero")
    with pytest.raises(FormatError, match=r"a\.txt lies outside .*allow_outside_root=True"):
        alw.Dataset.from_yolo(root)
    with pytest.raises(FormatError, match=r"YOLO label file .*a\.txt is not a regular file"):
        alw.Dataset.from_yolo(root, allow_outside_root=True)


def test_a_yolo_label_linked_to_a_file_outside_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    root = yolo(tmp_path / "data")
    (root / "labels" / "a.txt").symlink_to(secret)
    with pytest.raises(FormatError) as refused:
        alw.Dataset.from_yolo(root)
    assert "lies outside" in str(refused.value)
    assert "root:x" not in str(refused.value)


def test_a_yolo_label_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    root = yolo(tmp_path)
    with open(root / "labels" / "a.txt", "wb") as file:
        file.truncate(17 * 2**20)  # sparse: takes no disk
    with pytest.raises(FormatError, match=r"a\.txt holds 17825792 bytes, more than the 16777216"):
        alw.Dataset.from_yolo(root)


def test_a_yolo_label_file_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    root = yolo(tmp_path)
    (root / "labels" / "a.txt").write_bytes(b"0 0.5 0.5 0.1 0.1\n0 0.5 \xff 0.1 0.1\n")
    with pytest.raises(FormatError, match=r"YOLO label file .*a\.txt line 2 is not UTF-8 text"):
        alw.Dataset.from_yolo(root)


# -- Pascal VOC: XML that expands or reaches out -------------------------------------------------


def voc(root: Path, xml: str) -> Path:
    png(root / "JPEGImages" / "a.png")
    (root / "Annotations").mkdir(parents=True)
    path = root / "Annotations" / "a.xml"
    path.write_text(xml)
    return path


def test_a_voc_file_with_entity_expansion_is_refused_before_expanding(tmp_path: Path) -> None:
    lol = "".join(f'<!ENTITY l{k} "{f"&l{k - 1};" * 10}">' for k in range(1, 10))
    path = voc(
        tmp_path,
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY l0 "lol">{lol}]>'
        "<annotation><filename>a.png</filename><object><name>&l9;</name></object></annotation>",
    )
    with pytest.raises(
        FormatError, match=re.escape(f"Pascal VOC file {path} declares XML entities or a DTD")
    ):
        alw.formats.read_voc(tmp_path)


def test_a_voc_file_with_an_external_entity_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    path = voc(
        tmp_path / "voc",
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<annotation><filename>a.png</filename><object><name>&x;</name>"
        "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>"
        "</object></annotation>",
    )
    with pytest.raises(FormatError, match="declares XML entities or a DTD") as refused:
        alw.formats.read_voc(tmp_path / "voc")
    assert "password" not in str(refused.value)
    assert path.exists()


def test_a_voc_file_linked_outside_the_folder_is_refused_unread(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.xml"
    outside.write_text("<annotation><filename>a.png</filename></annotation>")
    png(tmp_path / "voc" / "JPEGImages" / "a.png")
    (tmp_path / "voc" / "Annotations").mkdir()
    (tmp_path / "voc" / "Annotations" / "a.xml").symlink_to(outside)
    with pytest.raises(FormatError, match=r"a\.xml lies outside .*allow_outside_root=True"):
        alw.formats.read_voc(tmp_path / "voc")
    back = alw.formats.read_voc(tmp_path / "voc", classes=["cat"], allow_outside_root=True)
    assert back.labeled.tolist() == [0]


# -- CSV: text that is not UTF-8, fields past csv's limit ------------------------------------------


def classify_files(root: Path) -> alw.Dataset:
    return alw.Dataset([png(root / "a.png"), png(root / "b.png")], ["cat", "dog"])


def test_a_csv_file_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    dataset = classify_files(tmp_path)
    path = tmp_path / "labels.csv"
    path.write_bytes(b"index,file,class\n0,,cat\n1,,d\xe9g\n")
    with pytest.raises(FormatError, match=re.escape(f"CSV file {path} line 3 is not UTF-8 text")):
        alw.formats.read_csv(path, dataset)


def test_a_csv_field_over_the_csv_limit_is_named_with_its_line(tmp_path: Path) -> None:
    dataset = classify_files(tmp_path)
    path = tmp_path / "labels.csv"
    path.write_text("index,file,class\n0,,cat\n1,," + "x" * 131_073 + "\n")
    with pytest.raises(
        FormatError, match=re.escape(f"CSV file {path} line 3: field larger than field limit")
    ):
        alw.formats.read_csv(path, dataset)


def test_a_csv_saved_by_a_spreadsheet_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    dataset = classify_files(tmp_path)
    path = tmp_path / "labels.csv"
    path.write_bytes("index,file,class\r\n1,,dog\r\n".encode("utf-8-sig"))
    assert alw.formats.read_csv(path, dataset) == {1: alw.Label("dog")}


# -- the formats module, in a fresh interpreter --------------------------------------------------


@pytest.mark.slow  # a fresh interpreter imports torch
def test_al_widget_formats_is_reachable_without_importing_it_first() -> None:
    code = "import al_widget; print(al_widget.formats.read_voc.__name__)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "read_voc"
