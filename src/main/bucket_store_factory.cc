#include "main/bucket_store_factory.h"

#include <cstdlib>

#include "common/log.h"
#include "objects/local_bucket_store.h"
#include "objects/s3_bucket_store.h"

namespace loam {

namespace {

std::string FlagOrEnv(const std::string& flag, const char* variable) {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(variable);
  return value != nullptr ? value : "";
}

}  // namespace

StatusOr<std::shared_ptr<objects::BucketStore>> MakeBucketStore(const ObjectStoreFlags& flags,
                                                                const std::filesystem::path& data_dir) {
  if (flags.kind == "local") {
    return std::shared_ptr<objects::BucketStore>(std::make_shared<objects::LocalBucketStore>(
        objects::LocalBucketStoreOptions{.root = data_dir / "objects", .state_root = data_dir / "objects-meta"}));
  }
  if (flags.kind != "s3") return InvalidArgument("--object-store must be local or s3, not '" + flags.kind + "'");
  if (flags.s3_endpoint.empty()) return InvalidArgument("--object-store s3 needs --s3-endpoint URL");
  objects::S3BucketStoreOptions options;
  options.client.endpoint = flags.s3_endpoint;
  options.client.region = flags.s3_region;
  options.client.virtual_hosted = flags.s3_addressing == "virtual";
  options.client.access_key_id = FlagOrEnv(flags.s3_access_key_id, "AWS_ACCESS_KEY_ID");
  options.client.secret_access_key = FlagOrEnv(flags.s3_secret_access_key, "AWS_SECRET_ACCESS_KEY");
  // A session token belongs to the environment's key pair, not to keys given as flags.
  if (flags.s3_access_key_id.empty()) options.client.session_token = FlagOrEnv("", "AWS_SESSION_TOKEN");
  if (options.client.access_key_id.empty() != options.client.secret_access_key.empty()) {
    return InvalidArgument("an S3 access key id needs its secret access key, and the reverse");
  }
  options.temp_dir = data_dir / "tmp" / "objects";
  auto store = std::make_shared<objects::S3BucketStore>(std::move(options));
  RETURN_IF_ERROR(store->CheckReachable());
  log::Info("objects.s3", {{"endpoint", flags.s3_endpoint},
                           {"region", flags.s3_region},
                           {"addressing", flags.s3_addressing},
                           {"signed", !store->options().client.access_key_id.empty()}});
  return std::shared_ptr<objects::BucketStore>(std::move(store));
}

}  // namespace loam
