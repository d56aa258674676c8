// MLflow 3 logged models on SQLite.
#include <fmt/format.h>

#include "common/strings.h"
#include "store/sqlite/sqlite_tracking_store.h"

namespace loam::sqlite {

using namespace tracking;
using detail::NumericComparison;
using detail::PagedIds;
using detail::SqlBuilder;
using detail::StringComparison;

namespace {

Status ModelNotFound(const std::string& id) { return NotFound(fmt::format("Logged model with ID '{}' not found.", id)); }

StatusOr<LoggedModel> LoadLoggedModel(Connection& c, const std::string& model_id, bool allow_deleted) {
  ASSIGN_OR_RETURN(Statement * s, c.Prepare(
      "SELECT experiment_id, name, artifact_uri, creation_timestamp_ms, last_updated_timestamp_ms, model_type, "
      "source_run_id, status, status_message, lifecycle_stage FROM logged_models WHERE model_id = ?"));
  s->Bind(1, model_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return ModelNotFound(model_id);
  LoggedModel m;
  m.model_id = model_id;
  m.experiment_id = std::to_string(s->Int(0));
  m.name = s->Text(1);
  m.artifact_uri = s->Text(2);
  m.creation_timestamp_ms = s->Int(3);
  m.last_updated_timestamp_ms = s->Int(4);
  m.model_type = s->Text(5);
  m.source_run_id = s->Text(6);
  m.status = ParseLoggedModelStatus(s->Text(7)).value_or(LoggedModelStatus::kUnspecified);
  m.status_message = s->Text(8);
  m.lifecycle_stage = s->Text(9) == "active" ? LifecycleStage::kActive : LifecycleStage::kDeleted;
  s->Reset();
  if (m.lifecycle_stage == LifecycleStage::kDeleted && !allow_deleted) return ModelNotFound(model_id);
  for (auto [table, out] : {std::pair{"logged_model_tags", &m.tags}, std::pair{"logged_model_params", &m.params}}) {
    ASSIGN_OR_RETURN(Statement * q, c.Prepare(fmt::format("SELECT key, value FROM {} WHERE model_id = ? ORDER BY key", table)));
    q->Bind(1, model_id);
    while (true) {
      ASSIGN_OR_RETURN(bool more, q->Step());
      if (!more) break;
      out->push_back({q->Text(0), q->Text(1)});
    }
    q->Reset();
  }
  return m;
}

// Inside a write transaction: the model exists and is not deleted; bumps its update time.
Status TouchActiveModel(Connection& c, const std::string& model_id, int64_t now) {
  ASSIGN_OR_RETURN(Statement * s, c.Prepare(
      "UPDATE logged_models SET last_updated_timestamp_ms = ? WHERE model_id = ? AND lifecycle_stage = 'active'"));
  RETURN_IF_ERROR(s->Bind(1, now).Bind(2, model_id).Exec());
  if (c.Changes() == 0) return ModelNotFound(model_id);
  return Status::Ok();
}

Status UpsertModelKeyValues(Connection& c, const char* table, const std::string& model_id,
                            const std::vector<Tag>& items) {
  for (const auto& t : items) {
    ASSIGN_OR_RETURN(Statement * s, c.Prepare(fmt::format(
        "INSERT INTO {} (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = "
        "excluded.value", table)));
    RETURN_IF_ERROR(s->Bind(1, model_id).Bind(2, t.key).Bind(3, t.value).Exec());
  }
  return Status::Ok();
}

std::string ModelAttributeColumn(const std::string& key) {
  if (key == "creation_timestamp") return "m.creation_timestamp_ms";
  if (key == "last_updated_timestamp") return "m.last_updated_timestamp_ms";
  return "m." + key;
}

}  // namespace

StatusOr<LoggedModel> SqliteTrackingStore::CreateLoggedModel(const LoggedModel& model) {
  std::string artifact_uri;
  RETURN_IF_ERROR(Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Experiment exp, detail::LoadExperiment(c, model.experiment_id));
    if (exp.lifecycle_stage != LifecycleStage::kActive) {
      return InvalidArgument(fmt::format("The experiment {} must be in the 'active' state. Current state is deleted.",
                                         model.experiment_id));
    }
    artifact_uri = exp.artifact_location;
    while (!artifact_uri.empty() && artifact_uri.back() == '/') artifact_uri.pop_back();
    artifact_uri += "/models/" + model.model_id + "/artifacts";
    ASSIGN_OR_RETURN(Statement * s, c.Prepare(
        "INSERT INTO logged_models (model_id, experiment_id, name, artifact_uri, creation_timestamp_ms, "
        "last_updated_timestamp_ms, model_type, source_run_id, status, status_message, lifecycle_stage) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 'active')"));
    RETURN_IF_ERROR(s->Bind(1, model.model_id).Bind(2, *ParseInt64(exp.experiment_id)).Bind(3, model.name)
                        .Bind(4, artifact_uri).Bind(5, model.creation_timestamp_ms).Bind(6, model.creation_timestamp_ms)
                        .Bind(7, model.model_type).Bind(8, model.source_run_id)
                        .Bind(9, LoggedModelStatusName(LoggedModelStatus::kPending)).Exec());
    RETURN_IF_ERROR(UpsertModelKeyValues(c, "logged_model_tags", model.model_id, model.tags));
    return UpsertModelKeyValues(c, "logged_model_params", model.model_id, model.params);
  }));
  ASSIGN_OR_RETURN(auto r, AcquireReader());
  return LoadLoggedModel(**r, model.model_id, false);
}

StatusOr<LoggedModel> SqliteTrackingStore::GetLoggedModel(const std::string& model_id, bool allow_deleted) {
  ASSIGN_OR_RETURN(auto r, AcquireReader());
  return LoadLoggedModel(**r, model_id, allow_deleted);
}

StatusOr<LoggedModel> SqliteTrackingStore::FinalizeLoggedModel(const std::string& model_id, LoggedModelStatus status,
                                                               int64_t now) {
  RETURN_IF_ERROR(Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(TouchActiveModel(c, model_id, now));
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("UPDATE logged_models SET status = ? WHERE model_id = ?"));
    return s->Bind(1, LoggedModelStatusName(status)).Bind(2, model_id).Exec();
  }));
  return GetLoggedModel(model_id, false);
}

Status SqliteTrackingStore::DeleteLoggedModel(const std::string& model_id, int64_t now) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(TouchActiveModel(c, model_id, now));
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("UPDATE logged_models SET lifecycle_stage = 'deleted' WHERE model_id = ?"));
    return s->Bind(1, model_id).Exec();
  });
}

Status SqliteTrackingStore::SetLoggedModelTags(const std::string& model_id, const std::vector<Tag>& tags, int64_t now) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(TouchActiveModel(c, model_id, now));
    return UpsertModelKeyValues(c, "logged_model_tags", model_id, tags);
  });
}

Status SqliteTrackingStore::DeleteLoggedModelTag(const std::string& model_id, const std::string& key, int64_t now) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(TouchActiveModel(c, model_id, now));
    ASSIGN_OR_RETURN(Statement * s, c.Prepare("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?"));
    RETURN_IF_ERROR(s->Bind(1, model_id).Bind(2, key).Exec());
    if (c.Changes() == 0) return NotFound(fmt::format("No tag with key '{}' found for model with ID '{}'.", key, model_id));
    return Status::Ok();
  });
}

Status SqliteTrackingStore::LogLoggedModelParams(const std::string& model_id, const std::vector<Param>& params,
                                                 int64_t now) {
  return Write([&](Connection& c) -> Status {
    RETURN_IF_ERROR(TouchActiveModel(c, model_id, now));
    return UpsertModelKeyValues(c, "logged_model_params", model_id, params);
  });
}

StatusOr<LoggedModelPage> SqliteTrackingStore::SearchLoggedModels(const LoggedModelQuery& q) {
  SqlBuilder b;
  b.sql = "SELECT m.model_id FROM logged_models m WHERE m.lifecycle_stage = 'active' AND m.experiment_id IN (";
  for (size_t i = 0; i < q.experiment_ids.size(); ++i) {
    if (i) b.sql += ", ";
    b.Arg(ParseInt64(q.experiment_ids[i]).value_or(-1));
  }
  b.sql += ")";
  for (const auto& c : q.filter.clauses) {
    b.sql += " AND ";
    switch (c.entity) {
      case EntityType::kAttribute:
        if (c.key == "creation_timestamp" || c.key == "last_updated_timestamp") {
          NumericComparison(b, ModelAttributeColumn(c.key), c);
        } else {
          StringComparison(b, ModelAttributeColumn(c.key), c);
        }
        break;
      case EntityType::kParam:
      case EntityType::kTag: {
        std::string table = c.entity == EntityType::kParam ? "logged_model_params" : "logged_model_tags";
        bool negate = c.op == CompareOp::kIsNull;
        b.sql += std::string("m.model_id ") + (negate ? "NOT IN" : "IN") + " (SELECT model_id FROM " + table +
                 " WHERE key = ";
        b.Arg(c.key);
        if (c.op != CompareOp::kIsNull && c.op != CompareOp::kIsNotNull) {
          b.sql += " AND ";
          StringComparison(b, "value", c);
        }
        b.sql += ")";
        break;
      }
      default:
        // Model metrics are not recorded by this store: a metric condition matches nothing.
        b.sql += "0";
    }
  }
  b.sql += " ORDER BY ";
  for (const auto& ob : q.order_by) {
    b.sql += ModelAttributeColumn(ob.key) + (ob.ascending ? " ASC, " : " DESC, ");
  }
  b.sql += "m.creation_timestamp_ms DESC, m.model_id ASC LIMIT ";
  b.Arg(q.max_results + 1);
  b.sql += " OFFSET ";
  b.Arg(q.offset);

  ASSIGN_OR_RETURN(auto r, AcquireReader());
  LoggedModelPage page;
  ASSIGN_OR_RETURN(auto ids, PagedIds(**r, b, q.max_results, page.has_more));
  for (const auto& id : ids) {
    ASSIGN_OR_RETURN(LoggedModel m, LoadLoggedModel(**r, id, false));
    page.models.push_back(std::move(m));
  }
  return page;
}

Status SqliteTrackingStore::LinkRunModels(const std::string& run_id, const std::vector<ModelLink>& models,
                                          bool as_inputs) {
  return Write([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement * run, c.Prepare("SELECT lifecycle_stage FROM runs WHERE run_uuid = ?"));
    run->Bind(1, run_id);
    ASSIGN_OR_RETURN(bool found, run->Step());
    run->Reset();
    if (!found) return NotFound(fmt::format("Run with id={} not found", run_id));
    for (const auto& m : models) {
      ASSIGN_OR_RETURN(Statement * exists, c.Prepare("SELECT 1 FROM logged_models WHERE model_id = ?"));
      exists->Bind(1, m.model_id);
      ASSIGN_OR_RETURN(bool model_found, exists->Step());
      exists->Reset();
      if (!model_found) return ModelNotFound(m.model_id);
      ASSIGN_OR_RETURN(Statement * s, c.Prepare(
          "INSERT INTO run_models (run_uuid, model_id, direction, step) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (run_uuid, direction, model_id) DO UPDATE SET step = excluded.step"));
      RETURN_IF_ERROR(s->Bind(1, run_id).Bind(2, m.model_id).Bind(3, as_inputs ? "input" : "output").Bind(4, m.step).Exec());
    }
    return Status::Ok();
  });
}

}  // namespace loam::sqlite
