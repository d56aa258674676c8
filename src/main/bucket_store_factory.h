// The object store of `loam server`: the one BucketStore behind Loam's S3 API and every
// s3:// URI of every job, built from the server's flags. Local files under DATA_DIR/objects by
// default; an external S3-compatible store (AWS S3, MinIO, Ceph) with --object-store s3.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "objects/bucket_store.h"

namespace loam {

struct ObjectStoreFlags {
  std::string kind = "local";  // "local" or "s3"
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  std::string s3_addressing = "path";  // "path" or "virtual"
  // Unset: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment.
  std::string s3_access_key_id;
  std::string s3_secret_access_key;
};

// An external store must answer (ListBuckets) before this returns it: a wrong endpoint or
// refused credentials fail the start, not the first request. Its downloads go to
// DATA_DIR/tmp/objects.
StatusOr<std::shared_ptr<objects::BucketStore>> MakeBucketStore(const ObjectStoreFlags& flags,
                                                                const std::filesystem::path& data_dir);

}  // namespace loam
