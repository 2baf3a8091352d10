"""The process kit: run scope statuses, the item loop, abandoned items recovered by their own
process, the summary from the store, definition versions, Prefect retry only for system errors."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from flows.kit import (
    BusinessCase,
    Done,
    RunSummary,
    SystemFailure,
    finish,
    open_run,
    recover_abandoned,
    run_items,
    run_scope,
    stop,
)
from flows.kit.prefect import BusinessError, is_business_error, task_options
from flows.kit.summary import state_message, state_name
from workqueue.figures import definition_versions
from workqueue.models import ItemStatus, WorkItem
from workqueue.store import NewItem, WorkQueueStore, utcnow

NAV = "nav-refund-offsetting"
INVOICE = "invoice-attachment-upload"


@pytest.fixture
def wq(tmp_path):
    store = WorkQueueStore(f"sqlite:///{tmp_path / 'wq.db'}")
    yield store
    store.close()


def _abandon(store, process_id, refs):
    """Items of `process_id` claimed by a worker that died: the lease ran out an hour ago."""
    store.add_many(process_id, [NewItem(r) for r in refs])
    store.claim(process_id, worker="dead-worker", limit=len(refs))
    with store.session() as s:
        s.execute(update(WorkItem).where(WorkItem.process_id == process_id)
                  .values(claimed_until=utcnow() - timedelta(hours=1)))


def _statuses(store, process_id):
    return {i.reference: i.status for i in store.items(process_id)}


def test_two_processes_abandoned_items_are_each_recovered_by_their_own_run(wq, tmp_path):
    from flows.invoice_attachment_upload.run import recover

    _abandon(wq, NAV, ["nav-1", "nav-2"])
    _abandon(wq, INVOICE, ["inv-1"])

    invoice_ctx = open_run(INVOICE, store=wq, out_dir=tmp_path / "inv")
    assert recover(invoice_ctx)["requeued_abandoned"] == 1  # the invoice run's own item only
    assert _statuses(wq, INVOICE) == {"inv-1": ItemStatus.new}
    assert _statuses(wq, NAV) == {"nav-1": ItemStatus.in_progress, "nav-2": ItemStatus.in_progress}

    nav_ctx = open_run(NAV, store=wq, out_dir=tmp_path / "nav")
    counts = run_items(nav_ctx, lambda ctx, item: Done({"ok": item.reference}))
    assert counts.recovered == 2 and counts.done == 2
    assert _statuses(wq, NAV) == {"nav-1": ItemStatus.done, "nav-2": ItemStatus.done}
    assert _statuses(wq, INVOICE) == {"inv-1": ItemStatus.new}  # still the invoice run's to do


def test_items_of_a_dead_worker_on_this_machine_go_back_at_once_without_an_attempt(wq, tmp_path):
    import socket
    import subprocess
    import sys

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # its pid now names no running process
    wq.add_many(NAV, [NewItem("mine"), NewItem("elsewhere")])
    wq.claim(NAV, worker=f"{socket.gethostname()}:{ended.pid}", limit=1)  # its lease still runs
    wq.claim(NAV, worker=f"another-host:{ended.pid}", limit=1)  # not ours to judge: its lease decides

    ctx = open_run(NAV, store=wq, out_dir=tmp_path)
    assert recover_abandoned(ctx) == 1
    items = {i.reference: i for i in wq.items(NAV)}
    assert items["mine"].status == ItemStatus.new and items["mine"].attempts == 0
    assert items["elsewhere"].status == ItemStatus.in_progress


def test_a_run_in_this_process_keeps_the_items_another_run_here_is_working_on(wq, tmp_path):
    """Two runs of one process as threads of one Python process: the second run's recovery must not
    take back what the first is working on (both claim as "host:pid"); once no loop runs here, a
    claim under our own pid is a dead namesake and goes back at once."""
    import threading

    wq.add_many(NAV, [NewItem("first"), NewItem("second")])
    working, finish_it = threading.Event(), threading.Event()

    def slow(ctx, item):
        working.set()
        finish_it.wait(60)  # a hang guard only: set below as soon as the check is made
        return Done({})

    first = open_run(NAV, store=wq, out_dir=tmp_path / "a")
    loop = threading.Thread(target=run_items, args=(first, slow), kwargs={"max_items": 1, "batch": 1})
    loop.start()
    assert working.wait(60)
    second = open_run(NAV, store=wq, out_dir=tmp_path / "b")
    assert recover_abandoned(second) == 0
    assert _statuses(wq, NAV)["first"] == ItemStatus.in_progress
    finish_it.set()
    loop.join(60)
    assert _statuses(wq, NAV)["first"] == ItemStatus.done

    wq.claim(NAV, limit=1)  # "host:pid" of this process, and no loop runs: nobody holds it
    assert recover_abandoned(second) == 1
    assert _statuses(wq, NAV)["second"] == ItemStatus.new


def test_the_item_loop_turns_outcomes_into_done_cases_and_retries(wq, tmp_path):
    ctx = open_run(INVOICE, store=wq, out_dir=tmp_path)
    wq.add_many(INVOICE, [NewItem(r) for r in ("ok", "bad", "flaky", "boom")])

    def handler(ctx, item):
        if item.reference == "bad":
            return BusinessCase(ctx.new_case("VOUCHER_NOT_FOUND", "Fant ikke bilaget", amount=1234.5))
        if item.reference == "flaky":
            return SystemFailure("503 fra økonomisystemet")
        if item.reference == "boom":
            raise RuntimeError("uventet")
        return Done({"voucher": 1})

    counts = run_items(ctx, handler)
    assert (counts.done, counts.business, counts.system_retry) == (1, 1, 2)
    assert _statuses(wq, INVOICE) == {"ok": ItemStatus.done, "bad": ItemStatus.business_exception,
                                      "flaky": ItemStatus.new, "boom": ItemStatus.new}
    summary = finish(ctx, RunSummary(INVOICE, ctx.run_id, 4, 1, {"VOUCHER_NOT_FOUND": 1}))
    assert summary.cases_opened == 1 and summary.cases_by_category == {"VOUCHER_NOT_FOUND": 1}
    run = wq.runs(INVOICE)[-1]
    assert run.status == "completed" and run.summary["cases_opened"] == 1
    assert state_name(summary) == "Fullført med avvik"
    assert "4 saker, 1 automatisk (25,0 %); 1 avvik; 1 nye saker i avvikskøen" in state_message(summary)


def test_the_item_loop_with_worker_threads_records_every_outcome_once(wq, tmp_path):
    """workers=N: handlers run in threads, the calling thread records; completions in batches,
    each batch handed to on_done after it is stored; every thread's exit hook runs."""
    import threading

    ctx = open_run(INVOICE, store=wq, out_dir=tmp_path)
    wq.add_many(INVOICE, [NewItem(f"doc-{n}") for n in range(40)])
    threads, exits, stored = set(), [], []

    def handler(ctx, item):
        threads.add(threading.current_thread().name)
        n = int(item.reference.split("-")[1])
        if n % 10 == 3:
            return BusinessCase(ctx.new_case("VOUCHER_NOT_FOUND", "Fant ikke bilaget"))
        return Done({"n": n})

    counts = run_items(ctx, handler, workers=4, batch=8, on_done=stored.extend,
                       on_thread_exit=lambda: exits.append(threading.current_thread().name))
    assert (counts.handled, counts.done, counts.business) == (40, 36, 4)
    assert sorted(i.reference for i, _ in stored) == sorted(f"doc-{n}" for n in range(40) if n % 10 != 3)
    assert len(exits) == 4 and threading.current_thread().name not in threads
    assert set(_statuses(wq, INVOICE).values()) == {ItemStatus.done, ItemStatus.business_exception}


@pytest.mark.parametrize("workers", [1, 3])
def test_the_item_loop_stops_when_the_system_looks_down_and_gives_back_the_rest(wq, tmp_path, workers):
    ctx = open_run(INVOICE, store=wq, out_dir=tmp_path)
    wq.add_many(INVOICE, [NewItem(f"doc-{n:02d}") for n in range(30)])
    counts = run_items(ctx, lambda ctx, item: SystemFailure("503"), workers=workers, batch=10, stop_after=3,
                       system_name="økonomisystemet")
    # (with threads, items already under way when it stopped still count in the row)
    assert counts.stopped.endswith("systemfeil på rad: økonomisystemet ser ut til å være nede; kjøringen stopper")
    assert counts.system_retry == counts.handled < 30
    statuses = _statuses(wq, INVOICE)
    assert ItemStatus.in_progress not in statuses.values()  # nothing left held: the rest waits, claimable
    assert sum(s == ItemStatus.new for s in statuses.values()) == 30


def test_a_refused_login_stops_the_loop_at_once(wq, tmp_path):
    ctx = open_run(INVOICE, store=wq, out_dir=tmp_path)
    wq.add_many(INVOICE, [NewItem(f"doc-{n}") for n in range(5)])
    counts = run_items(ctx, lambda ctx, item: SystemFailure("Innlogging avvist", stop=True))
    assert counts.stopped == "Innlogging avvist" and counts.handled == 1


def test_run_scope_statuses(wq, tmp_path):
    with run_scope(INVOICE, store=wq, out_dir=tmp_path / "a") as ctx:
        pass
    assert wq.runs(INVOICE)[-1].status == "completed"
    with run_scope(INVOICE, store=wq, out_dir=tmp_path / "b") as ctx:
        summary = stop(ctx, RunSummary(INVOICE, ctx.run_id, 0, 0, {}), "økonomisystemet svarer ikke")
    assert wq.runs(INVOICE)[-1].status == "stopped"
    assert state_name(summary) == "Stoppet: økonomisystemet svarer ikke"
    with pytest.raises(BusinessError), run_scope(INVOICE, store=wq, out_dir=tmp_path / "c"):
        raise BusinessError("Filen krav.csv finnes ikke")
    last = wq.runs(INVOICE)[-1]
    assert last.status == "failed" and "krav.csv" in last.summary["error"]


def test_every_run_records_its_definition_version(wq, tmp_path, monkeypatch):
    import shutil

    import yaml

    from config.settings import get_settings

    folder = tmp_path / "processes"
    shutil.copytree(get_settings().paths.processes_dir, folder)
    monkeypatch.setenv("RPA_PATHS__PROCESSES_DIR", str(folder))
    get_settings.cache_clear()
    try:
        first = open_run(INVOICE, store=wq, out_dir=tmp_path / "1")
        again = open_run(INVOICE, store=wq, out_dir=tmp_path / "2")
        path = folder / f"{INVOICE}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["purpose"] = data["purpose"] + " Endret."
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        changed = open_run(INVOICE, store=wq, out_dir=tmp_path / "3")
    finally:
        get_settings.cache_clear()
    assert first.definition_version.version == again.definition_version.version == 1
    assert changed.definition_version.version == 2
    assert changed.version_label.startswith("Regler: versjon 2, ")
    summary = finish(changed, RunSummary(INVOICE, changed.run_id, 0, 0, {}))
    assert json.loads(summary.to_json())["definition_version"] == 2
    versions = definition_versions(wq, INVOICE)
    assert [(v.version, v.runs) for v in versions] == [(1, (first.run_id, again.run_id)), (2, (changed.run_id,))]


def test_prefect_retries_system_errors_only():
    from config.catalogue import DefinitionError

    assert is_business_error(FileNotFoundError("krav.csv"))
    assert is_business_error(DefinitionError("x.yaml", []))
    assert is_business_error(ValueError("ugyldig K27"))
    assert not is_business_error(ConnectionError("503"))
    assert not is_business_error(TimeoutError())
    assert "retry_condition_fn" in task_options(_definition(INVOICE))


def _definition(pid):
    from flows.registry import load_definition

    return load_definition(pid)[0]


def test_processes_history_lists_the_versions_with_their_runs(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from config.settings import get_settings
    from rpa.cli import app

    monkeypatch.setenv("RPA_DATABASE__URL", f"sqlite:///{tmp_path / 'history.db'}")
    get_settings.cache_clear()
    try:
        store = WorkQueueStore.from_settings()
        ctx = open_run(INVOICE, store=store, out_dir=tmp_path / "run")
        finish(ctx, RunSummary(INVOICE, ctx.run_id, 0, 0, {}))
        store.close()
        result = CliRunner().invoke(app, ["processes", "history", INVOICE])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Versjon 1  fra ")
    assert ctx.run_id in result.output and "completed" in result.output
