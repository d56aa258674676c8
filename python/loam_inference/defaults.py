"""The default model_fn and predict_fn: find and load a model file, then pick how to call it.

Model libraries are imported only when a file of theirs is found.  The prediction strategy is
chosen once, from the loaded model's type, so the request path does no introspection.
"""

from __future__ import annotations

import os
import pickle
import sys

from .errors import ModelLoadError

LOOKED_FOR = (
    "MLmodel (MLflow), xgboost-model, *.json/*.ubj/*.bst (XGBoost Booster), "
    "*.joblib, model.pkl, *.pkl, *.pickle (joblib/pickle), *.pt/*.pth (TorchScript)"
)


def _files(model_dir: str, suffixes: tuple[str, ...]) -> list[str]:
    names = sorted(
        name
        for name in os.listdir(model_dir)
        if name.lower().endswith(suffixes) and os.path.isfile(os.path.join(model_dir, name))
    )
    return [os.path.join(model_dir, name) for name in names]


def _import_xgboost():
    try:
        import xgboost
    except ImportError:
        return None
    return xgboost


def _load_booster(xgboost, path: str):
    booster = xgboost.Booster()
    booster.load_model(path)
    return booster


def _unpickle(path: str):
    """joblib first (it reads plain pickles too, and numpy-heavy dumps), then pickle."""
    try:
        import joblib
    except ImportError:
        joblib = None
    if joblib is not None:
        try:
            return joblib.load(path)
        except Exception as exc:  # noqa: BLE001 - fall back to pickle, report the first error
            first = exc
    else:
        first = None
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception as exc:  # noqa: BLE001
        raise (first or exc) from None


def _torch_device(torch):
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _load_torchscript(path: str):
    try:
        import torch
    except ImportError:
        raise ModelLoadError(
            f"{path} needs PyTorch, which is not installed in the worker's Python"
        ) from None
    try:
        model = torch.jit.load(path, map_location=_torch_device(torch))
    except Exception as exc:  # noqa: BLE001
        raise ModelLoadError(
            f"{os.path.basename(path)} is not a TorchScript module (torch.jit.load: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); a state_dict "
            "or pickled nn.Module needs its model class: define model_fn(model_dir) in your "
            "inference script"
        ) from None
    model.eval()
    return model


def load_model(model_dir: str, log=print):
    """The default model_fn: the first model file found, in the documented order."""
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"model directory {model_dir} does not exist")

    mlmodel = os.path.join(model_dir, "MLmodel")
    if os.path.isfile(mlmodel):
        try:
            import mlflow.pyfunc
        except ImportError:
            raise ModelLoadError(
                f"{mlmodel} found but mlflow is not installed in the worker's Python; "
                "install mlflow or define model_fn in your inference script"
            ) from None
        log(f"loading MLflow model from {model_dir} (mlflow.pyfunc.load_model)")
        return mlflow.pyfunc.load_model(model_dir)

    xgboost = None
    builtin = os.path.join(model_dir, "xgboost-model")
    if os.path.isfile(builtin):
        # SageMaker's XGBoost name: a saved Booster (any format), or a pickle of one.
        xgboost = _import_xgboost()
        if xgboost is not None:
            try:
                booster = _load_booster(xgboost, builtin)
                log(f"loaded {builtin} (xgboost {xgboost.__version__} Booster.load_model)")
                return booster
            except Exception:  # noqa: BLE001 - maybe a pickle
                pass
        try:
            model = _unpickle(builtin)
        except Exception as exc:  # noqa: BLE001
            hint = "" if xgboost is not None else " (xgboost is not installed)"
            raise ModelLoadError(
                f"{builtin} is neither an XGBoost model file nor a pickle{hint}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        log(f"loaded {builtin} (pickle)")
        return model

    candidates = _files(model_dir, (".json", ".ubj", ".bst"))
    if candidates:
        xgboost = xgboost or _import_xgboost()
        for path in candidates if xgboost is not None else ():
            try:
                booster = _load_booster(xgboost, path)
            except Exception:  # noqa: BLE001 - not a Booster (some other JSON): keep looking
                log(f"skipping {path}: not an XGBoost model")
                continue
            log(f"loaded {path} (xgboost {xgboost.__version__} Booster.load_model)")
            return booster

    pickles = _files(model_dir, (".joblib",))
    if os.path.isfile(os.path.join(model_dir, "model.pkl")):
        pickles.append(os.path.join(model_dir, "model.pkl"))
    pickles += [p for p in _files(model_dir, (".pkl",)) if p not in pickles]
    pickles += _files(model_dir, (".pickle",))
    if pickles:
        model = _unpickle(pickles[0])
        log(f"loaded {pickles[0]} (joblib/pickle): {type(model).__module__}.{type(model).__name__}")
        return model

    scripts = _files(model_dir, (".pt", ".pth"))
    if scripts:
        model = _load_torchscript(scripts[0])
        log(f"loaded {scripts[0]} (torch.jit.load)")
        return model

    present = ", ".join(sorted(os.listdir(model_dir))) or "nothing"
    raise FileNotFoundError(
        f"no model file in {model_dir} (looked for {LOOKED_FOR}; found: {present}); "
        "define model_fn in your inference script to load another format"
    )


# ---------------------------------------------------------------------------------------------
# Default predict_fn, specialised once for the loaded model.


def _is_instance(model, module: str, dotted_class: str) -> bool:
    """isinstance without importing ``module`` (if it is not loaded, the model is not one)."""
    mod = sys.modules.get(module)
    if mod is None:
        return False
    cls = mod
    for part in dotted_class.split("."):
        cls = getattr(cls, part, None)
        if cls is None:
            return False
    return isinstance(model, cls)


def _xgboost_predictor(booster):
    xgboost = sys.modules["xgboost"]
    best = booster.attr("best_iteration")
    iteration_range = (0, int(best) + 1) if best is not None else (0, 0)
    num_features = booster.num_features()

    def predict(data, model):
        if not isinstance(data, xgboost.DMatrix):
            if hasattr(data, "tocsr") and data.shape[1] < num_features:
                data = data.tocsr(copy=True)  # LIBSVM rows may omit the trailing features
                data.resize((data.shape[0], num_features))
            data = xgboost.DMatrix(data)
        # validate_features=False: a Booster trained from a DataFrame has feature names that
        # a CSV/JSON request cannot carry (the SageMaker XGBoost container does the same).
        return model.predict(data, iteration_range=iteration_range, validate_features=False)

    return predict


def _torch_predictor(module):
    torch = sys.modules["torch"]
    try:
        device = next(module.parameters()).device
    except (StopIteration, AttributeError, TypeError):
        device = _torch_device(torch)

    def predict(data, model):
        if isinstance(data, torch.Tensor):
            tensor = data.to(device)
        else:
            tensor = torch.as_tensor(data, dtype=torch.float32, device=device)
        with torch.no_grad():
            output = model(tensor)
        if isinstance(output, torch.Tensor):
            return output.detach().cpu().numpy()
        return output

    return predict


def _pyfunc_predictor():
    def predict(data, model):
        # pyfunc models with a column schema want a DataFrame; JSON records arrive as dicts.
        records = isinstance(data, list) and data and isinstance(data[0], dict)
        if isinstance(data, dict) or records:
            import pandas as pd

            data = pd.DataFrame(data if isinstance(data, list) else [data])
        return model.predict(data)

    return predict


def _method_predictor():
    def predict(data, model):
        return model.predict(data)

    return predict


def _callable_predictor():
    def predict(data, model):
        return model(data)

    return predict


def make_predict_fn(model):
    """The default ``predict_fn(data, model)`` for this model's type."""
    if _is_instance(model, "xgboost", "Booster"):
        return _xgboost_predictor(model)
    if _is_instance(model, "torch", "nn.Module"):
        return _torch_predictor(model)
    if _is_instance(model, "mlflow.pyfunc", "PyFuncModel"):
        return _pyfunc_predictor()
    if callable(getattr(model, "predict", None)):
        return _method_predictor()
    if callable(model):
        return _callable_predictor()

    def no_predict(data, model):
        raise TypeError(
            f"the model ({type(model).__module__}.{type(model).__name__}) has no predict method "
            "and is not callable; define predict_fn in your inference script"
        )

    return no_predict


def describe_model(model) -> str:
    return f"{type(model).__module__}.{type(model).__name__}"
