"""The Prefect flow wraps the same steps: one run through the test server, same outcomes."""

from __future__ import annotations

import pytest


@pytest.mark.prefect
@pytest.mark.slow
def test_prefect_flow_uploads_the_seeded_drop_folder(invoice_env, prefect_harness, monkeypatch):
    from config.settings import get_settings

    for key, value in invoice_env.cli_env().items():
        if key.startswith("RPA_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        from flows.invoice_attachment_upload.flow import invoice_attachment_upload

        data = invoice_attachment_upload(via="api")
    finally:
        get_settings.cache_clear()
    assert data["files"] == len(invoice_env.ground_truth())
    assert invoice_env.mismatches(invoice_env.outcomes_from_folders()) == []
    assert invoice_env.duplicates() == []
    store = invoice_env.store()
    try:
        runs = store.runs("invoice-attachment-upload")
        assert runs[-1].status == "completed" and runs[-1].flow_run_id
        assert runs[-1].cases_automated == data["uploaded"] + data["already_attached"]
    finally:
        store.close()
