#include <exception>
#include <filesystem>

#include "eventrouter/config/config.hpp"
#include "eventrouter/rules/commands.hpp"
#include "eventrouter/rules/loader.hpp"

namespace eventrouter::rules {

namespace fs = std::filesystem;

namespace {

// Paths under the working directory are shown relative to it: shorter, and what the user typed.
config::Diagnostic for_display(config::Diagnostic d) {
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (ec || d.file.empty() || d.file.is_relative()) return d;
  const fs::path relative = d.file.lexically_relative(cwd);
  if (!relative.empty() && *relative.begin() != "..") d.file = relative;
  return d;
}

}  // namespace

int run_validate_command(const fs::path& config_file, const targets::TargetCatalog& catalog,
                         std::ostream& out, std::ostream& err) {
  std::vector<config::Diagnostic> problems;
  std::shared_ptr<const RuleSet> rules;
  fs::path shown_file;
  try {
    auto config = config::parse_config(config_file, problems);
    if (config) {
      shown_file = for_display({config->file, 0, 0, ""}).file;
      // Go on after a bad config value: the rule files have their own mistakes to show.
      rules = parse_rule_set(*config, catalog, problems);
    }
  } catch (const std::exception& e) {
    err << config_file.string() << ": " << e.what() << '\n';
    return 1;
  }
  if (!problems.empty() || !rules) {
    for (const auto& d : problems) err << for_display(d).to_string() << '\n';
    err << problems.size() << (problems.size() == 1 ? " problem" : " problems") << " found\n";
    return 1;
  }
  const std::size_t files = rules->files().size();
  out << "config OK: " << rules->rules().size() << (rules->rules().size() == 1 ? " rule" : " rules")
      << " in " << files << (files == 1 ? " file" : " files") << " (" << shown_file.string()
      << ")\n";
  return 0;
}

}  // namespace eventrouter::rules
