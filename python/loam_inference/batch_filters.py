"""Batch transform DataProcessing: InputFilter/OutputFilter (a JSONPath subset) and JoinSource.

SageMaker's batch transform filters and joins records when ``SplitType`` is ``Line``:

- a CSV record is the list of its fields, a JSON / JSON Lines record the parsed JSON value;
- ``InputFilter`` picks what the model sees of each input record, ``OutputFilter`` what is
  written of each (joined) output record;
- ``JoinSource: Input`` joins each output record to its original input record (CSV: the
  fields side by side; JSON: ``"SageMakerOutput"`` added to an object, or appended to an
  array).

The JSONPath subset: ``$``, ``$.key``, ``$['key']``, ``$["key"]``, ``$['a','b']`` (an object
with those keys, in that order), ``$[i]``, ``$[i,j,...]`` and ``$[start:end:step]`` (Python-like,
negative indices allowed), chained (``$.a.b``, ``$.a[0]``).  After a selector that picks
several elements (a slice or several indices) the following steps apply to each of them.
"""

from __future__ import annotations

import csv
import io
import json
import re

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
X_JSONLINES = "application/x-jsonlines"
TEXT = "text/plain"

# Record formats: how a record is parsed and written back.
CSV_RECORDS = "csv"
JSON_RECORDS = "json"

INPUT_TYPES = {CSV: CSV_RECORDS, JSON: JSON_RECORDS, JSONLINES: JSON_RECORDS,
               X_JSONLINES: JSON_RECORDS}
# Responses that can be split into records: lines of CSV (or plain text), JSON Lines, or JSON.
OUTPUT_TYPES = {**INPUT_TYPES, TEXT: CSV_RECORDS}
SUPPORTED = "text/csv, application/json or application/jsonlines"


class FilterSyntaxError(ValueError):
    """A JSONPath expression outside the supported subset (a ClientError at job start)."""


class RecordError(ValueError):
    """A record that cannot be parsed, filtered or joined."""


# ---------------------------------------------------------------------------------------------
# JSONPath subset

_NAME = re.compile(r"[^.\[\]\s'\"*()?@,:]+")
_INT = re.compile(r"-?\d+\Z")


def _syntax(expression, why):
    return FilterSyntaxError(
        f"unsupported JSONPath expression {expression!r}: {why} (supported: $, $.key, $['key'], "
        "$['a','b'], $[i], $[i,j], $[start:end], chained like $.a[0])")


def _parse_bracket(expression, text):
    """The inside of ``[...]`` → a step tuple."""
    inner = text.strip()
    if not inner:
        raise _syntax(expression, "empty brackets")
    if inner[0] in "'\"":
        keys = []
        pos = 0
        while True:
            while pos < len(inner) and inner[pos] == " ":
                pos += 1
            if pos >= len(inner) or inner[pos] not in "'\"":
                raise _syntax(expression, f"expected a quoted key in [{text}]")
            quote = inner[pos]
            pos += 1
            chars = []
            while pos < len(inner) and inner[pos] != quote:
                if inner[pos] == "\\" and pos + 1 < len(inner):
                    pos += 1
                chars.append(inner[pos])
                pos += 1
            if pos >= len(inner):
                raise _syntax(expression, f"unterminated quoted key in [{text}]")
            keys.append("".join(chars))
            pos += 1
            while pos < len(inner) and inner[pos] == " ":
                pos += 1
            if pos == len(inner):
                break
            if inner[pos] != ",":
                raise _syntax(expression, f"expected ',' between keys in [{text}]")
            pos += 1
        return ("key", keys[0]) if len(keys) == 1 else ("keys", tuple(keys))
    if ":" in inner:
        parts = [p.strip() for p in inner.split(":")]
        if len(parts) > 3 or any(p and not _INT.match(p) for p in parts):
            raise _syntax(expression, f"[{text}] is not a slice of integers")
        bounds = [int(p) if p else None for p in parts] + [None] * (3 - len(parts))
        if bounds[2] == 0:
            raise _syntax(expression, "a slice step cannot be zero")
        return ("slice", slice(*bounds))
    parts = [p.strip() for p in inner.split(",")]
    if not all(_INT.match(p) for p in parts):
        raise _syntax(expression, f"[{text}] is not an index, a list of indices, a slice or "
                                  "quoted keys (wildcards and filters are not supported)")
    indices = tuple(int(p) for p in parts)
    return ("index", indices[0]) if len(indices) == 1 else ("indices", indices)


def _find_closing(expression, start):
    """The index of the ``]`` closing the bracket opened at ``start`` (quotes respected)."""
    pos = start + 1
    quote = None
    while pos < len(expression):
        char = expression[pos]
        if quote:
            if char == "\\":
                pos += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "]":
            return pos
        pos += 1
    raise _syntax(expression, "unbalanced '['")


def parse_path(expression):
    """``'$.a[0]'`` → ``[("key", "a"), ("index", 0)]``; FilterSyntaxError outside the subset."""
    if not isinstance(expression, str):
        raise FilterSyntaxError(f"a JSONPath expression must be a string, not {expression!r}")
    text = expression.strip()
    if not text.startswith("$"):
        raise _syntax(expression, "it must start with '$'")
    steps = []
    pos = 1
    while pos < len(text):
        char = text[pos]
        if char == ".":
            if text.startswith("..", pos):
                raise _syntax(expression, "recursive descent '..' is not supported")
            match = _NAME.match(text, pos + 1)
            if not match:
                raise _syntax(expression, f"expected a key name after '.' at position {pos}")
            steps.append(("key", match.group()))
            pos = match.end()
        elif char == "[":
            end = _find_closing(text, pos)
            steps.append(_parse_bracket(expression, text[pos + 1:end]))
            pos = end + 1
        else:
            raise _syntax(expression, f"unexpected {char!r} at position {pos}")
    for index, step in enumerate(steps[:-1]):
        if step[0] == "keys":
            raise _syntax(expression, "an object projection ['a','b'] must be the last step")
    return steps


def _kind(value):
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__ if value is not None else "null"


def _apply_step(step, value, expression):
    op, arg = step
    if op == "key":
        if not isinstance(value, dict):
            raise RecordError(f"{expression}: key {arg!r} needs an object, got {_kind(value)}")
        try:
            return value[arg]
        except KeyError:
            raise RecordError(f"{expression}: the record has no key {arg!r}") from None
    if op == "keys":
        if not isinstance(value, dict):
            raise RecordError(f"{expression}: keys need an object, got {_kind(value)}")
        missing = [key for key in arg if key not in value]
        if missing:
            raise RecordError(f"{expression}: the record has no key {missing[0]!r}")
        return {key: value[key] for key in arg}
    if not isinstance(value, list):
        raise RecordError(f"{expression}: an index needs an array, got {_kind(value)}")
    if op == "slice":
        return value[arg]
    try:
        if op == "index":
            return value[arg]
        return [value[i] for i in arg]
    except IndexError:
        raise RecordError(
            f"{expression}: index out of range for a record of {len(value)} "
            f"{'fields' if value and isinstance(value[0], str) else 'items'}") from None


class JsonPath:
    """A compiled expression: ``path(value)`` → the selected value (RecordError if absent)."""

    __slots__ = ("expression", "steps", "identity")

    def __init__(self, expression):
        self.expression = expression
        self.steps = parse_path(expression)
        self.identity = not self.steps

    def __call__(self, value):
        expression = self.expression
        multi = False
        for step in self.steps:
            if multi:
                selected = []
                for item in value:
                    out = _apply_step(step, item, expression)
                    if step[0] in ("slice", "indices"):
                        selected.extend(out)
                    else:
                        selected.append(out)
                value = selected
            else:
                value = _apply_step(step, value, expression)
                multi = step[0] in ("slice", "indices")
        return value

    def __repr__(self):
        return f"JsonPath({self.expression!r})"


# ---------------------------------------------------------------------------------------------
# Records: parse, serialise, split a response, join


class CsvWriter:
    """Serialises a list of fields as one CSV line (no terminator), reusing one buffer."""

    def __init__(self):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="")

    def line(self, fields) -> str:
        text = ",".join(fields)
        # Nothing to quote (the common case): the fields joined are the CSV line.
        if ('"' not in text and "\n" not in text and "\r" not in text
                and text.count(",") == len(fields) - 1 and (text or len(fields) != 1)):
            return text
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._writer.writerow(fields)
        return buffer.getvalue()


def parse_csv_line(text: str) -> list:
    """One CSV line → its fields (a trailing ``\\r`` is part of the terminator)."""
    if text.endswith("\r"):
        text = text[:-1]
    if '"' not in text:
        return text.split(",") if text else []
    try:
        return next(csv.reader((text,)))
    except StopIteration:
        return []
    except csv.Error as exc:
        raise RecordError(f"not valid CSV: {exc}") from None


def parse_json_text(text: str):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RecordError(f"not valid JSON: {exc}") from None


def _csv_field(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def to_csv_fields(value) -> list:
    """A JSON value as CSV fields: an array's items, or the value as one field."""
    if isinstance(value, list):
        return [_csv_field(item) for item in value]
    return [_csv_field(value)]


def _json_scalar(field: str):
    try:
        number = json.loads(field)
    except ValueError:
        return field
    return number if isinstance(number, (int, float)) and not isinstance(number, bool) else field


def to_json_value(fields):
    """CSV fields as a JSON value: numbers where they parse; one field is a scalar."""
    values = [_json_scalar(field) for field in fields]
    return values[0] if len(values) == 1 else values


def serialise(value, kind: str, writer: CsvWriter) -> str:
    """A (filtered) record in its format, as one line without terminator."""
    if kind == CSV_RECORDS:
        if isinstance(value, list):
            return writer.line(value if all(isinstance(v, str) for v in value)
                               else [_csv_field(v) for v in value])
        return writer.line([_csv_field(value)])
    return json.dumps(value, separators=(",", ":"))


def _identity(value):
    return value


def split_response(text: str, kind: str, media: str, count: int):
    """A response for ``count`` records → ``(items, parse)``: ``parse(item)`` is the record.

    Lines (CSV, JSON Lines, or newline-separated JSON values) are parsed one at a time by the
    caller, so a large response is never held as parsed records all at once.
    """
    if media == JSON:
        missing = object()
        value = missing
        try:
            value = json.loads(text)
        except ValueError:
            pass
        if value is not missing:
            if isinstance(value, list) and len(value) == count:
                return value, _identity
            if (isinstance(value, dict) and isinstance(value.get("predictions"), list)
                    and len(value) == 1 and len(value["predictions"]) == count):
                return value["predictions"], _identity  # TF-Serving style {"predictions": [...]}
            if count == 1:
                return [value], _identity
            if isinstance(value, list):
                raise RecordError(f"the model returned {len(value)} records for {count}")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    if any(not line.strip() for line in lines):
        lines = [line for line in lines if line.strip()]
    if len(lines) != count:
        raise RecordError(f"the model returned {len(lines)} records for {count}")
    return lines, parse_csv_line if kind == CSV_RECORDS else _json_line


def _json_line(text: str):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RecordError(f"the response is not JSON Lines: {exc}") from None


def join(input_record, input_kind: str, output_record, output_kind: str):
    """JoinSource Input: the original input record with the output record joined to it."""
    if input_kind == CSV_RECORDS:
        fields = output_record if output_kind == CSV_RECORDS else to_csv_fields(output_record)
        return list(input_record) + list(fields)
    value = output_record if output_kind == JSON_RECORDS else to_json_value(output_record)
    if isinstance(input_record, dict):
        joined = dict(input_record)
        joined["SageMakerOutput"] = value
        return joined
    if isinstance(input_record, list):
        return input_record + [value]
    raise RecordError("cannot join the output to a JSON input record that is "
                      f"{_kind(input_record)} "
                      "(it must be an object or an array)")
