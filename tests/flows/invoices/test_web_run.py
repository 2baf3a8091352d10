"""The same seeded drop folder through the web UI door (Playwright): the same outcomes and the
same receipts as through the API (the web UI's search by checksum finds a document on another
voucher, as the API's does)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser


def test_web_door_gives_the_ground_truth_and_the_same_receipts(invoice_env):
    summary = invoice_env.run(via="web").to_dict()
    assert summary["door"] == "web" and summary["pending_files"] == 0
    assert invoice_env.mismatches() == []
    assert invoice_env.mismatches(invoice_env.outcomes_from_folders()) == []
    assert invoice_env.duplicates() == []
    assert invoice_env.inbox_files() == []
    uploads = [a for a in invoice_env.sandbox.attachments() if a["channel"] == "web"]
    assert len(uploads) == summary["uploaded"]
    receipt = json.loads(next(invoice_env.archive.rglob("EHF-faktura-*.xml.kvittering.json")).read_text("utf-8"))
    for doc in receipt["documents"]:
        assert doc["door"] == "web" and doc["outcome"] in ("uploaded", "already_attached")
        assert doc["attachment_id"] in {a["id"] for a in uploads} or doc["outcome"] == "already_attached"
