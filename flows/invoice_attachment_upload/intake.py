"""Intake: turn what lies in the drop folder into documents with a target and a verdict.

Sources, in this order for each file:
1. a manifest row naming the file (voucher number, or supplier orgnr + invoice number);
2. an EHF invoice (by content): each embedded attachment is a document for that invoice;
3. the plan recorded for the file by an earlier run whose manifest is already archived
   (a run that crashed between archiving the manifest and settling the file);
4. a file-name convention from the process definition;
otherwise the file has no target (FILE_WITHOUT_MANIFEST_ROW).

Nothing is moved or sent here; validation problems are recorded on the documents, and the flow
turns every document into a work item: one per (file, target), so two files with the same bytes
never share an item, a case or a decision (model.Document.compute_reference).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from config.process_definition import ProcessDefinition
from connectors.dropfolder import arrived, matches_any, name_key, scan
from connectors.ehf import EhfError, looks_like_ehf, parse_ehf
from connectors.filecheck import name_problem, safe_display_name, unsafe_name_reason
from connectors.identifiers import valid_orgnr
from connectors.tables import Row
from flows.invoice_attachment_upload.manifest import FIELDS, ManifestError, read_manifest
from flows.invoice_attachment_upload.model import Document, Intake, SourceFile, Target
from flows.invoice_attachment_upload.rules import Rules
from flows.invoice_attachment_upload.validation import as_problem, validate_document
from flows.invoice_attachment_upload.workspace import Workspace

MANIFEST_INPUT = "manifest"
DEFAULT_COLUMNS = {f: f for f in FIELDS}


def document_type(value: str, rules: Rules) -> str:
    """The manifest's document type, spelled as the finance system lists it; unknown or empty
    values get the default (the web form only offers the listed types)."""
    value = (value or "").strip()
    if not value:
        return rules.default_document_type
    if not rules.document_types:
        return value
    return next((t for t in rules.document_types if t.casefold() == value.casefold()), rules.default_document_type)


def _problem(category: str, message: str) -> dict[str, str]:
    return {"category": category, "message": message}


def _whole_file(name: str, path: Path, data: bytes, sha: str, **fields) -> Document:
    """A document that is the drop-folder file itself."""
    return Document(source=name, file_name=name, container=name, container_path=str(path), sha256=sha,
                    size=len(data), **fields)


def intake(inbox: Path, definition: ProcessDefinition, rules: Rules, workspace: Workspace,
           now: float | None = None) -> Intake:
    names, skipped = scan(inbox, min_age_seconds=rules.min_file_age_seconds, ignore=rules.ignore_names, now=now)
    result = Intake(inbox=str(inbox), skipped=skipped)
    manifest_names = [n for n in names if matches_any(n, rules.manifest_names)]
    other_names = [n for n in names if n not in manifest_names]
    try:
        spec = definition.input(MANIFEST_INPUT)
        columns, required = (spec.columns or DEFAULT_COLUMNS), (spec.required_columns or ["filnavn"])
    except KeyError:
        columns, required = DEFAULT_COLUMNS, ["filnavn"]

    by_key: dict[str, list[str]] = {}
    for n in other_names:
        by_key.setdefault(name_key(n), []).append(n)

    planned: dict[str, list[tuple[Row, SourceFile]]] = {}
    for name in manifest_names:
        path = inbox / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # another worker archived it a moment ago
        sha = hashlib.sha256(data).hexdigest()
        mf = SourceFile(name=name, path=str(path), sha256=sha, size=len(data), kind="manifest")
        result.manifests.append(mf)
        try:
            rows = read_manifest(path, data, columns, required)
        except ManifestError as exc:
            mf.documents.append(_whole_file(name, path, data, sha, target=Target(), document_type="", origin="none",
                                            media_type="text/csv",
                                            problem=_problem("CORRUPT_FILE", f"Manifestet {name} kan ikke leses: {exc}")))
            continue
        for row in rows:
            file_name = row.get("filnavn")
            exact = [n for n in other_names if n == file_name]
            candidates = exact or by_key.get(name_key(file_name), [])
            if file_name and len(candidates) == 1:
                planned.setdefault(candidates[0], []).append((row, mf))
            else:
                result.missing_rows.append(_row_without_file(row, mf, rules))

    for name in other_names:
        path = inbox / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        sha = hashlib.sha256(data).hexdigest()
        source = SourceFile(name=name, path=str(path), sha256=sha, size=len(data), kind="document",
                            arrived=arrived(path))
        if name in planned:
            source.documents = [_manifest_document(name, path, data, sha, row, mf, rules)
                                for row, mf in planned[name]]
        elif looks_like_ehf(data):
            source.kind = "ehf"
            source.documents = _ehf_documents(name, path, data, sha, rules)
        elif (plan := workspace.read_plan(sha, name)) is not None:
            source.documents = [Document.from_payload(d) for d in plan]
        else:
            source.documents = [_convention_document(name, path, data, sha, rules)]
        result.files.append(source)
    return result


def _target_from_row(row: Row) -> Target:
    return Target(voucher_number="".join(row.get("bilagsnummer").split()),
                  supplier_org_no="".join(ch for ch in row.get("leverandor_orgnr") if ch.isdigit()),
                  invoice_number=row.get("fakturanummer").strip())


def _row_target_problem(row: Row, manifest: str) -> dict[str, str] | None:
    t = _target_from_row(row)
    if not t.known:
        return _problem("VOUCHER_NOT_FOUND", f"{manifest}, rad {row.number}: raden mangler bilagsnummer, eller "
                                             "leverandørens orgnr og fakturanummer.")
    if not t.voucher_number and not valid_orgnr(t.supplier_org_no):
        return _problem("VOUCHER_NOT_FOUND", f"{manifest}, rad {row.number}, kolonne leverandor_orgnr: "
                                             f"{row.get('leverandor_orgnr')!r} er ikke et gyldig "
                                             "organisasjonsnummer (9 siffer med kontrollsiffer).")
    return None


def _row_without_file(row: Row, mf: SourceFile, rules: Rules) -> Document:
    file_name = row.get("filnavn")
    manifest = {"name": mf.name, "sha256": mf.sha256, "row": row.number}
    reason = unsafe_name_reason(file_name) if file_name else None
    if not file_name:
        problem = _problem("MANIFEST_ROW_WITHOUT_FILE", f"{mf.name}, rad {row.number}, kolonne filnavn: "
                                                        "filnavnet mangler.")
    elif reason:
        problem = _problem("UNSAFE_FILE_NAME", f"{mf.name}, rad {row.number}, kolonne filnavn: "
                                               f"{safe_display_name(file_name)!r} er ugyldig: {reason}.")
    else:
        problem = _problem("MANIFEST_ROW_WITHOUT_FILE", f"{mf.name}, rad {row.number}: filen {file_name!r} "
                                                        "finnes ikke i innboksen.")
    return Document(source=file_name or f"{mf.name}#rad{row.number}", file_name=file_name,
                    target=_target_from_row(row),
                    document_type=document_type(row.get("dokumenttype"), rules),
                    comment=row.get("kommentar"), origin="manifest", manifest=manifest, problem=problem)


def _manifest_document(name: str, path: Path, data: bytes, sha: str, row: Row, mf: SourceFile,
                       rules: Rules) -> Document:
    media_type, problem = validate_document(name, data, rules)
    return _whole_file(name, path, data, sha, target=_target_from_row(row),
                       document_type=document_type(row.get("dokumenttype"), rules), comment=row.get("kommentar"),
                       origin="manifest", media_type=media_type,
                       problem=problem or _row_target_problem(row, mf.name),
                       manifest={"name": mf.name, "sha256": mf.sha256, "row": row.number})


def _convention_document(name: str, path: Path, data: bytes, sha: str, rules: Rules) -> Document:
    media_type, problem = validate_document(name, data, rules)
    target, doc_type = Target(), rules.default_document_type
    origin = "none"
    for convention in rules.file_name_conventions:
        groups = convention.match(name)
        if groups is not None:
            target = Target(voucher_number=groups.get("voucher_number", ""),
                            supplier_org_no=groups.get("supplier_org_no", ""),
                            invoice_number=groups.get("invoice_number", ""))
            doc_type = document_type(convention.document_type or "", rules)
            origin = "convention"
            break
    if problem is None and not target.known:
        problem = _problem("FILE_WITHOUT_MANIFEST_ROW",
                           f"Filen {name!r} står ikke i noe manifest, og navnet følger ingen "
                           "navnekonvensjon.")
    return _whole_file(name, path, data, sha, target=target, document_type=doc_type, origin=origin,
                       media_type=media_type, problem=problem)


def _ehf_documents(name: str, path: Path, data: bytes, sha: str, rules: Rules) -> list[Document]:
    problem = as_problem(name_problem(name))
    if problem is None:
        try:
            invoice = parse_ehf(data, source=name)
        except EhfError as exc:
            problem = _problem("CORRUPT_FILE", f"EHF-fakturaen kan ikke leses: {exc}")
    if problem:
        return [_whole_file(name, path, data, sha, target=Target(), document_type=rules.ehf_document_type,
                            origin="ehf", media_type="application/xml", problem=problem)]
    target = Target(supplier_org_no=invoice.supplier_org_no, invoice_number=invoice.invoice_number)
    docs = []
    seen: dict[str, int] = {}
    for att in invoice.attachments:
        seen[att.filename] = seen.get(att.filename, 0) + 1
        label = att.filename if seen[att.filename] == 1 else f"{att.filename} ({seen[att.filename]})"
        media_type, problem = validate_document(att.filename, att.content, rules)
        docs.append(Document(
            source=f"{name}#{label}", file_name=att.filename, target=target,
            document_type=rules.ehf_document_type,
            comment=att.description or f"Vedlegg til EHF-faktura {invoice.invoice_number}",
            origin="ehf", container=name, container_path=str(path), embedded_position=att.position,
            sha256=hashlib.sha256(att.content).hexdigest(), size=len(att.content), media_type=media_type,
            problem=problem))
    return docs
