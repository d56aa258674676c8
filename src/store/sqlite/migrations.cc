#include "store/sqlite/migrations.h"

#include <fmt/format.h>

#include <vector>

namespace loam::sqlite {

namespace {

// Append-only: a released migration is never edited; a change is a new entry.
const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: experiment tracking (MLflow's model).
      R"sql(
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE runs (
  run_uuid TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  user_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  start_time INTEGER,
  end_time INTEGER,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  artifact_uri TEXT NOT NULL,
  deleted_time INTEGER
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, lifecycle_stage, start_time);
CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key_value ON params (key, value);
CREATE TABLE tags (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_key_value ON tags (key, value);
CREATE TABLE metrics (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  key TEXT NOT NULL,
  value REAL NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0
);
-- Unique: the very same point logged twice is kept once, as MLflow does; the order also
-- pages histories.
CREATE UNIQUE INDEX metrics_history ON metrics (run_uuid, key, step, timestamp, value, is_nan);
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  key TEXT NOT NULL,
  value REAL NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
-- is_nan in the index keeps metric filters and ordered walks off the table rows.
CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, is_nan, value);
CREATE TABLE datasets (
  dataset_uuid TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE inputs (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  dataset_uuid TEXT NOT NULL REFERENCES datasets(dataset_uuid),
  seq INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, dataset_uuid)
);
CREATE TABLE input_tags (
  run_uuid TEXT NOT NULL,
  dataset_uuid TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, dataset_uuid, key),
  FOREIGN KEY (run_uuid, dataset_uuid) REFERENCES inputs(run_uuid, dataset_uuid)
);
)sql",
      // 2: MLflow 3 logged models, and the models runs consume or produce.
      R"sql(
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  artifact_uri TEXT NOT NULL,
  creation_timestamp_ms INTEGER NOT NULL,
  last_updated_timestamp_ms INTEGER NOT NULL,
  model_type TEXT NOT NULL DEFAULT '',
  source_run_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  status_message TEXT NOT NULL DEFAULT '',
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted'))
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, lifecycle_stage, creation_timestamp_ms);
CREATE INDEX logged_models_by_run ON logged_models (source_run_id);
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE run_models (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
  step INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_uuid, direction, model_id)
) WITHOUT ROWID;
)sql",
      // 3: SageMaker-style jobs (training, processing, transform, tuning) and AWS resource tags.
      // A job's whole state is one JSON document; the columns are what List filters and sorts on.
      R"sql(
CREATE TABLE jobs (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  arn TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_modified_time INTEGER NOT NULL,
  parent TEXT NOT NULL DEFAULT '',
  doc TEXT NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE INDEX jobs_by_creation ON jobs (kind, creation_time);
CREATE INDEX jobs_by_status ON jobs (kind, status);
CREATE TABLE aws_tags (
  resource_arn TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (resource_arn, key)
) WITHOUT ROWID;
)sql",
      // 4: Step Functions execution history (state machines and executions are jobs rows).
      R"sql(
CREATE TABLE execution_events (
  execution_arn TEXT NOT NULL,
  id INTEGER NOT NULL,
  previous_id INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  type TEXT NOT NULL,
  details TEXT NOT NULL,
  PRIMARY KEY (execution_arn, id)
) WITHOUT ROWID;
)sql",
  };
  return kMigrations;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

StatusOr<int> ApplyMigrations(Connection& c, const std::string& default_artifact_root, int64_t now) {
  RETURN_IF_ERROR(c.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
  ASSIGN_OR_RETURN(Statement * current, c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ASSIGN_OR_RETURN(bool has_row, current->Step());
  int version = has_row ? static_cast<int>(current->Int(0)) : 0;
  current->Reset();
  if (version > LatestSchemaVersion()) {
    return FailedPrecondition(fmt::format("database schema version {} is newer than this Loam ({}); upgrade Loam",
                                          version, LatestSchemaVersion()));
  }
  const auto& all = Migrations();
  for (int v = version + 1; v <= LatestSchemaVersion(); ++v) {
    Transaction tx(c);
    RETURN_IF_ERROR(tx.begin_status());
    RETURN_IF_ERROR(c.Exec(all[v - 1]));
    if (v == 1) {
      ASSIGN_OR_RETURN(Statement * s, c.Prepare(
          "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
          "last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)"));
      RETURN_IF_ERROR(s->Bind(1, default_artifact_root + "/0").Bind(2, now).Bind(3, now).Exec());
    }
    ASSIGN_OR_RETURN(Statement * rec, c.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"));
    RETURN_IF_ERROR(rec->Bind(1, v).Bind(2, now).Exec());
    RETURN_IF_ERROR(tx.Commit());
  }
  return LatestSchemaVersion();
}

}  // namespace loam::sqlite
