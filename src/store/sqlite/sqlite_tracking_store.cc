#include "store/sqlite/sqlite_tracking_store.h"

#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/strings.h"
#include "store/sqlite/migrations.h"

namespace loam::sqlite {

using namespace tracking;

namespace {

Status ExperimentNotFound(const std::string& id) {
  return NotFound(fmt::format("No Experiment with id={} exists", id));
}

Status RunNotFound(const std::string& id) { return NotFound(fmt::format("Run with id={} not found", id)); }

std::optional<int64_t> ExperimentKey(const std::string& id) { return ParseInt64(id); }

// Inside a write transaction: the experiment exists and is active.
Status CheckExperimentActive(Connection& c, const std::string& experiment_id) {
  auto key = ExperimentKey(experiment_id);
  if (!key) return ExperimentNotFound(experiment_id);
  ASSIGN_OR_RETURN(Statement * s, c.Prepare("SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?"));
  s->Bind(1, *key);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return ExperimentNotFound(experiment_id);
  std::string stage = s->Text(0);
  s->Reset();
  if (stage != "active") {
    return InvalidArgument(fmt::format("The experiment {} must be in the 'active' state. Current state is {}.",
                                       experiment_id, stage));
  }
  return Status::Ok();
}

// Inside a write transaction: the run exists and is active.
Status CheckRunActive(Connection& c, const std::string& run_id) {
  ASSIGN_OR_RETURN(Statement * s, c.Prepare("SELECT lifecycle_stage FROM runs WHERE run_uuid = ?"));
  s->Bind(1, run_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return RunNotFound(run_id);
  std::string stage = s->Text(0);
  s->Reset();
  if (stage != "active") {
    return InvalidArgument(
        fmt::format("The run {} must be in the 'active' state. Current state is {}.", run_id, stage));
  }
  return Status::Ok();
}

Status UpsertRunTag(Connection& c, const std::string& run_id, const Tag& t) {
  ASSIGN_OR_RETURN(Statement * s, c.Prepare("INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?) "
                                            "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"));
  RETURN_IF_ERROR(s->Bind(1, run_id).Bind(2, t.key).Bind(3, t.value).Exec());
  if (t.key == kRunNameTag) {
    ASSIGN_OR_RETURN(Statement * u, c.Prepare("UPDATE runs SET name = ? WHERE run_uuid = ?"));
    RETURN_IF_ERROR(u->Bind(1, t.value).Bind(2, run_id).Exec());
  }
  return Status::Ok();
}

StatusOr<RunInfo> LoadRunInfo(Connection& c, const std::string& run_id) {
  ASSIGN_OR_RETURN(auto runs, detail::LoadRuns(c, {run_id}));
  if (runs.empty()) return RunNotFound(run_id);
  return runs.front().info;
}

}  // namespace

StatusOr<std::unique_ptr<SqliteTrackingStore>> SqliteTrackingStore::Open(const SqliteStoreOptions& options) {
  std::unique_ptr<SqliteTrackingStore> store(new SqliteTrackingStore(options));
  ASSIGN_OR_RETURN(store->writer_, Connection::Open(options.path, options.durability, false));
  RETURN_IF_ERROR(ApplyMigrations(*store->writer_, options.default_artifact_root, SystemNowMillis()).status());
  RETURN_IF_ERROR(store->writer_->Exec("ANALYZE"));
  return store;
}

void SqliteTrackingStore::RefreshStatisticsIfStale() {
  if (rows_since_analyze_ < rows_before_next_analyze_) return;
  rows_since_analyze_ = 0;
  rows_before_next_analyze_ *= 2;  // geometric: O(log n) refreshes as the data grows
  // Statistics only steer plans; a failure here must not fail the write that triggered it.
  (void)writer_->Exec("ANALYZE");
}

SqliteTrackingStore::Reader::~Reader() {
  std::lock_guard lock(store_.pool_mu_);
  store_.readers_.push_back(std::move(c_));
}

StatusOr<std::unique_ptr<SqliteTrackingStore::Reader>> SqliteTrackingStore::AcquireReader() {
  {
    std::lock_guard lock(pool_mu_);
    if (!readers_.empty()) {
      auto c = std::move(readers_.back());
      readers_.pop_back();
      return std::make_unique<Reader>(*this, std::move(c));
    }
  }
  ASSIGN_OR_RETURN(auto c, Connection::Open(options_.path, options_.durability, true));
  return std::make_unique<Reader>(*this, std::move(c));
}

// ---- experiments ----------------------------------------------------------------------

StatusOr<std::string> SqliteTrackingStore::CreateExperiment(const NewExperiment& e) {
  std::lock_guard lock(write_mu_);
  Connection& c = *writer_;
  Transaction tx(c);
  RETURN_IF_ERROR(tx.begin_status());
  ASSIGN_OR_RETURN(Statement * dup, c.Prepare("SELECT 1 FROM experiments WHERE name = ?"));
  dup->Bind(1, e.name);
  ASSIGN_OR_RETURN(bool exists, dup->Step());
  dup->Reset();
  if (exists) return AlreadyExists(fmt::format("Experiment(name={}) already exists.", e.name));
  ASSIGN_OR_RETURN(Statement * ins, c.Prepare(
      "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) "
      "VALUES (?, ?, 'active', ?, ?)"));
  RETURN_IF_ERROR(ins->Bind(1, e.name).Bind(2, e.artifact_location).Bind(3, e.now).Bind(4, e.now).Exec());
  int64_t id = sqlite3_last_insert_rowid(c.raw());
  if (e.artifact_location.empty()) {
    ASSIGN_OR_RETURN(Statement * up, c.Prepare("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?"));
    RETURN_IF_ERROR(up->Bind(1, fmt::format("{}/{}", options_.default_artifact_root, id)).Bind(2, id).Exec());
  }
  for (const auto& t : e.tags) {
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
                                              "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value"));
    RETURN_IF_ERROR(s->Bind(1, id).Bind(2, t.key).Bind(3, t.value).Exec());
  }
  RETURN_IF_ERROR(tx.Commit());
  return std::to_string(id);
}

StatusOr<Experiment> SqliteTrackingStore::GetExperiment(const std::string& experiment_id) {
  ASSIGN_OR_RETURN(auto r, AcquireReader());
  return detail::LoadExperiment(**r, experiment_id);
}

StatusOr<Experiment> SqliteTrackingStore::GetExperimentByName(const std::string& name) {
  ASSIGN_OR_RETURN(auto r, AcquireReader());
  ASSIGN_OR_RETURN(Statement * s, (*r)->Prepare("SELECT experiment_id FROM experiments WHERE name = ?"));
  s->Bind(1, name);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return NotFound(fmt::format("Could not find experiment with name '{}'", name));
  std::string id = std::to_string(s->Int(0));
  s->Reset();
  return detail::LoadExperiment(**r, id);
}

Status SqliteTrackingStore::RenameExperiment(const std::string& experiment_id, const std::string& new_name, int64_t now) {
  return Write([&](Connection& c) -> Status {
    Status active = CheckExperimentActive(c, experiment_id);
    if (active.code() == StatusCode::kInvalidArgument) return InvalidArgument("Cannot rename a non-active experiment.");
    RETURN_IF_ERROR(active);
    ASSIGN_OR_RETURN(Statement * dup, c.Prepare("SELECT experiment_id FROM experiments WHERE name = ?"));
    dup->Bind(1, new_name);
    ASSIGN_OR_RETURN(bool exists, dup->Step());
    bool same = exists && std::to_string(dup->Int(0)) == experiment_id;
    dup->Reset();
    if (exists && !same) return AlreadyExists(fmt::format("Experiment(name={}) already exists.", new_name));
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?"));
    RETURN_IF_ERROR(s->Bind(1, new_name).Bind(2, now).Bind(3, *ExperimentKey(experiment_id)).Exec());
    return Status::Ok();
  });
}

Status SqliteTrackingStore::SetExperimentLifecycle(const std::string& experiment_id, LifecycleStage stage, int64_t now) {
  return Write([&](Connection& c) -> Status {
    auto key = ExperimentKey(experiment_id);
    if (!key) return ExperimentNotFound(experiment_id);
    // Deleting needs an active experiment and restoring a deleted one, as in MLflow.
    const char* required = stage == LifecycleStage::kDeleted ? "active" : "deleted";
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("SELECT 1 FROM experiments WHERE experiment_id = ? AND lifecycle_stage = ?"));
    s->Bind(1, *key).Bind(2, required);
    ASSIGN_OR_RETURN(bool row, s->Step());
    s->Reset();
    if (!row) return ExperimentNotFound(experiment_id);
    const char* target = LifecycleStageName(stage);
    ASSIGN_OR_RETURN(Statement * up, c.Prepare(
        "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?"));
    RETURN_IF_ERROR(up->Bind(1, target).Bind(2, now).Bind(3, *key).Exec());
    ASSIGN_OR_RETURN(Statement * runs, c.Prepare(
        "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ?"));
    runs->Bind(1, target).Bind(3, *key);
    if (stage == LifecycleStage::kDeleted) runs->Bind(2, now); else runs->BindNull(2);
    RETURN_IF_ERROR(runs->Exec());
    return Status::Ok();
  });
}

Status SqliteTrackingStore::SetExperimentTag(const std::string& experiment_id, const Tag& tag) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(CheckExperimentActive(c, experiment_id));
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
                                              "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value"));
    RETURN_IF_ERROR(s->Bind(1, *ExperimentKey(experiment_id)).Bind(2, tag.key).Bind(3, tag.value).Exec());
    return Status::Ok();
  });
}

Status SqliteTrackingStore::DeleteExperimentTag(const std::string& experiment_id, const std::string& key) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(CheckExperimentActive(c, experiment_id));
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?"));
    RETURN_IF_ERROR(s->Bind(1, *ExperimentKey(experiment_id)).Bind(2, key).Exec());
    if (c.Changes() == 0)
      return NotFound(fmt::format("No tag with name: {} in experiment with id {}", key, experiment_id));
    return Status::Ok();
  });
}

// ---- runs -----------------------------------------------------------------------------

StatusOr<Run> SqliteTrackingStore::CreateRun(const NewRun& r, const std::string& run_id) {
  RETURN_IF_ERROR(Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(CheckExperimentActive(c, r.experiment_id));
    CountRowsWritten(1 + r.tags.size());
    ASSIGN_OR_RETURN(Experiment exp, detail::LoadExperiment(c, r.experiment_id));
    std::string artifact_uri = exp.artifact_location;
    while (!artifact_uri.empty() && artifact_uri.back() == '/') artifact_uri.pop_back();
    artifact_uri += "/" + run_id + "/artifacts";
    ASSIGN_OR_RETURN(Statement * ins, c.Prepare(
        "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, end_time, lifecycle_stage, "
        "artifact_uri) VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, 'active', ?)"));
    RETURN_IF_ERROR(ins->Bind(1, run_id).Bind(2, r.run_name).Bind(3, *ExperimentKey(r.experiment_id))
                        .Bind(4, r.user_id).Bind(5, r.start_time).Bind(6, artifact_uri).Exec());
    bool has_name_tag = false;
    for (const auto& t : r.tags) {
      has_name_tag = has_name_tag || t.key == kRunNameTag;
      RETURN_IF_ERROR(UpsertRunTag(c, run_id, t));
    }
    if (!has_name_tag) RETURN_IF_ERROR(UpsertRunTag(c, run_id, {std::string(kRunNameTag), r.run_name}));
    return Status::Ok();
  }));
  return GetRun(run_id);
}

StatusOr<Run> SqliteTrackingStore::GetRun(const std::string& run_id) {
  ASSIGN_OR_RETURN(auto r, AcquireReader());
  ASSIGN_OR_RETURN(auto runs, detail::LoadRuns(**r, {run_id}));
  if (runs.empty()) return RunNotFound(run_id);
  return std::move(runs.front());
}

StatusOr<RunInfo> SqliteTrackingStore::UpdateRun(const std::string& run_id, const RunUpdate& u) {
  std::lock_guard lock(write_mu_);
  Connection& c = *writer_;
  {
    Transaction tx(c);
    RETURN_IF_ERROR(tx.begin_status());
    RETURN_IF_ERROR(CheckRunActive(c, run_id));
    if (u.status) {
      ASSIGN_OR_RETURN(Statement * s, c.Prepare("UPDATE runs SET status = ? WHERE run_uuid = ?"));
      RETURN_IF_ERROR(s->Bind(1, RunStatusName(*u.status)).Bind(2, run_id).Exec());
    }
    if (u.end_time) {
      ASSIGN_OR_RETURN(Statement * s, c.Prepare("UPDATE runs SET end_time = ? WHERE run_uuid = ?"));
      RETURN_IF_ERROR(s->Bind(1, *u.end_time).Bind(2, run_id).Exec());
    }
    if (u.run_name && !u.run_name->empty()) {
      RETURN_IF_ERROR(UpsertRunTag(c, run_id, {std::string(kRunNameTag), *u.run_name}));
    }
    RETURN_IF_ERROR(tx.Commit());
  }
  return LoadRunInfo(c, run_id);
}

Status SqliteTrackingStore::SetRunLifecycle(const std::string& run_id, LifecycleStage stage, int64_t now) {
  return Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?"));
    s->Bind(1, LifecycleStageName(stage)).Bind(3, run_id);
    if (stage == LifecycleStage::kDeleted) s->Bind(2, now); else s->BindNull(2);
    RETURN_IF_ERROR(s->Exec());
    if (c.Changes() == 0) return RunNotFound(run_id);
    return Status::Ok();
  });
}

Status SqliteTrackingStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                                     const std::vector<Param>& params, const std::vector<Tag>& tags) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(CheckRunActive(c, run_id));
    CountRowsWritten(metrics.size() + params.size() + tags.size());

    for (const auto& p : params) {
      ASSIGN_OR_RETURN(Statement * ins, c.Prepare(
          "INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?) ON CONFLICT (run_uuid, key) DO NOTHING"));
      RETURN_IF_ERROR(ins->Bind(1, run_id).Bind(2, p.key).Bind(3, p.value).Exec());
      if (c.Changes() > 0) continue;
      ASSIGN_OR_RETURN(Statement * old, c.Prepare("SELECT value FROM params WHERE run_uuid = ? AND key = ?"));
      old->Bind(1, run_id).Bind(2, p.key);
      ASSIGN_OR_RETURN(bool row, old->Step());
      std::string existing = row ? old->Text(0) : std::string();
      old->Reset();
      if (existing != p.value) {
        return InvalidArgument(fmt::format(
            "Changing param values is not allowed. Param with key='{}' was already logged with value='{}' for run "
            "ID='{}'. Attempted logging new value '{}'.",
            p.key, existing, run_id, p.value));
      }
    }
    for (const auto& t : tags) RETURN_IF_ERROR(UpsertRunTag(c, run_id, t));

    if (!metrics.empty()) {
      ASSIGN_OR_RETURN(Statement * ins, c.Prepare(
          "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING"));
      // The very same point logged twice is kept once, as MLflow does. The newest point per key
    // by (step, timestamp, value) becomes the latest value.
      std::map<std::string_view, const Metric*> newest;
      auto later = [](const Metric& a, const Metric& b) {
        double av = std::isnan(a.value) ? 0 : a.value, bv = std::isnan(b.value) ? 0 : b.value;
        return std::tie(a.step, a.timestamp, av) > std::tie(b.step, b.timestamp, bv);
      };
      for (const auto& m : metrics) {
        bool nan = std::isnan(m.value);
        RETURN_IF_ERROR(ins->Bind(1, run_id).Bind(2, m.key).Bind(3, nan ? 0.0 : m.value).Bind(4, m.timestamp)
                            .Bind(5, m.step).Bind(6, nan ? 1 : 0).Exec());
        auto [it, inserted] = newest.emplace(m.key, &m);
        if (!inserted && later(m, *it->second)) it->second = &m;
      }
      ASSIGN_OR_RETURN(Statement * up, c.Prepare(
          "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, "
          "step = excluded.step, is_nan = excluded.is_nan "
          "WHERE (excluded.step, excluded.timestamp, excluded.value) >= (latest_metrics.step, latest_metrics.timestamp, "
          "latest_metrics.value)"));
      for (const auto& [key, m] : newest) {
        bool nan = std::isnan(m->value);
        RETURN_IF_ERROR(up->Bind(1, run_id).Bind(2, m->key).Bind(3, nan ? 0.0 : m->value).Bind(4, m->timestamp)
                            .Bind(5, m->step).Bind(6, nan ? 1 : 0).Exec());
      }
    }
    return Status::Ok();
  });
}

Status SqliteTrackingStore::DeleteTag(const std::string& run_id, const std::string& key) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(CheckRunActive(c, run_id));
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("DELETE FROM tags WHERE run_uuid = ? AND key = ?"));
    RETURN_IF_ERROR(s->Bind(1, run_id).Bind(2, key).Exec());
    if (c.Changes() == 0) return NotFound(fmt::format("No tag with name: {} in run with id {}", key, run_id));
    return Status::Ok();
  });
}

Status SqliteTrackingStore::LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(CheckRunActive(c, run_id));
    ASSIGN_OR_RETURN(Statement * exp, c.Prepare("SELECT experiment_id FROM runs WHERE run_uuid = ?"));
    exp->Bind(1, run_id);
    ASSIGN_OR_RETURN(bool row, exp->Step());
    if (!row) return RunNotFound(run_id);
    int64_t experiment_id = exp->Int(0);
    exp->Reset();
    for (const auto& in : inputs) {
      const Dataset& d = in.dataset;
      ASSIGN_OR_RETURN(Statement * find, c.Prepare(
          "SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?"));
      find->Bind(1, experiment_id).Bind(2, d.name).Bind(3, d.digest);
      ASSIGN_OR_RETURN(bool found, find->Step());
      std::string dataset_uuid = found ? find->Text(0) : NewUuidHex();
      find->Reset();
      if (!found) {
        ASSIGN_OR_RETURN(Statement * ins, c.Prepare(
            "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
        ins->Bind(1, dataset_uuid).Bind(2, experiment_id).Bind(3, d.name).Bind(4, d.digest).Bind(5, d.source_type)
            .Bind(6, d.source);
        if (d.schema.empty()) ins->BindNull(7); else ins->Bind(7, d.schema);
        if (d.profile.empty()) ins->BindNull(8); else ins->Bind(8, d.profile);
        RETURN_IF_ERROR(ins->Exec());
      }
      ASSIGN_OR_RETURN(Statement * link, c.Prepare(
          "INSERT INTO inputs (run_uuid, dataset_uuid, seq) VALUES (?, ?, (SELECT COUNT(*) FROM inputs WHERE run_uuid = ?)) "
          "ON CONFLICT DO NOTHING"));
      RETURN_IF_ERROR(link->Bind(1, run_id).Bind(2, dataset_uuid).Bind(3, run_id).Exec());
      for (const auto& t : in.tags) {
        ASSIGN_OR_RETURN(Statement * tag, c.Prepare(
            "INSERT INTO input_tags (run_uuid, dataset_uuid, key, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (run_uuid, dataset_uuid, key) DO UPDATE SET value = excluded.value"));
        RETURN_IF_ERROR(tag->Bind(1, run_id).Bind(2, dataset_uuid).Bind(3, t.key).Bind(4, t.value).Exec());
      }
    }
    return Status::Ok();
  });
}

}  // namespace loam::sqlite
