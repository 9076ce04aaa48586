"""A Dataset's labels in from and out to other tools' files: image folders, COCO, YOLO, Pascal
VOC, PNG masks, CSV and a torch Dataset.

The readers and writers live in ``al_widget.formats``, which registers them here when it is
imported (``register_formats``), so the dependency runs one way (formats -> dataset).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dataset import Dataset
    from .formats import Exported
    from .formats.torch_dataset import LabeledImages


class DatasetFiles:
    """The ``from_*`` constructors and ``to_*`` exports of ``Dataset`` (its base class)."""

    @classmethod
    def from_folder(
        cls,
        path: str | os.PathLike[str],
        task: str = "classify",
        *,
        classes: Sequence[str] | None = None,
        unlabeled: str = "unlabeled",
    ) -> Dataset:
        """The images below a folder, labeled by class sub-folder (torchvision's ImageFolder).

        Parameters
        ----------
        path : path
            ``path/<class>/**/image`` are labeled with the class; ``path/<unlabeled>/**`` and
            images directly in ``path`` are unlabeled. Files are sorted by their path, so
            indices are stable; images are decoded on use.
        task : {"classify", "detect", "segment"}, default "classify"
            For "detect" and "segment" every image is unlabeled and `classes` is needed.
        classes : sequence of str, optional
            The class names; default: the class folders' names, sorted.
        unlabeled : str, default "unlabeled"
            The sub-folder holding the unlabeled pool.
        """
        return _entry("read_folder")(path, task, classes=classes, unlabeled=unlabeled)

    @classmethod
    def from_coco(
        cls,
        annotations_json: str | os.PathLike[str],
        images_root: str | os.PathLike[str],
        *,
        task: str = "detect",
        classes: Sequence[str] | None = None,
        background: str | None = None,
        crowd: str = "ignore",
        allow_outside_root: bool = False,
    ) -> Dataset:
        """The images and boxes (or masks) of a COCO JSON file; images without any are unlabeled.

        Images marked ``"labeled": true`` are labeled even without annotations. The file's
        image ids, categories and crowd annotations are kept in ``coco_origin``, and
        ``to_coco`` writes them back (see ``al_widget.formats.read_coco``).

        Parameters
        ----------
        annotations_json : path
            The COCO file.
        images_root : path
            The folder its ``file_name`` entries are relative to.
        task : {"detect", "segment", "instances"}, default "detect"
            Boxes from ``bbox``, class maps painted from ``segmentation`` (polygons or RLE),
            or ``Instances``: one object per ``segmentation``.
        classes : sequence of str, optional
            The classes expected; the categories must be the same, in id order (a category no
            annotation uses, of supercategory "none", that is the supercategory of all the
            others, as Roboflow lists the project, is left out unless `classes` are the classes with it).
        background : str, optional
            For "segment": the name of class 0 (default: the name ``to_coco`` stores in the
            file's ``info``, else "background").
        crowd : {"ignore", "objects"}, default "ignore"
            Crowd regions (``iscrowd: 1``) as COCO means them, regions to ignore (with a
            warning; an image holding nothing else stays unlabeled for "detect" and
            "instances"), or as objects: CVAT's and Datumaro's COCO export write every mask so.
        allow_outside_root : bool, default False
            Accept a ``file_name`` leading out of `images_root` (``../x.png``, an absolute path).
        """
        return _entry("read_coco")(
            annotations_json,
            images_root,
            task=task,
            classes=classes,
            background=background,
            crowd=crowd,
            allow_outside_root=allow_outside_root,
        )

    @classmethod
    def from_yolo(
        cls,
        folder: str | os.PathLike[str],
        *,
        task: str = "detect",
        classes: Sequence[str] | None = None,
        allow_outside_root: bool = False,
    ) -> Dataset:
        """A "detect" or "instances" dataset from a YOLO folder (al_widget, Ultralytics,
        Roboflow, LabelImg).

        Parameters
        ----------
        folder : path
            The folder: images below ``images/`` folders (``images/train``, ``train/images``
            ...), their ``labels/`` files; images without a label file are unlabeled.
        task : {"detect", "instances"}, default "detect"
            Boxes (``class cx cy w h``), or objects from Ultralytics' segmentation lines
            (``class x1 y1 x2 y2 ...``, one polygon per object).
        classes : sequence of str, optional
            The classes expected; ``data.yaml`` / ``classes.txt`` must list the same, in order.
        allow_outside_root : bool, default False
            Read label files linked to files outside `folder`.
        """
        return _entry("read_yolo")(
            folder, task=task, classes=classes, allow_outside_root=allow_outside_root
        )

    def to_coco(
        self,
        path: str | os.PathLike[str],
        *,
        root: str | os.PathLike[str] | None = None,
        include_unlabeled: bool = False,
        overwrite: bool = False,
    ) -> Exported:
        """Write the boxes or masks as COCO JSON (see ``al_widget.formats.write_coco``).

        Parameters
        ----------
        path : path
            The JSON file.
        root : path, optional
            The folder image file names are relative to (default: their common folder);
            in-memory images are written as PNG under ``images/`` beside the JSON.
        include_unlabeled : bool, default False
            Also list the unlabeled images (marked ``"labeled": false``; every image listed
            carries the field, so one labeled with no objects comes back labeled).
        overwrite : bool, default False
            Replace the JSON file and an earlier export's ``images/`` (only the files it
            wrote); never one of the dataset's own images.
        """
        return _entry("write_coco")(
            self, path, root=root, include_unlabeled=include_unlabeled, overwrite=overwrite
        )

    def to_yolo(
        self, folder: str | os.PathLike[str], *, link: bool = False, overwrite: bool = False
    ) -> Exported:
        """Write the labeled images and boxes (or objects, as polygons) in the YOLO layout
        (``al_widget.formats.write_yolo``).

        Parameters
        ----------
        folder : path
            Where ``images/``, ``labels/``, ``classes.txt`` and ``data.yaml`` go.
        link : bool, default False
            Hard-link image files instead of copying them, where possible.
        overwrite : bool, default False
            Replace existing files.
        """
        return _entry("write_yolo")(self, folder, link=link, overwrite=overwrite)

    def to_voc(
        self,
        folder: str | os.PathLike[str],
        *,
        corners: str = "pixels",
        link: bool = False,
        overwrite: bool = False,
    ) -> Exported:
        """Write the labeled images and boxes as Pascal VOC (``al_widget.formats.write_voc``).

        Parameters
        ----------
        folder : path
            Where ``JPEGImages/``, ``Annotations/`` and ``ImageSets/Main/`` go.
        corners : {"pixels", "coordinates"}, default "pixels"
            "pixels": the VOC devkit's 1-based whole pixels (rounded); "coordinates": 0-based
            continuous corners, unrounded, as CVAT (through Datumaro) reads them.
        link : bool, default False
            Hard-link image files instead of copying them, where possible.
        overwrite : bool, default False
            Replace existing files.
        """
        return _entry("write_voc")(self, folder, corners=corners, link=link, overwrite=overwrite)

    def to_masks(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Exported:
        """Write each labeled class map as a palette PNG (``al_widget.formats.write_masks``).

        Parameters
        ----------
        folder : path
            Where the PNG files and ``classes.txt`` go.
        overwrite : bool, default False
            Replace existing files.
        """
        return _entry("write_masks")(self, folder, overwrite=overwrite)

    def to_csv(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Exported:
        """Write the class labels as CSV: index, file, class, labeled_at; each file as its path
        below the images' common folder, so ``al_widget.formats.read_csv`` reads it for the same
        images in a moved folder (see ``al_widget.formats.write_csv``).

        Parameters
        ----------
        path : path
            The CSV file.
        overwrite : bool, default False
            Replace an existing file.
        """
        return _entry("write_csv")(self, path, overwrite=overwrite)

    def to_records(self) -> list[dict[str, Any]]:
        """The class labels as dicts: index, file (as the dataset holds it, "" for in-memory
        images), class, labeled_at."""
        return _entry("records")(self)

    def to_torch(
        self, transforms: Callable[[Any, Any], tuple[Any, Any]] | None = None
    ) -> LabeledImages:
        """The labeled images as a torch Dataset of (tv_tensors.Image, target).

        Parameters
        ----------
        transforms : callable, optional
            Called as ``transforms(image, target)``, e.g. a ``torchvision.transforms.v2``
            pipeline. Targets are torchvision's: a class id, ``{"boxes", "labels",
            "image_id"}`` (labels = class id + 1, 0 being the background) or, for
            segmentation, ``{"masks", "labels", "class_map", "image_id"}`` with one mask per
            class present (the class map holding 255 where not labeled) and no "boxes": a
            semantic-segmentation target (e.g. for DeepLabV3 or FCN), not Mask R-CNN's
            per-object one, which needs "boxes". For instances, Mask R-CNN's target
            ``{"boxes", "labels", "masks", "image_id"}``: per object its mask's box, class id
            + 1 and mask (uint8); see ``al_widget.formats.torch_dataset.LabeledImages``.
        """
        return _entry("LabeledImages")(self, transforms)


_FORMATS: dict[str, Callable[..., Any]] = {}


def register_formats(**entries: Callable[..., Any]) -> None:
    """Give the readers and writers behind ``Dataset.from_*`` and ``to_*`` (by function name).

    ``al_widget.formats`` imports this module and calls this when it is imported, so the
    dependency runs one way (formats -> dataset); importing ``al_widget`` imports it, so the
    entries are in place before any Dataset exists.

    Parameters
    ----------
    **entries : callable
        ``read_coco=read_coco``, ``write_yolo=write_yolo``, ...
    """
    _FORMATS.update(entries)


def _entry(name: str) -> Callable[..., Any]:
    try:
        return _FORMATS[name]
    except KeyError:
        raise RuntimeError(f"{name} is not registered: import al_widget.formats") from None
