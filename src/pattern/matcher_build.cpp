// Builds the bus matcher's data (matcher_data.hpp) from its patterns: chooses each
// alternative's anchor, indexes it, and lays out every alternative's compact form.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>

#include "compiled.hpp"
#include "matcher_data.hpp"

namespace eventrouter::pattern::detail {
namespace {

std::string lowered(std::string_view text) {
  std::string out;
  ascii_lower(text, out);
  return out;
}

// How often a predicate is expected to be met (lower is better for an anchor).
double predicate_weight(const Predicate& p) {
  switch (p.kind) {
    case PredKind::kExactString:
    case PredKind::kExactNumber:
    case PredKind::kExactIp:
      return 1;
    case PredKind::kEqualsCi:
      return 1.5;
    case PredKind::kTrue:
    case PredKind::kFalse:
    case PredKind::kNull:
      return 8;
    case PredKind::kPrefix:
    case PredKind::kSuffix:
    case PredKind::kPrefixCi:
    case PredKind::kSuffixCi:
      // A long prefix or suffix is nearly as specific as a whole value, a short one is not.
      return 1 + 16.0 / static_cast<double>(std::max<std::size_t>(p.text.size(), 8));
    case PredKind::kWildcard:
      return 4;
    case PredKind::kCidr: {
      // By the share of the address space the range covers: a /24 is far narrower than a /8.
      const double bits = p.ip.low.length * 8.0;
      const int prefix = IpIndex::prefix_bits(p.ip);
      return 1 + 3 * (prefix < 0 ? 1.0 : (bits - prefix) / bits);
    }
    case PredKind::kNumericRange:
      // A range bounded on both sides is far narrower than one open on a side.
      return std::isinf(p.range.low) || std::isinf(p.range.high) ? 6 : 2;
    default:
      return 30;  // exists, anything-but
  }
}

// The expected share of events that meet a predicate, roughly, for choosing anchors: rules'
// values stand for the events' (a value many rules on a field name, like a region or a source,
// is common in events; a value one rule in hundreds on that field names, like an id, is rare),
// scaled by the kind's weight, and lowered for texts with many digits (ids, accounts,
// addresses). A field few rules name tells little: kFieldPrior counts as that many more values
// on every field, so that one value among two rules on a field is not taken for a common one
// (it made a source, which a ninth of the rules name, look the better anchor than a /24).
constexpr double kFieldPrior = 8;
double predicate_cost(const Predicate& p, std::uint32_t shared, std::uint32_t field_total) {
  double share = (shared + 1.0) / (field_total + kFieldPrior);
  std::size_t digits = 0;
  for (char c : p.text) digits += c >= '0' && c <= '9';
  for (const WildcardGlob& g : p.globs) {
    for (const std::string& piece : g.pieces) {
      for (char c : piece) digits += c >= '0' && c <= '9';
    }
  }
  return predicate_weight(p) * share / (1.0 + 0.25 * static_cast<double>(digits));
}

std::string predicate_key(std::uint32_t field, const Predicate& p) {
  std::string key = std::to_string(field) + ':' + std::to_string(static_cast<int>(p.kind)) + ':';
  switch (p.kind) {
    case PredKind::kExactNumber:
      return key + std::to_string(p.number);
    case PredKind::kNumericRange:
      return key + std::to_string(p.range.low) + ',' + std::to_string(p.range.high);
    default:
      return key + p.text;
  }
}

// Appends one alternative's compact form to `blob`.
void append_compact(std::vector<std::uint64_t>& blob, AltHeader header,
                    const std::vector<std::pair<std::uint32_t, const Condition*>>& ordered) {
  std::vector<PredCell> preds;
  std::string text;
  std::size_t pred_count = 0;
  for (const auto& [field, c] : ordered) pred_count += c->predicates.size();
  const std::size_t preds_at = predicates_offset(ordered.size());
  const std::size_t text_base = preds_at + pred_count * sizeof(PredCell);
  std::vector<CondCell> conds;
  for (const auto& [field, c] : ordered) {
    conds.push_back({field, static_cast<std::uint32_t>(c->predicates.size()), c->has_absent});
    for (const Predicate& p : c->predicates) {
      PredCell cell{};
      cell.kind = p.kind;
      cell.full = &p;
      switch (p.kind) {
        case PredKind::kPrefixCi:
        case PredKind::kSuffixCi:
        case PredKind::kEqualsCi:
          cell.text_offset = text_base + text.size();
          cell.text_length = static_cast<std::uint32_t>(p.text.size());
          cell.ascii_ci = is_ascii(p.text);
          if (cell.ascii_ci) {
            std::string lower;
            ascii_lower(p.text, lower);
            text += lower;
          } else {
            text += p.text;
          }
          break;
        case PredKind::kExactString:
        case PredKind::kPrefix:
        case PredKind::kSuffix:
          cell.text_offset = text_base + text.size();
          cell.text_length = static_cast<std::uint32_t>(p.text.size());
          text += p.text;
          break;
        case PredKind::kExactNumber:
          cell.low = p.number;
          break;
        case PredKind::kNumericRange:
          cell.low = p.range.low;
          cell.high = p.range.high;
          cell.low_open = p.range.low_open;
          cell.high_open = p.range.high_open;
          break;
        default:
          break;
      }
      preds.push_back(cell);
    }
  }
  header.count = static_cast<std::uint32_t>(ordered.size());
  const std::size_t bytes = text_base + text.size();
  const std::size_t first = blob.size();
  blob.resize(first + (bytes + 7) / 8, 0);
  auto* base = reinterpret_cast<std::byte*>(blob.data() + first);
  new (base) AltHeader(header);
  auto* cond_at = base + sizeof(AltHeader);
  for (const CondCell& c : conds) {
    new (cond_at) CondCell(c);
    cond_at += sizeof(CondCell);
  }
  auto* pred_at = base + preds_at;
  for (const PredCell& p : preds) {
    new (pred_at) PredCell(p);
    pred_at += sizeof(PredCell);
  }
  std::memcpy(pred_at, text.data(), text.size());
}

}  // namespace

void MatcherData::index(std::uint32_t field, const Predicate& p, std::uint32_t alt) {
  FieldIndex& fi = fields[field];
  switch (p.kind) {
    case PredKind::kExactString:
      fi.exact.add(lowered(p.text), alt);
      break;
    case PredKind::kExactNumber:
      fi.numbers[canonical(p.number)].push_back(alt);
      break;
    case PredKind::kTrue:
      fi.on_true.push_back(alt);
      break;
    case PredKind::kFalse:
      fi.on_false.push_back(alt);
      break;
    case PredKind::kNull:
      fi.on_null.push_back(alt);
      break;
    case PredKind::kPrefix:
      fi.prefix.add(lowered(p.text), alt);
      break;
    case PredKind::kSuffix:
      fi.suffix.add(lowered(p.text), alt);
      break;
    case PredKind::kPrefixCi:
    case PredKind::kSuffixCi:
    case PredKind::kEqualsCi: {
      if (!is_ascii(p.text)) {
        fi.on_string.push_back(alt);
      } else if (p.kind == PredKind::kEqualsCi) {
        fi.exact.add(lowered(p.text), alt);
      } else if (p.kind == PredKind::kPrefixCi) {
        fi.prefix.add(lowered(p.text), alt);
      } else {
        fi.suffix.add(lowered(p.text), alt);
      }
      break;
    }
    case PredKind::kWildcard: {
      const WildcardGlob& glob = p.globs.front();
      if (glob.pieces.size() == 1) {
        fi.exact.add(lowered(glob.pieces[0]), alt);
      } else if (!glob.pieces.front().empty() &&
                 glob.pieces.front().size() >= glob.pieces.back().size()) {
        fi.prefix.add(lowered(glob.pieces.front()), alt);
      } else if (!glob.pieces.back().empty()) {
        fi.suffix.add(lowered(glob.pieces.back()), alt);
      } else {
        fi.on_string.push_back(alt);
      }
      break;
    }
    case PredKind::kNumericRange: {
      const NumericRange& r = p.range;
      if (r.low == r.high) {
        fi.numbers[canonical(r.low)].push_back(alt);
      } else if (std::isinf(r.high)) {
        fi.ranges.lower_only.push_back({r.low, alt});
      } else if (std::isinf(r.low)) {
        fi.ranges.upper_only.push_back({r.high, alt});
      } else {
        fi.ranges.both.emplace_back(r.low, r.high, alt);
        fi.ranges.widest = std::max(fi.ranges.widest, r.high - r.low);
      }
      break;
    }
    case PredKind::kExactIp:
    case PredKind::kCidr:
      if (!fi.ips.add(p.ip, alt)) fi.on_string.push_back(alt);
      break;
    default:  // exists, anything-but, and numbers matched by their text (rare)
      fi.on_any.push_back(alt);
      break;
  }
}

void MatcherData::build() {
  // Bind every condition to this matcher's fields, and count how many alternatives share each
  // predicate: a shared predicate (say source = aws.guardduty) is a poor anchor. The conditions
  // stay where their patterns hold them: $or alternatives share theirs (ast.hpp), and copying
  // them here would multiply a long value list by the alternatives that hold it. For the same
  // reason a condition's predicate keys are made once, however many alternatives hold it.
  std::unordered_map<std::string, std::uint32_t> key_ids;
  std::unordered_map<const Condition*, std::vector<std::uint32_t>> condition_keys;
  std::vector<std::uint32_t> shared;       // by key id: the alternatives' conditions holding it
  std::vector<std::uint32_t> field_total;  // predicates on each field, all rules together
  std::vector<const std::vector<std::uint32_t>*> bound_keys;  // per `bound` entry
  struct Entry {
    std::uint32_t pattern, begin, count;
  };
  std::vector<Entry> entries;
  for (std::uint32_t pi = 0; pi < patterns.size(); ++pi) {
    for (const Alternative& alt : patterns[pi].data().tree.alternatives) {
      entries.push_back({pi, static_cast<std::uint32_t>(bound.size()),
                         static_cast<std::uint32_t>(alt.conditions.size())});
      for (const auto& shared_condition : alt.conditions) {
        const Condition& c = *shared_condition;
        std::uint32_t field = trie.add(c.path);
        bound.push_back({field, &c});
        auto [keys, fresh] = condition_keys.try_emplace(&c);
        if (fresh) {
          for (const Predicate& p : c.predicates) {
            auto id = key_ids.try_emplace(predicate_key(field, p), key_ids.size()).first->second;
            keys->second.push_back(id);
          }
        }
        bound_keys.push_back(&keys->second);
        for (std::uint32_t id : keys->second) {
          if (shared.size() <= id) shared.resize(id + 1, 0);
          ++shared[id];
        }
        if (field_total.size() <= field) field_total.resize(field + 1, 0);
        field_total[field] += static_cast<std::uint32_t>(c.predicates.size());
      }
    }
  }
  fields.resize(trie.field_count());
  for (std::uint32_t ai = 0; ai < entries.size(); ++ai) {
    const Entry& entry = entries[ai];
    AltHeader header{};
    header.pattern = entry.pattern;
    header.bound_begin = entry.begin;
    header.guard_field = kNone;
    const BoundCondition* anchor = nullptr;
    double best = 0;
    std::vector<std::pair<double, std::uint32_t>> order;  // (cost, condition)
    for (std::uint32_t ci = entry.begin; ci < entry.begin + entry.count; ++ci) {
      const BoundCondition& bc = bound[ci];
      const std::vector<std::uint32_t>& keys = *bound_keys[ci];
      double cost = 0;
      for (std::size_t k = 0; k < keys.size(); ++k) {
        cost += predicate_cost(bc.condition->predicates[k], shared[keys[k]], field_total[bc.field]);
      }
      order.emplace_back(cost, ci);
      if (bc.condition->has_absent) continue;  // met by absence: no value to look up
      if (!anchor || cost < best) {
        anchor = &bc;
        best = cost;
      }
    }
    // The compact form is evaluated in any order (see evaluate_compact in matcher.cpp): the
    // conditions least often met go first so that a candidate that fails is dropped soonest; the
    // anchor, which brought the candidate in, goes last.
    if (anchor) order[static_cast<std::size_t>(anchor - &bound[entry.begin])].first = 1e300;
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    if (!anchor) {
      always.push_back(ai);
    } else {
      for (const Predicate& p : anchor->condition->predicates) index(anchor->field, p, ai);
      std::uint32_t guard_shared = 0;
      for (std::uint32_t ci = entry.begin; ci < entry.begin + entry.count; ++ci) {
        const BoundCondition& bc = bound[ci];
        const auto& predicates = bc.condition->predicates;
        if (&bc == anchor || predicates.size() != 1 ||
            predicates[0].kind != PredKind::kExactString) {
          continue;
        }
        std::uint32_t count = shared[(*bound_keys[ci])[0]];
        if (header.guard_field == kNone || count < guard_shared) {
          header.guard_field = bc.field;
          header.guard_hash = hash_bytes(predicates[0].text);
          guard_shared = count;
        }
      }
    }
    std::vector<std::pair<std::uint32_t, const Condition*>> ordered;
    for (const auto& [cost, ci] : order) ordered.emplace_back(bound[ci].field, bound[ci].condition);
    alt_word.push_back(static_cast<std::uint32_t>(blob.size()));
    append_compact(blob, header, ordered);
  }
  for (FieldIndex& fi : fields) {
    for (AffixIndex* affix : {&fi.prefix, &fi.suffix}) affix->seal();
    fi.hot = {fi.exact.by_text.lookup(), fi.prefix.first_test, fi.suffix.first_test};
    auto by_value = [](const Bound& a, const Bound& b) { return a.value < b.value; };
    std::sort(fi.ranges.lower_only.begin(), fi.ranges.lower_only.end(), by_value);
    std::sort(fi.ranges.upper_only.begin(), fi.ranges.upper_only.end(), by_value);
    std::sort(fi.ranges.both.begin(), fi.ranges.both.end());
    probes.push_back(FieldProbe::of(fi));
  }
}

}  // namespace eventrouter::pattern::detail
