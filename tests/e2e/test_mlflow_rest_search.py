"""Raw REST tests for runs/search and experiments/search: filters, ordering, paging."""

import time
import uuid
from types import SimpleNamespace

import pytest


@pytest.fixture(scope="module")
def corpus(server):
    """One experiment with a known set of runs (built once per module).

    name       start  status    acc   loss  my key  model  team  env
    alpha-1    1000   FINISHED  0.9   0.1   5       lr     red
    alpha-2    2000   FAILED    0.5   0.5           rf     blue
    Beta       3000   RUNNING   0.7                 lr     red   prod
    gamma      4000   FINISHED                      svm
    deleted-1  5000   RUNNING   0.99                lr     red   (deleted)
    """
    api = server.api
    exp_id = api.create_experiment(f"search-{uuid.uuid4().hex}")
    spec = [
        ("r1", "alpha-1", 1000, {"acc": 0.9, "loss": 0.1, "my key": 5}, {"model": "lr", "lr": "0.1"}, {"team": "red"}, ("FINISHED", 2000)),
        ("r2", "alpha-2", 2000, {"acc": 0.5, "loss": 0.5}, {"model": "rf"}, {"team": "blue"}, ("FAILED", 3000)),
        ("r3", "Beta", 3000, {"acc": 0.7}, {"model": "lr"}, {"team": "red", "env": "prod"}, None),
        ("r4", "gamma", 4000, {}, {"model": "svm"}, {}, ("FINISHED", 5000)),
        ("r5", "deleted-1", 5000, {"acc": 0.99}, {"model": "lr"}, {"team": "red"}, None),
    ]
    ids = {}
    for label, name, start, metrics, params, tags, end in spec:
        run_id = api.create_run(exp_id, run_name=name, start_time=start)["info"]["run_id"]
        ids[label] = run_id
        api.ok(
            "POST",
            "runs/log-batch",
            json={
                "run_id": run_id,
                "metrics": [{"key": k, "value": v, "timestamp": start, "step": 0} for k, v in metrics.items()],
                "params": [{"key": k, "value": v} for k, v in params.items()],
                "tags": [{"key": k, "value": v} for k, v in tags.items()],
            },
        )
        if end:
            api.ok("POST", "runs/update", json={"run_id": run_id, "status": end[0], "end_time": end[1]})
    api.ok("POST", "runs/delete", json={"run_id": ids["r5"]})
    labels = {v: k for k, v in ids.items()}
    return SimpleNamespace(exp_id=exp_id, ids=ids, labels=labels)


def search(api, corpus, **fields):
    """Runs a search in the corpus experiment and returns run labels in order."""
    body = api.ok("POST", "runs/search", json={"experiment_ids": [corpus.exp_id], **fields})
    return [corpus.labels[r["info"]["run_id"]] for r in body.get("runs", [])]


# ---------------------------------------------------------------------------
# filters
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc < 0.8", {"r2", "r3"}),
        ("metrics.acc >= 0.7", {"r1", "r3"}),
        ("metrics.acc = 0.5", {"r2"}),
        ("metrics.acc != 0.5", {"r1", "r3"}),
        ("metrics.loss <= 0.1", {"r1"}),
        ("params.model = 'lr'", {"r1", "r3"}),
        ("params.model != 'lr'", {"r2", "r4"}),
        ("params.model LIKE 's%'", {"r4"}),
        ("params.model ILIKE 'L%'", {"r1", "r3"}),
        ('tags.team != "blue"', {"r1", "r3"}),
        ("tags.team = 'red'", {"r1", "r3"}),
        ("tags.env LIKE 'pr%'", {"r3"}),
        ("attributes.status = 'FINISHED'", {"r1", "r4"}),
        ("attributes.status != 'FINISHED'", {"r2", "r3"}),
        ("attributes.run_name LIKE 'alpha%'", {"r1", "r2"}),
        ("attributes.run_name LIKE 'beta'", set()),
        ("attributes.run_name ILIKE 'beta'", {"r3"}),
        ("attributes.run_name = 'gamma'", {"r4"}),
        ("attributes.start_time >= 3000", {"r3", "r4"}),
        ("attributes.start_time < 2000", {"r1"}),
        ("attributes.end_time < 2500", {"r1"}),
        ("metrics.`my key` > 1", {"r1"}),
        ("tags.team = 'red' AND metrics.acc > 0.8", {"r1"}),
        ("params.model = 'lr' AND tags.team = 'red' AND attributes.status = 'RUNNING'", {"r3"}),
        ("metrics.acc > 0.6 and params.model = 'lr'", {"r1", "r3"}),
        ("", {"r1", "r2", "r3", "r4"}),
    ],
)
def test_filter(api, corpus, filter_string, expected):
    """Each filter selects exactly the expected active runs."""
    assert set(search(api, corpus, filter=filter_string)) == expected


def test_filter_run_id_in_and_not_in(api, corpus):
    """attributes.run_id IN / NOT IN lists of quoted ids."""
    r1, r2 = corpus.ids["r1"], corpus.ids["r2"]
    assert set(search(api, corpus, filter=f"attributes.run_id IN ('{r1}', '{r2}')")) == {"r1", "r2"}
    assert set(search(api, corpus, filter=f"attributes.run_id NOT IN ('{r1}','{r2}')")) == {"r3", "r4"}
    assert set(search(api, corpus, filter=f"attributes.run_id = '{r2}'")) == {"r2"}


def test_filter_param_key_with_space_and_dots(api, server):
    """Backtick-quoted keys can contain spaces and dots."""
    api_ = server.api
    exp_id = api_.create_experiment(f"bt-{uuid.uuid4().hex}")
    run_id = api_.create_run(exp_id)["info"]["run_id"]
    api_.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": "my.param key", "value": "x"})
    body = api_.search_runs([exp_id], filter="params.`my.param key` = 'x'")
    assert [r["info"]["run_id"] for r in body["runs"]] == [run_id]


def test_filter_on_parent_run_tag(api, experiment_id):
    """Tags with dotted keys (mlflow.parentRunId) are filterable."""
    parent = api.create_run(experiment_id)["info"]["run_id"]
    child = api.create_run(experiment_id, tags=[{"key": "mlflow.parentRunId", "value": parent}])["info"]["run_id"]
    body = api.search_runs([experiment_id], filter=f"tags.mlflow.parentRunId = '{parent}'")
    assert [r["info"]["run_id"] for r in body["runs"]] == [child]


@pytest.mark.parametrize(
    "filter_string",
    [
        "metrics.acc >",
        "metrics.acc > 1 OR metrics.acc < 0",
        "params.model = 'unterminated",
        "= 'x'",
        "metrics.acc 0.5",
        "metrics.acc > 0.5 AND",
        "(metrics.acc > 0.5",
    ],
)
def test_filter_syntax_errors_report_position(api, corpus, filter_string):
    """Unparseable filters are INVALID_PARAMETER_VALUE and say where they broke."""
    resp = api("POST", "runs/search", json={"experiment_ids": [corpus.exp_id], "filter": filter_string})
    body = api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert "position" in body["message"].lower(), body


@pytest.mark.parametrize(
    "filter_string",
    [
        "foo.bar = 'x'",
        "attributes.nonexistent = 'x'",
        "metrics.acc < 'abc'",
        "params.model = lr",
        "params.model > 'a'",
        "attributes.start_time = 'yesterday'",
        "metrics.acc LIKE '1%'",
    ],
)
def test_filter_semantic_errors(api, corpus, filter_string):
    """Well-formed but invalid comparisons are INVALID_PARAMETER_VALUE (never 500)."""
    resp = api("POST", "runs/search", json={"experiment_ids": [corpus.exp_id], "filter": filter_string})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


# ---------------------------------------------------------------------------
# ordering
# ---------------------------------------------------------------------------


def test_default_order_is_start_time_desc(api, corpus):
    """Without order_by, runs come newest start_time first."""
    assert search(api, corpus) == ["r4", "r3", "r2", "r1"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.acc DESC"], ["r1", "r3", "r2", "r4"]),
        (["metrics.acc ASC"], ["r2", "r3", "r1", "r4"]),
        (["metrics.acc"], ["r2", "r3", "r1", "r4"]),
        (["attributes.start_time ASC"], ["r1", "r2", "r3", "r4"]),
        (["attributes.start_time DESC"], ["r4", "r3", "r2", "r1"]),
        (["params.model"], ["r3", "r1", "r2", "r4"]),
        (["params.model DESC"], ["r4", "r2", "r3", "r1"]),
        (["tags.team"], ["r2", "r3", "r1", "r4"]),
        (["attributes.run_name ASC"], ["r3", "r1", "r2", "r4"]),
        (["params.model ASC", "metrics.acc DESC"], ["r1", "r3", "r2", "r4"]),
    ],
)
def test_order_by(api, corpus, order_by, expected):
    """order_by sorts by the key (missing values last), ties by start_time DESC."""
    assert search(api, corpus, order_by=order_by) == expected


def test_order_by_invalid(api, corpus):
    """Bad order_by clauses are INVALID_PARAMETER_VALUE."""
    for clause in ("metrics.acc SIDEWAYS", "nonsense.key", "attributes.bogus DESC"):
        resp = api("POST", "runs/search", json={"experiment_ids": [corpus.exp_id], "order_by": [clause]})
        api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_ties_broken_by_run_id(api, experiment_id):
    """Runs with equal start_time are ordered by run_id ascending."""
    ids = [api.create_run(experiment_id, start_time=1)["info"]["run_id"] for _ in range(6)]
    body = api.search_runs([experiment_id])
    assert [r["info"]["run_id"] for r in body["runs"]] == sorted(ids)


# ---------------------------------------------------------------------------
# view types, multiple experiments, pagination, limits
# ---------------------------------------------------------------------------


def test_run_view_type(api, corpus):
    """ACTIVE_ONLY (default) / DELETED_ONLY / ALL select by lifecycle stage."""
    assert set(search(api, corpus, run_view_type="ACTIVE_ONLY")) == {"r1", "r2", "r3", "r4"}
    assert search(api, corpus, run_view_type="DELETED_ONLY") == ["r5"]
    assert set(search(api, corpus, run_view_type="ALL")) == {"r1", "r2", "r3", "r4", "r5"}
    assert set(search(api, corpus, run_view_type="ALL", filter="params.model = 'lr'")) == {"r1", "r3", "r5"}


def test_search_spans_multiple_experiments(api):
    """Runs from all requested experiments are returned."""
    e1, e2 = api.create_experiment(), api.create_experiment()
    a = api.create_run(e1, start_time=1)["info"]["run_id"]
    b = api.create_run(e2, start_time=2)["info"]["run_id"]
    body = api.search_runs([e1, e2])
    assert [r["info"]["run_id"] for r in body["runs"]] == [b, a]
    assert {r["info"]["experiment_id"] for r in body["runs"]} == {e1, e2}


def test_search_returns_full_run_data(api, corpus):
    """Search results carry info plus metrics/params/tags like GetRun."""
    body = api.search_runs([corpus.exp_id], filter=f"attributes.run_id = '{corpus.ids['r1']}'")
    (run,) = body["runs"]
    assert run["info"]["run_name"] == "alpha-1"
    assert run["info"]["status"] == "FINISHED" and run["info"]["end_time"] == 2000
    assert {m["key"]: m["value"] for m in run["data"]["metrics"]} == {"acc": 0.9, "loss": 0.1, "my key": 5}
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"model": "lr", "lr": "0.1"}
    assert {t["key"]: t["value"] for t in run["data"]["tags"]}["team"] == "red"


@pytest.mark.parametrize("page_size", [1, 2, 3, 10])
def test_pagination_returns_each_run_once(api, page_size):
    """Following next_page_token until exhausted yields every run exactly once, in order."""
    exp_id = api.create_experiment()
    ids = [api.create_run(exp_id, start_time=1000 + i)["info"]["run_id"] for i in range(7)]
    seen, token, pages = [], None, 0
    while True:
        fields = {"max_results": page_size}
        if token:
            fields["page_token"] = token
        body = api.search_runs([exp_id], **fields)
        page = [r["info"]["run_id"] for r in body.get("runs", [])]
        assert len(page) <= page_size
        seen.extend(page)
        pages += 1
        token = body.get("next_page_token")
        if not token:
            break
        assert pages <= 8, "pagination does not terminate"
    assert seen == list(reversed(ids))
    assert pages >= -(-7 // page_size)


def test_pagination_with_filter_and_order(api, corpus):
    """Pages respect filter and order_by."""
    first = api.search_runs([corpus.exp_id], order_by=["metrics.acc DESC"], max_results=2)
    assert [corpus.labels[r["info"]["run_id"]] for r in first["runs"]] == ["r1", "r3"]
    second = api.search_runs(
        [corpus.exp_id], order_by=["metrics.acc DESC"], max_results=2, page_token=first["next_page_token"]
    )
    assert [corpus.labels[r["info"]["run_id"]] for r in second["runs"]] == ["r2", "r4"]
    assert not second.get("next_page_token")


def test_search_runs_limits_and_bad_tokens(api, corpus):
    """max_results > 50000 and garbage page tokens are INVALID_PARAMETER_VALUE."""
    resp = api("POST", "runs/search", json={"experiment_ids": [corpus.exp_id], "max_results": 50001})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    resp = api("POST", "runs/search", json={"experiment_ids": [corpus.exp_id], "max_results": 123456789})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    resp = api("POST", "runs/search", json={"experiment_ids": [corpus.exp_id], "page_token": "not-a-token!!"})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    body = api.search_runs([corpus.exp_id], max_results=50000)
    assert len(body["runs"]) == 4


# ---------------------------------------------------------------------------
# experiments/search
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exps(server):
    """Three experiments sharing a unique prefix, created in order a, ab, Abc."""
    api = server.api
    prefix = f"xs{uuid.uuid4().hex[:12]}"
    ids = {}
    for suffix, tags in (("a", {"key": "value"}), ("ab", {"key": "vaLue"}), ("Abc", None)):
        time.sleep(0.01)  # distinct creation_time for a deterministic default order
        fields = {"tags": [{"key": k, "value": v} for k, v in tags.items()]} if tags else {}
        ids[suffix] = api.create_experiment(f"{prefix}-{suffix}", **fields)
    return SimpleNamespace(prefix=prefix, ids=ids, names={v: k for k, v in ids.items()})


def search_exps(api, exps, filter_extra=None, method="POST", **fields):
    flt = f"name LIKE '{exps.prefix}-%'"
    if filter_extra:
        flt += f" AND {filter_extra}"
    fields.setdefault("max_results", 100)  # MLflow rejects an absent/0 max_results here
    if method == "POST":
        body = api.ok("POST", "experiments/search", json={"filter": flt, **fields})
    else:
        body = api.ok("GET", "experiments/search", params={"filter": flt, **fields})
    return [exps.names[e["experiment_id"]] for e in body.get("experiments", [])], body


def test_search_experiments_filters(api, exps):
    """name LIKE/ILIKE/=/!= and tag filters select the right experiments."""
    p = exps.prefix
    assert search_exps(api, exps)[0] == ["Abc", "ab", "a"]  # default: newest first
    assert search_exps(api, exps, f"name = '{p}-a'")[0] == ["a"]
    assert search_exps(api, exps, f"attribute.name != '{p}-a'")[0] == ["Abc", "ab"]
    assert search_exps(api, exps, f"name LIKE '{p}-a%'")[0] == ["ab", "a"]
    assert search_exps(api, exps, f"name ILIKE '{p}-a%'")[0] == ["Abc", "ab", "a"]
    assert search_exps(api, exps, "tags.key = 'value'")[0] == ["a"]
    assert search_exps(api, exps, "tag.key != 'value'")[0] == ["ab"]
    assert search_exps(api, exps, "tags.key ILIKE '%alu%'")[0] == ["ab", "a"]


def test_search_experiments_order_by(api, exps):
    """order_by name ASC/DESC (byte order) and creation_time ASC."""
    assert search_exps(api, exps, order_by=["name ASC"])[0] == ["Abc", "a", "ab"]
    assert search_exps(api, exps, order_by=["name DESC"])[0] == ["ab", "a", "Abc"]
    assert search_exps(api, exps, order_by=["creation_time ASC"])[0] == ["a", "ab", "Abc"]


def test_search_experiments_pagination(api, exps):
    """max_results + page_token walk all matches exactly once."""
    seen, token = [], None
    for _ in range(5):
        fields = {"max_results": 1, "order_by": ["name ASC"]}
        if token:
            fields["page_token"] = token
        names, body = search_exps(api, exps, **fields)
        assert len(names) <= 1
        seen.extend(names)
        token = body.get("next_page_token")
        if not token:
            break
    assert seen == ["Abc", "a", "ab"]
    assert token is None


def test_search_experiments_via_get(api, exps):
    """GET experiments/search takes query params (view_type by enum name)."""
    names, _ = search_exps(api, exps, method="GET", max_results=2, view_type="ALL")
    assert names == ["Abc", "ab"]


def test_search_experiments_view_type(api):
    """ACTIVE_ONLY / DELETED_ONLY / ALL by lifecycle stage."""
    prefix = f"vt{uuid.uuid4().hex[:12]}"
    keep = api.create_experiment(f"{prefix}-keep")
    gone = api.create_experiment(f"{prefix}-gone")
    api.ok("POST", "experiments/delete", json={"experiment_id": gone})

    def ids(view_type=None):
        body = {"filter": f"name LIKE '{prefix}%'", "max_results": 100}
        if view_type:
            body["view_type"] = view_type
        return {e["experiment_id"] for e in api.ok("POST", "experiments/search", json=body).get("experiments", [])}

    assert ids() == {keep}
    assert ids("ACTIVE_ONLY") == {keep}
    assert ids("DELETED_ONLY") == {gone}
    assert ids("ALL") == {keep, gone}


def test_search_experiments_default_includes_default_experiment(api):
    """The Default experiment is found by name."""
    body = api.ok("POST", "experiments/search", json={"filter": "name = 'Default'", "max_results": 10})
    assert [e["experiment_id"] for e in body["experiments"]] == ["0"]


def test_search_experiments_invalid(api):
    """Invalid filters/order_by/max_results are INVALID_PARAMETER_VALUE."""
    bad = [
        {"filter": "name LIKE"},
        {"filter": "nonsense = 'x'"},
        {"filter": "name = 'a' OR name = 'b'"},
        {"order_by": ["name SIDEWAYS"]},
        {"max_results": 50001},
        {"page_token": "garbage!!"},
    ]
    for body in bad:
        body = {"max_results": 10, **body}
        api.expect_error(api("POST", "experiments/search", json=body), 400, "INVALID_PARAMETER_VALUE")
    resp = api("POST", "experiments/search", json={"filter": "name LIKE", "max_results": 10})
    assert "position" in resp.json()["message"].lower()
