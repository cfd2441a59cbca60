"""What a PDF report costs in fonts: each report type (the fixed specimens the golden-image tests
render) with its size, the bytes of its embedded font subsets and how many faces it embeds.

    .venv/bin/python bench/report_fonts.py

The font programs are the PDF's FontFile3 streams (`/Subtype /OpenType`, compressed); their
/Length is what they cost in the file."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the specimens live in tests/

from tests.reports.test_layout import SPECIMENS, document

FONT_STREAM = re.compile(rb"<<[^<>]*?/Subtype\s*/OpenType[^<>]*?/Length\s+(\d+)[^<>]*>>")


def main() -> None:
    rows = {}
    for name in sorted(SPECIMENS):
        started = time.perf_counter()
        pdf: bytes = document(name).write_pdf()
        seconds = time.perf_counter() - started
        faces = [int(n) for n in FONT_STREAM.findall(pdf)]
        rows[name] = {
            "bytes": len(pdf),
            "font_bytes": sum(faces),
            "font_share": round(sum(faces) / len(pdf), 3),
            "faces": len(faces),
            "per_face": [round(f / 1024) for f in faces],
            "write_s": round(seconds, 2),
        }
        print(
            f"{name:<20} {len(pdf) / 1024:7.0f} KB  fonts {sum(faces) / 1024:6.0f} KB in {len(faces)} faces "
            f"({100 * sum(faces) / len(pdf):.0f} %)"
        )
    faces = [f for r in rows.values() for f in r["per_face"]]
    summary = {"reports": rows, "mean_kb_per_face": round(sum(faces) / len(faces))}
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
