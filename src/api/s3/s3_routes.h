// The S3 REST API, path-style (/<bucket>/<key>), over a BucketStore: buckets, objects,
// listing, copies and multipart uploads, with S3's XML bodies and errors.
//
// It claims every path no other route claims (a "/" prefix route per method group), so it
// must be added alongside the others: exact paths and longer prefixes still win, and
// `POST /` with an X-Amz-Target header still reaches the AWS JSON services. It also adds
// `PUT /<name>` for Loam's reserved top-level names (health, metrics, ...), so creating such
// a bucket is refused with InvalidBucketName. Any SigV4 signature is accepted.
#pragma once

#include <memory>

#include "http/router.h"
#include "objects/bucket_store.h"

namespace loam::api::s3 {

void AddRoutes(http::Router& router, std::shared_ptr<objects::BucketStore> store);

// One request, routed to its operation (exposed for tests).
http::Response HandleS3Request(objects::BucketStore& store, http::Request& request);

}  // namespace loam::api::s3
