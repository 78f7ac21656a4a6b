"""Run-time translation from Qt Linguist ``.ts`` files, with no generated ``.qm`` files.

Every user-visible string is marked with ``self.tr("English")`` or
``QCoreApplication.translate(context, "English")``. :class:`TsTranslator` reads
every ``<context>.<language>.ts`` file under ``resources/translations/`` (Qt Linguist
XML: ``<TS><context><name/><message><source/><translation/></message></context></TS>``)
and answers Qt's lookups from memory. English is the source language, so switching
to English removes the translator; Chinese (``zh_CN``) is the default.

Switching language at run time: :func:`install_language` replaces the installed
translator; Qt then sends every widget a ``QEvent.LanguageChange`` and views
re-run their ``retranslate()``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTranslator

from resources import RESOURCES_DIR

TRANSLATIONS_DIR = RESOURCES_DIR / "translations"
SOURCE_LANGUAGE = "en"


class TranslationFileError(ValueError):
    """A ``.ts`` file is not valid Qt Linguist XML; ``str`` names the file and the fault."""


def read_ts(path: Path) -> dict[tuple[str, str], str]:
    """The finished translations of one ``.ts`` file.

    Parameters
    ----------
    path : Path
        Qt Linguist XML file.

    Returns
    -------
    dict
        ``{(context, source text): translation}``; messages whose translation is
        empty or marked ``type="unfinished"``/``"obsolete"``/``"vanished"`` are left out,
        so Qt falls back to the English source.

    Raises
    ------
    TranslationFileError
        Unreadable file, malformed XML, or a context/message without its name/source.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        raise TranslationFileError(f"{path}: {err}") from None
    if root.tag != "TS":
        raise TranslationFileError(f"{path}: root element is <{root.tag}>, expected <TS>")
    table: dict[tuple[str, str], str] = {}
    for i, ctx in enumerate(root.iter("context"), start=1):
        name = ctx.findtext("name")
        if not name:
            raise TranslationFileError(f"{path}: context #{i} has no <name>")
        for j, msg in enumerate(ctx.iter("message"), start=1):
            source = msg.findtext("source")
            if source is None:
                raise TranslationFileError(f"{path}: context {name!r} message #{j} has no <source>")
            tr = msg.find("translation")
            if tr is None or not tr.text or tr.get("type") in ("unfinished", "obsolete", "vanished"):
                continue
            table[(name, source)] = tr.text
    return table


def ts_files(language: str, directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Every ``*.<language>.ts`` file in ``directory``, sorted by name."""
    return sorted(directory.glob(f"*.{language}.ts"))


class TsTranslator(QTranslator):
    """A translator answering from ``.ts`` files read at start-up.

    Parameters
    ----------
    files : iterable of Path
        ``.ts`` files; a later file's entry wins over an earlier one's.
    language : str
        Language code the files hold (``"zh_CN"``).

    Raises
    ------
    TranslationFileError
        If any file is malformed.
    """

    def __init__(self, files: Iterable[Path], language: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._language = language
        self._table: dict[tuple[str, str], str] = {}
        for path in files:
            self._table.update(read_ts(path))

    def translate(self, context: str, source_text: str, disambiguation: str | None = None,
                  n: int = -1) -> str | None:  # Qt virtual
        # ``None`` reaches Qt as a *null* QString, which means "not translated here" and
        # lets Qt fall back to the source text. An empty Python string would arrive as an
        # empty non-null QString, i.e. a translation to nothing: untranslated strings
        # would vanish, and Qt's own "F%1" in a shortcut's text would lose its placeholder
        # ("QString::arg: Argument missing").
        return self._table.get((context, source_text))

    def isEmpty(self) -> bool:  # Qt virtual
        return not self._table

    def language(self) -> str:  # Qt virtual
        return self._language

    def __len__(self) -> int:
        return len(self._table)


class LanguageSwitcher(QObject):
    """Holds the installed translator of the application and swaps it at run time.

    Parameters
    ----------
    directory : Path
        Where the ``.ts`` files are (default ``resources/translations``).
    """

    def __init__(self, directory: Path = TRANSLATIONS_DIR, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._directory = directory
        self._translator: TsTranslator | None = None
        self.language = SOURCE_LANGUAGE

    def install(self, language: str) -> None:
        """Make ``language`` current (``"en"`` or a language with ``.ts`` files).

        Qt posts ``QEvent.LanguageChange`` to every widget, which re-translates itself.

        Raises
        ------
        ValueError
            No ``.ts`` file exists for ``language``.
        TranslationFileError
            A ``.ts`` file of ``language`` is malformed.
        """
        translator = None
        if language != SOURCE_LANGUAGE:
            files = ts_files(language, self._directory)
            if not files:
                raise ValueError(f"no translation files *.{language}.ts in {self._directory}")
            translator = TsTranslator(files, language, self)
        app = QCoreApplication.instance()
        if self._translator is not None:
            app.removeTranslator(self._translator)
            self._translator.deleteLater()
        self._translator = translator
        if translator is not None:
            app.installTranslator(translator)
        self.language = language
