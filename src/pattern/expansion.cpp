#include "expansion.hpp"

#include <utility>

#include "limits.hpp"

namespace eventrouter::pattern::detail {
namespace {

std::size_t bytes_of(const Predicate& p) {
  std::size_t bytes = p.text.size();
  for (const std::string& text : p.texts) bytes += text.size();
  for (const WildcardGlob& glob : p.globs) {
    for (const std::string& piece : glob.pieces) bytes += piece.size();
  }
  return bytes;
}

}  // namespace

ExpansionSize& ExpansionSize::operator+=(const ExpansionSize& other) {
  conditions += other.conditions;
  values += other.values;
  value_bytes += other.value_bytes;
  return *this;
}

ExpansionSize& ExpansionSize::operator-=(const ExpansionSize& other) {
  conditions -= other.conditions;
  values -= other.values;
  value_bytes -= other.value_bytes;
  return *this;
}

Leaf make_leaf(Condition condition) {
  Leaf leaf;
  leaf.size.conditions = 1;
  for (const Predicate& p : condition.predicates) {
    // An anything-but list is one predicate that holds every listed value.
    const std::size_t listed = p.texts.size() + p.numbers.size();
    leaf.size.values += listed > 0 ? listed : 1;
    leaf.size.value_bytes += bytes_of(p);
  }
  leaf.condition = std::make_shared<const Condition>(std::move(condition));
  return leaf;
}

std::optional<ExpansionSize> Branch::set(const Leaf& leaf) {
  auto [at, inserted] = leaves_.try_emplace(leaf.condition->path, leaf);
  size_ += leaf.size;
  if (inserted) return std::nullopt;
  const ExpansionSize replaced = at->second.size;
  size_ -= replaced;
  at->second = leaf;
  return replaced;
}

ExpansionSize size_of(const std::vector<Branch>& branches) {
  ExpansionSize total;
  for (const Branch& branch : branches) total += branch.size();
  return total;
}

std::optional<std::string> over_size_limit(const ExpansionSize& size, bool at_least) {
  // While expanding, partial alternatives are held besides finished ones, so a floor is only
  // refused once it passes kExpansionGuardFactor times a limit: the pattern cannot then end
  // within it.
  const std::size_t factor = at_least ? kExpansionGuardFactor : 1;
  auto figure = [at_least](std::size_t value, std::size_t limit) {
    return at_least ? "more than " + std::to_string(limit) : std::to_string(value);
  };
  const char* per_alternative =
      " in all once $or is expanded (each counts once in every "
      "alternative that holds it); the limit is ";
  if (size.conditions > factor * kMaxExpandedConditions) {
    return std::string(kTooComplex) + "the pattern holds " +
           figure(size.conditions, kMaxExpandedConditions) + " field conditions" + per_alternative +
           std::to_string(kMaxExpandedConditions) +
           ". Use fewer $or combinations or fewer fields, or split the rule into several rules";
  }
  if (size.values > factor * kMaxExpandedValues) {
    return std::string(kTooComplex) + "the pattern lists " +
           figure(size.values, kMaxExpandedValues) + " values" + per_alternative +
           std::to_string(kMaxExpandedValues) +
           ". Use fewer $or combinations or fewer values, or split the rule into several rules";
  }
  if (size.value_bytes > factor * kMaxExpandedValueBytes) {
    return std::string(kTooComplex) + "the pattern's values hold " +
           figure(size.value_bytes, kMaxExpandedValueBytes) + " bytes of text" + per_alternative +
           std::to_string(kMaxExpandedValueBytes) +
           ". Use fewer $or combinations or fewer or shorter values, or split the rule into "
           "several rules";
  }
  return std::nullopt;
}

}  // namespace eventrouter::pattern::detail
