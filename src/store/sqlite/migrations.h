// Versioned schema migrations, applied in order at start inside one transaction each.
#pragma once

#include "common/status.h"
#include "store/sqlite/sqlite_db.h"

namespace loam::sqlite {

// Brings the database to the newest schema version; returns the version reached.
StatusOr<int> ApplyMigrations(Connection& c, const std::string& default_artifact_root, int64_t now);
int LatestSchemaVersion();

}  // namespace loam::sqlite
