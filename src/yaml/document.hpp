#pragma once
// The storage behind yaml::Node: every node of a document lives in the document's arena, so
// that a parse makes a few large allocations instead of several per node, and a handle is a
// pointer plus the document's reference count.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "eventrouter/yaml/node.hpp"

namespace eventrouter::yaml {

namespace detail {

struct NodeData {
  NodeType type = NodeType::kNull;
  Mark mark;
  std::string text;  // a scalar's text
  std::string tag;
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
    return data;
  }

 private:
  std::vector<std::unique_ptr<NodeData[]>> chunks_;
  std::size_t capacity_ = 0;  // of the last chunk
  std::size_t used_ = 0;
};

}  // namespace detail

// Makes handles to nodes it stores; the parser and clone() build documents through it.
class Builder {
 public:
  Builder() : document_(std::make_shared<detail::Document>()) {}

  detail::NodeData* make(NodeType type, Mark mark) { return document_->make(type, mark); }
  Node handle(detail::NodeData* data) const { return Node(document_, data); }
  static detail::NodeData* data_of(const Node& node) { return node.data_; }

 private:
  std::shared_ptr<detail::Document> document_;
};

}  // namespace eventrouter::yaml
