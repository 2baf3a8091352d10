"""The shared file checks: type by content (never by name), a safe file name."""

from __future__ import annotations

import pytest

from connectors.filecheck import sniff_media_type, unsafe_name_reason
from sandbox.finance import documents as docs

PDF = docs.pdf(["Kvittering", "Test"])


@pytest.mark.parametrize("content, name, media_type", [
    (PDF, "x.bin", "application/pdf"),
    (docs.png(["x"]), "x.pdf", "image/png"),
    (docs.jpeg(["x"]), "x.png", "image/jpeg"),
    (docs.csv_text([["a", "b"], ["1", "2"]]), "x.csv", "text/csv"),
    (docs.xlsx("A", ["a"], [[1]]), "x.pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (docs.ods([["a"]]), "x.ods", "application/vnd.oasis.opendocument.spreadsheet"),
    (docs.windows_exe(1), "faktura.pdf", "application/x-msdownload"),
    (docs.zip_archive({"a.docx": b"x"}), "kontrakt.pdf", "application/zip"),
])
def test_type_is_decided_by_content_not_by_name(content, name, media_type):
    assert sniff_media_type(content, name) == media_type


@pytest.mark.parametrize("name", ["../a.pdf", "a/b.pdf", "a\\b.pdf", "park\x07.pdf", "linje\nskift.pdf",
                                  "C:faktura.pdf", "faktura\u202efdp.exe", " ", "slutt."])
def test_unsafe_names(name):
    assert unsafe_name_reason(name)


@pytest.mark.parametrize("name", ["kvittering.pdf", "Skjermbilde 0042.png", "kvittering-middag - Kopi.pdf",
                                  "Følgeseddel Åsen & Ørje (2).pdf"])
def test_ordinary_names(name):
    assert unsafe_name_reason(name) is None
