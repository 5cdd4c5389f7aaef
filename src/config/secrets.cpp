#include "eventrouter/config/secrets.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace eventrouter::config {

namespace {

constexpr std::string_view kEnvPrefix = "${env:";
constexpr std::string_view kFilePrefix = "${file:";

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

void resolve_node(YamlFile& file, yaml::Node node) {
  if (node.is_map()) {
    for (auto it = node.begin(); it != node.end(); ++it) resolve_node(file, it->second);
    return;
  }
  if (node.is_sequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) resolve_node(file, node[i]);
    return;
  }
  if (!node.is_scalar()) return;
  const std::string text = node.scalar();
  if (is_secret_reference(text)) {
    auto value = resolve_secret_reference(text, file.folder());
    if (!value) {
      file.error(node, value.error());
      file.mark_failed(node);
      return;
    }
    file.mark_secret(node);
    // A resolved secret is always a string, whatever its text looks like.
    node.set_scalar(*value, yaml::kNonPlainTag);
  } else if (mentions_secret_reference(text)) {
    file.error(node,
               "a ${env:NAME} or ${file:PATH} reference must be the whole value, not part of "
               "a longer string; put the whole value in the variable or file");
  }
}

}  // namespace

bool is_secret_reference(std::string_view value) {
  return (value.starts_with(kEnvPrefix) || value.starts_with(kFilePrefix)) &&
         value.ends_with('}') && value.find('}') == value.size() - 1;
}

bool mentions_secret_reference(std::string_view value) {
  return value.find(kEnvPrefix) != std::string_view::npos ||
         value.find(kFilePrefix) != std::string_view::npos;
}

Expected<std::string, std::string> resolve_secret_reference(std::string_view value,
                                                            const std::filesystem::path& base_dir) {
  if (!is_secret_reference(value)) {
    return unexpected(std::string("not a reference: use ${env:NAME} or ${file:PATH}"));
  }
  if (value.starts_with(kEnvPrefix)) {
    const std::string name(value.substr(kEnvPrefix.size(), value.size() - kEnvPrefix.size() - 1));
    if (!valid_env_name(name)) {
      return unexpected("'" + name +
                        "' is not a valid environment variable name in ${env:...}; use letters, "
                        "digits and '_', not starting with a digit");
    }
    const char* env = std::getenv(name.c_str());
    if (env == nullptr) {
      return unexpected("environment variable " + name + " is not set (referenced as ${env:" +
                        name + "}); set it or replace " + "the reference");
    }
    return std::string(env);
  }
  const std::string raw(value.substr(kFilePrefix.size(), value.size() - kFilePrefix.size() - 1));
  if (raw.empty())
    return unexpected(std::string("${file:} needs a path, e.g. ${file:/etc/eventrouter/secret}"));
  std::filesystem::path path(raw);
  if (path.is_relative()) path = base_dir / path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return unexpected("cannot read secret file " + path.string() + ": it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return unexpected("cannot read secret file " + path.string() + " (referenced as ${file:" + raw +
                      "}): " + std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string secret = content.str();
  // Files written by editors and `echo` end in a newline that is not part of the secret.
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

void resolve_secrets(YamlFile& file, yaml::Node tree) {
  resolve_node(file, tree);
}

}  // namespace eventrouter::config
