"""The `rules` block of config/processes/invoice-attachment-upload.yaml, typed and validated.

What a process owner may change without a code change: the size limit, the allowed content
types, the file-name conventions, where files are archived and quarantined, which door the
robot uses by default (the definition's `source`), and how many browser contexts the web door
runs side by side.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.filecheck import ODS, XLSX

TARGET_GROUPS = {"voucher_number", "supplier_org_no", "invoice_number"}

# BIS Billing 3.0 allows these attachment types (rule BR-CL-24 / the MIME code list).
BIS3_MEDIA_TYPES = ["application/pdf", "image/png", "image/jpeg", "text/csv", XLSX, ODS]


class FileNameConvention(BaseModel):
    """A file name that says where the document goes, e.g. `<bilagsnummer>_<anything>.<ext>`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=2, description="Short description shown in receipts and docs.")
    pattern: str = Field(
        description="Regular expression matched against the whole file name, with named groups "
        "`voucher_number`, or `supplier_org_no` and `invoice_number`.")
    document_type: str | None = Field(None, description="Document type for files of this convention.")
    require_valid_orgnr: bool = Field(
        True, description="Only match when `supplier_org_no` has a valid mod-11 check digit.")

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        groups = set(compiled.groupindex)
        unknown = groups - TARGET_GROUPS
        if unknown:
            raise ValueError(f"unknown named group(s) {sorted(unknown)}; use {sorted(TARGET_GROUPS)}")
        if "voucher_number" not in groups and not {"supplier_org_no", "invoice_number"} <= groups:
            raise ValueError("the pattern needs a group `voucher_number`, or both `supplier_org_no` "
                             "and `invoice_number`")
        return value

    def match(self, file_name: str) -> dict[str, str] | None:
        m = re.fullmatch(self.pattern, file_name)
        if not m:
            return None
        groups = {k: v for k, v in m.groupdict().items() if v}
        if self.require_valid_orgnr and groups.get("supplier_org_no"):
            from connectors.identifiers import valid_orgnr

            if not valid_orgnr(groups["supplier_org_no"]):
                return None
        return groups


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_file_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest document accepted (bytes).")
    allowed_media_types: list[str] = Field(
        default_factory=lambda: list(BIS3_MEDIA_TYPES),
        description="Content types accepted, decided from the bytes (magic numbers), not the extension.")
    max_uncompressed_bytes: int = Field(
        100 * 1024 * 1024, gt=0, description="Largest total a zip-based document (xlsx, ods, docx) may unpack to "
        "(bytes); above it the file is refused as a possible decompression bomb.")
    max_compression_ratio: float = Field(
        100, gt=1, description="Largest unpacked/packed size ratio of a zip-based document; above it the file is "
        "refused as a possible decompression bomb.")
    file_name_conventions: list[FileNameConvention] = Field(
        default_factory=list, description="Tried in order for files that no manifest row names.")
    manifest_names: list[str] = Field(
        default_factory=lambda: ["manifest*.csv", "manifest*.xlsx"],
        description="Glob patterns (case-insensitive) of manifest files in the drop folder.")
    default_document_type: str = Field("Underbilag", description="Document type when none is given.")
    ehf_document_type: str = Field("Vedlegg til EHF-faktura", description="Document type of EHF attachments.")
    document_types: list[str] = Field(
        default_factory=list,
        description="Document types the finance system offers, spelled as it lists them; a manifest "
        "value outside the list gets `default_document_type` (the web form offers only these). Empty: "
        "values are passed on as written.")
    archive_dir: str = Field("archive/invoice-attachment-upload",
                             description="Archive root (dated folders below it); relative to the data folder.")
    quarantine_dir: str = Field("quarantine/invoice-attachment-upload",
                                description="Quarantine root (dated folders below it); relative to the data folder.")
    work_dir: str = Field("work/invoice-attachment-upload",
                          description="The robot's own bookkeeping (upload journal); relative to the data folder.")
    min_file_age_seconds: float = Field(
        0, ge=0, description="Leave files younger than this for the next run (still being copied).")
    ignore_names: list[str] = Field(
        default_factory=lambda: ["*.part", "*.tmp", "*.crdownload", "~$*", "Thumbs.db", ".DS_Store"],
        description="Glob patterns of files in the drop folder that are never documents (partial copies).")
    check_attached_elsewhere: bool = Field(
        True, description="Refuse a document already attached to another voucher (ATTACHED_ELSEWHERE).")
    batch_size: int = Field(32, ge=1, le=1000, description="Items claimed at a time.")
    api_concurrency: int = Field(8, ge=1, le=64, description="Uploads in flight at once through the API.")
    web_contexts: int = Field(2, ge=1, le=16,
                              description="Browser contexts side by side (web door); about one per free core.")
    wait_for_retries_seconds: float = Field(
        90, ge=0, description="A run waits this long for items in retry backoff before it settles.")

    @model_validator(mode="after")
    def _types(self) -> Rules:
        if not self.allowed_media_types:
            raise ValueError("allowed_media_types must name at least one type")
        return self
