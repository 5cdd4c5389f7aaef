// `eventrouter test-pattern --pattern P --event E`.

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "eventrouter/pattern/pattern.hpp"

namespace eventrouter::pattern {
namespace {

// Resolves an argument to JSON text: inline JSON, "-" for stdin, or a file path.
Expected<std::string, std::string> read_argument(std::string_view what, std::string_view arg,
                                                 std::istream& in, bool& stdin_used) {
  std::size_t start = arg.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos && (arg[start] == '{' || arg[start] == '[')) {
    return std::string(arg);
  }
  if (arg == "-") {
    if (stdin_used) {
      return unexpected("--" + std::string(what) +
                        " -: standard input was already read for the other argument; give one "
                        "of them as a file or inline JSON");
    }
    stdin_used = true;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (arg.empty()) {
    return unexpected("--" + std::string(what) +
                      " is empty; give inline JSON, a file path, or - for standard input");
  }
  std::ifstream file{std::string(arg), std::ios::binary};
  if (!file) {
    return unexpected("cannot read " + std::string(what) + " file \"" + std::string(arg) +
                      "\": no such readable file (inline JSON must start with '{')");
  }
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace

int run_test_pattern_command(std::string_view pattern_arg, std::string_view event_arg,
                             std::istream& in, std::ostream& out, std::ostream& err) {
  bool stdin_used = false;
  auto pattern_text = read_argument("pattern", pattern_arg, in, stdin_used);
  if (!pattern_text) {
    err << pattern_text.error() << '\n';
    return 2;
  }
  auto event_text = read_argument("event", event_arg, in, stdin_used);
  if (!event_text) {
    err << event_text.error() << '\n';
    return 2;
  }
  auto compiled = compile(*pattern_text);
  if (!compiled) {
    err << compiled.error() << '\n';
    return 2;
  }
  auto result = matches(*compiled, *event_text);
  if (!result) {
    err << result.error() << '\n';
    return 2;
  }
  out << (*result ? "match" : "no match") << '\n';
  return *result ? 0 : 1;
}

}  // namespace eventrouter::pattern
