"""Pascal VOC XML out and in: round trips, VOC's 1-based corners, bad files named."""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.datasets import shapes
from al_widget.formats import FormatError, read_voc

from conftest import latin1_named_image


def labeled_shapes(n: int = 5, labeled: int = 3) -> alw.Dataset:
    """`n` shapes images of 48 px, the first `labeled` of them with their boxes."""
    data = shapes(n, size=48, seed=3)
    dataset = alw.Dataset(data.images, list(data.classes), task="detect")
    for i in range(labeled):
        dataset.annotate(i, data.annotations[i])
    return dataset


def test_export_then_import_gives_equal_boxes_and_pixels(tmp_path: Path) -> None:
    dataset = labeled_shapes()
    dataset.to_voc(tmp_path)
    back = read_voc(tmp_path, classes=dataset.classes)
    assert back.labeled.tolist() == [0, 1, 2]
    for i in range(3):
        assert back.annotation(i) == dataset.annotation(i)
        assert np.array_equal(back.image(i), dataset.image(i))


def test_corners_are_written_as_voc_1_based_whole_pixels(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 20, 30, 3), np.uint8), ["cat", "dog"], task="detect")
    dataset.annotate(0, alw.Boxes([[0, 2, 10, 8.5]], ["dog"]))
    with pytest.warns(UserWarning, match=r"1 box\(es\) .* by up to 0\.5 px"):
        dataset.to_voc(tmp_path)
    root = ET.parse(tmp_path / "Annotations" / "000000.xml").getroot()
    assert root.findtext("filename") == "000000.png"
    assert (root.findtext("size/width"), root.findtext("size/height")) == ("30", "20")
    [item] = root.iter("object")
    assert item.findtext("name") == "dog"
    corners = [item.findtext(f"bndbox/{tag}") for tag in ("xmin", "ymin", "xmax", "ymax")]
    assert corners == ["1", "3", "10", "9"]  # the edge at 8.5 rounded half up
    assert (tmp_path / "ImageSets" / "Main" / "default.txt").read_text() == "000000\n"
    assert (tmp_path / "JPEGImages" / "000000.png").exists()


@pytest.mark.parametrize("corners", ["pixels", "coordinates"])
def test_a_round_trip_in_either_corner_convention_keeps_the_boxes(
    tmp_path: Path, corners: str
) -> None:
    dataset = labeled_shapes()
    dataset.to_voc(tmp_path, corners=corners)
    back = read_voc(tmp_path, corners=corners)
    assert [back.annotation(i) for i in range(3)] == [dataset.annotation(i) for i in range(3)]


def test_coordinates_corners_are_written_as_the_boxes_edges_unrounded(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 20, 30, 3), np.uint8), ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[0.25, 2, 10.1, 8.5]], ["cat"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing moved, so no warning
        dataset.to_voc(tmp_path, corners="coordinates")
    [item] = ET.parse(tmp_path / "Annotations" / "000000.xml").getroot().iter("object")
    corners = [item.findtext(f"bndbox/{tag}") for tag in ("xmin", "ymin", "xmax", "ymax")]
    assert corners == ["0.25", "2.0", "10.1", "8.5"]
    assert read_voc(tmp_path, corners="coordinates").annotation(0) == dataset.annotation(0)


def test_an_unknown_corner_convention_is_refused_naming_it_before_anything_is_written(
    tmp_path: Path,
) -> None:
    message = r"corners must be one of 'pixels' \(.*\), 'coordinates' \(.*\); got 'cvat'"
    with pytest.raises(ValueError, match=message):
        labeled_shapes().to_voc(tmp_path / "out", corners="cvat")
    assert not (tmp_path / "out").exists()
    labeled_shapes().to_voc(tmp_path / "voc")
    with pytest.raises(ValueError, match=message):
        read_voc(tmp_path / "voc", corners="cvat")


def parse_rec(path: Path) -> list[dict]:
    """detectron2's evaluation/pascal_voc_evaluation.py parse_rec (py-faster-rcnn's voc_eval),
    without its cache: it reads every one of these tags, and stops on an object lacking one."""
    tree = ET.parse(path)
    objects = []
    for obj in tree.findall("object"):
        bbox = obj.find("bndbox")
        objects.append(
            {
                "name": obj.find("name").text,
                "pose": obj.find("pose").text,
                "truncated": int(obj.find("truncated").text),
                "difficult": int(obj.find("difficult").text),
                "bbox": [int(bbox.find(t).text) for t in ("xmin", "ymin", "xmax", "ymax")],
            }
        )
    return objects


def test_the_export_carries_every_tag_detectron2s_voc_evaluation_reads(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 20, 30, 3), np.uint8), ["cat", "dog"], task="detect")
    dataset.annotate(
        0, alw.Boxes([[0, 2, 10, 8], [5, 5, 9, 9]], ["dog", "cat"], difficult=[False, True])
    )
    dataset.to_voc(tmp_path)
    assert parse_rec(tmp_path / "Annotations" / "000000.xml") == [
        {
            "name": "dog",
            "pose": "Unspecified",
            "truncated": 0,
            "difficult": 0,
            "bbox": [1, 3, 10, 8],
        },
        {
            "name": "cat",
            "pose": "Unspecified",
            "truncated": 0,
            "difficult": 1,
            "bbox": [6, 6, 9, 9],
        },
    ]


def test_classes_default_to_the_object_names_in_the_order_the_files_give_them(
    tmp_path: Path,
) -> None:
    labeled_shapes().to_voc(tmp_path)
    (tmp_path / "classes.txt").unlink()  # as VOC itself ships: no class list
    back = read_voc(tmp_path)
    found = [name for i in back.labeled for name in back.annotation(int(i)).labels]
    assert back.classes == list(dict.fromkeys(found))


def test_the_class_list_is_written_so_an_import_keeps_order_and_unused_classes(
    tmp_path: Path,
) -> None:
    dataset = alw.Dataset(
        np.zeros((2, 20, 30, 3), np.uint8), ["zebra", "apple", "kiwi"], task="detect"
    )
    dataset.annotate(0, alw.Boxes([[0, 2, 10, 8]], ["apple"]))
    dataset.to_voc(tmp_path)
    back = read_voc(tmp_path)
    assert back.classes == ["zebra", "apple", "kiwi"]
    assert back.annotation(0) == dataset.annotation(0)


def test_an_object_of_a_class_not_in_the_classes_is_named(tmp_path: Path) -> None:
    labeled_shapes().to_voc(tmp_path)
    with pytest.raises(FormatError, match=r"not expected: \['triangle'\]"):
        read_voc(tmp_path, classes=["circle", "square"])


def test_a_box_outside_its_image_is_named(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 20, 30, 3), np.uint8), ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[0, 2, 10, 8]], ["cat"]))
    dataset.to_voc(tmp_path)
    xml = tmp_path / "Annotations" / "000000.xml"
    xml.write_text(xml.read_text().replace("<xmax>10</xmax>", "<xmax>32</xmax>"))
    with pytest.raises(
        FormatError,
        match=r"000000\.xml, object 0 \(cat\): box .* lies more than 1 px outside the 30x20 image",
    ):
        read_voc(tmp_path)


def test_a_corner_that_is_no_number_is_named_with_its_value(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 20, 30, 3), np.uint8), ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[0, 2, 10, 8]], ["cat"]))
    dataset.to_voc(tmp_path)
    xml = tmp_path / "Annotations" / "000000.xml"
    xml.write_text(re.sub(r"<ymin>[^<]*</ymin>", "<ymin>5,5</ymin>", xml.read_text()))
    with pytest.raises(
        FormatError,
        match=r"000000\.xml, object 0 \(cat\): <bndbox> needs numbers xmin, ymin, xmax, ymax, "
        r"got xmin '1', ymin '5,5', xmax '10', ymax '8'",
    ):
        read_voc(tmp_path)


def test_a_file_that_is_not_xml_is_named(tmp_path: Path) -> None:
    labeled_shapes().to_voc(tmp_path)
    (tmp_path / "Annotations" / "000001.xml").write_text("<annotation>")
    with pytest.raises(FormatError, match=r"000001\.xml is not valid XML"):
        read_voc(tmp_path)


def test_an_existing_annotation_file_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "000002.xml").write_text("mine")
    with pytest.raises(FileExistsError, match=r"000002\.xml already exists"):
        labeled_shapes().to_voc(tmp_path)
    assert (tmp_path / "Annotations" / "000002.xml").read_text() == "mine"
    assert not (tmp_path / "JPEGImages").exists()


@pytest.mark.parametrize("name", ["a\x01b", "a\ufffeb", "a\x1fb"])
def test_a_class_name_xml_cannot_hold_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    dataset = alw.Dataset(np.zeros((1, 16, 16, 3), np.uint8), ["cat", name], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 5, 5]], [name]))
    with pytest.raises(
        ValueError, match=rf"cannot hold the character .* in class 1 {re.escape(repr(name))}"
    ):
        dataset.to_voc(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_image_file_name_xml_cannot_hold_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "photos" / "a\x02.png"
    path.parent.mkdir()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(path)
    dataset = alw.Dataset([path], ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 5, 5]], ["cat"]))
    with pytest.raises(ValueError, match=r"'\\x02' \(U\+0002\) in the file name of image 0"):
        dataset.to_voc(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_class_names_with_xml_markup_characters_round_trip(tmp_path: Path) -> None:
    dataset = alw.Dataset(
        np.zeros((1, 16, 16, 3), np.uint8), ["a<b>&c", "tab\there"], task="detect"
    )
    dataset.annotate(0, alw.Boxes([[1, 1, 5, 5], [2, 2, 6, 6]], ["a<b>&c", "tab\there"]))
    dataset.to_voc(tmp_path)
    assert read_voc(tmp_path).annotation(0) == dataset.annotation(0)


def test_a_voc_export_of_a_file_name_that_is_not_utf8_is_refused_naming_the_image(
    tmp_path: Path,
) -> None:
    path = latin1_named_image(tmp_path / "photos", (12, 15))
    dataset = alw.Dataset([path], ["a"], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 5, 5]], ["a"]))
    with pytest.raises(ValueError, match=r"cannot hold the file name of image 0, 'caf\\udce9"):
        dataset.to_voc(tmp_path / "voc")


def test_a_voc_export_says_how_many_boxes_whole_pixels_moved_and_by_how_much(
    tmp_path: Path,
) -> None:
    dataset = alw.Dataset(np.zeros((1, 40, 60, 3), np.uint8), ["a"], task="detect")
    given = [[10.4, 5.5, 20.49, 15.6], [30.0, 30.0, 30.3, 30.2], [1, 1, 5, 5]]
    dataset.annotate(0, alw.Boxes(given, ["a", "a", "a"]))
    # 10.4 -> 10, 5.5 -> 6, 15.6 -> 16; a 0.3x0.2 box grows to one pixel: 30.2 -> 31 by 0.8
    with pytest.warns(UserWarning, match=r"2 box\(es\) .* moved .* by up to 0\.8 px"):
        dataset.to_voc(tmp_path / "voc")


def test_a_voc_export_of_whole_pixel_boxes_gives_no_warning(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 40, 60, 3), np.uint8), ["a"], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 5, 5], [0, 0, 60, 40]], ["a", "a"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset.to_voc(tmp_path / "voc")
