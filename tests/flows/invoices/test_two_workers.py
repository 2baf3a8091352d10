"""Two workers on the same drop folder at the same time (two processes, one work-item store):
every document is attached once, every file is archived once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RPA = str(Path(sys.executable).with_name("rpa"))


@pytest.mark.slow
def test_two_workers_at_once_attach_each_document_once(invoice_bulk_env):
    env = invoice_bulk_env.cli_env()
    invoice_bulk_env.sandbox.set_faults(latency_ms=20)  # long enough for the two runs to overlap
    inbox_before = invoice_bulk_env.inbox_files()
    procs = [subprocess.Popen([RPA, "run", "invoice-attachment-upload", "--json", "--via", "api"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode(errors="replace")[-2000:]
    summaries = [json.loads(out) for out, _ in outputs]
    assert invoice_bulk_env.duplicates() == []
    assert len(invoice_bulk_env.sandbox.attachments()) == len(invoice_bulk_env.ground_truth())
    assert invoice_bulk_env.inbox_files() == []
    archived = invoice_bulk_env.stored(invoice_bulk_env.archive)
    assert sorted(p.name for p in archived) == sorted(inbox_before)
    assert sum(s["uploaded"] for s in summaries) == len(invoice_bulk_env.ground_truth())
    assert all(s["items_processed"] > 0 for s in summaries), "one worker did all the work"
