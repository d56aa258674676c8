// The AWS SDK for JavaScript v3 (@aws-sdk/client-s3) against Loam's S3 API, path-style.
//   node s3_flow.mjs --endpoint http://127.0.0.1:7070 [--bucket name]
// Runs the common operations, each step recorded as {ok, ...facts} or {ok: false, error}, and
// prints one JSON object on the last line of stdout. Flexible checksums are left at the SDK's
// defaults (CRC32; aws-chunked bodies with a trailing checksum for streams).
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { crc32 } from "node:zlib";

import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { stepper } from "./steps.mjs";

const { values: args } = parseArgs({
  options: { endpoint: { type: "string" }, bucket: { type: "string" }, region: { type: "string" } },
});
if (!args.endpoint) {
  console.error("usage: node s3_flow.mjs --endpoint http://127.0.0.1:7070 [--bucket name]");
  process.exit(2);
}

const MIB = 1024 * 1024;
const bucket = args.bucket ?? `js-${randomBytes(6).toString("hex")}`;
const s3 = new S3Client({
  endpoint: args.endpoint,
  forcePathStyle: true,
  region: args.region ?? "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" },
  maxAttempts: 1,
});

// What the SDK put on the wire, per operation (the last request of each): the checksum headers.
const sent = {};
s3.middlewareStack.add(
  (next, context) => async (args) => {
    const h = args.request.headers ?? {};
    const pick = (name) => h[name] ?? h[Object.keys(h).find((k) => k.toLowerCase() === name)] ?? null;
    sent[context.commandName] = {
      contentEncoding: pick("content-encoding"), trailer: pick("x-amz-trailer"),
      checksumHeader: pick("x-amz-checksum-crc32"), contentSha256: pick("x-amz-content-sha256"),
    };
    return next(args);
  },
  { step: "finalizeRequest", name: "recordChecksumHeaders", priority: "low" },
);

const crc32Base64 = (bytes) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(bytes) >>> 0);
  return out.toString("base64");
};
const md5 = (bytes) => createHash("md5").update(bytes).digest("hex");
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const readAll = async (body) => Buffer.from(await body.transformToByteArray());

const results = { bucket, sdk: "@aws-sdk/client-s3", steps: {} };

// Runs one step; a failure is recorded with the SDK's error name, status and message.
const step = stepper(results);

// An error the step expects: its name and HTTP status.
async function expectError(fn) {
  try {
    await fn();
  } catch (err) {
    return { name: err.name, code: err.Code, status: err.$metadata?.httpStatusCode, requestId: err.$metadata?.requestId };
  }
  return { name: "no error" };
}

const text = "Hello from the AWS SDK for JavaScript v3 — ünïcödé too.\n";
const blob = randomBytes(3 * MIB + 17);
const streamed = randomBytes(2 * MIB + 5);
const part1 = randomBytes(5 * MIB);
const part2 = randomBytes(MIB + 123);

await step("CreateBucket", async () => {
  const out = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { status: out.$metadata.httpStatusCode, location: out.Location };
});

await step("HeadBucket", async () => {
  const out = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  return { status: out.$metadata.httpStatusCode, region: out.BucketRegion };
});

await step("PutObjectString", async () => {
  const out = await s3.send(new PutObjectCommand({
    Bucket: bucket, Key: "docs/hello.txt", Body: text, ContentType: "text/plain; charset=utf-8",
    Metadata: { origin: "node", "Mixed-Case": "Value" },
  }));
  return { etag: out.ETag, expectedEtag: `"${md5(Buffer.from(text))}"`, crc32: out.ChecksumCRC32,
           expectedCrc32: crc32Base64(Buffer.from(text)), sent: sent.PutObjectCommand };
});

await step("PutObjectBuffer", async () => {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "blobs/random.bin", Body: blob }));
  return { etag: out.ETag, expectedEtag: `"${md5(blob)}"`, crc32: out.ChecksumCRC32,
           expectedCrc32: crc32Base64(blob), sent: sent.PutObjectCommand };
});

// A stream body of known length: the SDK sends it aws-chunked with a trailing CRC32.
await step("PutObjectStream", async () => {
  const chunks = [];
  for (let i = 0; i < streamed.length; i += 256 * 1024) chunks.push(streamed.subarray(i, i + 256 * 1024));
  const out = await s3.send(new PutObjectCommand({
    Bucket: bucket, Key: "blobs/streamed.bin", Body: Readable.from(chunks), ContentLength: streamed.length,
  }));
  const wire = sent.PutObjectCommand;
  const back = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "blobs/streamed.bin" }));
  const bytes = await readAll(back.Body);
  return { etag: out.ETag, expectedEtag: `"${md5(streamed)}"`, crc32: out.ChecksumCRC32,
           expectedCrc32: crc32Base64(streamed), sent: wire, length: bytes.length, sameBytes: bytes.equals(streamed) };
});

await step("GetObject", async () => {
  const big = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "blobs/random.bin" }));
  const bytes = await readAll(big.Body);
  const small = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "docs/hello.txt" }));
  return {
    length: bytes.length, expectedLength: blob.length, sameBytes: bytes.equals(blob),
    sha256: sha256(bytes), expectedSha256: sha256(blob), contentLength: big.ContentLength, etag: big.ETag,
    text: await small.Body.transformToString(), expectedText: text, contentType: small.ContentType,
    metadata: small.Metadata,
  };
});

await step("GetObjectRange", async () => {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "blobs/random.bin", Range: "bytes=100-1123" }));
  const bytes = await readAll(out.Body);
  const tail = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "blobs/random.bin", Range: "bytes=-10" }));
  const tailBytes = await readAll(tail.Body);
  return {
    status: out.$metadata.httpStatusCode, contentRange: out.ContentRange, contentLength: out.ContentLength,
    sameBytes: bytes.equals(blob.subarray(100, 1124)), length: bytes.length,
    tailContentRange: tail.ContentRange, tailSameBytes: tailBytes.equals(blob.subarray(blob.length - 10)),
    total: blob.length,
  };
});

await step("HeadObject", async () => {
  const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "docs/hello.txt" }));
  return {
    etag: out.ETag, expectedEtag: `"${md5(Buffer.from(text))}"`, contentLength: out.ContentLength,
    expectedLength: Buffer.byteLength(text), contentType: out.ContentType, metadata: out.Metadata,
    lastModified: out.LastModified instanceof Date && !Number.isNaN(out.LastModified.getTime()),
  };
});

const treeKeys = ["tree/a/1.txt", "tree/a/2.txt", "tree/b/1.txt", "tree/c.txt", "tree/d.txt"];

await step("ListObjectsV2", async () => {
  for (const key of treeKeys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  const grouped = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "tree/", Delimiter: "/" }));
  const pages = [];
  let token;
  do {
    const page = await s3.send(new ListObjectsV2Command({
      Bucket: bucket, Prefix: "tree/", MaxKeys: 2, ContinuationToken: token,
    }));
    pages.push({ keys: (page.Contents ?? []).map((o) => o.Key), keyCount: page.KeyCount, truncated: page.IsTruncated });
    token = page.NextContinuationToken;
  } while (token && pages.length < 10);
  return {
    contents: (grouped.Contents ?? []).map((o) => o.Key),
    commonPrefixes: (grouped.CommonPrefixes ?? []).map((p) => p.Prefix),
    sizes: (grouped.Contents ?? []).map((o) => o.Size),
    pages, expectedKeys: treeKeys,
  };
});

await step("CopyObject", async () => {
  const out = await s3.send(new CopyObjectCommand({
    Bucket: bucket, Key: "docs/hello-copy.txt", CopySource: `${bucket}/docs/hello.txt`,
  }));
  const back = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "docs/hello-copy.txt" }));
  return {
    etag: out.CopyObjectResult?.ETag, expectedEtag: `"${md5(Buffer.from(text))}"`,
    text: await back.Body.transformToString(), expectedText: text, metadata: back.Metadata,
  };
});

await step("MultipartUpload", async () => {
  const key = "multi/big.bin";
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: "application/x-test" }));
  const uploadId = created.UploadId;
  const parts = [];
  for (const [i, body] of [part1, part2].entries()) {
    const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body }));
    parts.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 });
  }
  const done = await s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts },
  }));
  const whole = Buffer.concat([part1, part2]);
  const back = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await readAll(back.Body);
  const expectedEtag = `"${md5(Buffer.concat([part1, part2].map((p) => Buffer.from(md5(p), "hex"))))}-2"`;
  return {
    uploadId: Boolean(uploadId), partEtags: parts.map((p) => p.ETag), expectedPartEtags: [`"${md5(part1)}"`, `"${md5(part2)}"`],
    partCrc32: parts.map((p) => p.ChecksumCRC32 ?? null), expectedPartCrc32: [crc32Base64(part1), crc32Base64(part2)],
    etag: done.ETag, expectedEtag, location: done.Location, key: done.Key,
    getEtag: back.ETag, contentType: back.ContentType, length: bytes.length, sameBytes: bytes.equals(whole),
  };
});

await step("Errors", async () => ({
  getMissingKey: await expectError(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: "no/such/key" }))),
  headMissingKey: await expectError(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "no/such/key" }))),
  getMissingBucket: await expectError(() => s3.send(new GetObjectCommand({ Bucket: `${bucket}-missing`, Key: "k" }))),
  listMissingBucket: await expectError(() => s3.send(new ListObjectsV2Command({ Bucket: `${bucket}-missing` }))),
  headMissingBucket: await expectError(() => s3.send(new HeadBucketCommand({ Bucket: `${bucket}-missing` }))),
  createExisting: await expectError(() => s3.send(new CreateBucketCommand({ Bucket: bucket }))),
  deleteNonEmpty: await expectError(() => s3.send(new DeleteBucketCommand({ Bucket: bucket }))),
}));

await step("DeleteObjects", async () => {
  const all = [];
  let token;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    all.push(...(page.Contents ?? []).map((o) => o.Key));
    token = page.NextContinuationToken;
  } while (token);
  const out = await s3.send(new DeleteObjectsCommand({
    Bucket: bucket, Delete: { Objects: [...all, "never/existed"].map((Key) => ({ Key })) },
  }));
  const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return {
    requested: all.length + 1, deleted: (out.Deleted ?? []).map((d) => d.Key).sort(),
    expectedDeleted: [...all, "never/existed"].sort(), errors: out.Errors ?? [], keyCountAfter: after.KeyCount,
  };
});

await step("DeleteBucket", async () => {
  const out = await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  const gone = await expectError(() => s3.send(new HeadBucketCommand({ Bucket: bucket })));
  return { status: out.$metadata.httpStatusCode, headAfter: gone };
});

results.ok = Object.values(results.steps).every((s) => s.ok);
console.log(JSON.stringify(results));
