"""The worker's settings, read once from the environment Loam (or SageMaker) sets."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .codecs import JSON, media_type

MIB = 1024 * 1024


class ConfigError(ValueError):
    """An environment variable holds a value the worker cannot use."""


def _int_env(env, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise ConfigError(f"{name}={raw!r} is out of range")
    return value


@dataclass(frozen=True)
class Config:
    socket_path: str  # LOAM_WORKER_SOCKET: a Unix socket; "" means TCP on 127.0.0.1:port
    port: int  # SAGEMAKER_BIND_TO_PORT
    model_dir: str  # SM_MODEL_DIR
    code_dir: str  # LOAM_CODE_DIR
    program: str  # SAGEMAKER_PROGRAM ("" = no user code)
    tfserving: bool  # LOAM_RESPONSE_STYLE=tfserving: JSON is always {"predictions": ...}
    max_payload_mb: int  # SAGEMAKER_MAX_PAYLOAD_IN_MB
    timeout_s: int  # SAGEMAKER_MODEL_SERVER_TIMEOUT (warned about; the front end enforces it)
    max_concurrency: int  # SAGEMAKER_MODEL_SERVER_WORKERS, else the CPU count
    default_accept: str  # SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT
    access_log: bool  # LOAM_WORKER_ACCESS_LOG=1

    @property
    def max_payload_bytes(self) -> int:
        return self.max_payload_mb * MIB

    @property
    def address(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path else f"http://127.0.0.1:{self.port}"

    @classmethod
    def from_env(cls, env=None) -> "Config":
        env = os.environ if env is None else env
        model_dir = env.get("SM_MODEL_DIR") or "/opt/ml/model"
        style = env.get("LOAM_RESPONSE_STYLE", "").strip().lower()
        if style not in ("", "default", "tfserving"):
            raise ConfigError(f"LOAM_RESPONSE_STYLE={style!r} is not one of: default, tfserving")
        accept = media_type(env.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON)[0] or JSON
        return cls(
            socket_path=env.get("LOAM_WORKER_SOCKET", "").strip(),
            port=_int_env(env, "SAGEMAKER_BIND_TO_PORT", 8080, 1, 65535),
            model_dir=model_dir,
            code_dir=env.get("LOAM_CODE_DIR") or os.path.join(model_dir, "code"),
            program=env.get("SAGEMAKER_PROGRAM", "").strip(),
            tfserving=style == "tfserving",
            # 6 MB is SageMaker's real-time limit; batch transform should set up to 100.
            max_payload_mb=_int_env(env, "SAGEMAKER_MAX_PAYLOAD_IN_MB", 6, 1),
            timeout_s=_int_env(env, "SAGEMAKER_MODEL_SERVER_TIMEOUT", 60, 1),
            max_concurrency=_int_env(
                env, "SAGEMAKER_MODEL_SERVER_WORKERS", os.cpu_count() or 1, 1
            ),
            default_accept=accept,
            access_log=env.get("LOAM_WORKER_ACCESS_LOG", "").strip().lower()
            in ("1", "true", "yes"),
        )
