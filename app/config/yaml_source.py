"""Read a YAML file into plain Python data while remembering where each value stood.

PyYAML's composer gives nodes with marks; they are turned into dicts, lists and
scalars here, and the 1-based line of every key and list item is recorded under its
field path so that validation errors can point at the line that caused them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.config.problems import Problem, format_path

FieldPath = tuple[str | int, ...]


@dataclass(slots=True)
class YamlDocument:
    """One parsed YAML file.

    Attributes
    ----------
    file : Path
        Where the text came from.
    data : Any
        The document as dicts, lists and scalars (``None`` if it could not be read).
    lines : dict[FieldPath, int]
        1-based line of each key or list item, by field path (``()`` is the document).
    problems : list[Problem]
        Read and syntax problems (file missing, YAML syntax, duplicate keys, ...).
    """

    file: Path
    data: Any = None
    lines: dict[FieldPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Sequence[str | int]) -> int:
        """Line of ``path``, or of its nearest recorded parent if the path itself is absent.

        Parameters
        ----------
        path : Sequence[str | int]
            Field path, outermost first.

        Returns
        -------
        int
            1-based line number (1 when nothing on the path was recorded).
        """
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        """Build a :class:`Problem` located at ``path`` in this file."""
        return Problem(self.file, self.line_of(path), format_path(path), message)


def read_yaml(file: Path) -> YamlDocument:
    """Parse one YAML file, keeping the line of every key and list item.

    Parameters
    ----------
    file : Path
        A UTF-8 YAML file holding a single document.

    Returns
    -------
    YamlDocument
        Never raises for bad input: a missing file, bad encoding, a syntax error,
        duplicate keys or an empty document are reported in ``.problems``.
    """
    doc = YamlDocument(file=file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        doc.problems.append(Problem(file, 1, "", "file not found"))
        return doc
    except (OSError, UnicodeDecodeError) as exc:
        doc.problems.append(Problem(file, 1, "", f"cannot read file: {exc}"))
        return doc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        doc.problems.append(Problem(file, line, "", f"YAML syntax error: {exc.problem or exc}"))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(file, 1, "", f"YAML error: {exc}"))
        return doc
    if root is None:
        doc.problems.append(Problem(file, 1, "", "file is empty"))
        return doc
    doc.lines[()] = root.start_mark.line + 1
    doc.data = _convert(root, (), doc, SafeConstructor())
    return doc


def _convert(node: Node, path: FieldPath, doc: YamlDocument, constructor: SafeConstructor) -> Any:
    """Turn a composed node into Python data, recording lines under ``path``."""
    if isinstance(node, MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                doc.problems.append(doc.problem(path, f"line {key_node.start_mark.line + 1}: "
                                                      "a mapping key must be a plain value"))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                doc.problems.append(Problem(doc.file, key_node.start_mark.line + 1, format_path(path),
                                            "YAML merge keys (<<) are not supported"))
                continue
            key = _scalar(key_node, path, doc, constructor)
            child = (*path, key if isinstance(key, int) and not isinstance(key, bool) else str(key))
            if key in result:
                doc.problems.append(Problem(doc.file, key_node.start_mark.line + 1, format_path(child),
                                            "duplicate key"))
                continue
            doc.lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, child, doc, constructor)
        return result
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            doc.lines[child] = item.start_mark.line + 1
            items.append(_convert(item, child, doc, constructor))
        return items
    return _scalar(node, path, doc, constructor)


def _scalar(node: Node, path: FieldPath, doc: YamlDocument, constructor: SafeConstructor) -> Any:
    """Construct one scalar with the YAML 1.1 safe rules (ints incl. 0x hex, floats, bools, null)."""
    try:
        return constructor.construct_object(node, deep=True)
    except ConstructorError as exc:
        doc.problems.append(Problem(doc.file, node.start_mark.line + 1, format_path(path),
                                    f"bad value: {exc.problem}"))
        return None
