// MLflow's search grammar: a conjunction of comparisons over metrics, params, tags,
// attributes and datasets, plus order_by clauses. Parsed here once; each store translates
// the result to its own query language. Errors name the character position.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace loam::tracking {

enum class EntityType { kMetric, kParam, kTag, kAttribute, kDataset };

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn, kNotIn, kIsNull, kIsNotNull };
const char* CompareOpSql(CompareOp op);  // "=", "!=", "<", ..., "LIKE", "IN", ...

struct Comparison {
  EntityType entity;
  std::string key;  // for attributes the canonical column name (run_id, start_time, ...)
  CompareOp op;
  // double for numeric comparisons, string for string comparisons, list for IN / NOT IN,
  // monostate for IS [NOT] NULL.
  std::variant<std::monostate, double, std::string, std::vector<std::string>> value;
};

struct Filter {
  std::vector<Comparison> clauses;  // all must hold (AND)
};

struct OrderBy {
  EntityType entity;
  std::string key;
  bool ascending = true;
};

// Runs: metrics.<k>, params.<k>, tags.<k>, attributes.<k> (run_id, run_name, status, user_id,
// artifact_uri, lifecycle_stage, start_time, end_time), datasets.<name|digest|context>.
StatusOr<Filter> ParseRunFilter(std::string_view filter);
StatusOr<OrderBy> ParseRunOrderBy(std::string_view clause);

// Experiments: name, creation_time, last_update_time (optionally attribute./attributes.),
// tags.<k>.
StatusOr<Filter> ParseExperimentFilter(std::string_view filter);
StatusOr<OrderBy> ParseExperimentOrderBy(std::string_view clause);

// Logged models: name, model_id, model_type, status, source_run_id, creation_timestamp,
// last_updated_timestamp (optionally attributes.), params.<k>, tags.<k>, metrics.<k>.
StatusOr<Filter> ParseLoggedModelFilter(std::string_view filter);
bool IsLoggedModelAttribute(std::string_view key);

// Attributes whose values are numbers (compared with <, >, ...).
bool IsNumericRunAttribute(std::string_view key);

}  // namespace loam::tracking
