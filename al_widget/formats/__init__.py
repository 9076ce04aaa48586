"""Labels in and out: image folders, COCO, YOLO, Pascal VOC, PNG masks, CSV, a torch Dataset.

Exports write only where they are told, refuse to replace a file unless ``overwrite=True``,
and never leave a half-written export: a file is written under a temporary name and renamed,
and a folder export (YOLO, VOC, PNG masks) is written beside its folder and swapped in whole
(``_replace``), never touching a file no export wrote nor the dataset's own images. Imports
name the file and the entry of any bad input.
"""

from ..dataset import register_formats
from ._export import Exported
from ._import import FormatError
from .coco import write_coco
from .coco_read import read_coco
from .folder import read_folder
from .masks import read_masks, write_masks
from .table import read_csv, records, write_csv
from .torch_dataset import LabeledImages
from .voc import write_voc
from .voc_read import read_voc
from .yolo import read_yolo, write_yolo

__all__ = [
    "Exported",
    "FormatError",
    "read_coco",
    "read_csv",
    "read_folder",
    "read_masks",
    "read_voc",
    "read_yolo",
    "records",
    "write_coco",
    "write_csv",
    "write_masks",
    "write_voc",
    "write_yolo",
]

# the functions behind Dataset.from_* and to_*: the dataset module never imports this package
register_formats(
    read_folder=read_folder,
    read_coco=read_coco,
    read_yolo=read_yolo,
    write_coco=write_coco,
    write_yolo=write_yolo,
    write_voc=write_voc,
    write_masks=write_masks,
    write_csv=write_csv,
    records=records,
    LabeledImages=LabeledImages,
)
