#include "objects/xml.h"
#include "common/strings.h"

#include <fmt/format.h>

namespace loam::objects {

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t':
      case '\n': out += ch; break;
      case '\r': out += "&#xD;"; break;  // kept through parsers' line-end normalization
      default:
        // XML 1.0 cannot carry other control characters, not even as references: they are
        // replaced (U+FFFD) so clients can still parse the document. Listings carry such
        // keys intact with encoding-type=url.
        if (c < 0x20) {
          out += "\xEF\xBF\xBD";
        } else {
          out += ch;
        }
    }
  }
  return out;
}

XmlWriter::XmlWriter(std::string_view root, std::string_view ns) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_.append(root);
  if (!ns.empty()) out_.append(" xmlns=\"").append(ns).append("\"");
  out_ += '>';
  open_.emplace_back(root);
}

XmlWriter& XmlWriter::Open(std::string_view name) {
  out_.append("<").append(name).append(">");
  open_.emplace_back(name);
  return *this;
}

XmlWriter& XmlWriter::Close() {
  if (!open_.empty()) {
    out_.append("</").append(open_.back()).append(">");
    open_.pop_back();
  }
  return *this;
}

XmlWriter& XmlWriter::Element(std::string_view name, std::string_view text) {
  out_.append("<").append(name).append(">").append(XmlEscape(text)).append("</").append(name).append(">");
  return *this;
}

XmlWriter& XmlWriter::Text(std::string_view text) {
  out_.append(XmlEscape(text));
  return *this;
}

std::string XmlWriter::Finish() {
  while (!open_.empty()) Close();
  return std::move(out_);
}

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

namespace {

constexpr int kMaxDepth = 32;


class Parser {
 public:
  explicit Parser(std::string_view doc) : s_(doc) {}

  StatusOr<XmlElement> Document() {
    if (s_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    RETURN_IF_ERROR(Misc());
    if (pos_ >= s_.size() || s_[pos_] != '<') return Fail("expected the root element");
    XmlElement root;
    RETURN_IF_ERROR(Element(root, 0));
    RETURN_IF_ERROR(Misc());
    if (pos_ != s_.size()) return Fail("content after the root element");
    return root;
  }

 private:
  Status Fail(std::string_view why) const {
    return InvalidArgument(fmt::format("malformed XML at byte {}: {}", pos_, why));
  }

  bool At(std::string_view t) const { return s_.substr(pos_).starts_with(t); }

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  Status SkipPast(std::string_view end, std::string_view what) {
    auto at = s_.find(end, pos_);
    if (at == std::string_view::npos) return Fail(fmt::format("unterminated {}", what));
    pos_ = at + end.size();
    return Status::Ok();
  }

  // Whitespace, comments and processing instructions (the XML declaration included).
  Status Misc() {
    for (;;) {
      SkipSpace();
      if (At("<?")) {
        RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (At("<!--")) {
        RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (At("<!")) {
        return Fail("document type declarations are not accepted");
      } else {
        return Status::Ok();
      }
    }
  }

  static bool NameChar(char c) {
    return !(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/' || c == '=' || c == '<' ||
             c == '"' || c == '\'' || c == '&');
  }

  StatusOr<std::string> Name() {
    size_t start = pos_;
    while (pos_ < s_.size() && NameChar(s_[pos_])) ++pos_;
    if (pos_ == start) return Fail("expected a name");
    return std::string(s_.substr(start, pos_ - start));
  }

  static std::string LocalName(const std::string& name) {
    auto colon = name.rfind(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
  }

  Status Entity(std::string& out) {
    auto semi = s_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Fail("bad entity reference");
    std::string_view ref = s_.substr(pos_ + 1, semi - pos_ - 1);
    if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "amp") {
      out += '&';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.size() > 1 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return Fail("bad character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        int v;
        if (c >= '0' && c <= '9') {
          v = c - '0';
        } else if (hex && c >= 'a' && c <= 'f') {
          v = c - 'a' + 10;
        } else if (hex && c >= 'A' && c <= 'F') {
          v = c - 'A' + 10;
        } else {
          return Fail("bad character reference");
        }
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) return Fail("bad character reference");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return Fail("bad character reference");
      AppendUtf8(out, cp);
    } else {
      return Fail("unknown entity");
    }
    pos_ = semi + 1;
    return Status::Ok();
  }

  Status Element(XmlElement& el, int depth) {
    if (depth >= kMaxDepth) return Fail("elements nested too deeply");
    ++pos_;  // '<'
    ASSIGN_OR_RETURN(std::string name, Name());
    el.name = LocalName(name);
    // Attributes: checked for form, then dropped.
    for (;;) {
      SkipSpace();
      if (pos_ >= s_.size()) return Fail("unterminated start tag");
      if (At("/>")) {
        pos_ += 2;
        return Status::Ok();
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      ASSIGN_OR_RETURN(std::string attr, Name());
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '=') return Fail("expected '=' after an attribute name");
      ++pos_;
      SkipSpace();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return Fail("expected a quoted attribute value");
      char quote = s_[pos_++];
      auto end = s_.find(quote, pos_);
      if (end == std::string_view::npos || s_.substr(pos_, end - pos_).find('<') != std::string_view::npos)
        return Fail("bad attribute value");
      pos_ = end + 1;
    }
    // Content.
    for (;;) {
      if (pos_ >= s_.size()) return Fail(fmt::format("unterminated element <{}>", name));
      if (At("</")) {
        pos_ += 2;
        ASSIGN_OR_RETURN(std::string end_name, Name());
        if (end_name != name) return Fail(fmt::format("</{}> does not close <{}>", end_name, name));
        SkipSpace();
        if (pos_ >= s_.size() || s_[pos_] != '>') return Fail("bad end tag");
        ++pos_;
        return Status::Ok();
      }
      if (At("<!--")) {
        RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (At("<![CDATA[")) {
        size_t start = pos_ + 9;
        auto end = s_.find("]]>", start);
        if (end == std::string_view::npos) return Fail("unterminated CDATA section");
        el.text.append(s_.substr(start, end - start));
        pos_ = end + 3;
      } else if (At("<?")) {
        RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (At("<!")) {
        return Fail("unexpected markup declaration");
      } else if (s_[pos_] == '<') {
        el.children.emplace_back();
        RETURN_IF_ERROR(Element(el.children.back(), depth + 1));
      } else if (s_[pos_] == '&') {
        RETURN_IF_ERROR(Entity(el.text));
      } else {
        if (s_[pos_] == ']' && At("]]>")) return Fail("']]>' in character data");
        el.text += s_[pos_++];
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<XmlElement> ParseXml(std::string_view document) { return Parser(document).Document(); }

}  // namespace loam::objects
