"""Run pydantic validation and turn its errors into located :class:`Problem` objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.config.problems import Problem
from app.config.yaml_source import FieldPath, YamlDocument

ModelT = TypeVar("ModelT", bound=BaseModel)


def describe(error: ErrorDetails) -> str:
    """One pydantic error as a short sentence, with the offending value when it helps."""
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    message = error["msg"]
    value = error.get("input")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return f"{message} (got {value!r})"
    return message


def validate_model(model: type[ModelT], data: Any, doc: YamlDocument,
                   prefix: Sequence[str | int], problems: list[Problem]) -> ModelT | None:
    """Validate ``data`` as ``model``, reporting each error at its line in ``doc``.

    Parameters
    ----------
    model : type[BaseModel]
        The pydantic model to build.
    data : Any
        Plain data read from ``doc`` at field path ``prefix``.
    doc : YamlDocument
        The file the data came from, for line numbers.
    prefix : Sequence[str | int]
        Field path of ``data`` inside ``doc``.
    problems : list[Problem]
        Receives one problem per validation error.

    Returns
    -------
    BaseModel | None
        The model, or ``None`` if there was any error.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path: FieldPath = (*prefix, *error["loc"])
            problems.append(doc.problem(path, describe(error)))
        return None
