#include "eventrouter/yaml/node.hpp"

#include <unordered_map>

#include "document.hpp"

namespace eventrouter::yaml {

namespace {

const std::string kEmpty;

// Copies `from` and everything under it into `builder`'s document; a node reached twice (an
// alias) is copied once, so the copy shares as the original does.
detail::NodeData* copy(Builder& builder, const detail::NodeData* from,
                       std::unordered_map<const detail::NodeData*, detail::NodeData*>& done) {
  if (auto it = done.find(from); it != done.end()) return it->second;
  detail::NodeData* to = builder.make(from->type, from->mark);
  to->text = from->text;
  to->tag = builder.intern(*from->tag);
  to->children.reserve(from->children.size());
  for (const detail::NodeData* child : from->children) {
    to->children.push_back(copy(builder, child, done));
  }
  done.emplace(from, to);
  return to;
}

// The nodes under `data`, aliases counted once per use (so at least what a copy makes).
std::size_t count_nodes(const detail::NodeData* data) {
  std::size_t count = 1;
  for (const detail::NodeData* child : data->children) count += count_nodes(child);
  return count;
}

}  // namespace

Node::Node(NodeType type) {
  if (type == NodeType::kUndefined) return;
  Builder builder;
  detail::NodeData* data = builder.make(type, Mark{});
  *this = builder.handle(data);
}

Node Node::scalar_node(std::string text, std::string_view tag) {
  Builder builder;
  detail::NodeData* data = builder.make(NodeType::kScalar, Mark{});
  data->text = std::move(text);
  data->tag = builder.intern(tag);
  return builder.handle(data);
}

NodeType Node::type() const noexcept {
  return data_ == nullptr ? NodeType::kUndefined : data_->type;
}

const std::string& Node::scalar() const noexcept {
  return is_scalar() ? data_->text : kEmpty;
}

const std::string& Node::tag() const noexcept {
  return data_ == nullptr ? kEmpty : *data_->tag;
}

Mark Node::mark() const noexcept {
  return data_ == nullptr ? Mark{} : data_->mark;
}

std::size_t Node::size() const noexcept {
  if (is_sequence()) return data_->children.size();
  if (is_map()) return data_->children.size() / 2;
  return 0;
}

Node Node::operator[](std::string_view key) const {
  if (!is_map()) return Node();
  const auto& children = data_->children;
  for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
    const detail::NodeData* k = children[i];
    if (k->type == NodeType::kScalar && k->text == key) return Node(document_, children[i + 1]);
  }
  return Node();
}

Node Node::operator[](std::size_t index) const {
  if (!is_sequence() || index >= data_->children.size()) return Node();
  return Node(document_, data_->children[index]);
}

Node::Iterator Node::begin() const {
  return Iterator(*this, 0);
}

Node::Iterator Node::end() const {
  return Iterator(*this, size());
}

Node::Entry Node::Iterator::operator*() const {
  Entry entry;
  const detail::NodeData* data = owner_.data_;
  if (owner_.is_map()) {
    entry.first = Node(owner_.document_, data->children[2 * index_]);
    entry.second = Node(owner_.document_, data->children[2 * index_ + 1]);
  } else if (owner_.is_sequence()) {
    static_cast<Node&>(entry) = Node(owner_.document_, data->children[index_]);
  }
  return entry;
}

void Node::set_scalar(std::string text, std::string_view tag) {
  if (data_ == nullptr || !(data_->type == NodeType::kScalar || data_->type == NodeType::kNull)) {
    return;
  }
  data_->type = NodeType::kScalar;
  data_->text = std::move(text);
  data_->tag = document_->intern(tag);
}

Node Node::clone() const {
  if (data_ == nullptr) return Node();
  Builder builder;
  builder.reserve(count_nodes(data_));
  std::unordered_map<const detail::NodeData*, detail::NodeData*> done;
  return builder.handle(copy(builder, data_, done));
}

}  // namespace eventrouter::yaml
