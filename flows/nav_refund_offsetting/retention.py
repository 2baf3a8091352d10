"""What the retention process keeps of this process's data once `retention_days` have passed
(found by convention: flows/<pkg>/retention.py). Its files lie in the default places
(archive/<id>/rapporter, downloads/<id>/<run>, output/<id>/<run>).

Kept: what identifies a report and the claims it settled, so a report delivered again after
retention is still "already offset" (reference `rapport:<id>:<sha>` and the claim ids); no fnr,
name, sick-leave period or amount per person. Cleared: the line fingerprints and the maksdato
per person (keyed hashes of the fnr), the archive path, and everything in the evidence."""

from workqueue.retention import KeepKeys

KEEP = KeepKeys(
    payload=frozenset({"report_id", "sha256", "file_name", "source", "value_date", "bankkonto", "orgnr",
                       "org_navn", "duplicate_of"}),
    result=frozenset({"run_id", "lines", "offset", "outcomes", "settled_claims"}),
    evidence_data=frozenset({"claim_ids", "report_id", "report_ref", "duplicate_of", "run_id", "source", "kind"}),
)
