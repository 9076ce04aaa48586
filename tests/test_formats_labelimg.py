"""LabelImg's Pascal VOC files where it saves them by default, each beside its image, built as
LabelImg writes them: read_voc reads such a folder as LabelImg finds its files again."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from al_widget.formats import read_voc

# tzutalin/labelImg libs/pascal_voc_io.py, PascalVocWriter.gen_xml and append_objects, pretty
# printed by lxml with its two-space indent made tabs, no XML declaration; LabelFile.
# save_pascal_voc_format gives it the image's folder name, file name and path.
LABELIMG_XML = """<annotation>
\t<folder>{folder}</folder>
\t<filename>{name}</filename>
\t<path>{path}</path>
\t<source>
\t\t<database>Unknown</database>
\t</source>
\t<size>
\t\t<width>80</width>
\t\t<height>48</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
{objects}</annotation>
"""

LABELIMG_OBJECT = """\t<object>
\t\t<name>{label}</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>{xmin}</xmin>
\t\t\t<ymin>{ymin}</ymin>
\t\t\t<xmax>{xmax}</xmax>
\t\t\t<ymax>{ymax}</ymax>
\t\t</bndbox>
\t</object>
"""


def jpeg(path: Path) -> Path:
    """An 80x48 grey JPEG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((48, 80, 3), 90, np.uint8)).save(path)
    return path


def labelimg_save(image: Path, boxes: list[tuple[str, int, int, int, int]]) -> Path:
    """LabelImg's PascalVOC save with no save folder chosen (MainWindow.save_file): the XML
    file is the image's path ending ``.xml``; boxes are (label, xmin, ymin, xmax, ymax)."""
    objects = "".join(
        LABELIMG_OBJECT.format(label=b[0], xmin=b[1], ymin=b[2], xmax=b[3], ymax=b[4])
        for b in boxes
    )
    xml = image.with_suffix(".xml")
    xml.write_text(
        LABELIMG_XML.format(folder=image.parent.name, name=image.name, path=image, objects=objects)
    )
    return xml


def test_a_folder_of_images_with_labelimg_xml_files_beside_them_is_read(tmp_path: Path) -> None:
    labelimg_save(jpeg(tmp_path / "photos" / "img1.jpg"), [("dog", 10, 5, 30, 25)])
    jpeg(tmp_path / "photos" / "img2.jpg")  # not labeled yet: no XML file
    dataset = read_voc(tmp_path / "photos", corners="coordinates")
    assert dataset.labeled.tolist() == [0]
    assert dataset.annotation(0).xyxy.tolist() == [[10, 5, 30, 25]]
    assert dataset.annotation(0).labels == ("dog",)


def test_labelimg_xml_files_of_same_named_images_in_sub_folders_go_to_their_own_images(
    tmp_path: Path,
) -> None:
    # LabelImg lists the images of every sub-folder (scan_all_images walks the folder)
    labelimg_save(jpeg(tmp_path / "day1" / "img.jpg"), [("dog", 10, 5, 30, 25)])
    labelimg_save(jpeg(tmp_path / "day2" / "img.jpg"), [("cat", 1, 1, 20, 20)])
    dataset = read_voc(tmp_path, corners="coordinates")
    assert [dataset.annotation(k).labels for k in (0, 1)] == [("dog",), ("cat",)]


def test_images_sharing_one_labelimg_xml_file_are_refused_naming_both(tmp_path: Path) -> None:
    xml = labelimg_save(jpeg(tmp_path / "img.jpg"), [("dog", 10, 5, 30, 25)])
    jpeg(tmp_path / "img.png")
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"images {tmp_path / 'img.jpg'} and {tmp_path / 'img.png'} share the XML file {xml}"
        ),
    ):
        read_voc(tmp_path)


def test_a_labelimg_xml_file_beside_no_image_is_named_in_a_warning(tmp_path: Path) -> None:
    labelimg_save(jpeg(tmp_path / "img1.jpg"), [("dog", 10, 5, 30, 25)])
    gone = labelimg_save(jpeg(tmp_path / "img2.jpg"), [("dog", 10, 5, 30, 25)])
    (tmp_path / "img2.jpg").unlink()
    with pytest.warns(UserWarning, match=re.escape(f"1 XML file(s) beside no image: {gone}")):
        dataset = read_voc(tmp_path)
    assert len(dataset) == 1


def test_labelimg_xml_files_saved_to_another_folder_are_refused_saying_where_they_go(
    tmp_path: Path,
) -> None:
    # LabelImg's "Change Save Dir": the XML files in a folder of the labeler's choosing
    labelimg_save(jpeg(tmp_path / "photos" / "img1.jpg"), [("dog", 10, 5, 30, 25)])
    (tmp_path / "xml").mkdir()
    (tmp_path / "photos" / "img1.xml").rename(tmp_path / "xml" / "img1.xml")
    with pytest.raises(
        FileNotFoundError, match=r"no image below it has an XML file beside it .* go beside"
    ):
        read_voc(tmp_path)
