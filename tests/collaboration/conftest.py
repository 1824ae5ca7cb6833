"""Files for the collaboration tests: real bytes of the kinds people upload."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

# A minimal, valid one-page PDF.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
HTML = b"<!doctype html><html><body><script>document.title='owned'</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def upload(
    name: str = "eval-report.pdf", content: bytes = PDF, content_type: str = ""
) -> SimpleUploadedFile:
    # The browser's claimed type is deliberately wrong: Tollgate must not believe it.
    return SimpleUploadedFile(name, content, content_type=content_type or "text/plain")


@pytest.fixture
def pdf():
    return upload()
