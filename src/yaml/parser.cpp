#include <yaml.h>

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "document.hpp"
#include "eventrouter/yaml/parse.hpp"

namespace eventrouter::yaml {

namespace {

Mark mark_of(const yaml_mark_t& mark) {
  constexpr std::size_t kMax = std::numeric_limits<int>::max();
  return Mark{static_cast<int>(std::min(mark.line, kMax)),
              static_cast<int>(std::min(mark.column, kMax))};
}

// The line and column of byte `offset` (libyaml gives only the offset for bad encodings).
Mark mark_at(std::string_view text, std::size_t offset) {
  Mark mark{0, 0};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++mark.line;
      mark.column = 0;
    } else {
      ++mark.column;
    }
  }
  return mark;
}

bool is_null_text(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

std::string text_of(const yaml_char_t* text) {
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
}

struct ParserHandle {
  yaml_parser_t parser;
  ParserHandle() { yaml_parser_initialize(&parser); }
  ~ParserHandle() { yaml_parser_delete(&parser); }
  ParserHandle(const ParserHandle&) = delete;
  ParserHandle& operator=(const ParserHandle&) = delete;
};

struct EventHandle {
  yaml_event_t event{};
  ~EventHandle() { yaml_event_delete(&event); }
};

// Builds the documents of one text from libyaml's events.
class TreeBuilder {
 public:
  explicit TreeBuilder(std::string_view text) : text_(text) {}

  Expected<std::vector<Node>, ParseError> run() {
    ParserHandle handle;
    yaml_parser_set_input_string(
        &handle.parser, reinterpret_cast<const unsigned char*>(text_.data()), text_.size());
    for (;;) {
      EventHandle next;
      if (!yaml_parser_parse(&handle.parser, &next.event))
        return unexpected(syntax_error(handle.parser));
      const yaml_event_t& event = next.event;
      if (event.type == YAML_STREAM_END_EVENT) break;
      if (auto problem = take(event)) return unexpected(std::move(*problem));
    }
    return std::move(documents_);
  }

 private:
  ParseError syntax_error(const yaml_parser_t& parser) const {
    ParseError error;
    if (parser.error == YAML_MEMORY_ERROR) {
      error.message = "out of memory";
      return error;
    }
    error.mark = parser.error == YAML_READER_ERROR ? mark_at(text_, parser.problem_offset)
                                                   : mark_of(parser.problem_mark);
    error.message = parser.problem != nullptr ? parser.problem : "cannot be parsed";
    if (parser.context != nullptr) {
      error.message += std::string(" (") + parser.context + " that starts at line " +
                       std::to_string(parser.context_mark.line + 1) + ")";
    }
    return error;
  }

  std::optional<ParseError> take(const yaml_event_t& event) {
    const Mark mark = mark_of(event.start_mark);
    switch (event.type) {
      case YAML_DOCUMENT_START_EVENT:
        builder_ = Builder();
        anchors_.clear();
        through_aliases_ = 0;
        return std::nullopt;
      case YAML_DOCUMENT_END_EVENT:
        documents_.push_back(root_ == nullptr ? Node(NodeType::kNull) : builder_.handle(root_));
        root_ = nullptr;
        return std::nullopt;
      case YAML_ALIAS_EVENT:
        return alias(text_of(event.data.alias.anchor), mark);
      case YAML_SCALAR_EVENT:
        return scalar(event, mark);
      case YAML_SEQUENCE_START_EVENT:
        return open(NodeType::kSequence, event.data.sequence_start.tag,
                    event.data.sequence_start.anchor, mark);
      case YAML_MAPPING_START_EVENT:
        return open(NodeType::kMap, event.data.mapping_start.tag, event.data.mapping_start.anchor,
                    mark);
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        return close();
      default:
        return std::nullopt;
    }
  }

  std::optional<ParseError> scalar(const yaml_event_t& event, Mark mark) {
    const auto& data = event.data.scalar;
    std::string text(reinterpret_cast<const char*>(data.value), data.length);
    const bool plain = data.style == YAML_PLAIN_SCALAR_STYLE;
    detail::NodeData* node = nullptr;
    if (data.tag == nullptr && plain && is_null_text(text)) {
      node = builder_.make(NodeType::kNull, mark);
    } else {
      node = builder_.make(NodeType::kScalar, mark);
      node->text = std::move(text);
      if (data.tag != nullptr) {
        node->tag = builder_.intern(text_of(data.tag));
      } else if (!plain) {
        node->tag = builder_.intern(kNonPlainTag);
      }
    }
    remember(data.anchor, node);
    return add(node, 1);
  }

  std::optional<ParseError> open(NodeType type, const yaml_char_t* tag, const yaml_char_t* anchor,
                                 Mark mark) {
    if (open_.size() >= kMaxDepth) {
      return ParseError{mark, "nesting is deeper than " + std::to_string(kMaxDepth) + " levels"};
    }
    detail::NodeData* node = builder_.make(type, mark);
    if (tag != nullptr) node->tag = builder_.intern(text_of(tag));
    // Registered when it closes, not now: an alias inside a node to the node itself would make
    // a cycle, which no reader of the tree could walk. Such an alias is an unknown anchor.
    open_.push_back(Open{node, text_of(anchor), 1, children_.size()});
    return std::nullopt;
  }

  std::optional<ParseError> close() {
    Open done = std::move(open_.back());
    open_.pop_back();
    // The children were gathered on one stack for all open nodes: one exact allocation each.
    const auto first = children_.begin() + static_cast<std::ptrdiff_t>(done.first_child);
    done.node->children.assign(first, children_.end());
    children_.erase(first, children_.end());
    if (!done.anchor.empty()) anchors_[done.anchor] = {done.node, done.weight};
    return add(done.node, done.weight);
  }

  std::optional<ParseError> alias(const std::string& anchor, Mark mark) {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      return ParseError{mark, "alias *" + anchor +
                                  " names no anchor defined before it (an anchor is written "
                                  "&" +
                                  anchor + " on a node above, outside the node that uses it)"};
    }
    through_aliases_ += it->second.weight;
    if (through_aliases_ > kMaxNodesThroughAliases) {
      return ParseError{mark, "aliases repeat more than " +
                                  std::to_string(kMaxNodesThroughAliases) +
                                  " nodes; write the repeated parts out or use fewer aliases"};
    }
    return add(it->second.node, it->second.weight);
  }

  void remember(const yaml_char_t* anchor, detail::NodeData* node) {
    if (anchor != nullptr) anchors_[text_of(anchor)] = {node, 1};
  }

  std::optional<ParseError> add(detail::NodeData* node, std::size_t weight) {
    if (open_.empty()) {
      root_ = node;
      return std::nullopt;
    }
    children_.push_back(node);
    open_.back().weight += weight;
    return std::nullopt;
  }

  struct Open {
    detail::NodeData* node;
    std::string anchor;
    std::size_t weight;       // the nodes it stands for, aliases expanded
    std::size_t first_child;  // where its children start in children_
  };
  struct Anchored {
    detail::NodeData* node;
    std::size_t weight;
  };

  std::string_view text_;
  Builder builder_;
  std::vector<Open> open_;
  std::vector<detail::NodeData*> children_;
  std::map<std::string, Anchored> anchors_;
  std::size_t through_aliases_ = 0;
  detail::NodeData* root_ = nullptr;
  std::vector<Node> documents_;
};

}  // namespace

Expected<std::vector<Node>, ParseError> parse_documents(std::string_view text) {
  return TreeBuilder(text).run();
}

Expected<Node, ParseError> parse(std::string_view text) {
  auto documents = parse_documents(text);
  if (!documents) return unexpected(documents.error());
  if (documents->empty()) return Node(NodeType::kNull);
  if (documents->size() > 1) {
    return unexpected(ParseError{(*documents)[1].mark(), "the text holds more than one document"});
  }
  return documents->front();
}

std::string single_quoted(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  out += '\'';
  return out;
}

}  // namespace eventrouter::yaml
