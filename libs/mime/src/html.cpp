// HTML email bodies as text, through libxml2's HTML parser (lenient, as browsers are).
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <cstring>
#include <mutex>

#include "loket/core/text.hpp"
#include "loket/mime/email.hpp"

namespace loket::mime {
namespace {
constexpr std::size_t kMaxHtmlBytes = 4u << 20;  // an email body past this is not read by a person either

bool is(const xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

bool any_of(const xmlNode* n, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (is(n, name)) return true;
  return false;
}

bool skipped(const xmlNode* n) { return any_of(n, {"head", "script", "style", "title", "noscript", "template"}); }

bool block(const xmlNode* n) {
  return any_of(n,
                {"p",     "div",        "h1",  "h2",      "h3",      "h4",     "h5",     "h6", "ul", "ol", "li", "tr",
                 "table", "blockquote", "pre", "section", "article", "header", "footer", "hr", "dl", "dt", "dd"});
}

bool paragraph(const xmlNode* n) { return any_of(n, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}); }

std::string attribute(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string out = v != nullptr ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return core::trim(out);
}

class TextWriter {
 public:
  void text(std::string_view s, bool pre) {
    for (char c : s) {
      if (pre) {
        out_ += c;
        continue;
      }
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
        space_ = true;
        continue;
      }
      if (space_ && !out_.empty() && out_.back() != '\n' && out_.back() != ' ') out_ += ' ';
      space_ = false;
      out_ += c;
    }
  }
  void line_break() {
    out_ += '\n';
    space_ = false;
  }
  // Starts a new line unless at one; `blank` leaves an empty line before what follows.
  void new_line(bool blank) {
    space_ = false;
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    if (out_.empty()) return;
    if (out_.back() != '\n') out_ += '\n';
    if (blank && (out_.size() < 2 || out_[out_.size() - 2] != '\n')) out_ += '\n';
  }
  std::size_t size() const { return out_.size(); }
  std::string since(std::size_t at) const { return core::trim(out_.substr(at)); }
  void append(const std::string& s) { out_ += s; }

  // Trailing spaces per line dropped, at most one empty line in a row, trimmed.
  std::string finish() const {
    std::string res;
    int newlines = 0;
    for (char c : out_) {
      if (c == '\n') {
        while (!res.empty() && res.back() == ' ') res.pop_back();
        if (++newlines > 2) continue;
      } else {
        newlines = 0;
      }
      res += c;
    }
    return core::trim(res);
  }

 private:
  std::string out_;
  bool space_ = false;
};
}  // namespace

std::string html_to_text(std::string_view html) {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  html = html.substr(0, kMaxHtmlBytes);
  htmlDocPtr doc = htmlReadMemory(html.data(), static_cast<int>(html.size()), nullptr, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  if (doc == nullptr) return "";
  TextWriter w;
  std::vector<std::size_t> link_starts;  // where each open <a>'s text began
  int pre = 0;
  auto enter = [&](const xmlNode* n) {
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      if (n->content != nullptr) w.text(reinterpret_cast<const char*>(n->content), pre > 0);
      return;
    }
    if (is(n, "br")) w.line_break();
    if (block(n)) w.new_line(paragraph(n));
    if (is(n, "li")) w.append("- ");
    if (is(n, "pre")) ++pre;
    if (is(n, "a")) link_starts.push_back(w.size());
  };
  auto leave = [&](const xmlNode* n) {
    if (is(n, "a") && !link_starts.empty()) {
      std::string href = attribute(n, "href"), label = w.since(link_starts.back());
      link_starts.pop_back();
      bool shown = href == label || href == "mailto:" + label || label.empty();
      if (!shown && (href.rfind("http://", 0) == 0 || href.rfind("https://", 0) == 0 || href.rfind("mailto:", 0) == 0))
        w.append(" (" + href + ")");
    }
    if (is(n, "pre")) --pre;
    if (block(n)) w.new_line(paragraph(n));
  };
  // Depth-first over the tree by its links, without recursion: a hostile nesting depth costs
  // no stack.
  const xmlNode* root = xmlDocGetRootElement(doc);
  const xmlNode* n = root;
  while (n != nullptr) {
    enter(n);
    if (n->children != nullptr && !skipped(n) && n->type == XML_ELEMENT_NODE) {
      n = n->children;
      continue;
    }
    leave(n);
    while (n != root && n->next == nullptr) {
      n = n->parent;
      leave(n);
    }
    n = n == root ? nullptr : n->next;
  }
  xmlFreeDoc(doc);
  return core::storable_text(w.finish());
}

}  // namespace loket::mime
