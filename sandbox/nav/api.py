"""NAV's settlement-report API (sokos-oppgjorsrapporter), as a system user sees it.

  POST /api/rapport/v1                 search: orgnr, aar | fraDato/tilDato, etterId,
                                       rapportTyper, inkluderArkiverte (default false)
  GET  /api/rapport/v1/{id}            metadata of one report
  GET  /api/rapport/v1/{id}/innhold    Accept: text/csv (ISO-8859-1 bytes) | application/pdf
  PUT  /api/rapport/v1/{id}/arkiver    ?arkivert=true (default) | false

Auth: a Maskinporten token (Bearer) with scope nav:utbetaling/oppgjorsrapporter and an Altinn
system user; it sees the reports of the organisations the system user may act for (its own and
those delegated to it), a search or report for another orgnr is 403. The static sandbox token is
accepted only when Maskinporten is off in settings (RPA_MASKINPORTEN__ENABLED=false).

Like NAV: without etterId and dates the search covers the current calendar year up to today;
with etterId (incremental polling) only reports with a higher id, and no date limit unless
dates are given too. Results ascending by id. An Accept header naming neither text/csv nor
application/pdf is answered 406 (NAV does not treat */* as CSV). Errors are JSON
``{"feilmelding": ..., "status": ...}``.
"""

from __future__ import annotations

import hmac
from datetime import UTC, date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from config.settings import NAV_SCOPE
from sandbox.nav.k27 import summary_lines
from sandbox.nav.pdf import simple_pdf
from sandbox.nav.reports import REPORT_TYPES, Report, ReportStore

PREFIX = "/api/rapport/v1"
REALM = "oppgjorsrapporter"
CSV_TYPE = "text/csv; charset=ISO-8859-1"
TYPE_ALIASES = {"K27": "ref-arbg", "T12": "trekk-hend", "T14": "trekk-kred"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def _unauthorized(message: str, error: str = "invalid_token", description: str = "The access token is invalid",
                  status: int = 401) -> ApiError:
    return ApiError(status, message, {
        "WWW-Authenticate": f'Bearer realm="{REALM}", error="{error}", error_description="{description}"'})


def require_token(request: Request) -> None:
    """A Maskinporten system-user token with NAV's scope (verified with the Maskinporten stand-in's
    public key); the static sandbox token only when Maskinporten is turned off in settings.
    Sets request.state.orgs: the organisations the caller may see (None: all)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "Mangler Bearer-token", {"WWW-Authenticate": f'Bearer realm="{REALM}"'})
    state = request.app.state
    if not state.maskinporten_required:
        expected = state.nav.api_token.get_secret_value()
        if hmac.compare_digest(token.encode(), expected.encode()):
            request.state.orgs = None
            return
        raise _unauthorized("Ugyldig token")
    from sandbox.maskinporten.registry import TokenRejected, systemuser_orgs, verify_access_token

    try:
        user = verify_access_token(state.data_dir, token, scope=NAV_SCOPE, now=state.clock())
    except TokenRejected as exc:
        message = {"insufficient_scope": f"Tokenet mangler tilgang: {exc.reason}"}.get(exc.error, "Ugyldig token")
        raise _unauthorized(message, exc.error, exc.reason, exc.status) from None
    request.state.orgs = systemuser_orgs(state.data_dir, user.systemuser_id)
    request.state.systemuser = user


def _check_org(request: Request, orgnr: str) -> None:
    orgs = getattr(request.state, "orgs", None)
    if orgs is not None and orgnr not in orgs:
        raise ApiError(403, f"Systembrukeren har ikke tilgang til organisasjonsnummer {orgnr}")


router = APIRouter(prefix=PREFIX, dependencies=[Depends(require_token)])


def _store(request: Request) -> ReportStore:
    return request.app.state.store


def _report_or_404(request: Request, report_id: str) -> Report:
    report = _store(request).get(report_id)
    if report is None:
        raise ApiError(404, f"Fant ingen rapport med id {report_id}")
    _check_org(request, report.orgnr)
    return report


def report_json(store: ReportStore, report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "orgnr": report.orgnr,
        "orgNavn": report.org_navn,
        "type": report.type,
        "datoValutert": report.dato_valutert.isoformat(),
        "bankkonto": report.bankkonto,
        "opprettet": report.opprettet.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "arkivert": store.archived_at(report),
    }


# -- search ------------------------------------------------------------------------------------
def _date(body: dict, key: str) -> date | None:
    value = body.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ApiError(400, f"{key} må være en dato på formen ÅÅÅÅ-MM-DD, fikk {value!r}") from None


def _int(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).isdigit():
        raise ApiError(400, f"{key} må være et heltall, fikk {value!r}")
    return int(value)


def search_criteria(body: Any, today: date | None = None) -> dict[str, Any]:
    """The search body as criteria, or ApiError(400) naming the bad field."""
    if not isinstance(body, dict):
        raise ApiError(400, "Forespørselen må være et JSON-objekt")
    today = today or date.today()
    orgnr = body.get("orgnr")
    if orgnr is not None and (not isinstance(orgnr, str) or len(orgnr) != 9 or not orgnr.isdigit()):
        raise ApiError(400, f"orgnr må være 9 siffer, fikk {orgnr!r}")
    types = body.get("rapportTyper", body.get("rapportType")) or []
    if isinstance(types, str):
        types = [types]
    types = [TYPE_ALIASES.get(t, t) for t in types]
    unknown = [t for t in types if t not in REPORT_TYPES]
    if unknown:
        raise ApiError(400, f"Ukjent rapporttype {unknown[0]!r} (gyldige: {', '.join(REPORT_TYPES)})")
    etter_id = _int(body, "etterId")
    year = _int(body, "aar")
    fra, til = _date(body, "fraDato"), _date(body, "tilDato")
    if fra is None and til is not None:
        fra = til.replace(month=1, day=1)
    if fra is not None:
        til = til or fra.replace(month=12, day=31)
    elif year is not None:
        fra, til = date(year, 1, 1), date(year, 12, 31)
    elif etter_id is None:
        fra, til = today.replace(month=1, day=1), today
    if fra and til and fra > til:
        raise ApiError(400, f"fraDato ({fra}) er etter tilDato ({til})")
    archived = body.get("inkluderArkiverte", False)
    if not isinstance(archived, bool):
        raise ApiError(400, "inkluderArkiverte må være true eller false")
    return {"orgnr": orgnr, "types": set(types), "etter_id": etter_id, "fra": fra, "til": til,
            "include_archived": archived}


def search(store: ReportStore, criteria: dict[str, Any], orgs: set[str] | None = None) -> list[Report]:
    """Reports matching `criteria`, among those of `orgs` (None: every organisation)."""
    found = []
    for report in store.all():
        if criteria["orgnr"] and report.orgnr != criteria["orgnr"]:
            continue
        if orgs is not None and report.orgnr not in orgs:
            continue
        if criteria["types"] and report.type not in criteria["types"]:
            continue
        if criteria["etter_id"] is not None and report.id <= criteria["etter_id"]:
            continue
        if criteria["fra"] and not criteria["fra"] <= report.dato_valutert <= criteria["til"]:
            continue
        if not criteria["include_archived"] and store.archived_at(report):
            continue
        found.append(report)
    return found


@router.post("")
async def search_reports(request: Request) -> JSONResponse:
    raw = await request.body()
    try:
        body = await request.json() if raw.strip() else {}
    except ValueError:
        raise ApiError(400, "Forespørselen er ikke gyldig JSON") from None
    store = _store(request)
    criteria = search_criteria(body)
    if criteria["orgnr"]:
        _check_org(request, criteria["orgnr"])
    orgs = getattr(request.state, "orgs", None)
    return JSONResponse([report_json(store, r) for r in search(store, criteria, orgs)])


# -- one report --------------------------------------------------------------------------------
@router.get("/{report_id}")
def get_report(request: Request, report_id: str) -> JSONResponse:
    return JSONResponse(report_json(_store(request), _report_or_404(request, report_id)))


def negotiate(accept: str) -> str | None:
    """text/csv or application/pdf, whichever the client lists first with q > 0; else None."""
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = next((p.split("=", 1)[1] for p in params if p.replace(" ", "").startswith("q=")), "1")
        try:
            weight = float(q)
        except ValueError:
            weight = 1.0
        if weight > 0 and media.lower() in ("text/csv", "application/pdf"):
            return media.lower()
    return None


@router.get("/{report_id}/innhold")
def get_content(request: Request, report_id: str) -> Response:
    report = _report_or_404(request, report_id)
    wanted = negotiate(request.headers.get("accept", ""))
    if wanted is None:
        raise ApiError(406, "Kan bare levere text/csv eller application/pdf (angi Accept)")
    content = _store(request).content(report)
    if wanted == "text/csv":
        return Response(content, media_type=CSV_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{report.filename}.csv"'})
    pdf = simple_pdf(summary_lines(report, content))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{report.filename}.pdf"'})


@router.put("/{report_id}/arkiver")
def archive(request: Request, report_id: str, arkivert: bool = True) -> JSONResponse:
    report = _report_or_404(request, report_id)
    store = _store(request)
    store.set_archived(report, arkivert)
    return JSONResponse(report_json(store, report))
