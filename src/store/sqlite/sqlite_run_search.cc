// MLflow's run search translated to SQL. Filters on metrics, params and tags become joins on
// the (run, key) primary keys. Each clause's matches are counted on its index (capped); when
// they leave many runs, the search walks runs in the requested order (start_time through
// runs_by_experiment, a metric through (key, is_nan, value)) and stops at the page; when they
// leave few, it starts from the clause that matches fewest rows and sorts what remains.
#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "store/sqlite/sqlite_tracking_store.h"

namespace loam::sqlite {

using namespace tracking;
using detail::LifecycleFilter;
using detail::NumericComparison;
using detail::PagedIds;
using detail::SqlBuilder;
using detail::StringComparison;

namespace {

// Matches are counted up to this many; beyond it every clause is "large".
constexpr int64_t kCountCap = 20000;

std::string AttributeColumn(const std::string& key) {
  if (key == "run_id") return "r.run_uuid";
  if (key == "run_name") return "r.name";
  return "r." + key;
}

const char* EntityTable(EntityType e) {
  switch (e) {
    case EntityType::kMetric: return "latest_metrics";
    case EntityType::kParam: return "params";
    case EntityType::kTag: return "tags";
    default: return "";
  }
}

// Clauses on metrics, params and tags that require the key to be present become inner joins.
bool IsJoinClause(const Comparison& c) {
  return (c.entity == EntityType::kMetric || c.entity == EntityType::kParam || c.entity == EntityType::kTag) &&
         c.op != CompareOp::kIsNull;
}

// The condition a join clause puts on its alias: key, and the value comparison.
void AppendClauseCondition(SqlBuilder& b, const Comparison& c, const std::string& alias) {
  b.sql += alias + ".key = ";
  b.Arg(c.key);
  if (c.op == CompareOp::kIsNotNull) return;
  b.sql += " AND ";
  if (c.entity == EntityType::kMetric) {
    b.sql += alias + ".is_nan = 0 AND ";
    NumericComparison(b, alias + ".value", c);
  } else {
    StringComparison(b, alias + ".value", c);
  }
}

// Join clauses in the given order. `forced` uses CROSS JOIN, which SQLite never reorders,
// after the first clause has been made the driving table by the caller.
void AppendFilterJoins(SqlBuilder& b, const std::vector<const Comparison*>& clauses, size_t first, bool forced) {
  for (size_t i = first; i < clauses.size(); ++i) {
    std::string alias = fmt::format("f{}", i);
    b.sql += fmt::format(" {} {} {} ON {}.run_uuid = r.run_uuid AND ", forced ? "CROSS JOIN" : "JOIN",
                         EntityTable(clauses[i]->entity), alias, alias);
    AppendClauseCondition(b, *clauses[i], alias);
  }
}

// LEFT JOINs o<i> for every order_by key on a metric, param or tag, from index `first`.
void AppendOrderJoins(SqlBuilder& b, const std::vector<OrderBy>& order_by, size_t first) {
  for (size_t i = first; i < order_by.size(); ++i) {
    const auto& ob = order_by[i];
    if (ob.entity == EntityType::kAttribute) continue;
    std::string alias = fmt::format("o{}", i);
    b.sql += fmt::format(" LEFT JOIN {} {} ON {}.run_uuid = r.run_uuid AND {}.key = ", EntityTable(ob.entity), alias,
                         alias, alias);
    b.Arg(ob.key);
  }
}

void AppendWhere(SqlBuilder& b, const RunQuery& q) {
  b.sql += " WHERE r.experiment_id IN (";
  for (size_t i = 0; i < q.experiment_ids.size(); ++i) {
    if (i) b.sql += ", ";
    b.Arg(ParseInt64(q.experiment_ids[i]).value_or(-1));
  }
  b.sql += std::string(") AND r.lifecycle_stage IN ") + LifecycleFilter(q.view_type);
  for (const auto& c : q.filter.clauses) {
    if (IsJoinClause(c)) continue;
    b.sql += " AND ";
    switch (c.entity) {
      case EntityType::kAttribute:
        if (IsNumericRunAttribute(c.key)) {
          NumericComparison(b, AttributeColumn(c.key), c);
        } else {
          StringComparison(b, AttributeColumn(c.key), c);
        }
        break;
      case EntityType::kDataset:
        if (c.key == "context") {
          b.sql += "r.run_uuid IN (SELECT run_uuid FROM input_tags WHERE key = 'mlflow.data.context' AND ";
          StringComparison(b, "value", c);
        } else {
          b.sql += "r.run_uuid IN (SELECT i.run_uuid FROM inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid "
                   "WHERE ";
          StringComparison(b, "d." + c.key, c);
        }
        b.sql += ")";
        break;
      default:  // IS NULL on a param or tag: the key is absent
        b.sql += fmt::format("NOT EXISTS (SELECT 1 FROM {} x WHERE x.run_uuid = r.run_uuid AND x.key = ",
                             EntityTable(c.entity));
        b.Arg(c.key);
        b.sql += ")";
    }
  }
}

// ORDER BY terms from index `first`: values present first (for metrics: numbers, then NaN,
// then missing, as MLflow), then start_time DESC and run_uuid as tie-breakers.
void AppendOrderBy(SqlBuilder& b, const std::vector<OrderBy>& order_by, size_t first) {
  bool has_start_time = false;
  for (size_t i = first; i < order_by.size(); ++i) {
    const auto& ob = order_by[i];
    std::string dir = ob.ascending ? " ASC" : " DESC";
    std::string alias = fmt::format("o{}", i);
    if (ob.entity == EntityType::kMetric) {
      b.sql += fmt::format("(CASE WHEN {0}.run_uuid IS NULL THEN 2 WHEN {0}.is_nan THEN 1 ELSE 0 END), {0}.value{1}, ",
                           alias, dir);
    } else if (ob.entity == EntityType::kAttribute) {
      b.sql += AttributeColumn(ob.key) + dir + " NULLS LAST, ";
      has_start_time = has_start_time || ob.key == "start_time";
    } else {
      b.sql += fmt::format("({0}.value IS NULL), {0}.value{1}, ", alias, dir);
    }
  }
  if (!has_start_time) b.sql += "r.start_time DESC, ";
  b.sql += "r.run_uuid ASC";
}

void AppendPage(SqlBuilder& b, int64_t limit, int64_t offset) {
  b.sql += " LIMIT ";
  b.Arg(limit);
  b.sql += " OFFSET ";
  b.Arg(offset);
}

// How many rows a join clause matches, counted on its index and capped: exact cardinalities
// let the search start from the most selective clause whatever the data looks like.
StatusOr<int64_t> CountMatches(Connection& c, const Comparison& clause) {
  SqlBuilder b;
  b.sql = fmt::format("SELECT COUNT(*) FROM (SELECT 1 FROM {} x WHERE ", EntityTable(clause.entity));
  AppendClauseCondition(b, clause, "x");
  b.sql += fmt::format(" LIMIT {})", kCountCap);
  ASSIGN_OR_RETURN(Statement * s, c.Prepare(b.sql));
  b.BindAll(*s);
  ASSIGN_OR_RETURN(bool row, s->Step());
  int64_t n = row ? s->Int(0) : 0;
  s->Reset();
  return n;
}

}  // namespace

StatusOr<RunPage> SqliteTrackingStore::SearchRuns(const RunQuery& q) {
  ASSIGN_OR_RETURN(auto r, AcquireReader());
  // Rank the join clauses by how many rows each matches.
  std::vector<std::pair<int64_t, const Comparison*>> ranked;
  bool by_run_id = false;
  for (const auto& c : q.filter.clauses) {
    if (IsJoinClause(c)) {
      ASSIGN_OR_RETURN(int64_t n, CountMatches(**r, c));
      ranked.emplace_back(n, &c);
    }
    by_run_id = by_run_id || (c.entity == EntityType::kAttribute && c.key == "run_id" &&
                              (c.op == CompareOp::kEq || c.op == CompareOp::kIn));
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const Comparison*> clauses;
  for (const auto& [n, c] : ranked) clauses.push_back(c);

  // Walking runs in the requested order and filtering as they come stops at the page; it
  // wins unless the clauses together leave few runs, estimated assuming independence.
  bool walk = !by_run_id;
  if (walk && !ranked.empty()) {
    SqlBuilder total_sql;
    total_sql.sql = "SELECT COUNT(*) FROM runs r";
    AppendWhere(total_sql, RunQuery{q.experiment_ids, {}, {}, q.view_type, 0, 0});
    ASSIGN_OR_RETURN(Statement * s, (*r)->Prepare(total_sql.sql));
    total_sql.BindAll(*s);
    ASSIGN_OR_RETURN(bool row, s->Step());
    double total = row ? static_cast<double>(s->Int(0)) : 0;
    s->Reset();
    double expected = total;
    for (const auto& [n, c] : ranked) expected *= total > 0 ? std::min(1.0, static_cast<double>(n) / total) : 0;
    walk = expected >= 4.0 * static_cast<double>(q.offset + q.max_results + 1);
  }
  bool first_is_metric = !q.order_by.empty() && q.order_by.front().entity == EntityType::kMetric;
  bool first_is_start_time = q.order_by.empty() || (q.order_by.front().entity == EntityType::kAttribute &&
                                                   q.order_by.front().key == "start_time");
  bool walk_metric_index = walk && first_is_metric;

  RunPage page;
  std::vector<std::string> ids;
  if (!walk_metric_index) {
    SqlBuilder b;
    if (by_run_id || clauses.empty()) {
      b.sql = "SELECT r.run_uuid FROM runs r";
      AppendFilterJoins(b, clauses, 0, false);
    } else if (walk && first_is_start_time) {
      // Runs in start_time order through runs_by_experiment, each checked by key lookups.
      b.sql = "SELECT r.run_uuid FROM runs r";
      AppendFilterJoins(b, clauses, 0, true);
    } else {
      b.sql = fmt::format("SELECT r.run_uuid FROM {} f0 CROSS JOIN runs r ON r.run_uuid = f0.run_uuid AND ",
                          EntityTable(clauses[0]->entity));
      AppendClauseCondition(b, *clauses[0], "f0");
      AppendFilterJoins(b, clauses, 1, true);
    }
    AppendOrderJoins(b, q.order_by, 0);
    AppendWhere(b, q);
    b.sql += " ORDER BY ";
    AppendOrderBy(b, q.order_by, 0);
    AppendPage(b, q.max_results + 1, q.offset);
    ASSIGN_OR_RETURN(ids, PagedIds(**r, b, q.max_results, page.has_more));
  } else {
    // Runs with a numeric value for the first key, in index order, filtered as they come...
    const OrderBy& first = q.order_by.front();
    // A filter on the ordering metric itself bounds the walk's range of the index rather
    // than being checked row by row (a walk from the wrong end would pass every row first).
    std::vector<const Comparison*> joined, on_order_key;
    for (const Comparison* c : clauses) {
      bool same_key = c->entity == EntityType::kMetric && c->key == first.key && c->op != CompareOp::kIsNotNull;
      (same_key ? on_order_key : joined).push_back(c);
    }
    auto present = [&](SqlBuilder& b, const std::string& select) {
      b.sql = select + " FROM latest_metrics o0 CROSS JOIN runs r ON r.run_uuid = o0.run_uuid";
      AppendFilterJoins(b, joined, 0, true);
      AppendOrderJoins(b, q.order_by, 1);
      AppendWhere(b, q);
      b.sql += " AND o0.is_nan = 0 AND o0.key = ";
      b.Arg(first.key);
      for (const Comparison* c : on_order_key) {
        b.sql += " AND ";
        NumericComparison(b, "o0.value", *c);
      }
    };
    SqlBuilder a;
    present(a, "SELECT r.run_uuid");
    a.sql += std::string(" ORDER BY o0.value") + (first.ascending ? " ASC, " : " DESC, ");
    AppendOrderBy(a, q.order_by, 1);
    AppendPage(a, q.max_results + 1, q.offset);
    bool more = false;
    ASSIGN_OR_RETURN(ids, PagedIds(**r, a, q.max_results + 1, more));
    if (static_cast<int64_t>(ids.size()) <= q.max_results) {
      // ...then, once those run out, the runs where it is NaN, then those without it.
      int64_t offset_b = 0;
      if (ids.empty() && q.offset > 0) {
        SqlBuilder count;
        present(count, "SELECT COUNT(*)");
        ASSIGN_OR_RETURN(Statement * s, (*r)->Prepare(count.sql));
        count.BindAll(*s);
        ASSIGN_OR_RETURN(bool row, s->Step());
        int64_t total = row ? s->Int(0) : 0;
        s->Reset();
        offset_b = std::max<int64_t>(0, q.offset - total);
      }
      SqlBuilder b;
      b.sql = "SELECT r.run_uuid FROM runs r";
      AppendFilterJoins(b, clauses, 0, false);
      AppendOrderJoins(b, q.order_by, 0);
      AppendWhere(b, q);
      b.sql += " AND (o0.run_uuid IS NULL OR o0.is_nan) ORDER BY ";
      AppendOrderBy(b, q.order_by, 0);
      AppendPage(b, q.max_results + 1 - static_cast<int64_t>(ids.size()), offset_b);
      ASSIGN_OR_RETURN(auto rest, PagedIds(**r, b, q.max_results + 1, more));
      ids.insert(ids.end(), rest.begin(), rest.end());
    }
    page.has_more = static_cast<int64_t>(ids.size()) > q.max_results;
    if (page.has_more) ids.resize(static_cast<size_t>(q.max_results));
  }
  ASSIGN_OR_RETURN(page.runs, detail::LoadRuns(**r, ids));
  return page;
}

}  // namespace loam::sqlite
