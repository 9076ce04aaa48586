"""The checks on class names and file names that go through files: the classes a user expects,
names that a one-name-per-line file keeps, and text that UTF-8 and XML can hold."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._import import FormatError

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character XML 1.0 cannot hold, even escaped: control characters other than tab and line
breaks, U+FFFE, U+FFFF and lone surrogates."""


NOT_UTF8 = re.compile("[\ud800-\udfff]")
"""A lone surrogate, which UTF-8 cannot encode."""


def check_classes(found: Sequence[str], expected: Sequence[str] | None, where: str) -> list[str]:
    """`found` as a list, refused when `expected` is given and differs from it (order included)."""
    found = list(found)
    if expected is None or list(expected) == found:
        return found
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    detail = []
    if extra:
        detail.append(f"not expected: {extra}")
    if missing:
        detail.append(f"missing: {missing}")
    if not detail:
        detail.append("same names in another order")
    raise FormatError(
        f"{where}: classes {found} differ from the expected classes {list(expected)} ({'; '.join(detail)})"
    )


def check_line_names(classes: Sequence[str], export: str) -> None:
    """Refuse class names that a one-name-per-line file (``classes.txt``, VOC's ``<name>``,
    which readers strip) would change: a line break inside, space around, a leading
    byte-order mark."""
    for k, name in enumerate(classes):
        if name != name.strip() or len(name.splitlines()) != 1 or name.startswith("\ufeff"):
            raise ValueError(
                f"{export} writes class names one per line, and class {k} {name!r} would not "
                "read back the same (a line break inside, or space around it); rename the class"
            )


def check_utf8_text(text: str, what: str, export: str) -> None:
    """Refuse `text` (`what` names it, "the file name of image 3, 'caf\\udce9.png'") when UTF-8
    cannot hold it: a lone surrogate, which is how ``os.fsdecode`` gives a file name's byte that
    is not UTF-8 (a Latin-1 name from an old zip or a Windows share)."""
    bad = NOT_UTF8.search(text)
    if bad is not None:
        raise ValueError(
            f"{export} writes UTF-8 text, which cannot hold {what}: its character "
            f"{bad.group()!r} is a byte that is not UTF-8 (a file name in another encoding); "
            "rename the file to a UTF-8 name"
        )


def check_xml_text(text: str, what: str, export: str) -> None:
    """Refuse `text` (`what` names it, "class 0 'a'") when XML cannot hold one of its
    characters: the file would not read back, in al_widget or any XML reader."""
    check_utf8_text(text, what, export)
    bad = NOT_XML.search(text)
    if bad is not None:
        raise ValueError(
            f"{export} writes XML, which cannot hold the character {bad.group()!r} "
            f"(U+{ord(bad.group()):04X}) in {what}: rename it"
        )


def check_xml_names(classes: Sequence[str], export: str) -> None:
    """Refuse class names that XML cannot hold (see ``check_xml_text``)."""
    for k, name in enumerate(classes):
        check_xml_text(name, f"class {k} {name!r}", export)
