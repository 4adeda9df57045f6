// Message templates (issue 19): reading placeholders, filling and rendering them, the same way
// for every provider that has templates.
#include <algorithm>
#include <cctype>

#include "loket/core/text.hpp"
#include "loket/providers/adapter.hpp"

namespace loket::providers {
namespace {
constexpr std::size_t kMaxNameChars = 32;
constexpr std::size_t kMaxValueChars = 1024;

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Calls `f(begin, end, name)` for each well-formed placeholder of `text`, `begin`/`end` bounding
// the whole `{{ name }}`.
template <typename F>
void each_placeholder(std::string_view text, F&& f) {
  for (std::size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at + 1)) {
    auto close = text.find("}}", at + 2);
    if (close == std::string_view::npos) return;
    std::string name = core::trim(text.substr(at + 2, close - at - 2));
    if (name.empty() || name.size() > kMaxNameChars || !std::all_of(name.begin(), name.end(), name_char)) continue;
    f(at, close + 2, name);
  }
}

bool numeric(const std::string& s) { return std::all_of(s.begin(), s.end(), ::isdigit); }
}  // namespace

std::vector<std::string> template_placeholders(std::string_view text) {
  std::vector<std::string> numbers, names;
  each_placeholder(text, [&](std::size_t, std::size_t, const std::string& name) {
    auto& list = numeric(name) ? numbers : names;
    if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
  });
  std::sort(numbers.begin(), numbers.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  numbers.insert(numbers.end(), names.begin(), names.end());
  return numbers;
}

std::string render_template(std::string_view text, const std::vector<std::pair<std::string, std::string>>& variables) {
  std::string out;
  std::size_t copied = 0;
  each_placeholder(text, [&](std::size_t begin, std::size_t end, const std::string& name) {
    auto it = std::find_if(variables.begin(), variables.end(), [&](const auto& v) { return v.first == name; });
    if (it == variables.end() || begin < copied) return;
    out.append(text.substr(copied, begin - copied)).append(it->second);
    copied = end;
  });
  return out.append(text.substr(copied));
}

events::TemplateRef fill_template(const MessageTemplate& t, const std::vector<std::string>& values) {
  if (values.size() != t.variables.size())
    throw Refusal::invalid("template " + t.name + " takes " + std::to_string(t.variables.size()) +
                           " variable(s) in this order: " +
                           (t.variables.empty() ? std::string("none") : "{{" + t.variables.front() + "}}…") + "; got " +
                           std::to_string(values.size()));
  events::TemplateRef ref{t.id, t.name, t.language, {}};
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    const std::string which = "template variable {{" + t.variables[i] + "}}";
    if (!core::is_storable_text(v) || core::trim(v).empty() || core::utf8_length(v) > kMaxValueChars)
      throw Refusal::invalid(which + " must be 1 to 1024 characters of text");
    if (v.find_first_of("\n\r\t") != std::string::npos || v.find("     ") != std::string::npos)
      throw Refusal::invalid(which +
                             " cannot hold newlines, tabs or more than four spaces in a row (WhatsApp refuses them)");
    ref.variables.emplace_back(t.variables[i], v);
  }
  return ref;
}

}  // namespace loket::providers
