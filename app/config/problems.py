"""Configuration problems and the error that carries them.

Every check in :mod:`app.config` reports a :class:`Problem` instead of raising at
once, so one run of :func:`app.config.load_site` lists everything wrong with a
site file and the templates it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a configuration file.

    Attributes
    ----------
    file : Path
        The YAML file holding the faulty text (a site file or a template file).
    line : int
        1-based line number in ``file`` of the faulty key or value.
    field : str
        Dotted path of the faulty field inside ``file``, with list positions in
        brackets, e.g. ``"devices[2].points[0].address"``; empty for the whole file.
    message : str
        What is wrong, in plain words.
    """

    file: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class ConfigError(Exception):
    """A site configuration could not be loaded.

    Parameters
    ----------
    problems : Sequence[Problem]
        Every problem found, in file then line order. ``str(error)`` lists them one
        per line as ``"file:line: field.path: message"``.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems, key=lambda p: (str(p.file), p.line, p.field))
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(path: Sequence[str | int]) -> str:
    """Render a field path as text.

    Parameters
    ----------
    path : Sequence[str | int]
        Keys (str) and list positions (int), outermost first.

    Returns
    -------
    str
        E.g. ``("devices", 2, "points", 0, "address")`` -> ``"devices[2].points[0].address"``.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
