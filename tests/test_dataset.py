import json
import threading
import tracemalloc

import numpy as np
import pytest
from PIL import Image

import al_widget as alw

CLASSES = ["cat", "milkshake"]


def test_image_of_a_grayscale_array_is_rgb_uint8(gray_images):
    ds = alw.Dataset(gray_images, CLASSES)
    image = ds.image(7)
    assert image.shape == (6, 5, 3)
    assert image.dtype == np.uint8
    assert np.all(image == 7)


def test_rgba_images_are_composited_on_white():
    rgba = np.zeros((1, 2, 2, 4), np.uint8)
    rgba[0, 0, 0] = [255, 0, 0, 255]  # opaque red; the rest transparent
    image = alw.Dataset(rgba, CLASSES).image(0)
    assert image[0, 0].tolist() == [255, 0, 0]
    assert image[1, 1].tolist() == [255, 255, 255]


def test_16_bit_images_are_scaled_to_8_bits():
    deep = np.full((1, 2, 2), 65535, np.uint16)
    assert alw.Dataset(deep, CLASSES).image(0).max() == 255


def test_float_images_are_refused_with_how_to_fix():
    with pytest.raises(alw.ImageError, match=r"uint8 .* got dtype float64; scale to 0..255"):
        alw.Dataset(np.zeros((3, 4, 4)), CLASSES)


def test_a_wrong_array_shape_is_refused():
    with pytest.raises(
        alw.ImageError, match=r"shape \(N, H, W\) or \(N, H, W, 3\|4\), got \(3, 4\)"
    ):
        alw.Dataset(np.zeros((3, 4), np.uint8), CLASSES)


def test_files_are_decoded_lazily_including_16_bit_and_palette(tmp_path):
    Image.fromarray(np.full((3, 4), 40000, np.uint16)).save(tmp_path / "deep.png")
    Image.fromarray(np.zeros((3, 4), np.uint8)).convert("P").save(tmp_path / "palette.png")
    ds = alw.Dataset([tmp_path / "deep.png", str(tmp_path / "palette.png")], CLASSES)
    assert ds.image(0).shape == (3, 4, 3)
    assert ds.image(0).max() == 40000 >> 8
    assert ds.image(1).shape == (3, 4, 3)


def test_a_corrupt_file_names_its_index_and_path_and_the_rest_keeps_working(tmp_path):
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    ds = alw.Dataset([tmp_path / "good.png", tmp_path / "bad.png"], CLASSES)
    with pytest.raises(alw.ImageError, match=r"image 1 \(.*bad.png\) could not be decoded"):
        ds.image(1)
    assert ds.image(0).shape == (3, 3, 3)
    ds.annotate(0, alw.Label("cat"))
    assert ds.labeled.tolist() == [0]


def test_a_missing_file_says_so(tmp_path):
    ds = alw.Dataset([tmp_path / "gone.jpg"], CLASSES)
    with pytest.raises(alw.ImageError, match=r"image 0 \(.*gone.jpg\): file not found"):
        ds.image(0)


def test_readable_size_passes_over_unreadable_images(tmp_path):
    Image.fromarray(np.zeros((3, 5), np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    ds = alw.Dataset([tmp_path / "bad.png", tmp_path / "gone.png", tmp_path / "good.png"], CLASSES)
    assert ds.readable_size([0, 1, 2]) == (3, 5)
    assert ds.readable_size([0, 1]) is None


def test_pil_images_and_arrays_mix_in_a_sequence():
    ds = alw.Dataset([Image.new("RGB", (4, 2), "red"), np.zeros((2, 4), np.uint8)], CLASSES)
    assert ds.image(0)[0, 0].tolist() == [255, 0, 0]
    assert ds.batch([0, 1]).shape == (2, 2, 4, 3)


def test_annotate_moves_an_image_from_unlabeled_to_labeled(gray_images):
    ds = alw.Dataset(gray_images, CLASSES)
    ds.annotate(3, alw.Label("milkshake"))
    assert ds.annotation(3) == alw.Label("milkshake")
    assert 3 in ds.labeled
    assert 3 not in ds.unlabeled
    assert len(ds.labeled) + len(ds.unlabeled) == len(ds)


def test_every_change_increments_the_version(gray_images):
    ds = alw.Dataset(gray_images, CLASSES)
    ds.annotate(1, alw.Label("cat"))
    ds.annotate(2, alw.Label(1))
    ds.remove(1)
    assert ds.version == 3
    assert ds.labeled_at(2) == 2


def test_an_index_out_of_range_is_refused(gray_images):
    with pytest.raises(IndexError, match="index 20 is out of range for a dataset of 20 images"):
        alw.Dataset(gray_images, CLASSES).annotate(20, alw.Label("cat"))


def test_the_wrong_annotation_type_for_the_task_is_refused(gray_images):
    with pytest.raises(
        ValueError, match="a 'detect' dataset takes Boxes annotations, got Label for image 0"
    ):
        alw.Dataset(gray_images, CLASSES, task="detect").annotate(0, alw.Label("cat"))


def test_an_instances_dataset_refuses_a_mask(gray_images):
    with pytest.raises(
        ValueError, match="a 'instances' dataset takes Instances annotations, got Mask for image 0"
    ):
        alw.Dataset(gray_images, CLASSES, task="instances").annotate(
            0, alw.Mask(np.zeros((6, 5), np.uint8))
        )


def test_an_instances_dataset_holds_each_object_checked_against_its_image(gray_images):
    ds = alw.Dataset(gray_images, CLASSES, task="instances")
    masks = np.zeros((2, 6, 5), bool)
    masks[0, :3, :2] = masks[1, :3, 2:] = True
    with pytest.raises(
        ValueError, match=r"image 1: instance masks are \(5, 6\) \(H, W\) but the image is \(6, 5\)"
    ):
        ds.annotate(1, alw.Instances(masks.transpose(0, 2, 1), [0, 0]))
    ds.annotate(0, alw.Instances(masks, [0, "cat"]))
    assert ds.annotation(0) == alw.Instances(masks, ["cat", "cat"])


def test_an_unknown_task_lists_the_tasks(gray_images):
    with pytest.raises(
        ValueError,
        match=r"unknown task 'count'; choose one of \['classify', 'detect', 'instances', 'segment'\]",
    ):
        alw.Dataset(gray_images, CLASSES, task="count")


def test_a_task_that_is_not_a_name_is_refused_as_an_unknown_task(gray_images):
    with pytest.raises(ValueError, match=r"unknown task \['detect'\]; choose one of"):
        alw.Dataset(gray_images, CLASSES, task=["detect"])  # type: ignore[arg-type]


def test_boxes_are_checked_against_the_image_they_annotate(gray_images):
    ds = alw.Dataset(gray_images, CLASSES, task="detect")
    with pytest.raises(ValueError, match=r"image 4: box 0 .* lies outside the 5x6 image"):
        ds.annotate(4, alw.Boxes([[0, 0, 6, 2]], ["cat"]))
    stored = ds.annotate(4, alw.Boxes([[0, 0, 5, 6]], [1]))
    assert stored.labels == ("milkshake",)
    assert stored.canvas_size == (6, 5)


def test_a_mask_of_the_wrong_shape_is_refused_and_nothing_changes(gray_images):
    ds = alw.Dataset(gray_images, CLASSES, task="segment")
    ds.annotate(0, alw.Mask(np.zeros((6, 5), np.uint8)))
    with pytest.raises(ValueError, match=r"image 1: mask has shape \(5, 6\)"):
        ds.annotate(1, alw.Mask(np.zeros((5, 6), np.uint8)))
    assert ds.labeled.tolist() == [0]
    assert ds.version == 1


def test_a_mask_that_labels_no_pixel_is_refused_and_nothing_changes(gray_images):
    ds = alw.Dataset(gray_images, ["background", "car"], task="segment")
    void = alw.Mask(np.full((6, 5), alw.Mask.IGNORE, np.uint8))
    with pytest.raises(ValueError, match="image 1: a mask must label at least one pixel"):
        ds.annotate(1, void)
    assert ds.annotation(1) is None
    assert ds.version == 0


def test_snapshot_is_a_consistent_copy(gray_images):
    ds = alw.Dataset(gray_images, CLASSES)
    ds.annotate(5, alw.Label("cat"))
    ds.annotate(2, alw.Label("milkshake"))
    snap = ds.snapshot()
    ds.annotate(9, alw.Label("cat"))
    assert snap.indices.tolist() == [2, 5]
    assert snap.targets(CLASSES).tolist() == [1, 0]
    assert snap.version == 2


def test_concurrent_writers_lose_nothing(gray_images):
    ds = alw.Dataset(np.zeros((2000, 2, 2), np.uint8), CLASSES)

    def label(part):
        for i in range(part, 2000, 4):
            ds.annotate(i, alw.Label(i % 2))

    threads = [threading.Thread(target=label, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(ds.labeled) == 2000
    assert ds.version == 2000


def test_the_journal_restores_every_label_after_a_crash(tmp_path, gray_images):
    path = tmp_path / "labels.jsonl"
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(1, alw.Label("cat"))
    ds.annotate(2, alw.Label("milkshake"))
    ds.remove(1)
    ds.annotate(3, alw.Label(0))
    del ds  # the kernel dies: no close(), nothing but what was flushed
    restored = alw.Dataset.restore(path, gray_images)
    assert restored.labeled.tolist() == [2, 3]
    assert restored.annotation(2) == alw.Label("milkshake")


def test_restore_drops_a_torn_last_line_and_keeps_journaling(tmp_path, gray_images):
    path = tmp_path / "labels.jsonl"
    ds = alw.Dataset(gray_images, CLASSES, journal=path)
    ds.annotate(1, alw.Label("cat"))
    ds.close()
    with open(path, "a") as file:
        file.write('{"op":"annotate","i":2,"annot')  # a write the crash cut short
    restored = alw.Dataset.restore(path, gray_images)
    assert restored.labeled.tolist() == [1]
    restored.annotate(4, alw.Label("milkshake"))
    restored.close()
    assert alw.Dataset.restore(path, gray_images).labeled.tolist() == [1, 4]


def test_journal_keeps_boxes_and_masks(tmp_path, gray_images):
    path = tmp_path / "seg.jsonl"
    ds = alw.Dataset(gray_images, CLASSES, task="segment", journal=path)
    mask = np.zeros((6, 5), np.uint8)
    mask[2:4, 1:3] = 1
    ds.annotate(0, alw.Mask(mask))
    ds.close()
    assert alw.Dataset.restore(path, gray_images).annotation(0) == alw.Mask(mask)


def test_a_journal_with_labels_is_not_overwritten(tmp_path, gray_images):
    path = tmp_path / "labels.jsonl"
    alw.Dataset(gray_images, CLASSES, journal=path).annotate(0, alw.Label("cat"))
    with pytest.raises(ValueError, match="already holds labels; continue it with Dataset.restore"):
        alw.Dataset(gray_images, CLASSES, journal=path)
    assert json.loads(path.read_text().splitlines()[1])["i"] == 0


def test_restore_refuses_images_of_another_length(tmp_path, gray_images):
    path = tmp_path / "labels.jsonl"
    alw.Dataset(gray_images, CLASSES, journal=path).close()
    with pytest.raises(ValueError, match="written for 20 images, got 5"):
        alw.Dataset.restore(path, gray_images[:5])


def test_unlabeled_images_cost_no_python_object_each():
    pixels = np.zeros((100_000, 28, 28), np.uint8)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    ds = alw.Dataset(pixels, [str(d) for d in range(10)])
    overhead = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert ds.unlabeled.size == 100_000
    assert overhead / 100_000 <= 1024


def test_a_batch_resizes_each_image_once_straight_to_the_asked_size():
    small = np.zeros((2, 2), np.uint8)
    detailed = (np.indices((8, 8)).sum(axis=0) % 2 * 255).astype(np.uint8)  # a checkerboard
    batch = alw.Dataset([small, detailed], CLASSES).batch([0, 1], size=(8, 8))
    assert batch.shape == (2, 8, 8, 3)
    np.testing.assert_array_equal(batch[1, :, :, 0], detailed)


def test_source_file_names_the_file_an_image_is_read_from(tmp_path):
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(tmp_path / "a.png")
    ds = alw.Dataset([tmp_path / "a.png", np.zeros((3, 3), np.uint8)], CLASSES)
    assert ds.source_file(0) == str(tmp_path / "a.png")
    assert ds.source_file(1) is None


def test_source_file_refuses_an_index_out_of_range(gray_images):
    ds = alw.Dataset(gray_images, CLASSES)
    with pytest.raises(IndexError, match=f"index {len(ds)} is out of range"):
        ds.source_file(len(ds))


def test_typical_size_is_the_middle_height_and_width_whichever_image_comes_first(tmp_path):
    sizes = [(1, 1), (3, 5), (3, 5), (40, 2)]  # (H, W): an odd one first, and one last
    for k, (h, w) in enumerate(sizes):
        Image.fromarray(np.zeros((h, w), np.uint8)).save(tmp_path / f"{k}.png")
    ds = alw.Dataset([tmp_path / f"{k}.png" for k in range(len(sizes))], CLASSES)
    assert ds.typical_size([0, 1, 2, 3]) == (3, 5)


def saved_sizes(folder, sizes):
    """Black PNGs of `sizes` (H, W) in `folder`, in order: their paths."""
    paths = [folder / f"{k}.png" for k in range(len(sizes))]
    for path, (h, w) in zip(paths, sizes, strict=True):
        Image.fromarray(np.zeros((h, w), np.uint8)).save(path)
    return paths


def test_typical_size_of_half_portrait_half_landscape_images_is_the_size_of_one_of_them(tmp_path):
    sizes = [(8, 6), (6, 8), (8, 6), (6, 8)]  # (H, W)
    ds = alw.Dataset(saved_sizes(tmp_path, sizes), CLASSES)
    assert ds.typical_size([0, 1, 2, 3]) in sizes


def test_typical_size_with_no_size_shared_by_half_the_images_is_the_one_of_middle_area(tmp_path):
    sizes = [(1, 1), (4, 8), (8, 6)]  # (H, W): a 1x1 image first; areas 1, 32, 48
    ds = alw.Dataset(saved_sizes(tmp_path, sizes), CLASSES)
    assert ds.typical_size([0, 1, 2]) == (4, 8)


def test_typical_size_passes_over_unreadable_images(tmp_path):
    Image.fromarray(np.zeros((3, 5), np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    ds = alw.Dataset([tmp_path / "bad.png", tmp_path / "gone.png", tmp_path / "good.png"], CLASSES)
    assert ds.typical_size([0, 1, 2]) == (3, 5)
    assert ds.typical_size([0, 1]) is None
