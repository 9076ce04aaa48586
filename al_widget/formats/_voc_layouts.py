"""Where a Pascal VOC folder keeps its images and XML files, and which image each XML file is
for: the VOC devkit's ``JPEGImages/`` and ``Annotations/`` (al_widget, CVAT), Label Studio's
``images/`` and ``Annotations/``, or LabelImg's default, each XML file beside its image."""

from __future__ import annotations

import os
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path, PurePosixPath

from ._import import FormatError, is_skipped_folder, list_images
from ._names import listed
from .voc import ANNOTATIONS, IMAGES

LABEL_STUDIO_IMAGES = "images"
"""Where Label Studio's VOC export puts the images, in place of ``JPEGImages/``."""

XML = ".xml"
"""The ending of an annotation file (read in any letter case)."""


class Layout:
    """The images of a VOC folder (``files``, sorted by path) and its XML files
    (``xml_files``); ``image`` gives the image an XML file is for."""

    files: list[Path]
    xml_files: list[Path]

    def image(self, xml: Path, tree: ET.Element) -> int:
        """The index in ``files`` of the image `xml`, parsed as `tree`, is for."""
        raise NotImplementedError


class NamedLayout(Layout):
    """The devkit's and Label Studio's layouts: XML files in ``Annotations/``, each matched to
    its image in `image_folder` by ``<filename>``; ``named`` says which XML file named each
    image so far."""

    def __init__(self, root: Path, image_folder: Path) -> None:
        self.image_folder = image_folder
        self.files = [Path(f) for f in list_images(image_folder)]
        self.xml_files = xml_files(root)
        self.by_name = {f.relative_to(image_folder).as_posix(): k for k, f in enumerate(self.files)}
        self.by_stem: dict[str, list[str]] = defaultdict(list)
        for name in self.by_name:
            self.by_stem[str(PurePosixPath(name).with_suffix(""))].append(name)
        self.named: dict[int, Path] = {}

    def image(self, xml: Path, tree: ET.Element) -> int:
        """The index of the image `xml` (parsed as `tree`) is for: the one its ``<filename>``
        names; refused, naming `xml`, when it names none, or one another file named."""
        name = tree.findtext("filename")
        if not name:
            raise FormatError(f"Pascal VOC file {xml} has no <filename>")
        k = self.by_name[self._image_name(xml, name)]
        if k in self.named:
            raise FormatError(
                f"Pascal VOC files {self.named[k]} and {xml} both name the image {name!r}; keep one"
            )
        self.named[k] = xml
        return k

    def _image_name(self, xml: Path, name: str) -> str:
        """The image (its path below the image folder) that `xml`'s ``<filename>`` `name` names:
        that path, or else the one image whose path is `name` plus an extension (Label Studio
        writes ``<filename>`` without it); refused, naming `xml`, when none is or two are."""
        if name in self.by_name:
            return name
        found = self.by_stem.get(name, [])
        if len(found) > 1:
            raise FormatError(
                f"Pascal VOC file {xml}: its image {name!r} has no extension, and "
                f"{' and '.join(sorted(found))} in {self.image_folder} both have that name; "
                "keep one, or write the extension in its <filename>"
            )
        if not found:
            raise FormatError(
                f"Pascal VOC file {xml}: its image {name!r} is not in {self.image_folder}"
            )
        return found[0]


class BesideLayout(Layout):
    """LabelImg's default layout: every image below the folder, each XML file beside its image
    (``a.jpg``, ``a.xml``: the image's path ending ``.xml``), where LabelImg saves it and finds
    it again (``MainWindow.show_bounding_box_from_annotation_file``); ``<filename>`` is not
    read. Two XML files for one image (``a.xml``, ``a.XML``), or images sharing one (``a.jpg``,
    ``a.png``), are refused; XML files beside no image are named in one warning."""

    def __init__(self, root: Path) -> None:
        self.files = [Path(f) for f in list_images(root)]
        beside: dict[Path, list[Path]] = defaultdict(list)
        for xml in xml_files(root, beside_images=True):
            beside[xml.with_suffix("")].append(xml)
        self.of: dict[Path, int] = {}
        for k, file in enumerate(self.files):
            found = beside.get(file.with_suffix(""), [])
            if len(found) > 1:
                raise FormatError(
                    f"Pascal VOC image {file} has {len(found)} XML files beside it "
                    f"({', '.join(sorted(p.name for p in found))}); keep one"
                )
            if found and found[0] in self.of:
                raise FormatError(
                    f"Pascal VOC images {self.files[self.of[found[0]]]} and {file} share the "
                    f"XML file {found[0]} (LabelImg saves one per image name, less its ending); "
                    "rename one of them"
                )
            if found:
                self.of[found[0]] = k
        self.xml_files = sorted(self.of)
        if not self.of:
            raise FileNotFoundError(
                f"Pascal VOC folder {root} has no images folder: {IMAGES}/ (or "
                f"{LABEL_STUDIO_IMAGES}/, as Label Studio writes it), and no image below it has "
                "an XML file beside it (a.jpg and a.xml, as LabelImg saves them by default); "
                "XML files LabelImg saved to another folder go beside their images, or the "
                f"images in {IMAGES}/ and the XML files in {ANNOTATIONS}/"
            )
        alone = sorted(str(p) for group in beside.values() for p in group if p not in self.of)
        if alone:
            warnings.warn(
                f"Pascal VOC folder {root}, read as LabelImg saves it (each XML file beside its "
                f"image): left out {len(alone)} XML file(s) beside no image: {listed(alone)}",
                UserWarning,
                stacklevel=4,
            )

    def image(self, xml: Path, tree: ET.Element) -> int:
        """The index of the image `xml` lies beside."""
        return self.of[xml]


def layout(root: Path) -> Layout:
    """The layout of the VOC folder `root`: ``JPEGImages/``, or where it has none, ``images/``
    (Label Studio's VOC export), either in any letter case; where neither is, LabelImg's."""
    for name in (IMAGES, LABEL_STUDIO_IMAGES):
        folder = sub_folder(root, name)
        if folder.is_dir():
            return NamedLayout(root, folder)
    return BesideLayout(root)


def sub_folder(root: Path, name: str) -> Path:
    """`root`'s folder `name`, found in any letter case (``annotations/``, as some tools and
    hand-made datasets have it); two such folders are refused. `root / name` when none is."""
    found = [p for p in root.iterdir() if p.name.casefold() == name.casefold() and p.is_dir()]
    if len(found) > 1:
        raise FormatError(
            f"Pascal VOC folder {root} has {len(found)} folders named {name} in other letter "
            f"cases ({', '.join(sorted(p.name for p in found))}); keep one"
        )
    return found[0] if found else root / name


def xml_files(root: Path, beside_images: bool = False) -> list[Path]:
    """The annotation files (``.xml`` in any letter case) below ``Annotations/``, or with
    `beside_images` below `root` (hidden ones, and those in the folders listings skip, left
    out), sorted."""
    folder = root if beside_images else sub_folder(root, ANNOTATIONS)
    found = []
    for directory, subfolders, names in os.walk(folder):
        if beside_images:
            subfolders[:] = [d for d in subfolders if not is_skipped_folder(d)]
        found += [
            Path(directory, n)
            for n in names
            if n.lower().endswith(XML) and not (beside_images and n.startswith("."))
        ]
    return sorted(found)
