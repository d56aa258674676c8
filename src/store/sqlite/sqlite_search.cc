// Reads: loading experiments and runs, MLflow search translated to SQL, metric histories.
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/strings.h"
#include "store/sqlite/sqlite_tracking_store.h"

namespace loam::sqlite {

using namespace tracking;
using detail::NumericComparison;
using detail::SqlBuilder;
using detail::StringComparison;
using detail::LifecycleFilter;
using detail::PagedIds;

namespace {

double ColumnMetricValue(const Statement& s, int value_col, int nan_col) {
  return s.Int(nan_col) ? std::numeric_limits<double>::quiet_NaN() : s.Double(value_col);
}

}  // namespace

namespace detail {

void SqlBuilder::BindAll(Statement& s) const {
  for (size_t i = 0; i < args.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    std::visit([&](const auto& v) { s.Bind(idx, v); }, args[i]);
  }
}

void StringComparison(SqlBuilder& b, const std::string& column, const Comparison& c) {
  switch (c.op) {
    case CompareOp::kILike:
      b.sql += "lower(" + column + ") LIKE lower(";
      b.Arg(std::get<std::string>(c.value));
      b.sql += ")";
      return;
    case CompareOp::kIn:
    case CompareOp::kNotIn: {
      b.sql += column + (c.op == CompareOp::kIn ? " IN (" : " NOT IN (");
      const auto& values = std::get<std::vector<std::string>>(c.value);
      for (size_t i = 0; i < values.size(); ++i) {
        if (i) b.sql += ", ";
        b.Arg(values[i]);
      }
      b.sql += ")";
      return;
    }
    default:
      b.sql += column + " " + CompareOpSql(c.op) + " ";
      b.Arg(std::get<std::string>(c.value));
  }
}

void NumericComparison(SqlBuilder& b, const std::string& column, const Comparison& c) {
  b.sql += column + " " + CompareOpSql(c.op) + " ";
  b.Arg(std::get<double>(c.value));
}

StatusOr<std::vector<std::string>> PagedIds(Connection& c, const SqlBuilder& b, int64_t max_results, bool& has_more) {
  ASSIGN_OR_RETURN(Statement * s, c.Prepare(b.sql));
  b.BindAll(*s);
  std::vector<std::string> ids;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    ids.push_back(s->Text(0));
  }
  s->Reset();
  has_more = static_cast<int64_t>(ids.size()) > max_results;
  if (has_more) ids.pop_back();
  return ids;
}

std::string IdsJson(const std::vector<std::string>& ids) { return nlohmann::json(ids).dump(); }

const char* LifecycleFilter(ViewType v) {
  switch (v) {
    case ViewType::kActiveOnly: return "('active')";
    case ViewType::kDeletedOnly: return "('deleted')";
    case ViewType::kAll: return "('active', 'deleted')";
  }
  return "('active')";
}



StatusOr<Experiment> LoadExperiment(Connection& c, const std::string& experiment_id) {
  auto key = ParseInt64(experiment_id);
  if (!key) return NotFound(fmt::format("No Experiment with id={} exists", experiment_id));
  ASSIGN_OR_RETURN(Statement * s, c.Prepare(
      "SELECT name, artifact_location, lifecycle_stage, creation_time, last_update_time FROM experiments "
      "WHERE experiment_id = ?"));
  s->Bind(1, *key);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return NotFound(fmt::format("No Experiment with id={} exists", experiment_id));
  Experiment e;
  e.experiment_id = std::to_string(*key);
  e.name = s->Text(0);
  e.artifact_location = s->Text(1);
  e.lifecycle_stage = s->Text(2) == "active" ? LifecycleStage::kActive : LifecycleStage::kDeleted;
  e.creation_time = s->Int(3);
  e.last_update_time = s->Int(4);
  s->Reset();
  ASSIGN_OR_RETURN(Statement * t, c.Prepare("SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key"));
  t->Bind(1, *key);
  while (true) {
    ASSIGN_OR_RETURN(bool more, t->Step());
    if (!more) break;
    e.tags.push_back({t->Text(0), t->Text(1)});
  }
  t->Reset();
  return e;
}

StatusOr<std::vector<Run>> LoadRuns(Connection& c, const std::vector<std::string>& run_ids) {
  std::vector<Run> runs;
  if (run_ids.empty()) return runs;
  std::unordered_map<std::string, size_t> index;
  std::string ids = IdsJson(run_ids);
  ASSIGN_OR_RETURN(Statement * s, c.Prepare(
      "SELECT run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage "
      "FROM runs WHERE run_uuid IN (SELECT value FROM json_each(?))"));
  s->Bind(1, ids);
  std::vector<Run> unordered;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    Run r;
    r.info.run_id = s->Text(0);
    r.info.run_name = s->Text(1);
    r.info.experiment_id = std::to_string(s->Int(2));
    r.info.user_id = s->Text(3);
    r.info.status = ParseRunStatus(s->Text(4)).value_or(RunStatus::kRunning);
    r.info.start_time = s->OptInt(5);
    r.info.end_time = s->OptInt(6);
    r.info.artifact_uri = s->Text(7);
    r.info.lifecycle_stage = s->Text(8) == "active" ? LifecycleStage::kActive : LifecycleStage::kDeleted;
    index[r.info.run_id] = unordered.size();
    unordered.push_back(std::move(r));
  }
  s->Reset();
  if (unordered.empty()) return runs;

  auto each_row = [&](const std::string& sql, auto&& fn) -> Status {
    ASSIGN_OR_RETURN(Statement * q, c.Prepare(sql));
    q->Bind(1, ids);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      auto it = index.find(q->Text(0));
      if (it != index.end()) fn(unordered[it->second], *q);
    }
    q->Reset();
    return Status::Ok();
  };
  RETURN_IF_ERROR(each_row(
      "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics "
      "WHERE run_uuid IN (SELECT value FROM json_each(?)) ORDER BY run_uuid, key",
      [](Run& r, Statement& q) { r.metrics.push_back({q.Text(1), ColumnMetricValue(q, 2, 5), q.Int(3), q.Int(4)}); }));
  RETURN_IF_ERROR(each_row(
      "SELECT run_uuid, key, value FROM params WHERE run_uuid IN (SELECT value FROM json_each(?)) ORDER BY run_uuid, key",
      [](Run& r, Statement& q) { r.params.push_back({q.Text(1), q.Text(2)}); }));
  RETURN_IF_ERROR(each_row(
      "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN (SELECT value FROM json_each(?)) ORDER BY run_uuid, key",
      [](Run& r, Statement& q) { r.tags.push_back({q.Text(1), q.Text(2)}); }));
  RETURN_IF_ERROR(each_row(
      "SELECT i.run_uuid, d.name, d.digest, d.source_type, d.source, d.schema, d.profile, i.dataset_uuid "
      "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid "
      "WHERE i.run_uuid IN (SELECT value FROM json_each(?)) ORDER BY i.run_uuid, i.seq",
      [](Run& r, Statement& q) {
        DatasetInput in;
        in.dataset = {q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6)};
        in.tags.push_back({"__dataset_uuid", q.Text(7)});
        r.inputs.push_back(std::move(in));
      }));
  RETURN_IF_ERROR(each_row(
      "SELECT run_uuid, model_id, direction, step FROM run_models WHERE run_uuid IN (SELECT value FROM json_each(?)) "
      "ORDER BY run_uuid, step, model_id",
      [](Run& r, Statement& q) {
        ModelLink link{q.Text(1), q.Int(3)};
        (q.Text(2) == "input" ? r.model_inputs : r.model_outputs).push_back(std::move(link));
      }));
  bool any_inputs = false;
  for (const auto& r : unordered) any_inputs = any_inputs || !r.inputs.empty();
  if (any_inputs) {
    RETURN_IF_ERROR(each_row(
        "SELECT run_uuid, dataset_uuid, key, value FROM input_tags WHERE run_uuid IN (SELECT value FROM json_each(?)) "
        "ORDER BY run_uuid, key",
        [](Run& r, Statement& q) {
          std::string dataset_uuid = q.Text(1);
          for (auto& in : r.inputs) {
            if (!in.tags.empty() && in.tags.front().key == "__dataset_uuid" && in.tags.front().value == dataset_uuid) {
              in.tags.push_back({q.Text(2), q.Text(3)});
            }
          }
        }));
    for (auto& r : unordered) {
      for (auto& in : r.inputs) in.tags.erase(in.tags.begin());
    }
  }
  runs.reserve(unordered.size());
  for (const auto& id : run_ids) {
    auto it = index.find(id);
    if (it != index.end()) runs.push_back(std::move(unordered[it->second]));
  }
  return runs;
}

}  // namespace detail

StatusOr<ExperimentPage> SqliteTrackingStore::SearchExperiments(const ExperimentQuery& q) {
  SqlBuilder b;
  b.sql = std::string("SELECT e.experiment_id FROM experiments e WHERE e.lifecycle_stage IN ") +
          LifecycleFilter(q.view_type);
  for (const auto& c : q.filter.clauses) {
    b.sql += " AND ";
    if (c.entity == EntityType::kTag) {
      if (c.op == CompareOp::kIsNull || c.op == CompareOp::kIsNotNull) {
        b.sql += c.op == CompareOp::kIsNull ? "e.experiment_id NOT IN" : "e.experiment_id IN";
        b.sql += " (SELECT experiment_id FROM experiment_tags WHERE key = ";
        b.Arg(c.key);
        b.sql += ")";
        continue;
      }
      b.sql += "e.experiment_id IN (SELECT experiment_id FROM experiment_tags WHERE key = ";
      b.Arg(c.key);
      b.sql += " AND ";
      StringComparison(b, "value", c);
      b.sql += ")";
    } else if (c.key == "name" || c.key == "experiment_id") {
      StringComparison(b, c.key == "name" ? "e.name" : "CAST(e.experiment_id AS TEXT)", c);
    } else {
      NumericComparison(b, "e." + c.key, c);
    }
  }
  b.sql += " ORDER BY ";
  bool has_id_order = false;
  for (const auto& ob : q.order_by) {
    if (ob.entity == EntityType::kTag) {
      b.sql += "(SELECT value FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ";
      b.Arg(ob.key);
      b.sql += ")";
    } else {
      b.sql += "e." + ob.key;
      has_id_order = has_id_order || ob.key == "experiment_id";
    }
    b.sql += ob.ascending ? " ASC NULLS LAST, " : " DESC NULLS LAST, ";
  }
  if (q.order_by.empty()) b.sql += "e.creation_time DESC, ";
  b.sql += has_id_order ? "1 " : "e.experiment_id ASC ";
  b.sql += "LIMIT ";
  b.Arg(q.max_results + 1);
  b.sql += " OFFSET ";
  b.Arg(q.offset);

  ASSIGN_OR_RETURN(auto r, AcquireReader());
  ExperimentPage page;
  ASSIGN_OR_RETURN(auto ids, PagedIds(**r, b, q.max_results, page.has_more));
  for (const auto& id : ids) {
    ASSIGN_OR_RETURN(Experiment e, detail::LoadExperiment(**r, id));
    page.experiments.push_back(std::move(e));
  }
  return page;
}

StatusOr<MetricHistoryPage> SqliteTrackingStore::GetMetricHistory(const std::string& run_id, const std::string& key,
                                                                  std::optional<int64_t> max_results,
                                                                  std::optional<HistoryCursor> after) {
  ASSIGN_OR_RETURN(auto r, AcquireReader());
  ASSIGN_OR_RETURN(Statement * exists, (*r)->Prepare("SELECT 1 FROM runs WHERE run_uuid = ?"));
  exists->Bind(1, run_id);
  ASSIGN_OR_RETURN(bool found, exists->Step());
  exists->Reset();
  if (!found) return NotFound(fmt::format("Run with id={} not found", run_id));
  // Points are unique by (step, timestamp, value, is_nan) within a run and key, so that
  // order, which metrics_history follows, is total and a cursor resumes exactly.
  const std::string columns = "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ? ";
  const std::string order = " ORDER BY step, timestamp, value, is_nan LIMIT ?";
  ASSIGN_OR_RETURN(Statement * s, (*r)->Prepare(
      after ? columns + "AND (step, timestamp, value, is_nan) > (?, ?, ?, ?)" + order : columns + order));
  int64_t limit = max_results.value_or(-1);
  int next = 3;
  s->Bind(1, run_id).Bind(2, key);
  if (after) {
    s->Bind(3, after->step).Bind(4, after->timestamp).Bind(5, after->value).Bind(6, after->is_nan ? 1 : 0);
    next = 7;
  }
  s->Bind(next, limit < 0 ? int64_t{-1} : limit + 1);
  MetricHistoryPage page;
  HistoryCursor last{};
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (limit >= 0 && static_cast<int64_t>(page.metrics.size()) == limit) {
      page.next = last;
      break;
    }
    page.metrics.push_back({key, ColumnMetricValue(*s, 0, 3), s->Int(1), s->Int(2)});
    last = {s->Int(2), s->Int(1), s->Double(0), s->Int(3) != 0};
  }
  s->Reset();
  return page;
}

StatusOr<std::vector<MetricWithRunId>> SqliteTrackingStore::GetMetricPointsInRange(
    const std::vector<std::string>& run_ids, const std::string& key, std::optional<int64_t> start_step,
    std::optional<int64_t> end_step) {
  ASSIGN_OR_RETURN(auto r, AcquireReader());
  ASSIGN_OR_RETURN(Statement * s, (*r)->Prepare(
      "SELECT run_uuid, value, timestamp, step, is_nan FROM metrics WHERE run_uuid IN (SELECT value FROM json_each(?)) "
      "AND key = ? AND step BETWEEN ? AND ? ORDER BY run_uuid, step, timestamp"));
  s->Bind(1, detail::IdsJson(run_ids)).Bind(2, key)
      .Bind(3, start_step.value_or(std::numeric_limits<int64_t>::min()))
      .Bind(4, end_step.value_or(std::numeric_limits<int64_t>::max()));
  std::vector<MetricWithRunId> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back({{key, ColumnMetricValue(*s, 1, 4), s->Int(2), s->Int(3)}, s->Text(0)});
  }
  s->Reset();
  return out;
}

}  // namespace loam::sqlite
