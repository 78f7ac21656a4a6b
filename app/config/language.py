"""Languages of operator text: the codes the site and the UI use, and picking the text
of a configured item (point, alarm rule) for one of them."""

from __future__ import annotations

from typing import Literal

#: Language of operator text: simplified Chinese (the default) or English.
Language = Literal["zh_CN", "en"]
LANGUAGES: tuple[str, ...] = ("zh_CN", "en")


def pick(en: str, zh: str, language: str) -> str:
    """The configured text for ``language``.

    Parameters
    ----------
    en : str
        The English text (a config item's ``description``).
    zh : str
        The Chinese text (its ``description_zh``); may be empty.
    language : str
        ``"zh_CN"`` or ``"en"``.

    Returns
    -------
    str
        ``zh`` for Chinese when it is given, else ``en`` (a site written only in one
        language still shows its own words).
    """
    if language == "zh_CN" and zh:
        return zh
    return en or zh
