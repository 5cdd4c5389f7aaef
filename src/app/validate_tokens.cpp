#include "validate_tokens.hpp"

#include <algorithm>
#include <exception>

#include "eventrouter/config/config.hpp"
#include "eventrouter/rules/loader.hpp"
#include "tokens.hpp"

namespace eventrouter::app {

bool validate_tokens_file(const std::filesystem::path& config_file,
                          const targets::TargetCatalog& catalog, std::ostream& err) {
  std::vector<config::Diagnostic> config_problems;
  std::optional<config::Config> config;
  try {
    config = config::parse_config(config_file, config_problems);
  } catch (const std::exception&) {
    return true;  // reported by the rules' check
  }
  if (!config || config->tokens_file.empty()) return true;
  const auto tokens = read_tokens_file(config->tokens_file);
  for (const auto& problem : tokens.problems) err << problem.to_string() << '\n';
  if (!tokens.problems.empty()) {
    err << tokens.problems.size() << (tokens.problems.size() == 1 ? " problem" : " problems")
        << " found in auth.tokens_file\n";
    return false;
  }
  // Bus warnings need the rules; with broken rules their own problems come first.
  std::vector<config::Diagnostic> rule_problems;
  std::shared_ptr<const rules::RuleSet> rules;
  try {
    rules = rules::parse_rule_set(*config, catalog, rule_problems);
  } catch (const std::exception&) {
    return true;
  }
  if (!rules) return true;
  const auto warnings =
      unknown_bus_warnings(config->tokens_file, tokens, [&](std::string_view bus) {
        const auto& named = config->buses;
        return std::find(named.begin(), named.end(), bus) != named.end() || rules->has_bus(bus);
      });
  for (auto warning : warnings) {
    warning.message = "warning: " + warning.message;
    err << warning.to_string() << '\n';
  }
  return true;
}

}  // namespace eventrouter::app
