"""Records the script-mode contract as the training process sees it.

Writes ``env-<SM_CURRENT_HOST>.json`` to both SM_MODEL_DIR and SM_OUTPUT_DATA_DIR (so a test
finds it in model.tar.gz and in output.tar.gz) with:

  argv, argv0        the arguments (without the program) and the program path
  env                the complete environment
  cwd, sys_prefix, sys_executable
  channels           {name: {"path", "files": {relative path: sha256}, "links": [...]}} for
                     every channel named in SM_CHANNELS (files below the channel directory,
                     recursively, symlinks followed; "links" lists the symlinked entries)
  probes             {path: {"exists", "entries"}} for each ``--probe PATH`` argument
  input_config       {file name: parsed JSON} of the ``*.json`` files in SM_INPUT_CONFIG_DIR
                     (else /opt/ml/input/config): hyperparameters, resourceconfig, ...

and prints one ``ENV_DUMP {json}`` line (host, hosts, argv, channel names) to stdout, so a
test can also check every host of a multi-instance job from its log. Unknown arguments are
accepted (they are what is being recorded).
"""

import argparse
import hashlib
import json
import os
import sys


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def channel_record(path):
    files, links = {}, []
    if not path or not os.path.isdir(path):
        return {"path": path, "files": None, "links": links}
    for root, dirs, names in os.walk(path, followlinks=True):
        for name in dirs + names:
            full = os.path.join(root, name)
            if os.path.islink(full):
                links.append(os.path.relpath(full, path))
        for name in names:
            full = os.path.join(root, name)
            files[os.path.relpath(full, path)] = sha256(full)
    return {"path": path, "files": files, "links": sorted(links)}


def probe(path):
    exists = os.path.exists(path)
    entries = None
    if os.path.isdir(path):
        try:
            entries = sorted(os.listdir(path))
        except OSError as e:
            entries = f"<{type(e).__name__}: {e}>"
    return {"exists": exists, "entries": entries}


def input_config():
    folder = os.environ.get("SM_INPUT_CONFIG_DIR") or "/opt/ml/input/config"
    out = {}
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".json"):
                try:
                    with open(os.path.join(folder, name)) as f:
                        out[name] = json.load(f)
                except (OSError, ValueError) as e:
                    out[name] = f"<unreadable: {e}>"
    return out


def main():
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--probe", action="append", default=[])
    known, _unknown = parser.parse_known_args()

    host = os.environ.get("SM_CURRENT_HOST", "unknown-host")
    try:
        channel_names = json.loads(os.environ.get("SM_CHANNELS", "[]"))
    except ValueError:
        channel_names = []
    channels = {
        name: channel_record(os.environ.get("SM_CHANNEL_" + name.upper()))
        for name in channel_names
    }
    record = {
        "host": host,
        "argv": sys.argv[1:],
        "argv0": sys.argv[0],
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "sys_prefix": sys.prefix,
        "sys_executable": sys.executable,
        "channels": channels,
        "probes": {p: probe(p) for p in known.probe},
        "input_config": input_config(),
    }
    for var in ("SM_MODEL_DIR", "SM_OUTPUT_DATA_DIR"):
        folder = os.environ.get(var) or var.lower()
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"env-{host}.json"), "w") as f:
            json.dump(record, f, indent=2, sort_keys=True)
    try:
        hosts = json.loads(os.environ.get("SM_HOSTS", "null"))
    except ValueError:
        hosts = os.environ.get("SM_HOSTS")
    summary = {
        "host": host,
        "hosts": hosts,
        "argv": sys.argv[1:],
        "channels": sorted(channels),
        "files": {name: sorted(c["files"] or {}) for name, c in channels.items()},
    }
    print("ENV_DUMP " + json.dumps(summary, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
