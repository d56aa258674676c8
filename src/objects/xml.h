// The little XML the S3 protocol needs, on both sides of Loam: a writer (with escaping) for the
// S3 adapter's responses and the requests sent to an external store, and a small, strict
// parser for request bodies (CreateBucketConfiguration, Delete, CompleteMultipartUpload) and
// an external store's answers. The parser keeps elements and their text, drops attributes,
// namespaces prefixes, comments and processing instructions, and refuses DTDs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loam::objects {

inline constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// Escapes character data: & < > " ', CR as &#xD;, and other control characters (which XML
// 1.0 cannot carry) replaced by U+FFFD.
std::string XmlEscape(std::string_view text);

class XmlWriter {
 public:
  // Starts a document: the XML declaration and the root element, in `ns` when non-empty.
  explicit XmlWriter(std::string_view root, std::string_view ns = kS3Namespace);
  XmlWriter& Open(std::string_view name);
  XmlWriter& Close();
  XmlWriter& Element(std::string_view name, std::string_view text);
  XmlWriter& Text(std::string_view text);  // character data in the open element
  // Closes every open element and returns the document.
  std::string Finish();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

struct XmlElement {
  std::string name;  // local name (any "prefix:" removed)
  std::string text;  // character data directly inside, entities decoded
  std::vector<XmlElement> children;

  const XmlElement* Child(std::string_view child_name) const;
};

// InvalidArgument with a description when the document is not well-formed.
StatusOr<XmlElement> ParseXml(std::string_view document);

}  // namespace loam::objects
