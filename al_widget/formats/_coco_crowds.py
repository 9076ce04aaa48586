"""COCO crowd regions (``iscrowd: 1``) read: as COCO means them, regions to ignore, or as
objects, as CVAT's and Datumaro's COCO export writes every mask."""

from __future__ import annotations

import warnings

from ._names import listed

CROWD_READINGS = ("ignore", "objects")
"""How ``read_coco`` may read crowd regions: as regions to ignore, or as objects."""

_KEPT_AS = {
    "detect": "no boxes (boxes cannot hold them)",
    "instances": "no objects (Instances cannot hold them)",
    "segment": "pixels not labeled (Mask.IGNORE) where no object labels them",
}


def check_crowd(crowd: str) -> None:
    """Refuse a `crowd` reading that is not one of ``CROWD_READINGS``."""
    if crowd not in CROWD_READINGS:
        raise ValueError(
            f"crowd must be 'ignore' (regions to ignore, as COCO means them) or 'objects', "
            f"got {crowd!r}"
        )


class CrowdNotes:
    """The crowd regions one import read as regions to ignore, and the images left unlabeled
    for holding nothing else, for one warning at the end (see `warn`).

    Parameters
    ----------
    source : str
        The COCO file, for the warning.
    task : {"detect", "segment", "instances"}
        The import's task.
    quiet : bool
        Warn of nothing (the file's crowd regions are known to be regions to ignore).
    """

    def __init__(self, source: str, task: str, quiet: bool) -> None:
        self.source, self.task, self.quiet = source, task, quiet
        self.regions = 0
        self.images: list[str] = []
        self.unlabeled: list[str] = []

    def add(self, image: str, regions: int) -> None:
        """Count the `regions` crowd regions of `image`."""
        self.regions += regions
        self.images.append(image)

    def left_unlabeled(self, image: str) -> None:
        """Note that `image`, holding crowd regions only, is left unlabeled."""
        self.unlabeled.append(image)

    def warn(self, like_cvat: str | None) -> None:
        """Warn of the crowd regions read, with how to read them as objects, when the file looks
        like CVAT's or Datumaro's COCO export, which writes every mask as a crowd region
        (`like_cvat`: ``"only_crowds"``, every annotation carrying a mask is one, or
        ``"attributed"``, its annotations carry Datumaro's ``attributes``); else, where crowd
        regions lie beside ordinary objects as in COCO's own files, only of the images left
        unlabeled."""
        if self.quiet or not self.regions or not (like_cvat or self.unlabeled):
            return
        unlabeled = (
            f"{len(self.unlabeled)} image(s) holding only crowd regions (iscrowd: 1) are left "
            f"unlabeled ({listed(self.unlabeled)}): nothing in them says they hold no objects, "
            "and to_coco writes them, with their crowd regions, only with include_unlabeled=True"
        )
        if like_cvat is None:
            warnings.warn(f"COCO file {self.source}: {unlabeled}", UserWarning, stacklevel=3)
            return
        looks = (
            "Every mask in the file is a crowd region"
            if like_cvat == "only_crowds"
            else "Its annotations carry Datumaro's 'attributes'"
        )
        warnings.warn(
            f"COCO file {self.source}: {self.regions} crowd region(s) (iscrowd: 1) in "
            f"{len(self.images)} image(s) ({listed(self.images)}) are read as COCO means them, "
            f"regions to ignore: {_KEPT_AS[self.task]}, kept for to_coco to write back with "
            f"their images{'; ' + unlabeled if self.unlabeled else ''}. {looks}, as in CVAT's "
            "and Datumaro's COCO export, which write every mask as a crowd region: if they "
            'are objects, pass crowd="objects"',
            UserWarning,
            stacklevel=3,
        )
