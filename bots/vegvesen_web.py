"""Statens vegvesen 'Sjekk kjøretøyopplysninger' bot: the human page, for what the API lacks.

The public API has no odometer history; the page shows it (section Kilometerstand, the readings
taken at EU controls). The bot is also the whole lookup path when a process definition says
`source: web`. It is polite by construction: one browser page, one lookup at a time, at most one
page load per `min_interval_seconds` (default 2 s), never the default path.

    with VegvesenWeb(settings, evidence_dir=...) as web:
        found = web.lookup("EK39085")          # WebVehicle: sections, readings
        vehicle = found.to_vehicle()           # the same typed Vehicle the API path gives

Locators are accessible names (roles and labels) matched by patterns, grouped at the top, so the
redesigned page (renamed button and label, sections in another order, label/value pairs as a
table instead of a description list) reads the same. No sleeps: each step waits on the page state
it needs. On failure a screenshot and a Playwright trace of that lookup are kept in the evidence
folder and VegvesenWebError carries their paths (they become the case's attachments).
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from config.settings import Settings, get_settings
from connectors.ratelimit import RateLimiter
from connectors.vegvesen.parser import Vehicle, parse_date, parse_int, vehicle_from_web
from connectors.vegvesen.plates import display_plate

# -- locators: accessible names, grouped here so a changed page is a one-line fix ---------------
SEARCH_FIELD = re.compile(r"registreringsnummer|kjennemerke", re.I)        # label of the textbox
SEARCH_BUTTON = re.compile(r"^\s*(søk|vis kjøretøy|vis opplysninger|finn)\b", re.I)
RESULT_HEADING = re.compile(r"kjøretøyopplysninger for", re.I)              # h2 above the sections
NOT_FOUND_TEXT = re.compile(r"fant ikke|finnes ikke|ingen treff", re.I)    # in role=alert
INVALID_TEXT = re.compile(r"ikke et gyldig|ugyldig", re.I)
SECTIONS: dict[str, re.Pattern[str]] = {                                   # role=region by name
    "Registreringsdata": re.compile(r"^\s*registreringsdata", re.I),
    "Motor/kraftoverføring": re.compile(r"^\s*motor", re.I),
    "EU-kontroll": re.compile(r"^\s*eu-kontroll", re.I),
    "Mål og vekt": re.compile(r"^\s*mål og vekt", re.I),
}
ODOMETER_SECTION = re.compile(r"^\s*kilometerstand", re.I)
REQUIRED_SECTION = "Registreringsdata"


class VegvesenWebError(RuntimeError):
    """The bot could not finish a step; `screenshot` and `trace` are the evidence (may be None)."""

    def __init__(self, message: str, *, step: str, screenshot: Path | None = None, trace: Path | None = None):
        super().__init__(message)
        self.message, self.step, self.screenshot, self.trace = message, step, screenshot, trace

    @property
    def evidence(self) -> list[Path]:
        return [p for p in (self.screenshot, self.trace) if p is not None and p.exists()]

    def __str__(self) -> str:
        saved = ", ".join(str(p) for p in self.evidence)
        return f"{self.message} (bevis: {saved})" if saved else self.message


class WebVehicleNotFound(LookupError):
    """The page says it has no such vehicle (or that the plate is not valid)."""

    def __init__(self, plate: str, message: str, invalid: bool = False):
        super().__init__(message)
        self.plate, self.message, self.invalid = plate, message, invalid


@dataclass
class WebVehicle:
    plate: str
    sections: dict[str, dict[str, str]] = field(default_factory=dict)   # title -> {label: value}
    readings: list[tuple[date | None, int]] = field(default_factory=list)  # newest first

    def to_vehicle(self) -> Vehicle:
        return vehicle_from_web(self.sections, self.readings)

    def to_dict(self) -> dict[str, Any]:
        return {"plate": self.plate, "sections": self.sections,
                "readings": [[d.isoformat() if d else None, km] for d, km in self.readings]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebVehicle:
        return cls(data["plate"], data["sections"], [(parse_date(d), int(km)) for d, km in data["readings"]])


class VegvesenWeb:
    """Page object for 'Sjekk kjøretøyopplysninger'. Open it as a context manager."""

    def __init__(self, settings: Settings | None = None, *, evidence_dir: Path | None = None,
                 min_interval_seconds: float = 2.0, base_url: str | None = None):
        self.settings = settings or get_settings()
        self.base_url = base_url or self.settings.vegvesen.web_base_url
        self.evidence_dir = Path(evidence_dir or self.settings.paths.data_dir / "evidence" / "vegvesen-web")
        self._limiter = RateLimiter(1.0 / min_interval_seconds) if min_interval_seconds > 0 else None
        self._pw = self._browser = self._context = self.page = None
        self._tracing = False
        self.lookups = 0

    # ------------------------------------------------------------------ session

    def __enter__(self) -> VegvesenWeb:
        from playwright.sync_api import sync_playwright

        b = self.settings.browser
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(**b.launch_options())
            self._context = self._browser.new_context(locale="nb-NO")
            self._context.set_default_timeout(b.timeout_ms)
            if b.trace_on_failure:
                self._context.tracing.start(screenshots=True, snapshots=True)
                self._tracing = True
            self.page = self._context.new_page()
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        with suppress(Exception):
            if self._tracing:
                self._context.tracing.stop()
        for closer in (self._context, self._browser):
            with suppress(Exception):
                if closer is not None:
                    closer.close()
        with suppress(Exception):
            if self._pw is not None:
                self._pw.stop()
        self._pw = self._browser = self._context = self.page = None

    # ------------------------------------------------------------------ lookups

    def lookup(self, plate: str) -> WebVehicle:
        """Search the page for `plate` (normalized or not) and read every section."""
        if self.page is None:
            raise RuntimeError("VegvesenWeb must be used as a context manager")
        if self._limiter:
            self._limiter.acquire()
        self.lookups += 1
        chunk = False
        if self._tracing:
            self._context.tracing.start_chunk(title=f"oppslag {plate}")
            chunk = True
        step = "åpne søkesiden"
        try:
            page = self.page
            page.goto(self.base_url)
            step = "fylle inn registreringsnummer"
            page.get_by_label(SEARCH_FIELD).fill(display_plate(plate))
            step = "søke"
            page.get_by_role("button", name=SEARCH_BUTTON).click()
            step = "vente på resultat"
            result = page.get_by_role("heading", name=RESULT_HEADING)
            alert = page.get_by_role("alert")
            result.or_(alert).first.wait_for()
            if alert.count() and alert.first.is_visible():
                text = alert.first.inner_text().strip()
                if NOT_FOUND_TEXT.search(text) or INVALID_TEXT.search(text):
                    if chunk:
                        self._context.tracing.stop_chunk()
                    raise WebVehicleNotFound(plate, text, invalid=bool(INVALID_TEXT.search(text)))
                raise RuntimeError(f"uventet melding på siden: {text}")
            step = "lese seksjonene"
            found = WebVehicle(plate)
            for title, pattern in SECTIONS.items():
                region = page.get_by_role("region", name=pattern)
                if region.count() == 0:
                    if title == REQUIRED_SECTION:
                        raise RuntimeError(f"fant ikke seksjonen {title}")
                    continue
                found.sections[title] = self._pairs(region)
            step = "lese kilometerstand"
            odometer = page.get_by_role("region", name=ODOMETER_SECTION)
            if odometer.count():
                found.readings = self._readings(odometer)
            if chunk:
                self._context.tracing.stop_chunk()  # success: the trace is discarded
            return found
        except WebVehicleNotFound:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes evidence
            raise self._failure(plate, step, exc, chunk) from exc

    def odometer_history(self, plate: str) -> list[tuple[date | None, int]]:
        return self.lookup(plate).readings

    # ------------------------------------------------------------------ reading

    @staticmethod
    def _pairs(region) -> dict[str, str]:
        """Label/value pairs: a description list (term/definition) or a table (rowheader/cell)."""
        terms = region.get_by_role("term").all_inner_texts()
        if terms:
            values = region.get_by_role("definition").all_inner_texts()
        else:
            terms = region.get_by_role("rowheader").all_inner_texts()
            values = region.get_by_role("cell").all_inner_texts()
        if len(terms) != len(values):
            raise RuntimeError(f"{len(terms)} etiketter men {len(values)} verdier")
        return {t.strip(): v.strip() for t, v in zip(terms, values, strict=True)}

    @staticmethod
    def _readings(region) -> list[tuple[date | None, int]]:
        """Rows of the odometer table: Dato | Kilometerstand | Kilde (header cells are not `cell`)."""
        readings: list[tuple[date | None, int]] = []
        for row in region.get_by_role("row").all():
            cells = row.get_by_role("cell").all_inner_texts()
            if len(cells) >= 2:
                km = parse_int(cells[1])
                if km is not None:
                    readings.append((parse_date(cells[0].strip()), km))
        readings.sort(key=lambda r: r[0] or date.min, reverse=True)
        return readings

    def _failure(self, plate: str, step: str, exc: Exception, chunk: bool) -> VegvesenWebError:
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        stem = f"vegvesen-web-{plate}-{datetime.now():%Y%m%d-%H%M%S-%f}"
        shot = trace = None
        with suppress(Exception):
            shot = self.evidence_dir / f"{stem}.png"
            self.page.screenshot(path=str(shot), full_page=True, timeout=10_000)
        if chunk:
            with suppress(Exception):
                trace = self.evidence_dir / f"{stem}-trace.zip"
                self._context.tracing.stop_chunk(path=str(trace))
        message = f"Nettsiden til Statens vegvesen: kunne ikke {step} for {display_plate(plate)}: " \
                  f"{str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}"
        return VegvesenWebError(message, step=step, screenshot=shot, trace=trace)
