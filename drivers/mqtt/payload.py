"""JSON payload -> number by a configured path (pure)."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["PayloadError", "extract"]


class PayloadError(ValueError):
    """The payload does not give a number at the path; the message says why."""


def extract(payload: bytes, path: str) -> float:
    """The number at ``path`` in a JSON ``payload``.

    Parameters
    ----------
    payload : bytes
        UTF-8 JSON text.
    path : str
        Dot-separated object keys and list indexes (``"a.b.0.c"``); ``""`` is the root.

    Returns
    -------
    float
        Booleans become 0.0/1.0; numeric strings (``"21.5"``) are parsed.

    Raises
    ------
    PayloadError
        ``"payload is not JSON: ..."``, ``"no 'b' in payload at 'a'"``,
        ``"value at 'a.b' is not a number: 'x'"``, ``"value at 'a.b' is nan"``.
    """
    try:
        node: Any = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"payload is not JSON: {exc}") from None
    walked: list[str] = []
    for key in path.split(".") if path else []:
        here = ".".join(walked) or "root"
        if isinstance(node, dict):
            if key not in node:
                raise PayloadError(f"no {key!r} in payload at {here}")
            node = node[key]
        elif isinstance(node, list):
            if not key.lstrip("-").isdigit() or not -len(node) <= int(key) < len(node):
                raise PayloadError(f"no index {key!r} in list of {len(node)} at {here}")
            node = node[int(key)]
        else:
            raise PayloadError(f"no {key!r} in payload at {here}: not an object or list")
        walked.append(key)
    where = path or "root"
    if isinstance(node, bool):
        return 1.0 if node else 0.0
    if isinstance(node, (int, float)):
        number = float(node)
    elif isinstance(node, str):
        try:
            number = float(node)
        except ValueError:
            raise PayloadError(f"value at {where} is not a number: {node!r}") from None
    else:
        raise PayloadError(f"value at {where} is not a number: {json.dumps(node)[:40]}")
    if not math.isfinite(number):
        raise PayloadError(f"value at {where} is {number}")
    return number
