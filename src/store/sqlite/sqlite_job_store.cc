#include "store/sqlite/sqlite_job_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace loam::sqlite {

using jobs::JobRecord;

namespace {

constexpr const char* kJobColumns = "kind, name, arn, status, creation_time, last_modified_time, parent, doc";

StatusOr<JobRecord> ReadJob(const Statement& s) {
  JobRecord j;
  j.kind = s.Text(0);
  j.name = s.Text(1);
  j.arn = s.Text(2);
  j.status = s.Text(3);
  j.creation_time_ms = s.Int(4);
  j.last_modified_time_ms = s.Int(5);
  j.parent = s.Text(6);
  j.doc = nlohmann::json::parse(s.Text(7), nullptr, /*allow_exceptions=*/false);
  if (j.doc.is_discarded()) return Internal(fmt::format("job {} has a corrupt document", j.name));
  return j;
}

// Every row of a SELECT of kJobColumns; the statement is reset however it ends.
Status CollectJobs(Statement& s, std::vector<JobRecord>& out) {
  Status status = Status::Ok();
  while (status.ok()) {
    auto row = s.Step();
    if (!row.ok()) {
      status = row.status();
      break;
    }
    if (!*row) break;
    auto job = ReadJob(s);
    if (!job.ok()) {
      status = job.status();
      break;
    }
    out.push_back(std::move(job).value());
  }
  s.Reset();
  return status;
}

// LIKE with the user's text taken literally.
std::string ContainsPattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

StatusOr<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(const std::filesystem::path& path,
                                                               Durability durability) {
  ASSIGN_OR_RETURN(auto c, Connection::Open(path, durability, false));
  return std::unique_ptr<SqliteJobStore>(new SqliteJobStore(std::move(c)));
}

Status SqliteJobStore::CreateJob(const JobRecord& job) {
  std::lock_guard lock(mu_);
  Transaction tx(*conn_);
  RETURN_IF_ERROR(tx.begin_status());
  ASSIGN_OR_RETURN(Statement * dup, conn_->Prepare("SELECT 1 FROM jobs WHERE kind = ? AND name = ?"));
  dup->Bind(1, job.kind).Bind(2, job.name);
  ASSIGN_OR_RETURN(bool exists, dup->Step());
  dup->Reset();
  if (exists) return AlreadyExists(fmt::format("Job name {} already exists.", job.name));
  ASSIGN_OR_RETURN(Statement * ins, conn_->Prepare(fmt::format(
      "INSERT INTO jobs ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", kJobColumns)));
  RETURN_IF_ERROR(ins->Bind(1, job.kind).Bind(2, job.name).Bind(3, job.arn).Bind(4, job.status)
                      .Bind(5, job.creation_time_ms).Bind(6, job.last_modified_time_ms).Bind(7, job.parent)
                      .Bind(8, job.doc.dump()).Exec());
  return tx.Commit();
}

StatusOr<JobRecord> SqliteJobStore::GetJob(const std::string& kind, const std::string& name) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare(fmt::format(
      "SELECT {} FROM jobs WHERE kind = ? AND name = ?", kJobColumns)));
  s->Bind(1, kind).Bind(2, name);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return NotFound("Requested resource not found.");
  auto job = ReadJob(*s);
  s->Reset();
  return job;
}

Status SqliteJobStore::UpdateJob(const JobRecord& job) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare(
      "UPDATE jobs SET status = ?, last_modified_time = ?, doc = ? WHERE kind = ? AND name = ?"));
  RETURN_IF_ERROR(s->Bind(1, job.status).Bind(2, job.last_modified_time_ms).Bind(3, job.doc.dump())
                      .Bind(4, job.kind).Bind(5, job.name).Exec());
  if (conn_->Changes() == 0) return NotFound("Requested resource not found.");
  return Status::Ok();
}

Status SqliteJobStore::DeleteJob(const std::string& kind, const std::string& name) {
  std::lock_guard lock(mu_);
  Transaction tx(*conn_);
  RETURN_IF_ERROR(tx.begin_status());
  ASSIGN_OR_RETURN(Statement * tags, conn_->Prepare(
      "DELETE FROM aws_tags WHERE resource_arn IN (SELECT arn FROM jobs WHERE kind = ? AND name = ?)"));
  RETURN_IF_ERROR(tags->Bind(1, kind).Bind(2, name).Exec());
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare("DELETE FROM jobs WHERE kind = ? AND name = ?"));
  RETURN_IF_ERROR(s->Bind(1, kind).Bind(2, name).Exec());
  if (conn_->Changes() == 0) return NotFound("Requested resource not found.");
  return tx.Commit();
}

StatusOr<std::pair<std::vector<JobRecord>, bool>> SqliteJobStore::ListJobs(const jobs::JobListQuery& q) {
  std::string sql = fmt::format("SELECT {} FROM jobs WHERE kind = ?", kJobColumns);
  if (q.name_contains) sql += " AND name LIKE ? ESCAPE '\\'";
  if (q.status_equals) sql += " AND status = ?";
  if (q.parent) sql += " AND parent = ?";
  if (q.created_after_ms) sql += " AND creation_time > ?";
  if (q.created_before_ms) sql += " AND creation_time < ?";
  if (q.modified_after_ms) sql += " AND last_modified_time > ?";
  if (q.modified_before_ms) sql += " AND last_modified_time < ?";
  const char* order = q.descending ? "DESC" : "ASC";
  switch (q.sort_by) {
    case jobs::JobSortBy::kName: sql += fmt::format(" ORDER BY name {}", order); break;
    case jobs::JobSortBy::kStatus: sql += fmt::format(" ORDER BY status {0}, name {0}", order); break;
    case jobs::JobSortBy::kCreationTime: sql += fmt::format(" ORDER BY creation_time {0}, name {0}", order); break;
  }
  sql += " LIMIT ? OFFSET ?";

  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare(sql));
  int i = 1;
  s->Bind(i++, q.kind);
  if (q.name_contains) s->Bind(i++, ContainsPattern(*q.name_contains));
  if (q.status_equals) s->Bind(i++, *q.status_equals);
  if (q.parent) s->Bind(i++, *q.parent);
  if (q.created_after_ms) s->Bind(i++, *q.created_after_ms);
  if (q.created_before_ms) s->Bind(i++, *q.created_before_ms);
  if (q.modified_after_ms) s->Bind(i++, *q.modified_after_ms);
  if (q.modified_before_ms) s->Bind(i++, *q.modified_before_ms);
  s->Bind(i, static_cast<int64_t>(q.limit + 1));
  s->Bind(i + 1, static_cast<int64_t>(q.offset));
  std::vector<JobRecord> out;
  RETURN_IF_ERROR(CollectJobs(*s, out));
  bool more = out.size() > q.limit;
  if (more) out.pop_back();
  return std::make_pair(std::move(out), more);
}

StatusOr<std::vector<JobRecord>> SqliteJobStore::JobsWithStatus(const std::string& kind,
                                                                const std::vector<std::string>& statuses) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare(fmt::format(
      "SELECT {} FROM jobs WHERE kind = ? AND status = ? ORDER BY creation_time, name", kJobColumns)));
  std::vector<JobRecord> out;
  for (const auto& status : statuses) {
    s->Bind(1, kind).Bind(2, status);
    RETURN_IF_ERROR(CollectJobs(*s, out));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const JobRecord& a, const JobRecord& b) { return a.creation_time_ms < b.creation_time_ms; });
  return out;
}

Status SqliteJobStore::AddTags(const std::string& arn, const std::vector<jobs::Tag>& tags) {
  std::lock_guard lock(mu_);
  Transaction tx(*conn_);
  RETURN_IF_ERROR(tx.begin_status());
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare(
      "INSERT INTO aws_tags (resource_arn, key, value) VALUES (?, ?, ?) "
      "ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value"));
  for (const auto& t : tags) RETURN_IF_ERROR(s->Bind(1, arn).Bind(2, t.key).Bind(3, t.value).Exec());
  ASSIGN_OR_RETURN(Statement * count, conn_->Prepare("SELECT COUNT(*) FROM aws_tags WHERE resource_arn = ?"));
  count->Bind(1, arn);
  ASSIGN_OR_RETURN(bool row, count->Step());
  int64_t n = row ? count->Int(0) : 0;
  count->Reset();
  // AWS allows 50 user tags per resource.
  if (n > 50) return ResourceExhausted(fmt::format("Resource {} would have {} tags; the limit is 50.", arn, n));
  return tx.Commit();
}

StatusOr<std::vector<jobs::Tag>> SqliteJobStore::ListTags(const std::string& arn) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare("SELECT key, value FROM aws_tags WHERE resource_arn = ? ORDER BY key"));
  s->Bind(1, arn);
  std::vector<jobs::Tag> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back({s->Text(0), s->Text(1)});
  }
  s->Reset();
  return out;
}

Status SqliteJobStore::DeleteTags(const std::string& arn, const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  Transaction tx(*conn_);
  RETURN_IF_ERROR(tx.begin_status());
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare("DELETE FROM aws_tags WHERE resource_arn = ? AND key = ?"));
  for (const auto& k : keys) RETURN_IF_ERROR(s->Bind(1, arn).Bind(2, k).Exec());
  return tx.Commit();
}

StatusOr<bool> SqliteJobStore::JobArnExists(const std::string& arn) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare("SELECT 1 FROM jobs WHERE arn = ?"));
  s->Bind(1, arn);
  ASSIGN_OR_RETURN(bool row, s->Step());
  s->Reset();
  return row;
}

}  // namespace loam::sqlite
