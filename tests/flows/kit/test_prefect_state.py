"""What an operator reads in Prefect: the final state name and message of a run with exceptions and
of a clean run; a business error ends the run without any retry (task or flow)."""

from __future__ import annotations

import pytest

from flows.kit import BusinessCase, Done, RunSummary, add_items, run_items
from flows.kit.declare import Declaration, Param, make_flow
from workqueue.store import NewItem

PID = "invoice-attachment-upload"  # a real definition: its categories, SLA and retry block


def _run(ctx, params, step) -> RunSummary:
    def handle(ctx, item):
        if item.reference.startswith("bad"):
            return BusinessCase(ctx.new_case("VOUCHER_NOT_FOUND", "Fant ikke bilaget", amount=100.0))
        return Done()

    step("registrering", add_items, ctx, [NewItem(r) for r in params.refs.split(",")])
    counts = step("behandling", lambda: run_items(ctx, handle), retry=False)
    return RunSummary(ctx.process_id, ctx.run_id, counts.claimed, counts.done, dict(counts.categories))


def _missing_file(ctx, params, step) -> RunSummary:
    def read():
        raise FileNotFoundError("Finner ikke innboksen: /finnes/ikke")

    return step("innlesing", read)


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    from config.settings import get_settings

    monkeypatch.setenv("RPA_PATHS__DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _flow_run(state):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        tasks = client.read_task_runs()
    return run, [t for t in tasks if t.flow_run_id == run.id]


@pytest.mark.prefect
def test_the_final_state_says_how_the_run_went(prefect_harness, own_store):
    flow = make_flow(Declaration(PID, run=_run, params=[Param("refs", "references")]))

    with_exceptions = flow(refs="a1,a2,bad1", return_state=True)
    run, _ = _flow_run(with_exceptions)
    assert run.state.is_completed() and run.state.name == "Fullført med avvik"
    assert run.state.message.startswith("3 saker, 2 automatisk (66,7 %); 1 avvik; 1 nye saker i avvikskøen; "
                                        "Regler: versjon 1, ")

    clean = flow(refs="c1,c2", return_state=True)
    run, _ = _flow_run(clean)
    assert run.state.name == "Fullført"
    assert run.state.message.startswith("2 saker, 2 automatisk (100,0 %); 0 avvik; 0 nye saker i avvikskøen")
    assert clean.result()["definition_version"] == 1


@pytest.mark.prefect
def test_a_business_error_is_never_retried(prefect_harness, own_store):
    flow = make_flow(Declaration(PID, run=_missing_file))
    assert flow.retries >= 1  # the definition's retries travel with the flow ...
    state = flow(return_state=True)
    run, tasks = _flow_run(state)
    assert run.state.is_failed() and run.state.name == "Avbrutt: feil i inndata"
    assert "Finner ikke innboksen" in run.state.message
    assert run.run_count == 1  # ... but not for a business error
    [task] = [t for t in tasks if t.name.startswith("innlesing")]
    assert task.run_count == 1 and task.state.is_failed()
