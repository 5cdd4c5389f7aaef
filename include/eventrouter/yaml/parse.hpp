#pragma once
// Parsing YAML text (libyaml's parser, the reference implementation) into yaml::Node trees.

#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/util/expected.hpp"
#include "eventrouter/yaml/node.hpp"

namespace eventrouter::yaml {

struct ParseError {
  Mark mark;
  std::string message;  // e.g. "mapping values are not allowed in this context"
};

// Limits on what one text may make, so that a file of a few kilobytes cannot make millions of
// nodes through aliases of aliases, or overflow the stack of a reader that walks the tree.
inline constexpr std::size_t kMaxDepth = 200;
inline constexpr std::size_t kMaxNodesThroughAliases = 1'000'000;

// Every document of `text`, in order (none for an empty text or one holding only comments).
Expected<std::vector<Node>, ParseError> parse_documents(std::string_view text);
// The one document of `text`: a null node for an empty text, an error for several documents.
Expected<Node, ParseError> parse(std::string_view text);
// `text` as a single-quoted YAML scalar, which holds any text.
std::string single_quoted(std::string_view text);

}  // namespace eventrouter::yaml
