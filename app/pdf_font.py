"""The CJK font every PDF of WattDesk is written with (reportlab).

reportlab embeds TrueType outlines only, so the Noto CJK fonts (PostScript outlines)
cannot be used; WenQuanYi Micro Hei (apt ``fonts-wqy-microhei``) covers Chinese and Latin.
"""

from __future__ import annotations

from pathlib import Path

#: The font for PDF text (TrueType outlines, so reportlab can embed it; covers CJK).
PDF_FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
PDF_FONT_NAME = "WenQuanYiMicroHei"


def register_pdf_font() -> str:
    """Register :data:`PDF_FONT_FILE` with reportlab (once per process) and return its font name.

    Raises
    ------
    FileNotFoundError
        The font file is missing; the message names it and the package to install.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        if not PDF_FONT_FILE.is_file():
            raise FileNotFoundError(f"PDF font {PDF_FONT_FILE} is missing (install fonts-wqy-microhei)")
        pdfmetrics.registerFont(TTFont(PDF_FONT_NAME, str(PDF_FONT_FILE), subfontIndex=0))
    return PDF_FONT_NAME
