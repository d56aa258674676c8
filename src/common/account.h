// The one AWS account Loam presents on its AWS-protocol surfaces: STS's caller identity, the
// owner S3 requests may name with ExpectedBucketOwner, the account in ARNs.
#pragma once

#include <string_view>

namespace loam {

inline constexpr std::string_view kAccountId = "000000000000";

}  // namespace loam
