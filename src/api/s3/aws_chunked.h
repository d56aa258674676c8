// The aws-chunked content encoding of streaming SigV4 uploads (x-amz-content-sha256:
// STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]):
//
//   <hex size>[;chunk-signature=<sig>]\r\n <size bytes>\r\n ... 0[;chunk-signature=<sig>]\r\n
//   [<trailer name>:<value>\r\n]* \r\n
//
// Decoded into the payload alone; trailers (x-amz-checksum-crc32, ...) are returned.
// Chunk signatures are not verified (Loam accepts any SigV4 signature).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loam::api::s3 {

struct AwsChunkedBody {
  uint64_t decoded_size = 0;
  std::vector<std::pair<std::string, std::string>> trailers;  // names lower-cased, values trimmed
};

// Decodes `in` into a new file `out`. InvalidArgument (reason IncompleteBody) when the
// framing is malformed or cut short.
StatusOr<AwsChunkedBody> DecodeAwsChunked(const std::filesystem::path& in, const std::filesystem::path& out);

}  // namespace loam::api::s3
