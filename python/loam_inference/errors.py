"""Errors that carry an HTTP status.

The server answers an ``InferenceError`` with its own status; any other exception raised by a
handler becomes a 500.  User code may raise these too (or any exception with an integer
``status_code`` attribute between 400 and 599, like sagemaker-inference's
``GenericInferenceToolkitError``) to choose the status Loam reports as OriginalStatusCode.
"""

from __future__ import annotations


class InferenceError(Exception):
    """An error answered with ``status`` and a text/plain ``<Type>: <message>`` body."""

    status = 500

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def status_code(self) -> int:  # the attribute name sagemaker-inference uses
        return self.status


class BadRequest(InferenceError):
    """The payload cannot be decoded (bad CSV, JSON, NPY...)."""

    status = 400


class NotAcceptable(InferenceError):
    """The Accept type cannot be produced by the default output_fn."""

    status = 406


class PayloadTooLarge(InferenceError):
    """The body exceeds SAGEMAKER_MAX_PAYLOAD_IN_MB."""

    status = 413


class UnsupportedContentType(InferenceError):
    """The default input_fn cannot decode this Content-Type."""

    status = 415


class ModelLoadError(Exception):
    """Loading the model (or the user module) failed; the worker exits non-zero."""


def status_of(exc: BaseException) -> int:
    """The HTTP status for an exception raised while handling a request."""
    if isinstance(exc, InferenceError):
        return exc.status
    code = getattr(exc, "status_code", None)
    if isinstance(code, int) and 400 <= code <= 599:
        return code
    return 500


def describe(exc: BaseException) -> str:
    """``<ExceptionType>: <message>`` on one line (what Loam shows as OriginalMessage)."""
    message = str(exc).replace("\r", " ").replace("\n", " ").strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
