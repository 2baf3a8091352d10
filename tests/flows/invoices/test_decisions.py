"""Reviewers' decisions in the exception queue are applied by the next run: a chosen voucher gets
the document (exactly once), a retry after unlocking succeeds, a file handled by hand or
dismissed leaves the quarantine for the archive with a receipt that says who decided."""

from __future__ import annotations

import json

PID = "invoice-attachment-upload"


def _case(store, category: str, source: str | None = None):
    cases = [c for c in store.cases(PID, category=category)
             if source is None or c.evidence["data"]["source"] == source]
    assert len(cases) == 1, [c.evidence["data"]["source"] for c in cases]
    return cases[0]


def _receipt(env, name: str) -> dict:
    found = [p for p in env.archive.rglob(f"{name}.kvittering.json")]
    assert len(found) == 1, found
    return json.loads(found[0].read_text(encoding="utf-8"))


def test_choose_voucher_for_several_candidates(invoice_env):
    invoice_env.run(via="api")
    store = invoice_env.store()
    try:
        case = _case(store, "SEVERAL_CANDIDATES")
        chosen = case.evidence["data"]["candidates"][1]["voucher_number"]
        store.decide(case.id, "kari.nordmann", "choose_voucher", "Riktig bilag etter kreditnota",
                     {"voucher_number": chosen})
        summary = invoice_env.run(via="api").to_dict()
        assert summary["decisions_applied"] == 1 and summary["uploaded"] == 1
        sha = case.evidence["data"]["sha256"]
        on_chosen = [a for a in invoice_env.sandbox.attachments(chosen) if a["sha256"] == sha]
        assert len(on_chosen) == 1
        receipt = _receipt(invoice_env, "timeliste-uke-44.pdf")
        doc = receipt["documents"][0]
        assert (doc["outcome"], doc["voucher_number"], doc["decided_by"]) == ("uploaded", chosen, "kari.nordmann")
        assert doc["first_category"] == "SEVERAL_CANDIDATES"
        assert not list(invoice_env.quarantine.rglob("timeliste-uke-44.pdf*"))
        assert store.get_case(case.id).decision_applied_at is not None
        # Applying again (a third run) attaches nothing more.
        invoice_env.run(via="api")
        assert len([a for a in invoice_env.sandbox.attachments(chosen) if a["sha256"] == sha]) == 1
    finally:
        store.close()


def test_retry_after_the_voucher_is_unlocked(invoice_env):
    invoice_env.run(via="api")
    store = invoice_env.store()
    try:
        case = _case(store, "VOUCHER_LOCKED", "kvittering-bompenger-0815.pdf")
        number = case.evidence["data"]["voucher_number"]
        # Finance opens the voucher in the finance system (the stand-in re-reads its voucher file).
        path = invoice_env.data_dir / "sandbox" / "finance" / "vouchers.json"
        book = json.loads(path.read_text(encoding="utf-8"))
        for v in book["vouchers"]:
            if v["voucherNumber"] == number:
                v["status"], v["period"] = "open", "2026-11"  # unlocked, in an open period
        path.write_text(json.dumps(book, ensure_ascii=False), encoding="utf-8")
        store.decide(case.id, "ola.hansen", "retry", "Bilaget er åpnet igjen")
        invoice_env.run(via="api")
        assert [a["fileName"] for a in invoice_env.sandbox.attachments(number)] == ["kvittering-bompenger-0815.pdf"]
        assert _receipt(invoice_env, "kvittering-bompenger-0815.pdf")["documents"][0]["outcome"] == "uploaded"
    finally:
        store.close()


def test_handled_manually_and_dismissed_files_leave_the_quarantine(invoice_env):
    invoice_env.run(via="api")
    store = invoice_env.store()
    try:
        corrupt = _case(store, "CORRUPT_FILE", "kvittering-taxi-0412.pdf")
        store.decide(corrupt.id, "kari.nordmann", "handled_manually", "Ny kopi lagt inn for hånd")
        mixed = [c for c in store.cases(PID, category="FILE_TYPE_NOT_ALLOWED")
                 if c.evidence["data"]["source"].endswith("#vedlegg.pdf")][0]
        store.decide(mixed.id, "kari.nordmann", "dismiss", "Vedlegget er uten betydning")
        count = len(invoice_env.sandbox.attachments())
        summary = invoice_env.run(via="api").to_dict()
        assert summary["handled_manually"] == 1 and summary["dismissed"] == 1
        assert len(invoice_env.sandbox.attachments()) == count  # nothing was sent
        taxi = _receipt(invoice_env, "kvittering-taxi-0412.pdf")["documents"][0]
        assert (taxi["outcome"], taxi["decided_by"]) == ("handled_manually", "kari.nordmann")
        ehf_name = mixed.evidence["data"]["source"].split("#")[0]
        outcomes = {d["source"].split("#")[1]: d["outcome"] for d in _receipt(invoice_env, ehf_name)["documents"]}
        assert outcomes == {"spesifikasjon.xlsx": "uploaded", "vedlegg.pdf": "dismissed"}
        left = {p.name for p in invoice_env.stored(invoice_env.quarantine)}
        assert "kvittering-taxi-0412.pdf" not in left and ehf_name not in left
    finally:
        store.close()


def test_choosing_the_voucher_overrides_attached_elsewhere(invoice_env):
    invoice_env.run(via="api")
    store = invoice_env.store()
    try:
        case = _case(store, "ATTACHED_ELSEWHERE")
        target = case.evidence["data"]["voucher_number"]
        store.decide(case.id, "kari.nordmann", "choose_voucher", "Rammeavtalen gjelder begge bilag",
                     {"voucher_number": target})
        invoice_env.run(via="api")
        sha = case.evidence["data"]["sha256"]
        assert len([a for a in invoice_env.sandbox.attachments() if a["sha256"] == sha]) == 2
        assert len([a for a in invoice_env.sandbox.attachments(target) if a["sha256"] == sha]) == 1
    finally:
        store.close()
