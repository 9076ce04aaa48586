"""The class names of an Ultralytics / Roboflow ``data.yaml``, without a YAML library.

Those tools write a flat file of ``key: value`` lines; only ``names`` (and ``nc``, checked
against it) matter here. The subset read, which is what they write:

- top-level ``key: value`` lines; other keys and their indented blocks are skipped;
- ``# comments`` (at a line's start or after a space, outside quotes) and blank lines;
- ``names`` as a flow list ``['cat', "dog", bird]`` or flow mapping ``{0: cat, 1: dog}``
  (on one line or continued on the next ones until the bracket closes), or as a block list
  (``- cat`` lines, indented or not, as PyYAML's ``dump`` writes them) or block mapping
  (``0: cat`` lines) indented below ``names:``, ids plain or quoted (``'0': cat``);
- scalars plain, 'single-quoted' ('' for a quote) or "double-quoted" (JSON escapes).

Anything else in ``names`` (anchors, tags, nested blocks, multi-line scalars) is refused with
the file and line, never guessed.
"""

from __future__ import annotations

import json
import re

from ._import import FormatError

_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s+(.*))?$")
_ITEM = re.compile(r"^-(?:\s+(.*))?$")
_PAIR = re.compile(r"""^(['"]?)(-?\d+)\1\s*:\s+(.*)$""")
"""An ``id: name`` entry; the id may be quoted (``'0': cat``), as PyYAML's ``dump`` writes a
mapping with string keys, which Ultralytics' ``check_class_names`` reads as ints."""


def _strip_comment(line: str) -> str:
    """`line` without a trailing comment (a # at the start or after a space, outside quotes)."""
    quote = ""
    for k, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"" and (k == 0 or line[k - 1] in " \t[{,:"):
            quote = char
        elif char == "#" and (k == 0 or line[k - 1] in " \t"):
            return line[:k].rstrip()
    return line.rstrip()


def _scalar(text: str, where: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise FormatError(f"{where}: cannot read the quoted name {text}") from None
        return str(value)
    if not text or text[0] in "&*!|>'\"[]{}" or ": " in text or text.endswith(":"):
        raise FormatError(f"{where}: {text!r} is not a class name this reader takes")
    return text


def _split_flow(body: str, where: str) -> list[str]:
    """The comma-separated items of a flow list or mapping's inside, quotes respected."""
    items, current, quote = [], "", ""
    for char in body:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "'\"" and not current.strip():
            quote = char
            current += char
        elif char in "[]{}":
            raise FormatError(f"{where}: nested lists or mappings are not class names")
        elif char == ",":
            items.append(current)
            current = ""
        else:
            current += char
    if quote:
        raise FormatError(f"{where}: a quote is not closed")
    items.append(current)
    if items and not items[-1].strip():
        items.pop()  # a trailing comma
    return items


def _flow(text: str, where: str) -> list[str] | dict[int, str]:
    opening, body = text[0], text[1:-1]
    items = _split_flow(body, where)
    if opening == "[":
        return [_scalar(item, where) for item in items]
    pairs: dict[int, str] = {}
    for item in items:
        match = _PAIR.match(item.strip())
        if not match:
            raise FormatError(f"{where}: {item.strip()!r} is not 'id: name'")
        pairs[int(match.group(2))] = _scalar(match.group(3), where)
    return pairs


def _ordered(names: list[str] | dict[int, str], where: str) -> list[str]:
    if isinstance(names, list):
        return names
    if sorted(names) != list(range(len(names))):
        raise FormatError(
            f"{where}: names must have the ids 0..{len(names) - 1}, got {sorted(names)}"
        )
    return [names[k] for k in range(len(names))]


def read_names(text: str, source: str) -> list[str] | None:
    """The class names ``names`` gives in a data.yaml's `text`, by id; None if it has none.

    Parameters
    ----------
    text : str
        The file's text.
    source : str
        The file, for messages.
    """
    lines = [_strip_comment(line) for line in text.splitlines()]
    names: list[str] | None = None
    count: int | None = None
    k = 0
    while k < len(lines):
        line, number = lines[k], k + 1
        k += 1
        if not line.strip() or line[0] in " \t" or line.startswith("---"):
            continue
        match = _KEY.match(line)
        if not match:
            continue  # a line of another key's value
        key, value = match.group(1), (match.group(2) or "").strip()
        where = f"{source} line {number}"
        if key == "nc":
            if not re.fullmatch(r"\d+", value):
                raise FormatError(f"{where}: nc must be a whole number, got {value!r:.80}")
            count = int(value)
        elif key == "names":
            if value and value[0] in "[{":
                closing = "]" if value[0] == "[" else "}"
                while not value.endswith(closing) and k < len(lines):
                    value += " " + lines[k].strip()
                    k += 1
                if not value.endswith(closing):
                    raise FormatError(f"{where}: names' {value[0]} is not closed")
                names = _ordered(_flow(value, where), where)
            elif value:
                raise FormatError(
                    f"{where}: names must be a list or a mapping of ids to names, got {value!r:.80}"
                )
            else:
                block: list[str] | dict[int, str] | None = None
                while k < len(lines) and (
                    not lines[k].strip() or lines[k][0] in " \t" or _ITEM.match(lines[k])
                ):
                    entry, entry_where = lines[k].strip(), f"{source} line {k + 1}"
                    k += 1
                    if not entry:
                        continue
                    item, pair = _ITEM.match(entry), _PAIR.match(entry)
                    if item and not isinstance(block, dict):
                        block = block if block is not None else []
                        block.append(_scalar(item.group(1) or "", entry_where))
                    elif pair and not isinstance(block, list):
                        block = block if block is not None else {}
                        block[int(pair.group(2))] = _scalar(pair.group(3), entry_where)
                    else:
                        raise FormatError(
                            f"{entry_where}: expected '- name' or 'id: name' under names, "
                            f"got {entry!r:.80}"
                        )
                if block is None:
                    raise FormatError(f"{where}: names is empty")
                names = _ordered(block, where)
    if names is not None and count is not None and count != len(names):
        raise FormatError(f"{source}: nc is {count} but names lists {len(names)} classes")
    return names
