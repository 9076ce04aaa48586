"""Photos whose EXIF orientation turns them: read upright everywhere, as other tools show them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

import al_widget as alw

# A phone photo stored 64 wide and 48 high whose EXIF orientation 6 says "turn a quarter
# clockwise to show": every other tool shows it 48 wide and 64 high.
STORED_W, STORED_H = 64, 48
UPRIGHT = (STORED_W, STORED_H)  # (height, width) once turned


def upright_pixels() -> np.ndarray:
    """The photo as it is meant to be seen (64 high, 48 wide): a white block in its top-left
    quarter (rows 0..31, columns 0..23), a grey one bottom-right, black elsewhere."""
    pixels = np.zeros((*UPRIGHT, 3), np.uint8)
    pixels[:32, :24] = 255
    pixels[32:, 24:] = 128
    return pixels


def rotated_jpeg(path: Path) -> Path:
    """`upright_pixels()` stored turned a quarter counter-clockwise, with EXIF orientation 6,
    as a phone camera writes a photo taken held upright."""
    stored = Image.fromarray(upright_pixels()).transpose(Image.Transpose.ROTATE_90)
    assert stored.size == (STORED_W, STORED_H)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    stored.save(path, quality=95, exif=exif.tobytes())
    return path


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal but for JPEG's small errors."""
    return a.shape == b.shape and float(np.abs(a.astype(int) - b.astype(int)).mean()) < 4


def test_the_test_photo_is_turned_by_pil_exif_transpose(tmp_path: Path) -> None:
    with Image.open(rotated_jpeg(tmp_path / "photo.jpg")) as image:
        assert image.size == (STORED_W, STORED_H)
        assert close(np.asarray(ImageOps.exif_transpose(image)), upright_pixels())


def test_a_dataset_reads_a_turned_photo_upright(tmp_path: Path) -> None:
    dataset = alw.Dataset([rotated_jpeg(tmp_path / "photo.jpg")], ["a"], task="detect")
    assert dataset.image_size(0) == UPRIGHT
    assert close(dataset.image(0), upright_pixels())
    assert close(dataset.batch([0])[0], upright_pixels())


def test_a_coco_box_from_another_tool_lands_on_the_same_pixels(tmp_path: Path) -> None:
    # CVAT and Label Studio give the upright size and upright coordinates: this box is the
    # white block.
    rotated_jpeg(tmp_path / "photo.jpg")
    document = {
        "images": [{"id": 1, "file_name": "photo.jpg", "width": 48, "height": 64}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 24, 32]}],
        "categories": [{"id": 1, "name": "block"}],
    }
    (tmp_path / "c.json").write_text(json.dumps(document))
    dataset = alw.Dataset.from_coco(tmp_path / "c.json", tmp_path)
    x0, y0, x1, y1 = (int(v) for v in dataset.annotation(0).xyxy[0])
    assert dataset.image(0)[y0:y1, x0:x1].mean() > 240  # all white
    assert dataset.image(0)[y1:, x1:].mean() == pytest.approx(128, abs=4)


def test_a_yolo_export_of_a_turned_photo_puts_the_box_on_the_pixels_pil_shows(
    tmp_path: Path,
) -> None:
    dataset = alw.Dataset([rotated_jpeg(tmp_path / "src" / "photo.jpg")], ["block"], task="detect")
    dataset.annotate(0, alw.Boxes([[0, 0, 24, 32]], ["block"]))
    dataset.to_yolo(tmp_path / "yolo")
    line = (tmp_path / "yolo" / "labels" / "photo.txt").read_text().split()
    with Image.open(tmp_path / "yolo" / "images" / "photo.jpg") as image:
        shown = np.asarray(ImageOps.exif_transpose(image))
    height, width = shown.shape[:2]
    cx, cy, w, h = (float(v) for v in line[1:])
    x0, y0 = round((cx - w / 2) * width), round((cy - h / 2) * height)
    x1, y1 = round((cx + w / 2) * width), round((cy + h / 2) * height)
    assert (x0, y0, x1, y1) == (0, 0, 24, 32)
    assert shown[y0:y1, x0:x1].mean() > 240


def test_the_panel_sends_the_canvas_and_thumbnails_upright(tmp_path: Path, loop_factory) -> None:
    files = [rotated_jpeg(tmp_path / f"photo{k}.jpg") for k in range(4)]
    dataset = alw.Dataset(files, ["block"], task="detect")
    panel = alw.Panel(loop_factory(dataset, None))
    try:
        assert (panel.canvas.height, panel.canvas.width) == UPRIGHT
        shown = np.asarray(Image.open(io.BytesIO(panel.canvas.image)).convert("RGB"))
        assert close(shown, upright_pixels())
        thumbs = list(panel.queue_strip._thumbs.values())
        assert thumbs
        for png in thumbs:
            with Image.open(io.BytesIO(png)) as thumb:
                assert thumb.height > thumb.width  # upright: taller than wide
                top_left = np.asarray(thumb.convert("L"))[: thumb.height // 4, : thumb.width // 4]
                assert top_left.mean() > 200
    finally:
        panel.close()


def boxed_turned_photo(tmp_path: Path) -> alw.Dataset:
    """A detection dataset of the turned photo, its box on the white block as the labeler saw
    it (upright)."""
    dataset = alw.Dataset([rotated_jpeg(tmp_path / "src" / "photo.jpg")], ["block"], task="detect")
    dataset.annotate(0, alw.Boxes([[0, 0, 24, 32]], ["block"]))
    return dataset


def test_torchvision_coco_detection_finds_the_box_of_a_turned_photo_on_its_block(
    tmp_path: Path,
) -> None:
    from torchvision.datasets import CocoDetection

    dataset = boxed_turned_photo(tmp_path)
    with pytest.warns(UserWarning, match=r"1 image\(s\) have an EXIF orientation.*photo\.jpg"):
        written = dataset.to_coco(tmp_path / "out" / "labels.json")
    image, target = CocoDetection(str(written.images_root), str(tmp_path / "out" / "labels.json"))[
        0
    ]
    shown = np.asarray(image)  # as torchvision reads it: EXIF orientation not applied
    assert shown.shape[:2] == UPRIGHT
    x, y, w, h = (int(v) for v in target[0]["bbox"])
    assert (x, y, w, h) == (0, 0, 24, 32)
    assert shown[y : y + h, x : x + w].mean() > 240


def test_torchvision_voc_detection_finds_the_box_of_a_turned_photo_on_its_block(
    tmp_path: Path,
) -> None:
    from torchvision.datasets import VOCDetection

    dataset = boxed_turned_photo(tmp_path)
    voc = tmp_path / "VOCdevkit" / "VOC2012"
    dataset.to_voc(voc)
    # VOCDetection reads only the lists named train, trainval or val
    (voc / "ImageSets" / "Main" / "train.txt").write_text(
        (voc / "ImageSets" / "Main" / "default.txt").read_text()
    )
    image, target = VOCDetection(str(tmp_path), year="2012", image_set="train")[0]
    shown = np.asarray(image)
    assert shown.shape[:2] == UPRIGHT
    box = target["annotation"]["object"][0]["bndbox"]
    x0, y0 = int(box["xmin"]) - 1, int(box["ymin"]) - 1  # VOC numbers pixels from 1
    x1, y1 = int(box["xmax"]), int(box["ymax"])
    assert (x0, y0, x1, y1) == (0, 0, 24, 32)
    assert shown[y0:y1, x0:x1].mean() > 240


def test_an_export_writes_a_turned_photo_upright_with_its_orientation_reset(
    tmp_path: Path,
) -> None:
    dataset = boxed_turned_photo(tmp_path)
    dataset.to_voc(tmp_path / "voc")
    with Image.open(tmp_path / "voc" / "JPEGImages" / "photo.jpg") as image:
        assert image.getexif().get(0x0112) == 1
        # one more encoding with the photo's own tables: about one grey level of difference
        error = np.abs(np.asarray(image).astype(int) - dataset.image(0).astype(int)).mean()
    assert error < 2


def test_an_export_of_a_turned_photo_leaves_the_photo_file_as_it_was(tmp_path: Path) -> None:
    dataset = boxed_turned_photo(tmp_path)
    before = (tmp_path / "src" / "photo.jpg").read_bytes()
    dataset.to_voc(tmp_path / "voc")
    with pytest.warns(UserWarning, match="EXIF orientation"):
        dataset.to_coco(tmp_path / "labels.json")
    assert (tmp_path / "src" / "photo.jpg").read_bytes() == before


def test_a_coco_export_beside_a_turned_photo_s_folder_named_images_is_refused(
    tmp_path: Path,
) -> None:
    # the photo lies at images/photo.jpg, where its upright copy would go
    dataset = alw.Dataset([rotated_jpeg(tmp_path / "images" / "photo.jpg")], ["a"], "detect")
    dataset.annotate(0, alw.Boxes([[0, 0, 24, 32]], ["a"]))
    with pytest.raises(FileExistsError, match=r"image 0 .*photo\.jpg.*export into another folder"):
        dataset.to_coco(tmp_path / "labels.json")
    assert not (tmp_path / "labels.json").exists()


def test_an_export_writes_a_turned_tiff_upright_once(tmp_path: Path) -> None:
    # Pillow turns a TIFF upright itself as it loads it: the export must not turn it again
    stored = Image.fromarray(upright_pixels()).transpose(Image.Transpose.ROTATE_90)
    path = tmp_path / "src" / "photo.tif"
    path.parent.mkdir(parents=True)
    stored.save(path, tiffinfo={0x0112: 6})
    dataset = alw.Dataset([path], ["block"], task="detect")
    dataset.annotate(0, alw.Boxes([[0, 0, 24, 32]], ["block"]))
    dataset.to_voc(tmp_path / "voc")
    with Image.open(tmp_path / "voc" / "JPEGImages" / "photo.tif") as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), upright_pixels())


def turned_photos_in_their_folder(images: Path, n: int = 1) -> alw.Dataset:
    """A detection dataset of `n` turned photos in `images` (a VOC ``JPEGImages/`` or a YOLO
    ``images/`` folder), each boxed on its white block as the labeler saw it (upright)."""
    paths = [rotated_jpeg(images / f"photo{k}.jpg") for k in range(n)]
    dataset = alw.Dataset(paths, ["block"], task="detect")
    for i in range(n):
        dataset.annotate(i, alw.Boxes([[0, 0, 24, 32]], ["block"]))
    return dataset


def every_file(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(("export", "images"), [("to_voc", "JPEGImages"), ("to_yolo", "images")])
def test_an_export_into_a_turned_photo_s_own_folder_is_refused_before_writing(
    tmp_path: Path, export: str, images: str
) -> None:
    # the photo would be kept as stored while its box is written upright: refused, as the
    # photo is the user's and its upright copy would have to replace it
    root = tmp_path / "dataset"
    dataset = turned_photos_in_their_folder(root / images)
    before = every_file(root)
    with pytest.raises(
        FileExistsError, match=r"image 0 \(.*photo0\.jpg\).*export into another folder"
    ):
        getattr(dataset, export)(root)
    assert every_file(root) == before


@pytest.mark.parametrize(("export", "images"), [("to_voc", "JPEGImages"), ("to_yolo", "images")])
def test_the_refusal_names_the_first_turned_photos_and_counts_the_rest(
    tmp_path: Path, export: str, images: str
) -> None:
    dataset = turned_photos_in_their_folder(tmp_path / images, n=5)
    with pytest.raises(FileExistsError, match=r"5 image\(s\).*photo2\.jpg\) and 2 more") as refused:
        getattr(dataset, export)(tmp_path, overwrite=True)
    assert "photo3" not in str(refused.value)


@pytest.mark.parametrize(("export", "images"), [("to_voc", "JPEGImages"), ("to_yolo", "images")])
def test_an_export_of_turned_photos_into_another_folder_writes_them_upright(
    tmp_path: Path, export: str, images: str
) -> None:
    dataset = turned_photos_in_their_folder(tmp_path / "src" / images)
    getattr(dataset, export)(tmp_path / "out")
    with Image.open(tmp_path / "out" / images / "photo0.jpg") as image:
        assert image.getexif().get(0x0112) == 1
        assert close(np.asarray(image), upright_pixels())
