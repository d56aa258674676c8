"""The handler chain: the user's module, its functions adapted once, and one invocation.

sagemaker-inference semantics: the user module may define ``model_fn``, ``input_fn``,
``predict_fn``, ``output_fn`` or ``transform_fn`` (which replaces the middle three); each may
take a trailing ``context`` argument.  Missing functions use the defaults.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import threading
import time
import traceback

from . import codecs, defaults
from .errors import BadRequest, describe, status_of

_state = threading.local()  # per request: did the default input_fn see TF-Serving JSON?
_tfserving_always = False  # LOAM_RESPONSE_STYLE=tfserving


def default_input_fn(input_data, content_type):
    """Decodes JSON, CSV, NPY, NPZ, JSON Lines and LIBSVM bodies (see codecs)."""
    data, tfserving = codecs.decode(input_data, content_type)
    if tfserving:
        _state.tfserving = True
    return data


def default_output_fn(prediction, accept):
    """Encodes to JSON, CSV, NPY or JSON Lines; TF-Serving requests get {"predictions": ...}."""
    tfserving = _tfserving_always or getattr(_state, "tfserving", False)
    return codecs.encode(prediction, accept, tfserving)


class Context:
    """What a handler with a ``context`` parameter receives (MMS's Context, for one request).

    ``get_request_header(0, name)``, ``request_processor[0].get_request_properties()`` and
    ``system_properties`` as sagemaker-inference scripts use them, plus ``custom_attributes``;
    ``set_response_header``/``set_response_content_type``/``set_response_status`` shape the
    response (``X-Amzn-SageMaker-Custom-Attributes`` is returned to the caller by Loam).
    """

    def __init__(self, system_properties, headers=None, content_type=None, accept=None):
        self.system_properties = system_properties
        self.model_dir = system_properties.get("model_dir")
        self.content_type = content_type
        self.accept = accept
        self._headers = headers
        self.response_headers = {}
        self.response_content_type = None
        self.response_status = None

    @property
    def custom_attributes(self):
        return self.get_request_header(0, "X-Amzn-SageMaker-Custom-Attributes")

    def get_request_header(self, idx, key):
        return self._headers.get(key) if self._headers is not None else None

    def get_all_request_header(self, idx=0):
        return dict(self._headers.items()) if self._headers is not None else {}

    def get_request_properties(self):
        return self.get_all_request_header()

    @property
    def request_processor(self):
        return [self]

    def set_response_header(self, idx, key, value):
        key, value = str(key), str(value)
        if any(c in key + value for c in "\r\n"):
            raise ValueError("response header names and values cannot contain line breaks")
        self.response_headers[key] = value

    def set_response_content_type(self, idx, value):
        if any(c in str(value) for c in "\r\n"):
            raise ValueError("a content type cannot contain line breaks")
        self.response_content_type = str(value)

    def set_response_status(self, code=200, phrase="", idx=0):
        self.response_status = int(code)


def _takes_context(fn, name: str, required: int) -> bool:
    """Whether ``fn`` takes a context after its ``required`` arguments (asked once, at startup)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins: assume the plain form
        return False
    positional = 0
    variadic = False
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            positional += 1
        elif parameter.kind is parameter.VAR_POSITIONAL:
            variadic = True
    if positional < required and not variadic:
        raise TypeError(
            f"{name} takes {positional} positional argument(s), it must take {required} "
            "(and optionally a context)"
        )
    return positional > required


class StartupError(Exception):
    """A startup step failed; ``step`` names it in the worker's last stderr line."""

    def __init__(self, step: str, cause: BaseException):
        super().__init__(f"{step} failed: {describe(cause)}")
        self.step = step
        self.cause = cause


def _system_properties(config) -> dict:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    has_gpu = visible not in ("", "-1", "none", "NoDevFiles")
    return {
        "model_dir": config.model_dir,
        "gpu_id": 0 if has_gpu else None,
        "server_name": "loam_inference",
        "batch_size": 1,
    }


def load_user_module(config, log):
    """Imports ``SAGEMAKER_PROGRAM`` from the code dir (first on sys.path); None if unset."""
    code_dir = os.path.abspath(config.code_dir)
    if os.path.isfile(os.path.join(code_dir, "requirements.txt")):
        log(f"{code_dir}/requirements.txt is not installed: Loam does not pip-install at "
            "endpoint start; the worker's Python must already have what it lists")
    if not config.program:
        log("no SAGEMAKER_PROGRAM: default handlers only")
        return None
    path = os.path.join(code_dir, config.program)
    if not os.path.isfile(path) and os.path.isfile(path + ".py"):
        path += ".py"
    if not os.path.isfile(path):
        raise FileNotFoundError(f"SAGEMAKER_PROGRAM {config.program!r} not found in {code_dir}")
    for directory in dict.fromkeys((os.path.dirname(path), code_dir)):  # code dir ends first
        if directory in sys.path:
            sys.path.remove(directory)
        sys.path.insert(0, directory)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so the script's own pickles and relative lookups resolve
    spec.loader.exec_module(module)
    return module


class Service:
    """The loaded model and its handler chain; ``invoke`` runs one request."""

    def __init__(self, config, log=print):
        self.config = config
        self.log = log
        self.model = None
        self._system_properties = _system_properties(config)
        self._chain = None
        self._wants_context = False
        self._default_input = False
        self._strict_accept = False

    # -- startup --------------------------------------------------------------------------

    def load(self) -> None:
        global _tfserving_always
        _tfserving_always = self.config.tfserving
        log = self.log
        try:
            module = load_user_module(self.config, log)
        except BaseException as exc:
            raise StartupError(f"importing {self.config.program or 'user code'}", exc) from exc

        def user(name):
            fn = getattr(module, name, None) if module is not None else None
            return fn if callable(fn) else None

        functions = {name: user(name) for name in
                     ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")}
        if module is not None:
            found = [name for name, fn in functions.items() if fn is not None]
            log(f"imported {module.__file__}: handlers {', '.join(found) or 'none'}"
                f"{'' if found else ' (defaults for all)'}")
        try:
            shapes = {"model_fn": 1, "input_fn": 2, "predict_fn": 2, "output_fn": 2,
                      "transform_fn": 4}
            takes = {name: _takes_context(fn, name, shapes[name])
                     for name, fn in functions.items() if fn is not None}
        except TypeError as exc:
            raise StartupError(f"checking {self.config.program}", exc) from exc

        started = time.monotonic()
        try:
            model_fn = functions["model_fn"]
            if model_fn is None:
                self.model = defaults.load_model(self.config.model_dir, log)
            elif takes["model_fn"]:
                self.model = model_fn(self.config.model_dir, Context(self._system_properties))
            else:
                self.model = model_fn(self.config.model_dir)
        except BaseException as exc:
            raise StartupError("model_fn", exc) from exc
        log(f"model ready in {time.monotonic() - started:.2f} s: "
            f"{defaults.describe_model(self.model)}"
            f"{'' if functions['model_fn'] is None else ' (user model_fn)'}")

        self._build_chain(functions, takes)

    def _build_chain(self, functions, takes) -> None:
        model = self.model
        transform_fn = functions["transform_fn"]
        if transform_fn is not None:
            self._wants_context = takes["transform_fn"]
            if self._wants_context:
                def chain(data, kind, accept, ctx):
                    return transform_fn(model, data, kind, accept, ctx)
            else:
                def chain(data, kind, accept, ctx):
                    return transform_fn(model, data, kind, accept)
            self._chain = chain
            ignored = [n for n in ("input_fn", "predict_fn", "output_fn") if functions[n]]
            self.log("chain: transform_fn" + (f" ({', '.join(ignored)} unused)" if ignored else ""))
            return

        input_fn = functions["input_fn"] or default_input_fn
        predict_fn = functions["predict_fn"] or defaults.make_predict_fn(model)
        output_fn = functions["output_fn"] or default_output_fn
        in_ctx = takes.get("input_fn", False)
        predict_ctx = takes.get("predict_fn", False)
        out_ctx = takes.get("output_fn", False)
        self._wants_context = in_ctx or predict_ctx or out_ctx
        self._default_input = functions["input_fn"] is None
        self._strict_accept = functions["output_fn"] is None
        if self._default_input or self._strict_accept:
            codecs.numpy()  # import now, not on the first request

        def chain(data, kind, accept, ctx):
            x = input_fn(data, kind, ctx) if in_ctx else input_fn(data, kind)
            y = predict_fn(x, model, ctx) if predict_ctx else predict_fn(x, model)
            return output_fn(y, accept, ctx) if out_ctx else output_fn(y, accept)

        self._chain = chain
        self.log("chain: " + " -> ".join(
            f"{name}{'' if functions[name] else ' (default)'}"
            for name in ("input_fn", "predict_fn", "output_fn")))

    # -- one request ------------------------------------------------------------------------

    def invoke(self, body: bytes, headers):
        """→ ``(status, body, content_type, extra_headers)``; never raises."""
        ctx = None
        started = time.monotonic()
        try:
            kind, charset = codecs.media_type(headers.get("Content-Type"))
            kind = kind or codecs.JSON
            accept = codecs.negotiate(
                headers.get("Accept"), kind, self.config.default_accept, self._strict_accept
            )
            data = body
            if codecs.is_text(kind):
                try:
                    data = body.decode(charset or "utf-8")
                except (UnicodeDecodeError, LookupError) as exc:
                    raise BadRequest(f"payload cannot be decoded as {charset or 'utf-8'}: {exc}")
            if self._wants_context:
                ctx = Context(self._system_properties, headers, kind, accept)
            if self._default_input:
                _state.tfserving = False
            result = self._chain(data, kind, accept, ctx)
            out, content_type = self._response_body(result, accept)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status
            status = status_of(exc)
            if status >= 500:
                lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
                sys.stderr.write("".join(lines))
            return status, describe(exc).encode("utf-8"), "text/plain", None
        finally:
            elapsed = time.monotonic() - started
            if elapsed > self.config.timeout_s:
                self.log(f"warning: an invocation took {elapsed:.1f} s, longer than "
                         f"SAGEMAKER_MODEL_SERVER_TIMEOUT={self.config.timeout_s}")
        if ctx is None:
            return 200, out, content_type, None
        if ctx.response_content_type:
            content_type = ctx.response_content_type
        return ctx.response_status or 200, out, content_type, ctx.response_headers or None

    @staticmethod
    def _response_body(result, accept):
        """bytes/str, or ``(body, content_type)``; other values are encoded for ``accept``."""
        content_type = accept
        if isinstance(result, tuple) and len(result) == 2:
            result, content_type = result
            content_type = content_type or accept
        if isinstance(result, bytes):
            return result, content_type
        if isinstance(result, str):
            return result.encode("utf-8"), content_type
        if isinstance(result, (bytearray, memoryview)):
            return bytes(result), content_type
        kind = codecs.media_type(content_type)[0]
        if kind in codecs.ENCODABLE:
            return codecs.encode(result, kind, _tfserving_always), content_type
        raise TypeError(
            f"the handler returned {type(result).__name__} for {content_type!r}; "
            "return bytes or str (or a (body, content_type) tuple)"
        )
