// The file-system helpers of LocalBucketStore: stat snapshots, metadata JSON written
// atomically, S3's not-found errors, and file moves. Internal to objects/local_bucket_store*.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "objects/local_bucket_store.h"

namespace loam::objects::local_store {

using FileStat = LocalBucketStore::FileStat;

inline constexpr std::string_view kDefaultContentType = "binary/octet-stream";

std::optional<struct stat> LStat(const std::filesystem::path& p);
FileStat ToFileStat(const struct stat& st);
bool SameStat(const FileStat& a, const FileStat& b);
int64_t NowMillis();

Status NoSuchBucket(std::string_view bucket);
Status NoSuchKey(std::string_view key);
Status NoSuchUpload(std::string_view upload_id);
Status ErrnoInternal(std::string_view what, const std::filesystem::path& p);

std::optional<nlohmann::json> ReadJson(const std::filesystem::path& p);
// Writes next to the destination, then renames: readers see the old file or the new one.
Status WriteJsonAtomically(const std::filesystem::path& p, const nlohmann::json& j);
nlohmann::json AttributesJson(const ObjectAttributes& a);
ObjectAttributes AttributesFrom(const nlohmann::json& j);
std::map<std::string, std::string> StringMap(const nlohmann::json& j, const char* name);

bool ValidUploadId(std::string_view id);
std::vector<std::string> SplitKey(std::string_view key);
bool IsRealDir(const std::filesystem::path& p);
// Whether a regular file lies under a directory (through real directories, not links).
bool HasRegularFile(const std::filesystem::path& dir);
void RemoveIfPresent(const std::filesystem::path& p);
// Moves a file into place; across file systems, copies it (not atomically) instead.
Status MoveFile(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace loam::objects::local_store
