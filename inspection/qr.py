"""QR codes as SVG for reports and posters: scalable by CSS, with the quiet zone scanners need."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup

# ISO/IEC 18004 asks for a light margin of four modules round the symbol; with less, phones
# miss the finder patterns next to a table border or a caption.
QUIET_ZONE = 4


def qr_svg(url: str, css_class: str = "qr") -> Markup:
    """An inline SVG QR code of `url`, error correction M (survives a crease or a stamp over a
    corner). It has a viewBox and no width or height, so whatever size the stylesheet gives it
    scales the whole symbol instead of cropping its right and bottom edges; its quiet zone is
    painted white, so it stays light on a tinted background."""
    code = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        scale=1,
        border=QUIET_ZONE,
        xmldecl=False,
        svgns=True,
        svgclass=css_class,
        omitsize=True,
        light="#fff",
        nl=False,
    )
    return Markup(buffer.getvalue().decode("ascii"))  # noqa: S704 - segno's own SVG of a URL we built
