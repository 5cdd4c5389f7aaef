#pragma once
// A parsed YAML document: the tree the config and rules loaders read, with the position of
// every node for diagnostics. A Node is a handle: copies share the node, and a node keeps its
// whole document alive (clone() copies a subtree into a document of its own).
//
// Types follow YAML's core schema only as far as the syntax decides them: a plain `~`, `null`,
// `Null`, `NULL` or empty value is null; every other scalar keeps its text and its tag, and the
// readers give it a type (a number, a boolean, a duration) where they expect one.

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eventrouter::yaml {

// A position in the text, 0-based; line -1 means "no position".
struct Mark {
  int line = -1;
  int column = -1;

  bool is_null() const noexcept { return line < 0; }
};

enum class NodeType { kUndefined, kNull, kScalar, kSequence, kMap };

// The tag of a plain (unquoted, untagged) scalar or collection, and of a quoted or block
// scalar without a tag; explicit tags are kept expanded ("!!str" is
// "tag:yaml.org,2002:str").
inline constexpr std::string_view kPlainTag = "?";
inline constexpr std::string_view kNonPlainTag = "!";

namespace detail {
struct NodeData;
struct Document;
}  // namespace detail

class Node {
 public:
  class Iterator;
  struct Entry;

  Node() = default;  // undefined: what a lookup of a missing key gives
  // An empty mapping or sequence, or a null, with no position.
  explicit Node(NodeType type);
  // A scalar with no position.
  static Node scalar_node(std::string text, std::string_view tag = kNonPlainTag);

  NodeType type() const noexcept;
  bool is_defined() const noexcept { return data_ != nullptr; }
  bool is_null() const noexcept { return type() == NodeType::kNull; }
  bool is_scalar() const noexcept { return type() == NodeType::kScalar; }
  bool is_sequence() const noexcept { return type() == NodeType::kSequence; }
  bool is_map() const noexcept { return type() == NodeType::kMap; }
  explicit operator bool() const noexcept { return is_defined(); }

  // The text of a scalar; empty for any other node.
  const std::string& scalar() const noexcept;
  const std::string& tag() const noexcept;
  Mark mark() const noexcept;

  // Items of a sequence, entries of a mapping; 0 for anything else.
  std::size_t size() const noexcept;
  // The value of the first entry whose key is the scalar `key`; undefined when there is none
  // or this is not a mapping.
  Node operator[](std::string_view key) const;
  // The item at `index` of a sequence; undefined when out of range or not a sequence.
  Node operator[](std::size_t index) const;

  // Mapping entries (first: key, second: value) or sequence items (the entry itself).
  Iterator begin() const;
  Iterator end() const;

  // Replaces this scalar's (or null's) text and tag in place: every handle sees the change.
  void set_scalar(std::string text, std::string_view tag = kNonPlainTag);
  // A deep copy in a document of its own, positions kept, so that keeping it does not keep
  // the rest of this node's document.
  Node clone() const;

  // Whether two handles name the same node.
  bool same_node(const Node& other) const noexcept { return data_ == other.data_; }

 private:
  friend class Builder;
  Node(std::shared_ptr<detail::Document> document, detail::NodeData* data)
      : document_(std::move(document)), data_(data) {}

  std::shared_ptr<detail::Document> document_;
  detail::NodeData* data_ = nullptr;
};

// What iterating gives: for a sequence, the item (the Node part); for a mapping, the key and
// the value (first, second).
struct Node::Entry : Node {
  Node first;
  Node second;
};

// Declared after Entry so that it can hold a Node.
class Node::Iterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = Entry;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = Entry;

  struct Arrow {
    Entry entry;
    const Entry* operator->() const noexcept { return &entry; }
  };

  Iterator() = default;
  Entry operator*() const;
  Arrow operator->() const { return Arrow{**this}; }
  Iterator& operator++() noexcept {
    ++index_;
    return *this;
  }
  Iterator operator++(int) noexcept {
    Iterator before = *this;
    ++index_;
    return before;
  }
  bool operator==(const Iterator& other) const noexcept { return index_ == other.index_; }

 private:
  friend class Node;
  Iterator(Node owner, std::size_t index) : owner_(std::move(owner)), index_(index) {}

  Node owner_;  // a handle: the iterator stays valid after the node it came from is gone
  std::size_t index_ = 0;
};

}  // namespace eventrouter::yaml
