#include "wildcard_limit.hpp"

#include <map>
#include <set>
#include <unordered_set>
#include <utility>

#include "limits.hpp"
#include "wildcard_complexity.hpp"

namespace eventrouter::pattern::detail {
namespace {

// A wildcard value as event-ruler tells patterns apart: its kind (anything-but or not) and text.
using KindAndGlob = std::pair<bool, const WildcardGlob*>;

struct KindAndGlobLess {
  bool operator()(const KindAndGlob& a, const KindAndGlob& b) const {
    if (a.first != b.first) return a.first < b.first;
    return a.second->pieces < b.second->pieces;
  }
};

}  // namespace

std::optional<std::string> over_wildcard_complexity(const std::vector<Branch>& branches) {
  // All of a field's distinct values over the rule's alternatives are evaluated together.
  // event-ruler keeps apart the values that sit behind different values of an earlier field
  // (they are in different machines), so this can count more than it does, never less.
  std::unordered_set<const Condition*> seen;  // alternatives share conditions: read each once
  std::map<std::string, std::set<KindAndGlob, KindAndGlobLess>> globs_by_path;
  for (const Branch& branch : branches) {
    for (const auto& [path, leaf] : branch.leaves()) {
      if (!seen.insert(leaf.condition.get()).second) continue;
      for (const Predicate& p : leaf.condition->predicates) {
        for (const WildcardGlob& glob : p.globs) {
          globs_by_path[path].insert({p.kind == PredKind::kAnythingButWildcard, &glob});
        }
      }
    }
  }
  for (const auto& [path, distinct] : globs_by_path) {
    std::vector<const WildcardGlob*> globs;
    for (const auto& [negated, glob] : distinct) globs.push_back(glob);
    const WildcardComplexity complexity =
        wildcard_complexity(globs, kMaxWildcardComplexity, kMaxWildcardComplexityWork);
    if (complexity.value <= kMaxWildcardComplexity && !complexity.out_of_work) continue;
    const std::string field = "the wildcard values of field \"" + path + "\"";
    const std::string limit = std::to_string(kMaxWildcardComplexity);
    const std::string detail =
        complexity.out_of_work ? field + " are too many or too long to evaluate their complexity"
                               : field + " have complexity above " + limit +
                                     ": one value of the field can match more than " + limit +
                                     " of their prefixes at once, each a path matching must follow";
    return std::string(kTooComplex) +
           "try using fewer wildcard characters or fewer repeating character sequences after a "
           "wildcard character (" +
           detail +
           "; fewer wildcard values that share a prefix up to their first *, fewer *, or "
           "prefix/suffix matches instead of wildcards lower it)";
  }
  return std::nullopt;
}

}  // namespace eventrouter::pattern::detail
