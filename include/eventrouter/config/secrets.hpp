#pragma once
// Secret references: any string value in the config or a rule file may be exactly
// "${env:NAME}" (an environment variable) or "${file:/path}" (a file's content, without its
// trailing newline). They are resolved at load time and their values are never logged.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "eventrouter/yaml/node.hpp"

#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::config {

// The value a reference stands for. `value` must be a whole reference ("${env:X}" or
// "${file:P}"); a relative P is resolved against `base_dir`. The error says what to fix and
// never contains the secret.
Expected<std::string, std::string> resolve_secret_reference(std::string_view value,
                                                            const std::filesystem::path& base_dir);

// Whether `value` is a whole reference, and whether it contains one somewhere.
bool is_secret_reference(std::string_view value);
bool mentions_secret_reference(std::string_view value);

// Replaces, in place, every string scalar of `tree` that is a reference by its value (keys are
// left alone), recording the replaced nodes in `file` so that messages do not quote them.
// A reference embedded in a longer string is an error (references must be the whole value).
// Relative ${file:..} paths resolve against the file's folder.
void resolve_secrets(YamlFile& file, yaml::Node tree);

}  // namespace eventrouter::config
