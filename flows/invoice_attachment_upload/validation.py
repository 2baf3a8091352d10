"""Checks a document must pass before anything is sent to the finance system: the shared file
checks (connectors.filecheck: type by content, PDF/image/spreadsheet whole, no zip bomb, a safe
name) with the limits of the definition's rules, each problem sorted into this process's
exception category.
"""

from __future__ import annotations

from connectors.filecheck import FileProblem, check_file
from flows.invoice_attachment_upload.rules import Rules

CATEGORIES = {"name": "UNSAFE_FILE_NAME", "empty": "CORRUPT_FILE", "size": "FILE_TOO_LARGE",
              "type": "FILE_TYPE_NOT_ALLOWED", "content": "CORRUPT_FILE"}


def as_problem(problem: FileProblem | None) -> dict[str, str] | None:
    """A document's refusal as the work item records it: {"category", "message"}."""
    return {"category": CATEGORIES[problem.kind], "message": problem.message} if problem else None


def validate_document(name: str, data: bytes, rules: Rules) -> tuple[str, dict[str, str] | None]:
    """(media type by content, the first problem or None)."""
    media_type, problem = check_file(name, data, max_bytes=rules.max_file_bytes,
                                     allowed_media_types=rules.allowed_media_types,
                                     max_uncompressed_bytes=rules.max_uncompressed_bytes,
                                     max_compression_ratio=rules.max_compression_ratio)
    return media_type, as_problem(problem)
