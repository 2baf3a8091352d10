"""Loading the process catalogue, with errors a process owner can act on (never a traceback)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from config.process_definition import CODE, SLUG, ProcessDefinition, id_from_filename

_YAML_KINDS = {list: "list", str: "text", int: "number", float: "number", bool: "true/false value"}


@dataclass(frozen=True)
class Problem:
    field: str  # dotted path into the YAML, e.g. "exception_categories.2.sla_hours"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class DefinitionError(Exception):
    """A process definition that cannot be used; names the file, the field and what is wrong."""

    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = Path(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: invalid process definition\n{lines}")


# Patterns of the definition model, said in words a process owner understands.
_PATTERNS = {
    SLUG: "must be lower-case letters and digits in words joined by '-' (e.g. nav-refund-offsetting)",
    CODE: "must be UPPER_SNAKE_CASE letters and digits (e.g. AMOUNT_DIFFERENCE)",
}
# "<field path>: <what is wrong>" lines of the model-level checks (see ProcessDefinition._consistent).
_LOCATED = re.compile(r"^(?P<path>[a-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*): (?P<msg>.+)$", re.S)


def _problems_from(exc: ValidationError, prefix: str = "") -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "string_pattern_mismatch":
            pattern = (err.get("ctx") or {}).get("pattern", "")
            msg = f"{_PATTERNS.get(pattern, msg)}; got {err['input']!r}"
        if err["type"] == "value_error":
            for line in msg.splitlines():
                located = _LOCATED.match(line)
                if located:
                    path = ".".join(p for p in (loc, located["path"]) if p)
                    problems.append(Problem(f"{prefix}{path}", located["msg"]))
                else:
                    problems.append(Problem(f"{prefix}{loc}", line))
            continue
        problems.append(Problem(f"{prefix}{loc}", msg))
    return problems


class _StrictLoader(yaml.SafeLoader):
    """safe_load, except that a key given twice is an error (PyYAML silently keeps the last:
    a second `retry:` block pasted at the end would quietly replace the first)."""


def _no_duplicate_keys(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def parse_definition(path: Path) -> ProcessDefinition:
    """Read and validate one YAML file; raises DefinitionError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(path, [Problem("", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(path, [Problem("", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError(path, [Problem("", f"YAML syntax error at {where}{problem}")]) from None
    if data is None:
        raise DefinitionError(path, [Problem("", "the file is empty")])
    if not isinstance(data, dict):
        raise DefinitionError(path, [Problem("", "the file must be a YAML mapping (key: value), not "
                                                 f"a {_YAML_KINDS.get(type(data), type(data).__name__)}")])
    try:
        definition = ProcessDefinition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(path, _problems_from(exc)) from None
    expected = id_from_filename(path.name)
    if expected and expected != definition.id:
        raise DefinitionError(path, [Problem("id", f"{definition.id!r} does not match the file name "
                                                   f"(expected {expected!r})")])
    return definition


def rules_problems(exc: ValidationError) -> list[Problem]:
    """Problems of a flow's rules model, located under `rules.` in the YAML."""
    return _problems_from(exc, prefix="rules.")


def definition_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def load_catalogue(directory: Path) -> dict[str, ProcessDefinition]:
    """Every definition in the folder; raises DefinitionError for the first broken one."""
    catalogue: dict[str, ProcessDefinition] = {}
    for path in definition_files(directory):
        definition = parse_definition(path)
        if definition.id in catalogue:
            raise DefinitionError(path, [Problem("id", f"{definition.id!r} is defined twice")])
        catalogue[definition.id] = definition
    return catalogue
