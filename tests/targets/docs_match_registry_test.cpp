// docs/targets.md describes exactly the registered target types, with the limits the registry
// applies: a new type, or a changed default, cannot ship with the docs left behind.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "eventrouter/targets/registry.hpp"
#include "eventrouter/targets/target_type.hpp"

namespace eventrouter::targets {
namespace {

std::string targets_doc() {
  std::ifstream in(std::string(EVENTROUTER_SOURCE_DIR) + "/docs/targets.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(TargetsDoc, HasASectionForEveryRegisteredTypeAndNoOther) {
  const std::string doc = targets_doc();
  ASSERT_FALSE(doc.empty());
  // Second-level headings that are a bare type name ("## webhook"), not a topic ("## Limits").
  std::vector<std::string> sections;
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("## ")) continue;
    const std::string name = line.substr(3);
    if (!name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos)
      sections.push_back(name);
  }
  EXPECT_EQ(sections, target_types());
}

TEST(TargetsDoc, LimitsTableShowsTheRegistrysDefaults) {
  const std::string doc = targets_doc();
  for (const TargetType* type : registered_types()) {
    SCOPED_TRACE(type->name);
    const std::string row_start = "| `" + type->name + "` | ";
    const auto at = doc.find(row_start);
    ASSERT_NE(at, std::string::npos) << "no row in the limits table";
    const std::string row = doc.substr(at, doc.find('\n', at) - at);
    const std::string default_text = type->limits.max_concurrency
                                         ? std::to_string(*type->limits.max_concurrency)
                                         : std::string("none");
    EXPECT_EQ(row.find(row_start + default_text), 0u) << row;
    EXPECT_NE(row.find("| " + std::to_string(type->limits.max_concurrency_limit) + " |"),
              std::string::npos)
        << row;
  }
}

}  // namespace
}  // namespace eventrouter::targets
