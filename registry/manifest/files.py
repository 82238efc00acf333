"""Reading a registry file: bounded YAML with a line for every value, checked against the schema.

A file is refused before anything reads the registry when it is larger than MAX_BYTES, is not
one YAML document whose top level is a mapping, uses an anchor, alias or tag of its own (an
alias can multiply a small file into a huge document), nests deeper than MAX_DEPTH, repeats a
key in a mapping, or breaks `registry/manifest.schema.json`. Each problem names the line of the
node at fault, so the message reads `registry.yaml:LINE: path: message`.
"""

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from registry.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024  # a registry of thousands of contracts is well under 1 MB
MAX_DEPTH = 12  # the format nests 7 levels deep (businesses/CODE/contracts/REF/entrustments/N/purposes)
MAX_PROBLEMS = 20  # problems one refusal lists; the rest are counted
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "manifest.schema.json"
PLAIN_TAGS = {  # the tags YAML resolves plain scalars to; any other tag is the file's own
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
}
Path_ = tuple[str | int, ...]
# libyaml's parser when PyYAML was built with it: the same events and nodes, several times faster
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line, 1-based; 0 when the file as a whole) and why."""

    line: int
    path: str
    message: str
    code: str = "INVALID_INPUT"

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        return f"{where}: {self.path + ': ' if self.path else ''}{self.message}"


class FileRefused(InvalidInput):
    """A registry file refused whole: every problem found, each with its line."""

    def __init__(self, problems: list[Problem]):
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        super().__init__("; ".join(p.message for p in shown) + (f"; and {more} more" if more else ""))
        self.file_problems = shown
        self.more = more

    def render(self, source: str) -> str:
        lines = [p.render(source) for p in self.file_problems]
        if self.more:
            lines.append(f"{source}: and {self.more} more problems")
        return "\n".join(lines)


@dataclass(frozen=True)
class Document:
    """A parsed file: its plain value (dates still ISO strings) and the line of every node."""

    value: dict[str, Any]
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int:
        """The line of the node at `path`, or of its nearest ancestor the file has."""
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def dotted(path: Path_) -> str:
    return "/".join(str(part) for part in path)


def refuse(line: int, path: Path_, message: str) -> FileRefused:
    return FileRefused([Problem(line, dotted(path), message)])


def parse(data: bytes) -> Document:
    """The document in `data`, with the line of every node; FileRefused when it is none."""
    if len(data) > MAX_BYTES:
        raise refuse(0, (), f"the file holds {len(data):,} bytes; at most {MAX_BYTES:,} are read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(0, (), f"the file is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        _check_events(text)
        node = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise refuse(mark.line + 1 if mark else 0, (), f"not valid YAML: {problem}") from None
    if not isinstance(node, yaml.MappingNode):
        raise refuse(node.start_mark.line + 1 if node else 0, (), "the top level must be a mapping "
                     "(version, businesses, subcontractors, recipients)")
    lines: dict[Path_, int] = {}
    return Document(_plain(node, (), lines), lines)


def _check_events(text: str) -> None:
    """Anchors, aliases and nesting, seen in the event stream before any node is built."""
    depth = 0
    for event in yaml.parse(text, Loader=LOADER):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise refuse(line, (), "anchors and aliases (&name, *name) are not allowed: write each value out")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise refuse(line, (), f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


_SCALARS = yaml.SafeLoader("")  # builds plain scalars (ints, booleans, nulls) as safe_load does


def _plain(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if node.tag not in PLAIN_TAGS:
        raise refuse(lines[path], path, f"the tag {node.tag[:50]} is not allowed")
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key_node.tag != "tag:yaml.org,2002:str":
                raise refuse(key_node.start_mark.line + 1, path, "a key must be plain text")
            if key in mapping:
                raise refuse(key_node.start_mark.line + 1, path + (key,), "this key appears twice in its mapping")
            mapping[key] = _plain(value_node, path + (key,), lines)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, path + (n,), lines) for n, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # checked as an ISO date by the schema, read by `day`
    if node.tag == "tag:yaml.org,2002:float":
        return node.value  # no field is a number with a fraction: the schema refuses it as text
    return _SCALARS.construct_object(node)


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the format (draft 2020-12)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())


def validate(document: Document) -> None:
    """FileRefused with every way the document breaks the schema, in the order of the file."""
    problems = []
    for error in _validator().iter_errors(document.value):
        path = tuple(error.absolute_path)
        problems.append(Problem(document.line_of(_culprit(error, path)), dotted(path), _said(error)))
    if problems:
        raise FileRefused(sorted(problems, key=lambda p: (p.line, p.path)))


def _culprit(error: jsonschema.ValidationError, path: Path_) -> Path_:
    """Where the file is wrong: an unexpected key's own line rather than its mapping's."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        extra = [key for key in error.instance if key not in known]
        if extra:
            return path + (extra[0],)
    return path


def _said(error: jsonschema.ValidationError) -> str:
    """The validator's message, without echoing a long value back whole."""
    message = error.message
    return message if len(message) <= 300 else message[:297] + "..."


def day(value: str | None, document: Document, path: Path_) -> date | None:
    """A date the schema has seen as YYYY-MM-DD; one that names no day is refused with its line."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise refuse(document.line_of(path), path, f"{value!r} is not a calendar date") from None
