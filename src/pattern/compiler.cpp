#include "compiler.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>

#include "comparable_number.hpp"
#include "eventrouter/util/json_numbers.hpp"
#include "expansion.hpp"
#include "limits.hpp"
#include "predicates.hpp"
#include "wildcard_limit.hpp"

namespace eventrouter::pattern::detail {
namespace {

namespace dom = simdjson::dom;

// Field names event-ruler reserves inside $or (operators and names kept for future ones).
constexpr std::array<std::string_view, 25> kReservedInOr = {"exactly",
                                                            "equals-ignore-case",
                                                            "prefix",
                                                            "suffix",
                                                            "anything-but",
                                                            "exists",
                                                            "wildcard",
                                                            "numeric",
                                                            "cidr",
                                                            "html",
                                                            "=",
                                                            "<",
                                                            "<=",
                                                            ">",
                                                            ">=",
                                                            "regex",
                                                            "not-wildcard",
                                                            "not-equals-ignore-case",
                                                            "date-after",
                                                            "date-on-or-after",
                                                            "date-before",
                                                            "date-on-or-before",
                                                            "in-date-range",
                                                            "ip-address-in-range",
                                                            "ip-address-not-in-range"};

std::string in_quotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

bool is_number(const dom::element& e) {
  auto t = e.type();
  return t == dom::element_type::INT64 || t == dom::element_type::UINT64 ||
         t == dom::element_type::DOUBLE;
}

bool is_or_array(const dom::element& value) {
  if (!value.is_array()) return false;
  dom::array items = value;
  if (items.size() < 2) return false;
  for (dom::element item : items) {
    if (!item.is_object()) return false;
  }
  return true;
}

// Whether some "$or" in the pattern can only be the OR operator: it lists two or more objects
// with no reserved name at their top (so read as a field name, it would fail).
bool has_or_operator(dom::element element) {
  if (element.is_array()) {
    for (dom::element item : dom::array(element)) {
      if (has_or_operator(item)) return true;
    }
    return false;
  }
  if (!element.is_object()) return false;
  for (auto [key, value] : dom::object(element)) {
    if (key == "$or" && is_or_array(value)) {
      bool reserved = false;
      for (dom::element item : dom::array(value)) {
        for (auto [name, operand] : dom::object(item)) {
          reserved = reserved || std::find(kReservedInOr.begin(), kReservedInOr.end(), name) !=
                                     kReservedInOr.end();
        }
      }
      if (!reserved) return true;
    }
    if (has_or_operator(value)) return true;
  }
  return false;
}

class Compiler {
 public:
  Expected<PatternTree, std::string> run(std::string_view json) {
    // simdjson's DOM holds numbers as 64-bit integers or doubles, refusing larger ones and
    // rounding long ones, but a pattern number keeps its text (see comparable_number.hpp).
    // So the DOM is built from a copy whose numbers are their ordinals, and number_text() finds
    // each one's text.
    const std::string rewritten =
        util::rewrite_json_numbers(json, [this](std::string_view number, std::size_t ordinal) {
          numbers_.emplace_back(number);
          return std::to_string(ordinal);
        });
    // One parser per thread: a new parser allocates its buffers on first use, which cost as
    // much as the rest of compiling a pattern (a rule file of 10,000 rules compiles 10,000).
    thread_local dom::parser parser;
    simdjson::padded_string padded(rewritten);
    dom::element root;
    if (auto err = parser.parse(padded).get(root)) {
      return unexpected(std::string("Pattern is not valid JSON: ") + simdjson::error_message(err) +
                        "; check quotes, commas and brackets");
    }
    if (!root.is_object()) {
      return unexpected(
          std::string("Filter is not an object; an event pattern is a JSON object such as "
                      "{\"source\": [\"aws.guardduty\"]}"));
    }
    // "$or" is the OR operator wherever it stands, unless that reading fails because of a $or:
    // then the pattern is read again with "$or" as a plain field name everywhere, as
    // event-ruler does to keep patterns written before the operator working. One pattern cannot
    // use both readings.
    auto tree = read(root, json);
    if (tree || !or_misfit_) return tree;
    const std::string operator_error = error_;
    error_.clear();
    expanding_ = {};
    or_is_operator_ = false;
    if (auto legacy = read(root, json)) return legacy;
    if (has_or_operator(root)) {
      return unexpected(
          "$or is used both as the OR operator and as a field name, which is not supported: " +
          operator_error);
    }
    // A list holding an object was meant as the operator: its reason says more than the one
    // found reading it as a field's values.
    return unexpected(or_list_of_objects_ ? operator_error : error_);
  }

 private:
  Expected<PatternTree, std::string> read(dom::element root, std::string_view json) {
    std::vector<Branch> branches;
    if (!parse_object(root, "", branches, false)) return unexpected(error_);
    if (auto reason = over_size_limit(size_of(branches), false)) return unexpected(*reason);
    if (auto reason = over_wildcard_complexity(branches)) return unexpected(*reason);
    PatternTree data;
    data.source = std::string(json);
    for (const Branch& branch : branches) {
      Alternative alt;
      for (const auto& [path, leaf] : branch.leaves()) alt.conditions.push_back(leaf.condition);
      data.alternatives.push_back(std::move(alt));
    }
    return data;
  }

  // Fails for a $or that cannot be the operator (see run()).
  bool fail_or(std::string reason) {
    or_misfit_ = true;
    return fail(std::move(reason));
  }

  bool fail(std::string reason) {
    error_ = std::move(reason);
    return false;
  }
  bool fail_at(std::string_view path, const std::string& what, const std::string& fix) {
    return fail(what + " (field " + in_quotes(path) + "); " + fix);
  }

  // Refuses, while $or is being expanded, a pattern whose partial expansion already shows that
  // the finished one would be over a size limit.
  bool within_expansion_guard() {
    if (auto reason = over_size_limit(expanding_, true)) return fail(std::move(*reason));
    return true;
  }

  bool parse_object(dom::object object, const std::string& prefix, std::vector<Branch>& branches,
                    bool in_or) {
    std::string where = prefix.empty() ? std::string("the top level")
                                       : "field " + in_quotes(prefix.substr(0, prefix.size() - 1));
    if (object.size() == 0) {
      return fail("Empty objects are not allowed (" + where +
                  "); name at least one field, or remove the empty object");
    }
    for (auto [key, value] : object) {
      if (key == "$or" && or_is_operator_) {
        if (!is_or_array(value)) {
          or_list_of_objects_ = value.is_array();
          if (or_list_of_objects_) {
            dom::array items = value;
            or_list_of_objects_ = std::any_of(items.begin(), items.end(),
                                              [](dom::element e) { return e.is_object(); });
          }
          return fail_or("$or must be followed by a list of two or more pattern objects (" + where +
                         "), e.g. \"$or\": [{\"a\": [1]}, {\"b\": [2]}]");
        }
        if (!parse_or(value, prefix, branches)) return false;
        continue;
      }
      if (in_or &&
          std::find(kReservedInOr.begin(), kReservedInOr.end(), key) != kReservedInOr.end()) {
        return fail_or(std::string(key) +
                       " is Ruler reserved fieldName which cannot be used inside $or. Each "
                       "element of $or is a pattern object such as {\"field\": [{\"" +
                       std::string(key) + "\": ...}]}");
      }
      std::string path = prefix + std::string(key);
      if (value.is_object()) {
        if (!parse_object(value, path + ".", branches, in_or)) return false;
      } else if (value.is_array()) {
        Condition condition;
        condition.path = path;
        if (!parse_leaf(value, path, condition)) return false;
        const Leaf leaf = make_leaf(std::move(condition));
        if (branches.empty()) branches.emplace_back();
        for (auto& branch : branches) {
          expanding_ += leaf.size;
          if (auto replaced = branch.set(leaf)) expanding_ -= *replaced;
        }
        if (!within_expansion_guard()) return false;
      } else {
        return fail_at(path, in_quotes(key) + " must be an object or an array",
                       "every value to match is listed in an array, e.g. " + in_quotes(key) +
                           ": [" + text_of(value) + "]");
      }
    }
    return true;
  }

  // Each item of the $or continues every alternative so far: the alternatives are forked per
  // item, sharing their conditions (a fork costs a pointer per condition, counted in
  // expanding_ as the copies the matcher will make).
  bool parse_or(dom::array items, const std::string& prefix, std::vector<Branch>& branches) {
    std::vector<Branch> current = std::move(branches);
    branches.clear();
    const ExpansionSize current_size = size_of(current);
    for (dom::element item : items) {
      expanding_ += current_size;
      if (!within_expansion_guard()) return false;
      std::vector<Branch> forked = current;
      if (forked.empty()) forked.emplace_back();
      if (!parse_object(item, prefix, forked, true)) return false;
      for (auto& branch : forked) branches.push_back(std::move(branch));
      if (branches.size() > kMaxAlternatives) {
        return fail(std::string(kTooComplex) + "the $or combinations expand to more than " +
                    std::to_string(kMaxAlternatives) +
                    " alternatives. Use fewer $or combinations, or split the rule into several "
                    "rules");
      }
    }
    expanding_ -= current_size;  // `current` is dropped: its forks replace it
    return true;
  }

  bool parse_leaf(dom::array values, const std::string& path, Condition& out) {
    if (values.size() == 0) {
      return fail_at(path, "Empty arrays are not allowed",
                     "list at least one value to match, or remove the field");
    }
    for (dom::element value : values) {
      Predicate p;
      switch (value.type()) {
        case dom::element_type::OBJECT:
          if (!parse_expression(value, path, p)) return false;
          break;
        case dom::element_type::STRING: {
          std::string_view text = value;
          auto ip = looks_like_ip(text) ? parse_ip(text) : std::nullopt;
          if (ip) {
            p.kind = PredKind::kExactIp;
            p.ip = {*ip, *ip};
          } else {
            p.kind = PredKind::kExactString;
          }
          p.text = std::string(text);
          break;
        }
        case dom::element_type::INT64:
        case dom::element_type::UINT64:
        case dom::element_type::DOUBLE: {
          // A number that does not compare numerically matches only the same text (kept only
          // for those: it counts towards the pattern's value text, see limits.hpp).
          const std::string_view text = number_text(value);
          if (auto number = comparable_number(text)) {
            p.kind = PredKind::kExactNumber;
            p.number = *number;
          } else {
            p.kind = PredKind::kExactNumberText;
            p.text = std::string(text);
          }
          break;
        }
        case dom::element_type::BOOL:
          p.kind = bool(value) ? PredKind::kTrue : PredKind::kFalse;
          break;
        case dom::element_type::NULL_VALUE:
          p.kind = PredKind::kNull;
          break;
        case dom::element_type::ARRAY:
          return fail_at(path, "Match value must be String, number, true, false, or null",
                         "arrays cannot be nested in a pattern; list the values directly");
      }
      if (p.kind == PredKind::kAbsent) out.has_absent = true;
      out.predicates.push_back(std::move(p));
    }
    return true;
  }

  bool one_key(dom::object object, std::string_view path) {
    if (object.size() > 1) {
      return fail_at(path, "Only one key allowed in match expression",
                     "write each operator in its own object, e.g. [{\"prefix\": \"a\"}, "
                     "{\"suffix\": \"b\"}]");
    }
    return true;
  }

  bool parse_expression(dom::object object, const std::string& path, Predicate& p) {
    if (object.size() == 0) {
      return fail_at(path, "Match expression name not found",
                     "an object in a value list holds one operator, e.g. {\"prefix\": \"abc\"}");
    }
    auto [op, value] = *object.begin();
    if (op == "exactly" || op == "equals-ignore-case") {
      if (!value.is_string()) {
        return fail_at(path, std::string(op) + " match pattern must be a string",
                       "give a string, e.g. {\"" + std::string(op) + "\": \"abc\"}");
      }
      p.kind = op == "exactly" ? PredKind::kExactString : PredKind::kEqualsCi;
      p.text = std::string(std::string_view(value));
    } else if (op == "prefix" || op == "suffix") {
      bool prefix = op == "prefix";
      if (value.is_object()) {
        if (!parse_ci_affix(value, path, op, p)) return false;
      } else if (value.is_string()) {
        p.kind = prefix ? PredKind::kPrefix : PredKind::kSuffix;
        p.text = std::string(std::string_view(value));
      } else {
        return fail_at(path, std::string(op) + " match pattern must be a string",
                       "give a string, e.g. {\"" + std::string(op) + "\": \"abc\"}");
      }
    } else if (op == "wildcard") {
      if (!value.is_string()) {
        return fail_at(path, "wildcard match pattern must be a string",
                       "give a string, e.g. {\"wildcard\": \"arn:*:role/*\"}");
      }
      p.kind = PredKind::kWildcard;
      p.text = std::string(std::string_view(value));
      if (!add_glob(path, p.text, p)) return false;
    } else if (op == "numeric") {
      if (!value.is_array()) {
        return fail_at(path, "Value of numeric must be an array.",
                       "e.g. {\"numeric\": [\">=\", 7]} or {\"numeric\": [\">\", 0, \"<=\", 5]}");
      }
      if (!parse_numeric(value, path, p)) return false;
    } else if (op == "anything-but") {
      if (!parse_anything_but(value, path, p)) return false;
    } else if (op == "exists") {
      if (!value.is_bool()) {
        return fail_at(path, "exists match pattern must be either true or false.",
                       "write {\"exists\": true} or {\"exists\": false} (without quotes)");
      }
      p.kind = bool(value) ? PredKind::kExists : PredKind::kAbsent;
    } else if (op == "cidr") {
      if (!value.is_string()) {
        return fail_at(path, "cidr match pattern must be a string",
                       "e.g. {\"cidr\": \"10.0.0.0/24\"}");
      }
      p.kind = PredKind::kCidr;
      p.text = std::string(std::string_view(value));
      if (!parse_cidr(p.text, path, p.ip)) return false;
    } else {
      return fail_at(path, "Unrecognized match type " + std::string(op),
                     "use one of prefix, suffix, equals-ignore-case, wildcard, anything-but, "
                     "numeric, exists, cidr");
    }
    return one_key(object, path);
  }

  bool parse_ci_affix(dom::object inner, const std::string& path, std::string_view op,
                      Predicate& p) {
    std::string kind = op == "prefix" ? "Prefix" : "Suffix";
    std::string example = "{\"" + std::string(op) + "\": {\"equals-ignore-case\": \"abc\"}}";
    if (inner.size() == 0) {
      return fail_at(path, kind + " expression name not found", "write " + example);
    }
    auto [name, value] = *inner.begin();
    if (name != "equals-ignore-case") {
      return fail_at(path, "Unsupported " + std::string(op) + " pattern: " + std::string(name),
                     "only equals-ignore-case can be nested, e.g. " + example);
    }
    if (!value.is_string()) {
      return fail_at(path, "equals-ignore-case match pattern must be a string", "write " + example);
    }
    if (!one_key(inner, path)) return false;
    p.kind = op == "prefix" ? PredKind::kPrefixCi : PredKind::kSuffixCi;
    p.text = std::string(std::string_view(value));
    return true;
  }

  bool add_glob(const std::string& path, std::string_view text, Predicate& p) {
    WildcardGlob glob;
    if (auto err = parse_wildcard(text, glob)) {
      return fail_at(path, *err + " in wildcard " + in_quotes(text),
                     "use a single * between literal characters; write \\\\* for a literal * and "
                     "\\\\\\\\ for a backslash");
    }
    p.globs.push_back(std::move(glob));
    return true;
  }

  bool parse_numeric(dom::array items_array, const std::string& path, Predicate& p) {
    std::vector<dom::element> items(items_array.begin(), items_array.end());
    const std::string hint =
        "write e.g. {\"numeric\": [\">=\", 7]} or {\"numeric\": [\">\", 0, \"<=\", 5]}";
    auto numeric_at = [&](std::size_t i, std::string_view op) -> bool {
      if (i >= items.size() || !is_number(items[i])) {
        return fail_at(path, "Value of " + std::string(op) + " must be numeric",
                       "numbers are written without quotes; " + hint);
      }
      return true;
    };
    auto no_more = [&](std::size_t count) -> bool {
      if (items.size() > count) {
        return fail_at(path, "Too many elements in numeric expression", hint);
      }
      return true;
    };
    if (items.empty() || !items[0].is_string()) {
      return fail_at(path,
                     "Invalid member in numeric match: " +
                         (items.empty() ? std::string("]") : text_of(items[0])),
                     "start with an operator (=, <, <=, >, >=); " + hint);
    }
    std::string_view op = items[0];
    const double inf = std::numeric_limits<double>::infinity();
    p.kind = PredKind::kNumericRange;
    if (op == "=") {
      double v;
      if (!numeric_at(1, op) || !no_more(2) || !comparable_at(items[1], path, v)) return false;
      p.range = {v, v, false, false};
      return true;
    }
    if (op == "<" || op == "<=") {
      double v;
      if (!numeric_at(1, op) || !no_more(2) || !comparable_at(items[1], path, v)) return false;
      p.range = {-inf, v, false, op == "<"};
      return true;
    }
    if (op != ">" && op != ">=") {
      return fail_at(path, "Unrecognized numeric range operator: " + std::string(op),
                     "use =, <, <=, > or >=");
    }
    double low;
    if (!numeric_at(1, op) || !comparable_at(items[1], path, low)) return false;
    if (items.size() == 2) {
      p.range = {low, inf, op == ">", false};
      return true;
    }
    if (!items[2].is_string()) {
      return fail_at(path, "Bad value in numeric range: " + text_of(items[2]),
                     "the upper bound starts with < or <=; " + hint);
    }
    std::string_view op2 = items[2];
    if (op2 != "<" && op2 != "<=") {
      return fail_at(path, "Bad numeric range operator: " + std::string(op2),
                     "a range is a lower bound (>, >=) followed by an upper bound (<, <=)");
    }
    if (!numeric_at(3, op2)) return false;
    if (items.size() > 4) {
      return fail_at(path, "Too many terms in numeric range expression", hint);
    }
    double high;
    if (!comparable_at(items[3], path, high)) return false;
    if (!(low < high)) {
      return fail_at(path, "Bottom must be less than top",
                     "the lower bound " + text_of(items[1]) + " must be below the upper bound " +
                         text_of(items[3]));
    }
    p.range = {low, high, op == ">", op2 == "<"};
    return true;
  }

  bool parse_anything_but(dom::element value, const std::string& path, Predicate& p) {
    const std::string shape =
        "write e.g. {\"anything-but\": \"x\"}, {\"anything-but\": [\"x\", \"y\"]}, "
        "{\"anything-but\": [1, 2]} or {\"anything-but\": {\"prefix\": \"x\"}}";
    if (value.is_object()) {
      dom::object inner = value;
      if (inner.size() == 0) {
        return fail_at(path, "Anything-But expression name not found", shape);
      }
      auto [op, operand] = *inner.begin();
      if (op == "equals-ignore-case") {
        p.kind = PredKind::kAnythingButCi;
      } else if (op == "prefix") {
        p.kind = PredKind::kAnythingButPrefix;
      } else if (op == "suffix") {
        p.kind = PredKind::kAnythingButSuffix;
      } else if (op == "wildcard") {
        p.kind = PredKind::kAnythingButWildcard;
      } else {
        return fail_at(path, "Unsupported anything-but pattern: " + std::string(op),
                       "anything-but accepts prefix, suffix, equals-ignore-case or wildcard");
      }
      std::vector<dom::element> operands;
      if (operand.is_array()) {
        dom::array list = operand;
        operands.assign(list.begin(), list.end());
        if (operands.empty()) {
          return fail_at(path, "Empty arrays are not allowed",
                         "list at least one value inside anything-but");
        }
      } else if (operand.is_string() || is_number(operand)) {
        operands.push_back(operand);
      } else {
        return fail_at(
            path, "Value of anything-but must be an array or single string/number value.", shape);
      }
      for (dom::element item : operands) {
        if (!item.is_string()) {
          if (p.kind == PredKind::kAnythingButCi) {
            return fail_at(path,
                           "Inside anything-but/equals-ignore-case list, "
                           "number|start|null|boolean is not supported.",
                           "list strings only");
          }
          return fail_at(path,
                         p.kind == PredKind::kAnythingButWildcard
                             ? "wildcard match pattern must be a string"
                             : "prefix/suffix match pattern must be a string",
                         "list strings only");
        }
        std::string_view text = item;
        if (text.empty() &&
            (p.kind == PredKind::kAnythingButPrefix || p.kind == PredKind::kAnythingButSuffix)) {
          return fail_at(path, "Null prefix/suffix not allowed",
                         "an empty prefix or suffix would exclude every string; remove it");
        }
        if (p.kind == PredKind::kAnythingButWildcard && !add_glob(path, text, p)) return false;
        p.texts.emplace_back(text);
      }
      return one_key(inner, path);
    }
    if (value.is_array()) {
      bool has_string = false, has_number = false;
      for (dom::element item : dom::array(value)) {
        if (item.is_string()) {
          has_string = true;
          p.texts.emplace_back(std::string_view(item));
        } else if (is_number(item)) {
          has_number = true;
          if (!comparable_at(item, path, p.numbers.emplace_back())) return false;
        } else {
          return fail_at(path, "Inside anything but list, start|null|boolean is not supported.",
                         "list only strings or only numbers");
        }
      }
      if (has_string == has_number) {
        return fail_at(path,
                       "Inside anything but list, either all values are number or string, mixed "
                       "type is not supported",
                       has_string ? "split strings and numbers into two anything-but conditions"
                                  : "list at least one string or number");
      }
      p.kind = has_string ? PredKind::kAnythingButStrings : PredKind::kAnythingButNumbers;
      return true;
    }
    if (value.is_string()) {
      p.kind = PredKind::kAnythingButStrings;
      p.texts.emplace_back(std::string_view(value));
      return true;
    }
    if (is_number(value)) {
      p.kind = PredKind::kAnythingButNumbers;
      return comparable_at(value, path, p.numbers.emplace_back());
    }
    return fail_at(path, "Value of anything-but must be an array or single string/number value.",
                   shape);
  }

  bool parse_cidr(std::string_view text, const std::string& path, IpRange& out) {
    const std::string hint =
        "write an address and a prefix length, e.g. \"10.0.0.0/24\" or "
        "\"2001:db8::/32\"";
    std::size_t slash = text.find('/');
    if (slash == std::string_view::npos || slash + 1 == text.size() ||
        text.find('/', slash + 1) != std::string_view::npos) {
      return fail_at(path, "Malformed CIDR, one '/' required", hint);
    }
    std::string_view address = text.substr(0, slash);
    std::string_view mask_text = text.substr(slash + 1);
    std::string_view digits = mask_text;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    int mask = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), mask);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return fail_at(path, "Malformed CIDR, mask bits must be an integer", hint);
    }
    if (negative && mask != 0) {
      return fail_at(path, "Malformed CIDR, mask bits must not be negative", hint);
    }
    if (!looks_like_ip(address)) {
      return fail_at(path, "Nonstandard IP address: " + std::string(address), hint);
    }
    auto ip = parse_ip(address);
    if (!ip) return fail_at(path, "Invalid IP address: " + std::string(address), hint);
    int bits = ip->length * 8;
    if (mask >= bits) {
      return fail_at(path,
                     std::string(ip->length == 4 ? "IPv4 mask bits must be < 32"
                                                 : "IPv6 mask bits must be < 128"),
                     "to match one address, give it as a plain string, e.g. [\"" +
                         std::string(address) + "\"]");
    }
    out.low = *ip;
    out.high = *ip;
    // The block of the address: host bits set in the address as written are ignored
    // ("10.0.0.5/24" is 10.0.0.0 to 10.0.0.255), as event-ruler masks them.
    for (int bit = mask; bit < bits; ++bit) {
      const auto one = static_cast<std::uint8_t>(0x80 >> (bit % 8));
      out.low.bytes[bit / 8] &= static_cast<std::uint8_t>(~one);
      out.high.bytes[bit / 8] |= one;
    }
    return true;
  }

  // The text of a number element (of the rewritten DOM, see run()).
  std::string_view number_text(const dom::element& e) const {
    std::uint64_t ordinal = 0;
    if (e.type() == dom::element_type::UINT64) ordinal = std::uint64_t(e);
    if (e.type() == dom::element_type::INT64) ordinal = static_cast<std::uint64_t>(int64_t(e));
    return ordinal < numbers_.size() ? std::string_view(numbers_[ordinal]) : std::string_view();
  }

  // A scalar as written in the pattern, for messages.
  std::string text_of(const dom::element& e) const {
    return is_number(e) ? std::string(number_text(e)) : simdjson::minify(e);
  }

  // The value of a number used as a numeric bound or an anything-but number, which must
  // compare numerically (comparable_number.hpp); false after failing otherwise.
  bool comparable_at(const dom::element& e, const std::string& path, double& out) {
    const std::string_view text = number_text(e);
    if (auto value = comparable_number(text)) {
      out = *value;
      return true;
    }
    return fail_at(path, "Cannot compare number : " + std::string(text),
                   "a numeric bound or anything-but number must be a double written exactly, "
                   "e.g. 9007199254740992 (not 9007199254740993) or 1.5e300 (not 1e400)");
  }

  std::vector<std::string> numbers_;  // the pattern's number texts, by ordinal
  bool or_is_operator_ = true;        // false: "$or" is read as a field name (see run())
  bool or_misfit_ = false;            // the reading failed at a $or that cannot be the operator
  bool or_list_of_objects_ = false;   // ... a $or listing too few objects, or not only objects
  std::string error_;
  // The size of every alternative held while expanding $or: finished, partial and the ones
  // being forked (see within_expansion_guard).
  ExpansionSize expanding_;
};

}  // namespace

Expected<PatternTree, std::string> compile_pattern(std::string_view json) {
  Compiler compiler;
  return compiler.run(json);
}

}  // namespace eventrouter::pattern::detail
