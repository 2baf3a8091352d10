"""The settings as a Markdown table (README's configuration section is generated from this)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from config.settings import PACKAGE_DIR, Settings

_NOT_SHOWN = "(secret)"


def _default(field: FieldInfo) -> str:
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if isinstance(value, SecretStr):
        return _NOT_SHOWN
    if isinstance(value, BaseModel):
        return ""
    if value is None:
        return "(none)"
    if isinstance(value, Path) and value.is_absolute() and value.is_relative_to(PACKAGE_DIR.parent):
        return str(value.relative_to(PACKAGE_DIR.parent))  # shipped with the code, not machine-specific
    if isinstance(value, list):
        return " ".join(map(str, value))
    return str(value)


def settings_rows() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for every leaf setting."""
    rows: list[tuple[str, str, str]] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name.upper()}__")
            else:
                rows.append((f"{prefix}{name.upper()}", _default(field), field.description or ""))

    walk(Settings, "RPA_")
    return rows


def settings_markdown() -> str:
    lines = ["| Environment variable | Default | Meaning |", "|---|---|---|"]
    for env, default, description in settings_rows():
        default = default.replace("|", "\\|")
        lines.append(f"| `{env}` | `{default}` | {description} |" if default else f"| `{env}` | | {description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_markdown())
