"""PNG class maps out and in: palette PNGs, round trips, masks of the wrong size named."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.datasets import shapes
from al_widget.formats import FormatError, read_masks
from al_widget.formats.masks import palette

from conftest import latin1_named_image


def labeled_shapes(n: int = 5, labeled: int = 3) -> alw.Dataset:
    """`n` shapes images of 48 px, the first `labeled` of them with their class maps."""
    data = shapes(n, size=48, seed=4, task="segment")
    dataset = alw.Dataset(data.images, list(data.classes), task="segment")
    for i in range(labeled):
        dataset.annotate(i, data.annotations[i])
    return dataset


def test_export_then_import_gives_equal_masks(tmp_path: Path) -> None:
    dataset = labeled_shapes()
    written = dataset.to_masks(tmp_path)
    assert (written.n_images, written.n_annotations) == (3, 3)
    masks = read_masks(tmp_path, dataset)
    assert sorted(masks) == [0, 1, 2]
    for i, mask in masks.items():
        assert mask == dataset.annotation(i)


def test_masks_are_palette_pngs_whose_pixels_are_class_ids(tmp_path: Path) -> None:
    dataset = labeled_shapes()
    dataset.to_masks(tmp_path)
    with Image.open(tmp_path / "000001.png") as image:
        assert image.mode == "P"
        assert np.array_equal(np.asarray(image), dataset.annotation(1).class_map)
        colours = image.getpalette()[:12]
    assert colours == [
        0,
        0,
        0,
        128,
        0,
        0,
        0,
        128,
        0,
        128,
        128,
        0,
    ]  # VOC's: black, red, green, olive
    assert (tmp_path / "classes.txt").read_text() == "background\ncircle\nsquare\ntriangle\n"


def test_masks_of_image_files_are_named_after_them(tmp_path: Path) -> None:
    paths = []
    for name in ("x/one.jpg", "y/two.png"):
        path = tmp_path / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(path)
        paths.append(path)
    dataset = alw.Dataset(paths, ["background", "road"], task="segment")
    dataset.annotate(0, alw.Mask(np.eye(6, 8, dtype=np.uint8)))
    dataset.to_masks(tmp_path / "masks")
    assert (tmp_path / "masks" / "x" / "one.png").exists()
    assert read_masks(tmp_path / "masks", dataset) == {0: dataset.annotation(0)}


def test_a_mask_of_the_wrong_size_is_named(tmp_path: Path) -> None:
    dataset = labeled_shapes()
    dataset.to_masks(tmp_path)
    Image.fromarray(np.zeros((40, 48), np.uint8), mode="L").save(tmp_path / "000002.png")
    with pytest.raises(
        FormatError,
        match=r"000002\.png: mask has shape \(40, 48\) but the image is \(48, 48\)",
    ):
        read_masks(tmp_path, dataset)


def test_a_colour_png_without_a_labelmap_is_refused_saying_where_one_was_looked_for(
    tmp_path: Path,
) -> None:
    dataset = labeled_shapes()
    dataset.to_masks(tmp_path / "masks")
    Image.fromarray(np.zeros((48, 48, 3), np.uint8)).save(tmp_path / "masks" / "000000.png")
    with pytest.raises(
        FormatError,
        match=r"000000\.png is an RGB image: .* whose colours a labelmap\.txt .* names, .*"
        rf"there is none in {re.escape(str(tmp_path / 'masks'))} or beside it",
    ):
        read_masks(tmp_path / "masks", dataset)


def test_a_class_id_beyond_the_classes_is_named(tmp_path: Path) -> None:
    dataset = labeled_shapes()
    dataset.to_masks(tmp_path)
    Image.fromarray(np.full((48, 48), 9, np.uint8), mode="L").save(tmp_path / "000000.png")
    with pytest.raises(
        FormatError, match=r"000000\.png: mask holds class id 9 but there are only 4"
    ):
        read_masks(tmp_path, dataset)


def test_classes_that_differ_from_the_datasets_are_named(tmp_path: Path) -> None:
    dataset = labeled_shapes()
    dataset.to_masks(tmp_path)
    (tmp_path / "classes.txt").write_text("background\ncircle\nsquare\nstar\n")
    with pytest.raises(FormatError, match=r"not expected: \['star'\]; missing: \['triangle'\]"):
        read_masks(tmp_path, dataset)


def test_an_existing_mask_file_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "000002.png").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match=r"000002\.png already exists"):
        labeled_shapes().to_masks(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000002.png"]


def test_a_detection_dataset_has_no_mask_export(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 4, 4), np.uint8), ["a"], task="detect")
    with pytest.raises(ValueError, match="PNG masks holds segment annotations"):
        dataset.to_masks(tmp_path)


VOC_CLASSES = [
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
]  # fmt: skip


def voc_colour_map() -> list[int]:
    """The colour map of the VOC devkit's VOClabelcolormap.m (bits of the index spread over
    R, G, B from the top bit down), flat RGB for 256 entries."""
    flat = []
    for index in range(256):
        rgb = [0, 0, 0]
        c = index
        for shift in range(7, -1, -1):
            for channel in range(3):
                rgb[channel] |= ((c >> channel) & 1) << shift
            c >>= 3
        flat += rgb
    return flat


def voc_segmentation(tmp_path: Path) -> tuple[alw.Dataset, Path, np.ndarray]:
    """A VOC2012-style folder: JPEGImages/2007_000032.jpg and its SegmentationClass palette
    PNG, a person (15) and a car (7), each with a 2 px void (255) border, as VOC draws them."""
    root = tmp_path / "VOC2012"
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(
        root / "JPEGImages" / "2007_000032.jpg"
    )
    class_map = np.zeros((30, 40), np.uint8)
    class_map[4:20, 3:15] = 255
    class_map[6:18, 5:13] = 15
    class_map[14:28, 20:38] = 255
    class_map[16:26, 22:36] = 7
    png = Image.fromarray(class_map, mode="P")
    png.putpalette(voc_colour_map())
    png.save(root / "SegmentationClass" / "2007_000032.png")
    dataset = alw.Dataset([root / "JPEGImages" / "2007_000032.jpg"], VOC_CLASSES, task="segment")
    return dataset, root / "SegmentationClass", class_map


def test_a_voc_segmentation_png_reads_with_its_void_border_as_ignore(tmp_path: Path) -> None:
    dataset, folder, class_map = voc_segmentation(tmp_path)
    with Image.open(folder / "2007_000032.png") as shipped:
        assert shipped.mode == "P"
        assert shipped.getpalette()[3 * 255 :] == [224, 224, 192]  # VOC's void colour
    mask = read_masks(folder, dataset)[0]
    assert np.array_equal(mask.class_map, class_map)
    assert (mask.class_map == alw.Mask.IGNORE).sum() == (class_map == 255).sum() > 0


def test_a_mask_whose_name_ends_in_upper_case_png_is_its_images(tmp_path: Path) -> None:
    dataset, folder, class_map = voc_segmentation(tmp_path)
    (folder / "2007_000032.png").rename(folder / "2007_000032.PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # read, not named as matching no image
        mask = read_masks(folder, dataset)[0]
    assert np.array_equal(mask.class_map, class_map)


def test_a_voc_segmentation_png_exports_back_with_its_pixels_and_palette(tmp_path: Path) -> None:
    dataset, folder, class_map = voc_segmentation(tmp_path)
    dataset.annotate(0, read_masks(folder, dataset)[0])
    dataset.to_masks(tmp_path / "out")
    with Image.open(tmp_path / "out" / "2007_000032.png") as written:
        assert written.mode == "P"
        assert np.array_equal(np.asarray(written), class_map)
        assert written.getpalette()[: 3 * 256] == voc_colour_map()
    assert read_masks(tmp_path / "out", dataset) == {0: dataset.annotation(0)}


# CVAT's task labels and their colours (hex in CVAT, written r,g,b), as its "Segmentation mask
# 1.1" export passes them to Datumaro: cvat/apps/dataset_manager/formats/utils.py make_colormap
# puts "background" (#000000) first, and Datumaro's VocConverter._load_categories sorts them by name
CVAT_LABELS = {"animal": (184, 61, 245), "background": (0, 0, 0), "person": (51, 221, 255)}


def cvat_segmentation_mask(root: Path, class_map: np.ndarray) -> Path:
    """CVAT's "Segmentation mask 1.1" export (Datumaro's VOC exporter, apply_colormap=True) of
    `class_map` (ids in CVAT_LABELS' order) for frame_000001: labelmap.txt as
    VocLabelMap.dump_to_file writes it, SegmentationClass/frame_000001.png painted in the
    labels' colours by VocConverter.save_segm (paint_mask, then save_image: an RGB PNG)."""
    (root / "SegmentationClass").mkdir(parents=True)
    lines = [f"{name}:{','.join(map(str, rgb))}::\n" for name, rgb in CVAT_LABELS.items()]
    (root / "labelmap.txt").write_text("# label:color_rgb:parts:actions\n" + "".join(lines))
    colours = np.array(list(CVAT_LABELS.values()), np.uint8)
    Image.fromarray(colours[class_map]).save(root / "SegmentationClass" / "frame_000001.png")
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation" / "default.txt").write_text("frame_000001\n")
    return root / "SegmentationClass"


def frame_dataset(root: Path, classes: list[str]) -> alw.Dataset:
    """A "segment" dataset of images/frame_000001.jpg, 40x30."""
    (root / "images").mkdir(parents=True)
    image = root / "images" / "frame_000001.jpg"
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(image)
    return alw.Dataset([image], classes, task="segment")


def cvat_class_map() -> np.ndarray:
    """A 40x30 map of CVAT_LABELS ids: background, a person (2) and an animal (0)."""
    class_map = np.ones((30, 40), np.int64)
    class_map[5:20, 4:16] = 2
    class_map[10:25, 20:36] = 0
    return class_map


def test_a_cvat_segmentation_mask_reads_each_colour_as_its_labels_class(tmp_path: Path) -> None:
    folder = cvat_segmentation_mask(tmp_path / "export", cvat_class_map())
    dataset = frame_dataset(tmp_path, ["background", "person", "animal"])
    mask = read_masks(folder, dataset)[0]
    expected = np.choose(cvat_class_map(), [2, 0, 1])  # animal, background, person: by name
    assert np.array_equal(mask.class_map, expected)


def test_a_cvat_masks_background_reads_as_class_0_whatever_the_dataset_calls_it(
    tmp_path: Path,
) -> None:
    folder = cvat_segmentation_mask(tmp_path / "export", cvat_class_map())
    dataset = frame_dataset(tmp_path, ["unlabeled", "person", "animal"])
    mask = read_masks(folder, dataset)[0]
    assert np.array_equal(mask.class_map == 0, cvat_class_map() == 1)


def test_a_colour_no_label_of_the_labelmap_has_is_refused_naming_the_file_and_colour(
    tmp_path: Path,
) -> None:
    folder = cvat_segmentation_mask(tmp_path / "export", cvat_class_map())
    (tmp_path / "export" / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\nbackground:0,0,0::\nperson:51,221,255::\n"
    )
    dataset = frame_dataset(tmp_path, ["background", "person", "animal"])
    with pytest.raises(
        FormatError,
        match=r"frame_000001\.png: colour \(184, 61, 245\) is no label's colour in .*labelmap",
    ):
        read_masks(folder, dataset)


def test_a_cvat_mask_colour_of_a_label_the_dataset_lacks_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    folder = cvat_segmentation_mask(tmp_path / "export", cvat_class_map())
    dataset = frame_dataset(tmp_path, ["background", "person"])
    with pytest.raises(FormatError, match=r"is the colour of 'animal' in .*not one of the data"):
        read_masks(folder, dataset)


def test_masks_that_mark_void_with_another_value_read_it_as_ignore(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 4, 5), np.uint8), ["background", "road"], task="segment")
    in_file = np.array([[0, 1, 1, 9, 9]] * 4, np.uint8)  # 9: this tool's "not labeled"
    Image.fromarray(in_file, mode="L").save(tmp_path / "000000.png")
    mask = read_masks(tmp_path, dataset, ignore=9)[0]
    assert mask.class_map[0].tolist() == [0, 1, 1, 255, 255]


def test_an_ignore_value_outside_a_mask_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ignore must be a mask value in 0..255, got 256"):
        read_masks(tmp_path, labeled_shapes(), ignore=256)


def test_instances_have_no_png_masks_and_are_pointed_to_coco_or_yolo(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 4, 4), np.uint8), ["cat"], task="instances")
    with pytest.raises(ValueError, match="cannot keep apart the objects .* to_coco or to_yolo"):
        dataset.to_masks(tmp_path / "masks")
    with pytest.raises(ValueError, match="cannot keep apart the objects"):
        read_masks(tmp_path, dataset)


def photo_files(root: Path, names: list[str]) -> list[Path]:
    """12x15 image files of distinct pixels at `names` below `root`."""
    paths = []
    for k, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((12, 15, 3), 40 * k % 256, np.uint8)).save(path)
        paths.append(path)
    return paths


def numbered_mask(k: int) -> alw.Mask:
    """A 12x15 class map told apart by `k`: a block of class 1 starting at row `k`."""
    class_map = np.zeros((12, 15), np.uint8)
    class_map[k : k + 3, 2:6] = 1
    return alw.Mask(class_map)


def test_masks_of_same_stem_images_go_to_their_own_images_in_another_order(
    tmp_path: Path,
) -> None:
    a_png, a_jpg = photo_files(tmp_path / "photos", ["a.png", "a.jpg"])
    exported = alw.Dataset([a_png, a_jpg], ["background", "road"], task="segment")
    exported.annotate(0, numbered_mask(0))
    exported.annotate(1, numbered_mask(5))
    with pytest.warns(UserWarning, match="share a name stem"):
        exported.to_masks(tmp_path / "masks")
    reordered = alw.Dataset([a_jpg, a_png], ["background", "road"], task="segment")
    assert read_masks(tmp_path / "masks", reordered) == {0: numbered_mask(5), 1: numbered_mask(0)}


def test_masks_read_into_a_dataset_over_a_sub_folder_go_to_their_own_images(
    tmp_path: Path,
) -> None:
    inner, outer = photo_files(tmp_path / "photos", ["x/a.jpg", "a.jpg"])
    exported = alw.Dataset([inner, outer], ["background", "road"], task="segment")
    exported.annotate(1, numbered_mask(5))  # only the outer a.jpg: masks/a.png
    exported.to_masks(tmp_path / "masks")
    inner_only = alw.Dataset([inner], ["background", "road"], task="segment")
    with pytest.warns(UserWarning, match=r"no mask was read: 1 mask file\(s\) match no image"):
        assert read_masks(tmp_path / "masks", inner_only) == {}


def write_old_mask_folder(folder: Path, masks: dict[str, alw.Mask]) -> None:
    """A mask folder as exports before ``images.json`` wrote it: the PNGs and classes.txt."""
    folder.mkdir()
    for name, mask in masks.items():
        image = Image.fromarray(mask.class_map, mode="P")
        image.putpalette(palette())
        image.save(folder / name)
    (folder / "classes.txt").write_text("background\nroad\n")


def test_masks_without_an_image_list_go_to_same_stem_images_by_their_renamed_names(
    tmp_path: Path,
) -> None:
    # Exported from [a.png, a.jpg]: a.png kept a.png, a.jpg was renamed a.jpg.png.
    write_old_mask_folder(
        tmp_path / "masks", {"a.png": numbered_mask(0), "a.jpg.png": numbered_mask(5)}
    )
    a_jpg, a_png = photo_files(tmp_path / "photos", ["a.jpg", "a.png"])
    dataset = alw.Dataset([a_jpg, a_png], ["background", "road"], task="segment")
    assert read_masks(tmp_path / "masks", dataset) == {0: numbered_mask(5), 1: numbered_mask(0)}


def test_a_mask_without_an_image_list_that_fits_two_images_is_left_out_with_a_warning(
    tmp_path: Path,
) -> None:
    write_old_mask_folder(tmp_path / "masks", {"a.png": numbered_mask(0)})
    a_jpg, a_png = photo_files(tmp_path / "photos", ["a.jpg", "a.png"])
    dataset = alw.Dataset([a_jpg, a_png], ["background", "road"], task="segment")
    with pytest.warns(UserWarning, match=r"left out 1 mask file.*a\.png \(of a\.jpg or a\.png\)"):
        assert read_masks(tmp_path / "masks", dataset) == {}


def test_the_warning_on_masks_left_out_names_three_and_counts_the_rest(tmp_path: Path) -> None:
    stems = ["a", "b", "c", "d"]
    write_old_mask_folder(tmp_path / "masks", {f"{s}.png": numbered_mask(0) for s in stems})
    names = [f"{s}.{ext}" for s in stems for ext in ("jpg", "png")]
    dataset = alw.Dataset(
        photo_files(tmp_path / "photos", names), ["background", "road"], task="segment"
    )
    shown = "; ".join(rf"{s}\.png \(of {s}\.jpg or {s}\.png\)" for s in stems[:3])
    with pytest.warns(UserWarning, match=rf"left out 4 mask file.*: {shown} and 1 more$"):
        assert read_masks(tmp_path / "masks", dataset) == {}


def test_masks_of_moved_images_are_matched_by_name_with_a_warning(tmp_path: Path) -> None:
    (path,) = photo_files(tmp_path / "photos", ["x/a.jpg"])
    exported = alw.Dataset([path], ["background", "road"], task="segment")
    exported.annotate(0, numbered_mask(5))
    exported.to_masks(tmp_path / "masks")
    moved = tmp_path / "moved"
    (tmp_path / "photos").rename(moved)
    dataset = alw.Dataset([moved / "x" / "a.jpg"], ["background", "road"], task="segment")
    with pytest.warns(UserWarning, match=r"none of the dataset's images is where images\.json"):
        assert read_masks(tmp_path / "masks", dataset) == {0: numbered_mask(5)}


def test_an_image_list_that_is_not_json_is_named(tmp_path: Path) -> None:
    dataset = labeled_shapes()
    dataset.to_masks(tmp_path)
    (tmp_path / "images.json").write_text("{not json")
    with pytest.raises(FormatError, match=r"mask image list .*images\.json is not JSON"):
        read_masks(tmp_path, dataset)


def test_masks_of_image_files_are_refused_for_a_dataset_of_in_memory_images(
    tmp_path: Path,
) -> None:
    paths = photo_files(tmp_path / "photos", ["000000.png", "000001.png"])
    exported = alw.Dataset(paths, ["background", "road"], task="segment")
    exported.annotate(0, numbered_mask(0))
    exported.annotate(1, numbered_mask(5))
    exported.to_masks(tmp_path / "masks")
    # the same pixels, in memory and in another order: only the names 000000.png would match
    in_memory = alw.Dataset(
        np.stack([exported.image(1), exported.image(0)]), ["background", "road"], task="segment"
    )
    with pytest.raises(FormatError, match=r"lists image files .* dataset has images in memory"):
        read_masks(tmp_path / "masks", in_memory)


def test_masks_of_in_memory_images_are_refused_for_a_dataset_of_image_files(
    tmp_path: Path,
) -> None:
    exported = labeled_shapes()
    exported.to_masks(tmp_path / "masks")
    paths = [tmp_path / "photos" / f"{i:06d}.png" for i in range(len(exported))]
    for i, path in enumerate(paths):
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(exported.image(i)).save(path)
    files = alw.Dataset(paths, exported.classes, task="segment")
    with pytest.raises(FormatError, match=r"images that were in memory .* images are files"):
        read_masks(tmp_path / "masks", files)


def test_a_mask_export_of_a_file_name_that_is_not_utf8_is_refused_naming_the_image(
    tmp_path: Path,
) -> None:
    path = latin1_named_image(tmp_path / "photos", (12, 15))
    dataset = alw.Dataset([path], ["background", "road"], task="segment")
    dataset.annotate(0, numbered_mask(0))
    with pytest.raises(ValueError, match=r"cannot hold the file name of image 0, 'caf\\udce9"):
        dataset.to_masks(tmp_path / "masks")
    assert not (tmp_path / "masks").exists()
