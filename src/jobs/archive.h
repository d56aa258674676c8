// tar.gz packing and unpacking (libarchive) for model.tar.gz, output.tar.gz and source bundles.
#pragma once

#include <filesystem>

#include "common/status.h"

namespace loam::jobs {

// Writes every file under `dir` (relative names, as SageMaker packs /opt/ml/model) to a
// gzip-compressed tar at `archive`, replacing it atomically.
Status PackDirectory(const std::filesystem::path& dir, const std::filesystem::path& archive);

// Extracts a tar (optionally gzip-compressed) into `dest`; entries that would escape it
// (absolute paths, "..", hard links out, writing through a symlink that points out) are
// refused. A symlink entry itself is kept as written.
Status ExtractArchive(const std::filesystem::path& archive, const std::filesystem::path& dest);

}  // namespace loam::jobs
