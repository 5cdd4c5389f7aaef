#pragma once
// The storage behind yaml::Node: every node of a document lives in the document's arena, so
// that a parse makes a few large allocations instead of several per node, and a handle is a
// pointer plus the document's reference count.

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "eventrouter/yaml/node.hpp"

namespace eventrouter::yaml {

namespace detail {

struct NodeData {
  NodeType type = NodeType::kNull;
  Mark mark;
  std::string text;                  // a scalar's text
  const std::string* tag = nullptr;  // interned by the document: most nodes share two tags
  // A sequence's items; a mapping's keys and values, alternating. An alias makes a node the
  // child of several parents: the tree is a graph without cycles.
  std::vector<NodeData*> children;
};

// Nodes in chunks that double from 4 to 1024 nodes: addresses never move, a rule file of
// 10,000 rules (over half a million nodes) takes a few hundred allocations for them, and a
// small document (a target's mapping kept by the rule set) stays small.
class Document {
 public:
  NodeData* make(NodeType type, Mark mark) {
    if (used_ == capacity_) {
      capacity_ = capacity_ == 0 ? 4 : std::min<std::size_t>(capacity_ * 2, 1024);
      chunks_.push_back(std::make_unique<NodeData[]>(capacity_));
      used_ = 0;
    }
    NodeData* data = &chunks_.back()[used_++];
    data->type = type;
    data->mark = mark;
    data->tag = &plain_tag();
    return data;
  }

  // Makes room for `count` more nodes in one allocation (a clone knows its size).
  void reserve(std::size_t count) {
    if (capacity_ - used_ >= count) return;
    chunks_.push_back(std::make_unique<NodeData[]>(count));
    capacity_ = count;
    used_ = 0;
  }

  const std::string* intern(std::string_view tag) {
    if (tag == kPlainTag) return &plain_tag();
    if (tag == kNonPlainTag) return &non_plain_tag();
    for (const auto& known : tags_) {
      if (known == tag) return &known;
    }
    return &tags_.emplace_back(tag);
  }

  static const std::string& plain_tag() {
    static const std::string tag(kPlainTag);
    return tag;
  }
  static const std::string& non_plain_tag() {
    static const std::string tag(kNonPlainTag);
    return tag;
  }

 private:
  std::vector<std::unique_ptr<NodeData[]>> chunks_;
  std::size_t capacity_ = 0;  // of the last chunk
  std::size_t used_ = 0;
  std::deque<std::string> tags_;  // explicit tags (!!str, !custom): few per document
};

}  // namespace detail

// Makes handles to nodes it stores; the parser and clone() build documents through it.
class Builder {
 public:
  Builder() : document_(std::make_shared<detail::Document>()) {}

  detail::NodeData* make(NodeType type, Mark mark) { return document_->make(type, mark); }
  const std::string* intern(std::string_view tag) { return document_->intern(tag); }
  void reserve(std::size_t count) { document_->reserve(count); }
  Node handle(detail::NodeData* data) const { return Node(document_, data); }

 private:
  std::shared_ptr<detail::Document> document_;
};

}  // namespace eventrouter::yaml
