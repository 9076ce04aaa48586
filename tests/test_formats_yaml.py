"""The data.yaml subset read for YOLO class names: what Ultralytics, Roboflow and PyYAML write."""

from __future__ import annotations

import pytest

from al_widget.formats import FormatError
from al_widget.formats._yaml import read_names


@pytest.mark.parametrize(
    "text",
    [
        "names: [cat, 'dog', \"bird\"]\n",
        "names: {0: cat, 1: dog, 2: bird}\n",
        "names:\n  2: bird\n  0: cat\n  1: dog\n",
        "names:\n  - cat\n  - dog\n  - bird\n",
        "names:\n- cat\n- dog\n- bird\nnc: 3\n",
        "names: [cat,\n  dog, bird]  # three\n",
        "path: x\nnames: # the classes\n  0: cat # a comment\n\n  1: 'dog'\n  2: bird\ndownload: y\n",
    ],
)
def test_every_form_of_names_gives_the_names_by_id(text: str) -> None:
    assert read_names(text, "data.yaml") == ["cat", "dog", "bird"]


@pytest.mark.parametrize(
    "text",
    [
        "names:\n  '0': cat\n  '1': dog\n",  # yaml.dump({"names": {"0": "cat", "1": "dog"}})
        "names: {'0': cat, '1': dog}\n",  # the same as a flow mapping
        'names:\n  "0": cat\n  "1": dog\n',
    ],
)
def test_quoted_ids_read_as_the_ids_they_quote(text: str) -> None:
    assert read_names(text, "data.yaml") == ["cat", "dog"]


def test_quoted_names_keep_commas_colons_hashes_and_quotes() -> None:
    text = "names: ['a, b', \"c: d\", 'e # f', 'it''s', \"say \\\"hi\\\"\"]\n"
    assert read_names(text, "data.yaml") == ["a, b", "c: d", "e # f", "it's", 'say "hi"']


def test_a_file_without_names_gives_none() -> None:
    assert read_names("train: images\nval: images\n", "data.yaml") is None


def test_ids_that_are_not_0_to_n_minus_1_are_refused() -> None:
    with pytest.raises(
        FormatError, match=r"data\.yaml line 1: names must have the ids 0\.\.1, got \[0, 2\]"
    ):
        read_names("names: {0: cat, 2: dog}\n", "data.yaml")


def test_nc_that_differs_from_the_names_is_refused() -> None:
    with pytest.raises(FormatError, match="nc is 3 but names lists 2 classes"):
        read_names("nc: 3\nnames: [cat, dog]\n", "data.yaml")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("names:\n  - &a cat\n", 2),
        ("names:\n  - [cat, dog]\n", 2),
        ("names:\n  - cat\n  0: dog\n", 3),
        ("names: cat\n", 1),
        ("names: [cat, 'dog]\n", 1),
    ],
)
def test_yaml_beyond_the_subset_is_refused_naming_its_line(text: str, line: int) -> None:
    with pytest.raises(FormatError, match=rf"data\.yaml line {line}: "):
        read_names(text, "data.yaml")
