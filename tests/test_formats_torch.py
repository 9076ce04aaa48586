"""The labeled images as a torch Dataset: torchvision's types and targets, v2 transforms, training."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

import al_widget as alw
from al_widget.datasets import shapes


def labeled_shapes(task: str, n: int = 5, labeled: int = 4, size: int = 48) -> alw.Dataset:
    """`n` shapes images, the first `labeled` of them annotated."""
    data = shapes(n, size=size, seed=5, task=task)
    dataset = alw.Dataset(data.images, list(data.classes), task=task)
    for i in range(labeled):
        dataset.annotate(i, data.annotations[i])
    return dataset


def train_steps(model: torch.nn.Module, dataset: alw.Dataset, lr: float) -> list[dict[str, float]]:
    """Train a torchvision detection `model` on `dataset.to_torch()` in batches of two, as its
    reference scripts do; the losses of each step."""
    items = dataset.to_torch(
        v2.Compose([v2.RandomHorizontalFlip(), v2.ToDtype(torch.float32, scale=True)])
    )
    loader = torch.utils.data.DataLoader(
        items, batch_size=2, collate_fn=lambda b: tuple(zip(*b, strict=True))
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    steps = []
    for images, targets in loader:
        losses = model(list(images), list(targets))
        loss = sum(losses.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps.append({name: value.item() for name, value in losses.items()})
    return steps


def test_boxes_target_carries_the_labels_torchvision_expects() -> None:
    boxes = alw.Boxes([[1, 2, 5, 6], [0, 0, 3, 3]], ["dog", "cat"], canvas_size=(10, 20))
    target = boxes.to_target(["cat", "dog"])
    assert isinstance(target["boxes"], tv_tensors.BoundingBoxes)
    assert tuple(target["boxes"].canvas_size) == (10, 20)
    assert target["labels"].dtype == torch.int64
    assert target["labels"].tolist() == [2, 1]  # class id + 1: label 0 is the background


def test_boxes_target_can_keep_class_ids_as_labels() -> None:
    boxes = alw.Boxes([[1, 2, 5, 6]], ["dog"], canvas_size=(10, 20))
    assert boxes.to_target(["cat", "dog"], first_label=0)["labels"].tolist() == [1]


def test_mask_target_has_one_binary_mask_per_class_but_the_background() -> None:
    class_map = np.zeros((4, 5), np.uint8)
    class_map[0, :2] = 3
    class_map[2:, 1] = 1
    target = alw.Mask(class_map).to_target()
    assert isinstance(target["masks"], tv_tensors.Mask)
    assert target["masks"].shape == (2, 4, 5)
    assert target["labels"].tolist() == [1, 3]
    assert np.array_equal(target["masks"][1].numpy(), class_map == 3)


def test_detection_items_are_images_and_box_targets_of_the_labeled_images() -> None:
    dataset = labeled_shapes("detect")
    items = dataset.to_torch()
    assert len(items) == 4
    image, target = items[2]
    assert isinstance(image, tv_tensors.Image)
    assert image.shape == (3, 48, 48)
    assert image.dtype == torch.uint8
    assert np.array_equal(image.permute(1, 2, 0).numpy(), dataset.image(2))
    boxes = dataset.annotation(2)
    assert target["boxes"].tolist() == boxes.xyxy.tolist()
    assert target["labels"].tolist() == (boxes.class_ids(dataset.classes) + 1).tolist()
    assert target["image_id"] == 2


def test_segmentation_items_carry_masks_and_labels() -> None:
    dataset = labeled_shapes("segment")
    _, target = dataset.to_torch()[0]
    class_map = dataset.annotation(0).class_map
    ids = [c for c in np.unique(class_map).tolist() if c > 0]
    assert target["labels"].tolist() == ids
    assert target["masks"].shape == (len(ids), 48, 48)


def test_classification_items_carry_the_class_id() -> None:
    dataset = alw.Dataset(np.zeros((3, 4, 4), np.uint8), ["cat", "dog"])
    dataset.annotate(1, alw.Label("dog"))
    image, target = dataset.to_torch()[0]
    assert image.shape == (3, 4, 4)
    assert target == 1


def test_v2_transforms_move_boxes_and_masks_with_the_image() -> None:
    flip = v2.RandomHorizontalFlip(p=1.0)
    detect = labeled_shapes("detect")
    image, target = detect.to_torch(flip)[0]
    assert np.array_equal(image.numpy(), detect.to_torch()[0][0].flip(-1).numpy())
    x0, y0, x1, y1 = detect.annotation(0).xyxy.T
    assert target["boxes"].tolist() == np.stack([48 - x1, y0, 48 - x0, y1], 1).tolist()
    segment = labeled_shapes("segment")
    _, target = segment.to_torch(flip)[0]
    plain = segment.to_torch()[0][1]
    assert np.array_equal(target["masks"].numpy(), plain["masks"].flip(-1).numpy())


def test_items_are_the_labeled_images_when_it_was_made() -> None:
    dataset = labeled_shapes("detect", labeled=2)
    items = dataset.to_torch()
    dataset.annotate(4, dataset.annotation(0).bind(image_size=(48, 48), classes=dataset.classes))
    assert len(items) == 2
    with pytest.raises(IndexError, match="item 2 is out of range for 2 labeled images"):
        items[2]


@pytest.mark.slow
def test_a_torchvision_detection_model_trains_two_steps_on_the_items() -> None:
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

    torch.manual_seed(0)
    dataset = labeled_shapes("detect", n=4, labeled=4, size=64)
    model = fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None,
        weights_backbone=None,
        num_classes=len(dataset.classes) + 1,
        min_size=64,
        max_size=64,
    )
    steps = train_steps(model, dataset, lr=0.01)
    assert len(steps) == 2
    assert all(np.isfinite(list(step.values())).all() for step in steps)
    assert all(step["loss_box_reg"] > 0 for step in steps)  # the boxes reached the box head


def test_a_data_loader_with_worker_processes_reads_the_items() -> None:
    dataset = labeled_shapes("detect", labeled=4)
    loader = torch.utils.data.DataLoader(
        dataset.to_torch(), batch_size=2, num_workers=1, collate_fn=lambda b: b
    )
    ids = [target["image_id"] for batch in loader for _, target in batch]
    assert ids == [0, 1, 2, 3]


def test_a_data_loader_worker_reads_each_item_from_its_own_image() -> None:
    data = shapes(6, size=48, seed=5, task="detect")
    dataset = alw.Dataset(data.images, list(data.classes), task="detect")
    for i in (4, 1):
        dataset.annotate(i, data.annotations[i])
    loader = torch.utils.data.DataLoader(
        dataset.to_torch(), batch_size=2, num_workers=1, collate_fn=lambda b: b
    )
    for image, target in next(iter(loader)):
        expected = dataset.image(target["image_id"])
        assert np.array_equal(image.permute(1, 2, 0).numpy(), expected)


def test_mask_target_keeps_ignore_in_the_class_map_and_in_no_binary_mask() -> None:
    class_map = np.array([[0, 1, 255], [1, 255, 0]], np.uint8)
    target = alw.Mask(class_map).to_target()
    assert target["labels"].tolist() == [1]
    assert np.array_equal(target["masks"][0].numpy(), class_map == 1)
    assert isinstance(target["class_map"], tv_tensors.Mask)
    assert np.array_equal(target["class_map"].numpy(), class_map)


def test_segmentation_items_give_the_class_map_with_255_where_not_labeled() -> None:
    dataset = alw.Dataset(np.zeros((1, 4, 6), np.uint8), ["background", "road"], task="segment")
    class_map = np.ones((4, 6), np.uint8)
    class_map[1:3, :3] = 255
    dataset.annotate(0, alw.Mask(class_map))
    _, target = dataset.to_torch(v2.RandomHorizontalFlip(p=1.0))[0]
    assert np.array_equal(target["class_map"].numpy(), class_map[:, ::-1])
    loss = torch.nn.CrossEntropyLoss(ignore_index=255)  # torchvision's segmentation references
    logits = torch.zeros(1, 2, 4, 6)
    logits[:, 1] = 20.0  # "road" everywhere: right on every pixel labeled
    assert loss(logits, target["class_map"][None]).item() < 1e-3


def test_instances_items_carry_one_mask_box_and_label_per_object() -> None:
    dataset = labeled_shapes("instances")
    image, target = dataset.to_torch()[1]
    objects = dataset.annotation(1)
    assert image.shape == (3, 48, 48)
    assert target["masks"].shape == (len(objects), 48, 48)
    assert np.array_equal(target["masks"].numpy().astype(bool), objects.masks)
    assert target["boxes"].tolist() == objects.boxes.tolist()
    assert target["labels"].tolist() == (objects.class_ids(dataset.classes) + 1).tolist()
    assert target["image_id"] == 1


def test_v2_transforms_move_each_objects_mask_and_box_with_the_image() -> None:
    dataset = labeled_shapes("instances")
    _, target = dataset.to_torch(v2.RandomHorizontalFlip(p=1.0))[0]
    plain = dataset.to_torch()[0][1]
    assert np.array_equal(target["masks"].numpy(), plain["masks"].flip(-1).numpy())
    x0, y0, x1, y1 = dataset.annotation(0).boxes.T
    assert target["boxes"].tolist() == np.stack([48 - x1, y0, 48 - x0, y1], 1).tolist()


@pytest.mark.slow
def test_torchvisions_mask_rcnn_trains_two_steps_on_the_items() -> None:
    from torchvision.models.detection import maskrcnn_resnet50_fpn

    torch.manual_seed(0)
    dataset = labeled_shapes("instances", n=4, labeled=4, size=64)
    model = maskrcnn_resnet50_fpn(
        weights=None,
        weights_backbone=None,
        num_classes=len(dataset.classes) + 1,
        min_size=64,
        max_size=64,
    )
    steps = train_steps(model, dataset, lr=0.005)
    assert len(steps) == 2
    assert all(np.isfinite(list(step.values())).all() for step in steps)
    assert all(step["loss_mask"] > 0 for step in steps)  # the masks reached the mask head


ITEMS_OF_EVERY_TASK = """
import warnings
import numpy as np
from PIL import Image
import al_widget as alw
warnings.simplefilter("error")  # torch's "NumPy array is not writable" warning fails the run
mask = np.zeros((6, 8), bool)
mask[1:3, 2:5] = True
labels = {
    "classify": alw.Label("a"),
    "detect": alw.Boxes([[1, 1, 4, 4]], ["a"]),
    "segment": alw.Mask(mask.astype(np.uint8)),
    "instances": alw.Instances([mask], ["a"]),
}
Image.fromarray(np.full((6, 8, 3), 9, np.uint8)).save("image.png")
for task, label in labels.items():
    classes = ["background", "a"] if task == "segment" else ["a", "b"]
    for images in (["image.png"], np.zeros((1, 6, 8, 3), np.uint8)):
        dataset = alw.Dataset(images, classes, task=task)
        dataset.annotate(0, label)
        dataset.to_torch()[0]
"""


@pytest.mark.slow  # a fresh process importing torch: about 5 s
def test_items_are_made_without_torchs_not_writable_warning(tmp_path: Path) -> None:
    # torch says it once per process, so the items are made in a fresh one
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-c", ITEMS_OF_EVERY_TASK],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
