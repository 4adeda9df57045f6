#pragma once
#include <map>
#include <string>
#include <string_view>

/// Canned responses' variables (issue 20): what a saved reply may say, and how it is filled for
/// one ticket. Pure, thread-safe.
namespace loket::api {

/// The variables a canned response may use: requester.name, requester.firstName,
/// requester.email, ticket.number, ticket.subject, agent.name, workspace.name.
const std::map<std::string, std::string>& canned_variables();

/// Why `body` cannot be a canned response ("unknown variable {{x}}; …"), "" when it can. A
/// `{{` without a closing `}}` is text.
std::string canned_body_error(std::string_view body);

/// `body` with each `{{ variable }}` replaced by its value in `values` (a missing value is "").
/// @throws std::invalid_argument naming an unknown variable.
std::string render_canned(std::string_view body, const std::map<std::string, std::string>& values);

}  // namespace loket::api
