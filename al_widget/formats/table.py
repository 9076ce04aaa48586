"""Classification labels as rows (index, file, class, labeled_at), in memory or as a CSV file."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import annotations as ann
from ._atomic import PathLike, write_text
from ._classes import check_utf8_text
from ._export import Exported, check_task, items, protected
from ._import import FormatError, check_label_file, decode_text
from ._replace import check_replaceable
from ._table_files import RowFiles, below

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["COLUMNS", "read_csv", "records", "write_csv"]

COLUMNS = ("index", "file", "class", "labeled_at")


def records(dataset: Dataset) -> list[dict[str, Any]]:
    """One dict per labeled image: its index, file (its path as the dataset holds it, "" for an
    in-memory image), class name and the dataset version at which it was labeled.

    Parameters
    ----------
    dataset : Dataset
        A "classify" dataset.
    """
    check_task(dataset, ("classify",), "a label table")
    chosen = items(dataset)
    rows = []
    for i, label in zip(chosen.indices.tolist(), chosen.annotations, strict=True):
        assert isinstance(label, ann.Label)
        rows.append(
            {
                "index": i,
                "file": dataset.source_file(i) or "",
                "class": dataset.classes[label.class_id(dataset.classes)],
                "labeled_at": dataset.labeled_at(i),
            }
        )
    return rows


def write_csv(dataset: Dataset, path: PathLike, *, overwrite: bool = False) -> Exported:
    """Write ``records(dataset)`` as a CSV file with the header index, file, class, labeled_at.

    Each file is written as its path below the images' common folder (``cat/a.jpg``, with "/"
    between its parts; see ``Dataset.files_folder``), as the journal matches images, so that
    ``read_csv`` reads the file for the same images in a moved folder or on another machine.
    When some images are in memory, files are written as the dataset holds them.

    Parameters
    ----------
    dataset : Dataset
        A "classify" dataset.
    path : path
        The CSV file to write.
    overwrite : bool, default False
        Replace an existing file; otherwise it stops the export. Neither a folder, one of the
        dataset's own images nor its journal is ever replaced.

    A file name UTF-8 cannot hold (a byte that is not UTF-8, see ``check_utf8_text``) is
    refused naming its image, before anything is written.
    """
    rows = records(dataset)
    folder = dataset.files_folder()
    for row in rows:
        if folder is not None:
            row["file"] = below(row["file"], folder)
        what = f"the file name of image {row['index']}, {row['file']!r}"
        check_utf8_text(row["file"], what, "CSV export")
    check_replaceable(path, overwrite, protected(dataset), "path")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target = write_text(path, buffer.getvalue(), overwrite)
    return Exported(target, target.parent, len(rows), len(rows))


def read_csv(path: PathLike, dataset: Dataset, *, delimiter: str = ",") -> dict[int, ann.Label]:
    """The labels a CSV file written by ``write_csv`` gives `dataset`'s images, by index.

    Each row's index must be an image of `dataset`, its file (when not empty) that image's
    file, and its class one of the dataset's classes. A file is the image's as ``write_csv``
    names it, its path below the images' common folder, wherever that folder is now; the
    absolute paths of older CSVs are read too, and when the images have moved since, matched by
    their paths below the one folder they moved from (with a warning). A file that is another
    image's is refused: a label never goes to another image than its row's file. Empty lines and rows whose fields are all
    empty (``,,,``, as Excel saves a sheet's empty rows) are skipped. An image has one row: a second row for
    it is refused naming both lines and their classes, the same class twice too (as two VOC
    files for one image are), since a file edited by hand or joined from two may hold either.

    Parameters
    ----------
    path : path
        The CSV file.
    dataset : Dataset
        The "classify" dataset the rows belong to.
    delimiter : str, default ","
        The character between fields: ``";"`` for a file Excel saved as CSV where the decimal
        mark is a comma (a file whose header is one field holding ";" is refused, saying so).
    """
    check_task(dataset, ("classify",), "a label table")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, got {delimiter!r:.80}")
    source = os.fspath(path)
    check_label_file(source, "CSV file", None)
    with open(source, "rb") as file:
        text = decode_text(file.read(), f"CSV file {source}")  # a spreadsheet's BOM dropped
    labels: dict[int, ann.Label] = {}
    lines: dict[int, tuple[int, Any]] = {}  # index -> the line and class that labeled it
    files = RowFiles(source, dataset)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        _check_header(source, reader.fieldnames or [], delimiter)
        for row in reader:
            if _is_blank(row):
                continue  # a spreadsheet's empty row (",,,"), as an empty line is
            line = reader.line_num
            i, label = _row(f"CSV file {source} line {line}", row, dataset, files)
            if i in lines:
                first, cls = lines[i]
                raise FormatError(
                    f"CSV file {source} lines {first} and {line} both label image {i} "
                    f"({cls!r:.80}, then {row['class']!r:.80}); an image has one row: keep one"
                )
            labels[i], lines[i] = label, (line, row["class"])
    except csv.Error as error:  # a field over csv's limit of 131072 characters, a stray NUL
        line = reader.reader.line_num  # the line being read (DictReader's is the last one read)
        raise FormatError(f"CSV file {source} line {line}: {error}") from None
    files.warn()
    return labels


def _check_header(source: str, header: Sequence[str], delimiter: str) -> None:
    """Refuse a header without the columns index and class, saying when the file seems to
    be delimited by semicolons (Excel's CSV where the decimal mark is a comma)."""
    missing = [c for c in ("index", "class") if c not in header]
    if not missing:
        return
    if delimiter != ";" and len(header) == 1 and ";" in header[0]:
        raise FormatError(
            f"CSV file {source} seems to use ';' as its delimiter (its header is "
            f"{header[0]!r:.200}), as Excel saves CSV where the decimal mark is a comma: read it "
            "with read_csv(path, dataset, delimiter=';')"
        )
    raise FormatError(f"CSV file {source} has no column {missing[0]!r}; expected {COLUMNS}")


def _is_blank(row: dict[Any, Any]) -> bool:
    """Whether every field of a CSV row is empty: a row Excel writes as ``,,,`` where a
    spreadsheet's row was left empty (fields beyond the header's are under the key None)."""
    extra = row.get(None) or []
    return not any(value for key, value in row.items() if key is not None) and not any(extra)


def _row(
    where: str, row: dict[str, Any], dataset: Dataset, files: RowFiles
) -> tuple[int, ann.Label]:
    """The image one CSV row labels and its label, checked against `dataset`."""
    try:
        i = dataset.check_index(int(row["index"]))
    except (ValueError, IndexError, TypeError) as error:
        raise FormatError(f"{where}: index {row['index']!r:.80}: {error}") from None
    file_name = row.get("file") or ""
    if file_name:
        files.check(where, file_name, i)
    try:
        return i, ann.Label(row["class"]).bind(image_size=(0, 0), classes=dataset.classes)
    except (ValueError, TypeError) as error:
        raise FormatError(f"{where}: {error}") from None
