#pragma once
// $or expansion without copies, and its size. A pattern's $or alternatives are the branches
// the compiler forks; a field's condition is parsed once and every branch that holds it shares
// it, so forking costs a pointer per condition, and the size the expanded pattern will have
// (which the bus matcher does copy per alternative) is counted as it grows, before anything
// big is built.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ast.hpp"
#include "path_order.hpp"

namespace eventrouter::pattern::detail {

// The size of expanded alternatives: what the limits in limits.hpp count.
struct ExpansionSize {
  std::size_t conditions = 0;
  std::size_t values = 0;
  std::size_t value_bytes = 0;

  ExpansionSize& operator+=(const ExpansionSize& other);
  // Only what was added before is taken away, so no figure goes below zero.
  ExpansionSize& operator-=(const ExpansionSize& other);
};

// One field's condition, shared by every branch that holds it, with its size.
struct Leaf {
  std::shared_ptr<const Condition> condition;
  ExpansionSize size;  // conditions = 1
};
Leaf make_leaf(Condition condition);

// One alternative being built: its conditions by path, and their total size.
class Branch {
 public:
  // Sets the condition on leaf.condition->path (a later duplicate field overrides an earlier
  // one). Returns the size of the condition replaced, if any.
  std::optional<ExpansionSize> set(const Leaf& leaf);
  const ExpansionSize& size() const { return size_; }
  // In the order exists: false is decided in (path_order.hpp).
  const std::map<std::string, Leaf, Utf16PathLess>& leaves() const { return leaves_; }

 private:
  std::map<std::string, Leaf, Utf16PathLess> leaves_;
  ExpansionSize size_;
};

ExpansionSize size_of(const std::vector<Branch>& branches);

// The reason (starting "Rule is too complex - ") a pattern of this size is refused, or nothing
// when it is within every limit. `at_least` says the size is a floor reached while expanding,
// so the message names the limit rather than a final figure.
std::optional<std::string> over_size_limit(const ExpansionSize& size, bool at_least);

}  // namespace eventrouter::pattern::detail
