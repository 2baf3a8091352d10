"""A whole run through the REST API against the seeded drop folder: every document's outcome
equals the seed's ground truth, every file is archived or quarantined, and the finance system
holds each document once. Then the queue, the receipts and a second run."""

from __future__ import annotations

import json

from workqueue.models import ItemStatus


def test_every_outcome_equals_the_ground_truth_via_api(invoice_env):
    result = invoice_env.run(via="api")
    summary = result.to_dict()
    assert invoice_env.mismatches() == []
    truth = invoice_env.ground_truth()
    assert summary["files"] == len(truth)
    assert summary["uploaded"] == sum(r["expected_outcome"] == "uploaded" for r in truth)
    assert summary["already_attached"] == sum(r["expected_outcome"] == "already_attached" for r in truth)
    assert summary["quarantined"] == sum(r["expected_outcome"] == "quarantined" for r in truth)
    assert sum(summary["exceptions"].values()) == summary["quarantined"]
    # Nothing lost: the drop folder is empty, every input is kept under archive or quarantine.
    assert invoice_env.inbox_files() == []
    kept = {p.name for p in invoice_env.stored(invoice_env.archive) + invoice_env.stored(invoice_env.quarantine)}
    assert "manifest.csv" in kept
    # Exactly once: the finance system's own record has no duplicates, and every uploaded
    # document is on the voucher the ground truth names.
    assert invoice_env.duplicates() == []
    on_voucher = {(a["voucherNumber"], a["sha256"]) for a in invoice_env.sandbox.attachments()}
    for row in truth:
        if row["expected_outcome"] in ("uploaded", "already_attached"):
            assert (row["voucher_number"], row["sha256"]) in on_voucher, row["source_file"]


def test_receipts_and_reasons_are_beside_the_files(invoice_env):
    invoice_env.run(via="api")
    receipts = list(invoice_env.archive.rglob("*.kvittering.json"))
    reasons = list(invoice_env.quarantine.rglob("*.grunn.json"))
    assert receipts and reasons
    for path in receipts:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert (path.parent / data["stored_as"]).exists()
        assert path.with_name(path.name.replace(".json", ".txt")).exists()
        for doc in data.get("documents", []):
            assert doc["voucher_number"] and doc["run_id"] and doc["door"] == "api" and doc["outcome"]
    for path in reasons:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert (path.parent / data["stored_as"]).exists()
        text = path.with_name(path.name.replace(".json", ".txt")).read_text(encoding="utf-8")
        assert "Hva du gjør" in text and "KARANTENE" in text
    # The control character in a file name never reaches the archive's folder listing.
    assert not [p for p in invoice_env.quarantine.rglob("*") if "\x07" in p.name]
    bel = [p for p in invoice_env.quarantine.rglob("*parkering*U+0007*") if p.suffix == ".pdf"]
    assert len(bel) == 1


def test_business_exceptions_are_cases_with_the_file_as_evidence(invoice_env):
    invoice_env.run(via="api")
    store = invoice_env.store()
    try:
        cases = {c.category: c for c in store.cases("invoice-attachment-upload")}
        several = cases["SEVERAL_CANDIDATES"]
        titles = [s["title"] for s in several.evidence["sections"]]
        assert titles[:2] == ["Dokument", "Bilag som passer"] and titles[-1] == "Forklaring"
        assert len(several.evidence["data"]["candidates"]) == 2
        assert several.org_unit == "Økonomiseksjonen" and several.due_at is not None
        files = store.case_attachments(several.id)
        assert [f.filename for f in files] == ["timeliste-uke-44.pdf"] and files[0].content.startswith(b"%PDF")
        elsewhere = cases["ATTACHED_ELSEWHERE"]
        assert elsewhere.evidence["data"]["attached_to"]
        assert all(c.kind == "business" for c in cases.values())
        assert store.counts("invoice-attachment-upload").get(ItemStatus.failed, 0) == 0
    finally:
        store.close()


def test_a_second_run_changes_nothing(invoice_env):
    invoice_env.run(via="api")
    before = invoice_env.sandbox.attachments()
    again = invoice_env.run(via="api").to_dict()
    assert again["files"] == 0 and again["uploaded"] == 0 and again["items_processed"] == 0
    assert invoice_env.sandbox.attachments() == before


def test_same_file_dropped_again_is_already_attached_not_uploaded_twice(invoice_env):
    invoice_env.run(via="api")
    receipt = next(invoice_env.archive.rglob("*_kvittering-foto-*.jpg"))
    (invoice_env.inbox / receipt.name).write_bytes(receipt.read_bytes())
    count = len(invoice_env.sandbox.attachments())
    summary = invoice_env.run(via="api").to_dict()
    assert (summary["files"], summary["uploaded"], summary["already_attached"]) == (1, 0, 1)
    assert len(invoice_env.sandbox.attachments()) == count
    receipts = sorted(invoice_env.archive.rglob(f"{receipt.stem}*.kvittering.json"))
    assert len(receipts) == 2  # the first delivery's receipt is kept; the second has its own
    outcomes = [json.loads(p.read_text(encoding="utf-8"))["documents"][0]["outcome"] for p in receipts]
    assert sorted(outcomes) == ["already_attached", "uploaded"]
    assert invoice_env.inbox_files() == []


def test_wrong_credentials_stop_the_run_and_keep_every_file(invoice_env):
    from pydantic import SecretStr

    finance = invoice_env.sandbox.finance.model_copy(update={"client_secret": SecretStr("feil")})
    before = invoice_env.inbox_files()
    result = invoice_env.run(via="api", finance=finance)
    summary = result.to_dict()
    assert "Innlogging avvist" in summary["stopped"]
    assert invoice_env.sandbox.attachments() == [a for a in invoice_env.sandbox.attachments()
                                                 if a["channel"] == "seed"]
    # Files whose documents were refused before any request are settled; the rest wait.
    left = set(invoice_env.inbox_files())
    assert left and left <= set(before)
    assert summary["pending_files"] == len(left)
    # With the right secret the next run finishes the job.
    invoice_env.run(via="api")
    assert invoice_env.inbox_files() == []
    assert invoice_env.mismatches(invoice_env.outcomes_from_folders()) == []


def test_a_system_that_is_down_stops_the_run_without_losing_files(invoice_env):
    invoice_env.sandbox.set_faults(error_rate=1.0)
    summary = invoice_env.run(via="api").to_dict()
    assert "systemfeil på rad" in summary["stopped"]
    assert summary["uploaded"] == 0 and summary["pending_files"] > 0
    store = invoice_env.store()
    try:
        assert store.counts("invoice-attachment-upload").get("in_progress", 0) == 0
    finally:
        store.close()
    invoice_env.sandbox.set_faults(error_rate=0.0)
    invoice_env.run(via="api")
    assert invoice_env.inbox_files() == []
    assert invoice_env.duplicates() == []
    assert invoice_env.mismatches(invoice_env.outcomes_from_folders()) == []


def test_a_twin_killed_before_its_upload_is_already_attached_not_uploaded_again(invoice_env, monkeypatch):
    """Two files with the same bytes for one voucher. One twin's attempt writes its journal («about
    to upload») and dies before the upload goes through; the other twin uploads. The next attempt
    of the first finds the document on the voucher: the twin's upload, so "already attached", never
    a second "uploaded" (the finance system holds one copy, and the receipts say so)."""
    import hashlib

    from connectors.finance import FinanceUnavailable
    from flows.invoice_attachment_upload.doors import ApiSession

    groups: dict[tuple[str, str], list[str]] = {}
    for row in invoice_env.ground_truth():
        if row["expected_outcome"] in ("uploaded", "already_attached") and row.get("sha256"):
            groups.setdefault((row["sha256"], row["voucher_number"]), []).append(row["source_file"])
    (sha, _voucher), twins = next((key, names) for key, names in groups.items() if len(names) == 2)
    real_upload = ApiSession.upload
    died: list[str] = []

    def dies_once_before_sending(self, voucher_number, upload, idempotency_key):
        if not died and hashlib.sha256(upload.content).hexdigest() == sha:
            died.append(idempotency_key)  # the journal is written; the upload never leaves
            raise FinanceUnavailable("Forbindelsen brøt (test)")
        return real_upload(self, voucher_number, upload, idempotency_key)

    monkeypatch.setattr(ApiSession, "upload", dies_once_before_sending)
    invoice_env.run(via="api")
    monkeypatch.setattr(ApiSession, "upload", real_upload)
    invoice_env.run(via="api")  # the retry, if it was not due within the first run
    assert died
    outcomes = invoice_env.outcomes()
    assert sorted(outcomes[name]["outcome"] for name in twins) == ["already_attached", "uploaded"]
    assert invoice_env.mismatches() == []
    assert invoice_env.duplicates() == []
