"""Label files laid out exactly as other tools write them (Label Studio, supervision,
Ultralytics, Roboflow, LabelImg, CVAT), built here: read as those tools mean them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import FormatError


def png(path: Path, size: tuple[int, int] = (48, 80)) -> Path:
    """A grey PNG of (height, width) `size`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), 90, np.uint8)).save(path)
    return path


def jpeg(path: Path, size: tuple[int, int] = (48, 80)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), 90, np.uint8)).save(path)
    return path


# -- Label Studio COCO ---------------------------------------------------------------------------


def label_studio_coco(folder: Path) -> Path:
    """Label Studio's COCO export of one 640x480 image with a box from x=0.1% spanning 99.9% of
    the width: its percent-to-pixel conversion gives x + w = 640.0000000000001."""
    jpeg(folder / "images" / "1f2e3d4c-photo.jpg", (480, 640))
    x, w = 0.1 / 100 * 640, 99.9 / 100 * 640
    assert x + w > 640
    document = {
        "images": [
            {"width": 640, "height": 480, "id": 0, "file_name": "images/1f2e3d4c-photo.jpg"}
        ],
        "categories": [{"id": 0, "name": "car"}],
        "annotations": [
            {
                "id": 0,
                "image_id": 0,
                "category_id": 0,
                "segmentation": [],
                "bbox": [x, 12.0, w, 100.0],
                "ignore": 0,
                "iscrowd": 0,
                "area": w * 100.0,
            }
        ],
        "info": {"year": 2024, "version": "1.0", "description": "", "contributor": "Label Studio"},
    }
    path = folder / "result.json"
    path.write_text(json.dumps(document))
    return path


def test_a_label_studio_box_ending_a_float_round_off_past_the_edge_is_clipped(
    tmp_path: Path,
) -> None:
    path = label_studio_coco(tmp_path)
    with pytest.warns(UserWarning, match=r"1 box\(es\) passed their image's edge by up to 1 px"):
        dataset = alw.Dataset.from_coco(path, tmp_path)
    assert dataset.annotation(0).xyxy.tolist() == [[0.64, 12.0, 640.0, 112.0]]


def test_a_coco_box_further_out_than_a_pixel_is_refused_naming_it(tmp_path: Path) -> None:
    path = label_studio_coco(tmp_path)
    document = json.loads(path.read_text())
    document["annotations"][0]["bbox"] = [600.0, 12.0, 41.5, 100.0]
    path.write_text(json.dumps(document))
    with pytest.raises(
        FormatError,
        match=re.escape(
            "annotation 0 (id 0) of image images/1f2e3d4c-photo.jpg: box [600.0, 12.0, 641.5, 112.0] "
            "lies more than 1 px outside the 640x480 image"
        ),
    ):
        alw.Dataset.from_coco(path, tmp_path)
