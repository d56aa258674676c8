"""Content types: request bodies into model inputs, predictions into response bodies.

What SageMaker's inference toolkits' ``decoder``/``encoder`` modules do for the default
``input_fn``/``output_fn``.  numpy (and scipy/pandas where a format needs them) is imported on
first use, so a worker whose handlers never touch these codecs does not pay for it.
"""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache

from .errors import BadRequest, NotAcceptable, UnsupportedContentType

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
NPZ = "application/x-npz"
JSONLINES = "application/jsonlines"
X_JSONLINES = "application/x-jsonlines"
LIBSVM = "text/libsvm"
X_LIBSVM = "text/x-libsvm"
ANY = "*/*"

# The Accept a request gets when it sends none: its own type, if the default output_fn
# can produce it (a CSV request gets CSV back), else the default accept (JSON).
ECHOED_TYPES = frozenset({JSON, CSV, NPY, JSONLINES, X_JSONLINES})

_np = None


def numpy():
    """numpy, imported once on first use (module attribute lookup afterwards)."""
    global _np
    if _np is None:
        import numpy as np

        _np = np
    return _np


@lru_cache(maxsize=256)
def media_type(header: str | None) -> tuple[str, str | None]:
    """``'Text/CSV; charset=latin-1'`` → ``('text/csv', 'latin-1')``; cached per header value."""
    if not header:
        return "", None
    kind, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    return kind.strip().lower(), charset


def is_text(kind: str) -> bool:
    """Bodies of these types reach input_fn as ``str`` (sagemaker-inference decodes UTF-8)."""
    return (
        kind.startswith("text/")
        or kind in (JSON, JSONLINES, X_JSONLINES)
        or kind.endswith("+json")
    )


# ---------------------------------------------------------------------------------------------
# Decoding (default input_fn)


def _text(body) -> str:
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"payload is not valid UTF-8: {exc}") from None


def _array_or_list(value):
    """A rectangular numeric list becomes a numpy array; anything else stays as it is."""
    if not isinstance(value, list) or not value:
        return value
    np = numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged nesting
        return value
    return array if array.dtype.kind in "biuf" else value


def decode_csv(body):
    """One row per line, comma separated, no header; blank lines ignored → 2-D float64."""
    np = numpy()
    rows = [line.split(",") for line in _text(body).splitlines() if line.strip()]
    if not rows:
        raise BadRequest("CSV payload has no rows")
    width = len(rows[0])
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        pass  # find the first bad row/field for the message
    for number, row in enumerate(rows, 1):
        if len(row) != width:
            raise BadRequest(f"CSV row {number} has {len(row)} fields, row 1 has {width}")
        for column, field in enumerate(row, 1):
            try:
                float(field)
            except ValueError:
                raise BadRequest(
                    f"CSV row {number}, column {column}: {field.strip()!r} is not a number"
                ) from None
    raise BadRequest("CSV payload could not be converted to a float array")


def decode_json(body):
    """→ ``(data, tfserving)``: ``{"instances"|"inputs": x}`` is TF-Serving style."""
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise BadRequest(f"payload is not valid JSON: {exc}") from None
    tfserving = False
    if isinstance(value, dict):
        if "instances" in value:
            value, tfserving = value["instances"], True
        elif "inputs" in value:
            value, tfserving = value["inputs"], True
        elif "dataframe_split" in value or "dataframe_records" in value:
            return _mlflow_dataframe(value), False
    return _array_or_list(value), tfserving


def _mlflow_dataframe(value):
    """MLflow scoring-server payloads, for pyfunc models that want a DataFrame."""
    try:
        import pandas as pd
    except ImportError:
        raise UnsupportedContentType("dataframe_split/dataframe_records need pandas") from None
    try:
        if "dataframe_split" in value:
            split = value["dataframe_split"]
            return pd.DataFrame(
                data=split.get("data"), columns=split.get("columns"), index=split.get("index")
            )
        return pd.DataFrame.from_records(value["dataframe_records"])
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadRequest(f"bad MLflow dataframe payload: {exc}") from None


def decode_jsonlines(body):
    """One JSON value per line → their list (an array when rectangular numeric)."""
    values = []
    for number, line in enumerate(_text(body).splitlines(), 1):
        if line.strip():
            try:
                values.append(json.loads(line))
            except ValueError as exc:
                raise BadRequest(f"JSON Lines line {number} is not valid JSON: {exc}") from None
    return _array_or_list(values)


def decode_npy(body):
    np = numpy()
    if isinstance(body, str):
        body = body.encode("latin-1")
    try:
        return np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BadRequest(f"payload is not a valid .npy array: {exc}") from None


def decode_npz(body):
    """A single array comes back as that array, several as a dict name → array."""
    np = numpy()
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError) as exc:
        raise BadRequest(f"payload is not a valid .npz archive: {exc}") from None
    return next(iter(arrays.values())) if len(arrays) == 1 else arrays


def decode_libsvm(body):
    """``[label] index:value ...`` per line → scipy CSR matrix (0-based indices, as xgboost)."""
    try:
        from scipy.sparse import csr_matrix
    except ImportError:
        raise UnsupportedContentType("text/libsvm needs scipy (installed with xgboost)") from None
    values, indices, indptr = [], [], [0]
    for number, line in enumerate(_text(body).splitlines(), 1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        if ":" not in tokens[0]:
            tokens = tokens[1:]  # the label (ignored at inference)
        for token in tokens:
            index, sep, value = token.partition(":")
            try:
                if not sep:
                    raise ValueError
                indices.append(int(index))
                values.append(float(value))
            except ValueError:
                raise BadRequest(f"LIBSVM line {number}: bad feature {token!r}") from None
        indptr.append(len(values))
    if len(indptr) == 1:
        raise BadRequest("LIBSVM payload has no rows")
    if indices and min(indices) < 0:
        raise BadRequest("LIBSVM feature indices must not be negative")
    width = max(indices) + 1 if indices else 0
    return csr_matrix((values, indices, indptr), shape=(len(indptr) - 1, width))


def decode(body, kind: str):
    """→ ``(data, tfserving)`` for the default input_fn; 415 for types it cannot read."""
    if kind == JSON:
        return decode_json(body)
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise UnsupportedContentType(
            f"content type {kind!r} is not supported by the default input_fn "
            f"(supported: {', '.join(sorted([JSON, *_DECODERS]))}); "
            "define input_fn in your inference script to accept it"
        )
    return decoder(body), False


_DECODERS = {
    CSV: decode_csv,
    NPY: decode_npy,
    NPZ: decode_npz,
    JSONLINES: decode_jsonlines,
    X_JSONLINES: decode_jsonlines,
    LIBSVM: decode_libsvm,
    X_LIBSVM: decode_libsvm,
}

# ---------------------------------------------------------------------------------------------
# Encoding (default output_fn)


def to_jsonable(value, records: bool = True):
    """numpy arrays/scalars, torch tensors, pandas objects → plain Python values.

    Duck-typed so nothing is imported: ``tolist`` covers numpy, pandas Series and torch;
    a DataFrame becomes records (as MLflow's scoring server answers) or rows.
    """
    if isinstance(value, (list, dict, str, int, float, bool)) or value is None:
        return value
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        if hasattr(value, "detach"):  # torch: leave the autograd graph and the device
            value = value.detach().cpu()
        return value.tolist()
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # pandas DataFrame
        return value.to_dict(orient="records") if records else value.to_numpy().tolist()
    if isinstance(value, tuple):
        return [to_jsonable(item, records) for item in value]
    return value


def _json_default(value):
    converted = to_jsonable(value)
    if converted is not value:
        return converted
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(prediction, tfserving: bool = False) -> bytes:
    value = to_jsonable(prediction)
    if tfserving:
        value = {"predictions": value}
    return json.dumps(value, default=_json_default).encode("utf-8")


def encode_csv(prediction) -> bytes:
    """One line per row; a 1-D prediction gives one value per line (as numpy.savetxt)."""
    rows = to_jsonable(prediction, records=False)
    if not isinstance(rows, list):
        rows = [rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(row if isinstance(row, (list, tuple)) else (row,) for row in rows)
    return buffer.getvalue().encode("utf-8")


def encode_npy(prediction) -> bytes:
    np = numpy()
    value = prediction
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(value), allow_pickle=False)
    return buffer.getvalue()


def encode_jsonlines(prediction) -> bytes:
    rows = to_jsonable(prediction)
    if not isinstance(rows, list):
        rows = [rows]
    return "".join(json.dumps(row, default=_json_default) + "\n" for row in rows).encode("utf-8")


ENCODABLE = (JSON, CSV, NPY, JSONLINES, X_JSONLINES)


def encode(prediction, kind: str, tfserving: bool = False) -> bytes:
    if kind == JSON:
        return encode_json(prediction, tfserving)
    if kind == CSV:
        return encode_csv(prediction)
    if kind == NPY:
        return encode_npy(prediction)
    if kind in (JSONLINES, X_JSONLINES):
        return encode_jsonlines(prediction)
    raise NotAcceptable(
        f"accept type {kind!r} is not supported by the default output_fn "
        f"(supported: {', '.join(ENCODABLE)}); define output_fn in your inference script"
    )


@lru_cache(maxsize=256)
def negotiate(accept_header: str | None, content_type: str, default: str, strict: bool) -> str:
    """The Accept type to produce, cached per (header, content type).

    No header: the request's own type when it is one the default output_fn echoes, else the
    default.  ``*/*`` means the default.  With several types, the first the default output_fn
    can produce wins; ``strict`` (default output_fn in use) makes "none of them" a 406, else the
    first listed type is handed to the user's output_fn.
    """
    if not accept_header or not accept_header.strip():
        return content_type if content_type in ECHOED_TYPES else default
    kinds = [media_type(part)[0] for part in accept_header.split(",")]
    kinds = [default if kind in (ANY, "") else kind for kind in kinds]
    for kind in kinds:
        if kind in ENCODABLE:
            return kind
    if strict:
        raise NotAcceptable(
            f"accept type {accept_header!r} is not supported by the default output_fn "
            f"(supported: {', '.join(ENCODABLE)}); define output_fn in your inference script"
        )
    return kinds[0]
