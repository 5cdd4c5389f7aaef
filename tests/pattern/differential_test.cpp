// Differential test: generated pattern/event pairs evaluated by the compiled engines (one-off
// and bus matcher) and by the plain reference evaluator must give the same answers.

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "eventrouter/pattern/pattern.hpp"
#include "reference_evaluator.hpp"

namespace eventrouter::pattern {
namespace {

// `cut` moved back to the start of the UTF-8 character it falls in, so that a cut string stays
// valid UTF-8.
std::size_t whole_characters(const std::string& s, std::size_t cut) {
  cut = std::min(cut, s.size());
  while (cut > 0 && cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return cut;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  template <class T>
  const T& one_of(const std::vector<T>& items) {
    return items[static_cast<std::size_t>(pick(static_cast<int>(items.size())))];
  }

  // ---- events ----
  std::string scalar() {
    switch (pick(10)) {
      case 0:
      case 1:
      case 2:
      case 3:
        return json_string(one_of(strings_));
      case 4:
      case 5:
      case 6:
        return one_of(numbers_);
      case 7:
        return "true";
      case 8:
        return "false";
      default:
        return "null";
    }
  }

  std::string leaf_value() {
    int kind = pick(10);
    if (kind < 7) return scalar();
    if (kind < 9) {  // an array of scalars (possibly empty or nested)
      std::string out = "[";
      int n = pick(4);
      for (int i = 0; i < n; ++i) {
        if (i) out += ",";
        out += chance(0.1) ? "[" + scalar() + "]" : scalar();
      }
      return out + "]";
    }
    return chance(0.5) ? "{}" : R"({"deeper": 1})";
  }

  std::string element_object() {
    std::string out = "{";
    bool first = true;
    for (const char* key : {"x", "y"}) {
      if (chance(0.75)) {
        out += std::string(first ? "" : ",") + "\"" + key + "\":" + leaf_value();
        first = false;
      }
    }
    if (chance(0.5)) {
      out += std::string(first ? "" : ",") + R"("in":[)";
      int n = pick(3);
      for (int i = 0; i < n; ++i) out += std::string(i ? "," : "") + R"({"v":)" + scalar() + "}";
      out += "]";
    }
    return out + "}";
  }

  std::string event() {
    std::vector<std::string> fields;
    if (chance(0.85)) fields.push_back(R"("s":)" + leaf_value());
    if (chance(0.8)) fields.push_back(R"("n":)" + leaf_value());
    if (chance(0.5)) fields.push_back(R"("b":)" + scalar());
    // "$or" as an event field, which patterns that cannot read "$or" as the operator name.
    if (chance(0.3)) {
      fields.push_back(chance(0.5) ? R"("$or":)" + leaf_value()
                                   : R"("$or":{"x":)" + leaf_value() + "}");
    }
    if (chance(0.6)) {
      std::string c = "{";
      if (chance(0.8)) c += R"("d":)" + leaf_value();
      if (chance(0.6)) c += std::string(c.size() > 1 ? "," : "") + R"("e":)" + leaf_value();
      fields.push_back(R"("c":)" + c + "}");
    } else if (chance(0.3)) {
      fields.push_back(R"("c.d":)" + leaf_value());
    }
    if (chance(0.7)) {
      std::string arr = "[";
      int n = pick(4);
      for (int i = 0; i < n; ++i) arr += std::string(i ? "," : "") + element_object();
      fields.push_back(R"("arr":)" + arr + "]");
    }
    std::string out = "{";
    for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + fields[i];
    return out + "}";
  }

  // ---- patterns ----
  std::string matcher_value() {
    switch (pick(22)) {
      case 0:
      case 1:
      case 2:
        return json_string(one_of(strings_));
      case 3:
      case 4:
        return one_of(numbers_);
      case 5:
        return one_of(std::vector<std::string>{"true", "false", "null"});
      case 6: {
        std::string s = one_of(strings_);
        return R"({"prefix":)" + json_string(s.substr(0, whole_characters(s, pick(4)))) + "}";
      }
      case 7: {
        std::string s = one_of(strings_);
        return R"({"suffix":)" +
               json_string(s.substr(whole_characters(
                   s, s.size() -
                          std::min<std::size_t>(s.size(), static_cast<std::size_t>(pick(4)))))) +
               "}";
      }
      case 8:
        return R"({"prefix":{"equals-ignore-case":)" + json_string(one_of(ci_)) + "}}";
      case 9:
        return R"({"suffix":{"equals-ignore-case":)" + json_string(one_of(ci_)) + "}}";
      case 10:
        return R"({"equals-ignore-case":)" + json_string(one_of(ci_)) + "}";
      case 11:
        return R"({"wildcard":)" + json_string(one_of(wildcards_)) + "}";
      case 12:
        return R"({"anything-but":)" + json_string(one_of(strings_)) + "}";
      case 13:
        return R"({"anything-but":)" + one_of(comparable_) + "}";
      case 14:
        return R"({"anything-but":[)" + json_string(one_of(strings_)) + "," +
               json_string(one_of(strings_)) + "]}";
      case 15:
        return R"({"anything-but":[)" + one_of(comparable_) + "," + one_of(comparable_) + "]}";
      case 16: {
        static const std::vector<std::string> forms = {R"({"prefix":"al"})",
                                                       R"({"suffix":".png"})",
                                                       R"({"equals-ignore-case":"alpha"})",
                                                       R"({"wildcard":"*a*"})",
                                                       R"({"prefix":["us-","10."]})",
                                                       R"({"equals-ignore-case":["BETA","x.png"]})",
                                                       R"({"wildcard":["*.png","a*"]})"};
        return R"({"anything-but":)" + one_of(forms) + "}";
      }
      case 17:
      case 18: {
        static const std::vector<std::string> ops = {"<", "<=", ">", ">=", "="};
        std::string op = one_of(ops);
        if ((op == ">" || op == ">=") && chance(0.5)) {
          int low = pick(20) - 5;
          int high = low + 1 + pick(200);
          return R"({"numeric":[")" + op + "\"," + std::to_string(low) + ",\"" +
                 (chance(0.5) ? "<" : "<=") + "\"," + std::to_string(high) + "]}";
        }
        return R"({"numeric":[")" + op + "\"," + one_of(comparable_) + "]}";
      }
      case 19:
        return chance(0.5) ? R"({"exists":true})" : R"({"exists":false})";
      case 20:
        return R"({"cidr":)" + json_string(one_of(cidrs_)) + "}";
      default:
        return R"({"exactly":)" + json_string(one_of(strings_)) + "}";
    }
  }

  std::string leaf_list() {
    std::string out = "[";
    int n = 1 + pick(chance(0.7) ? 1 : 3);
    for (int i = 0; i < n; ++i) out += std::string(i ? "," : "") + matcher_value();
    return out + "]";
  }

  // A pattern object over a few of the known paths; nested or dotted keys at random.
  std::string fields_object(int count) {
    static const std::vector<std::vector<std::string>> paths = {
        {"s"},      {"n"},        {"b"},        {"c", "d"},
        {"c", "e"}, {"arr", "x"}, {"arr", "y"}, {"arr", "in", "v"}};
    std::set<int> chosen;
    while (static_cast<int>(chosen.size()) < count)
      chosen.insert(pick(static_cast<int>(paths.size())));
    // Group by first segment so nested objects are not repeated.
    std::map<std::string, std::vector<std::vector<std::string>>> groups;
    for (int i : chosen) groups[paths[i][0]].push_back(paths[i]);
    std::string out = "{";
    bool first = true;
    for (auto& [head, members] : groups) {
      for (auto& path : members) {
        out += first ? "" : ",";
        first = false;
        if (path.size() == 1) {
          out += json_string(head) + ":" + leaf_list();
        } else if (chance(0.3)) {  // dotted key
          std::string dotted = path[0];
          for (std::size_t i = 1; i < path.size(); ++i) dotted += "." + path[i];
          out += json_string(dotted) + ":" + leaf_list();
        } else {
          std::string nested = leaf_list();
          for (std::size_t i = path.size(); i-- > 1;)
            nested = "{" + json_string(path[i]) + ":" + nested + "}";
          out += json_string(path[0]) + ":" + nested;
        }
      }
    }
    return out;
  }

  std::string pattern() {
    std::string body = fields_object(chance(0.5) ? 1 : 2 + pick(2));
    const int or_form = pick(10);
    if (or_form < 2) {  // the OR operator
      body += R"(,"$or":[)" + fields_object(1 + pick(2)) + "}," + fields_object(1 + pick(2)) + "}]";
    } else if (or_form == 2) {  // "$or" as a field name: operator objects, values, or nesting
      static const std::vector<std::string> lists = {
          R"([{"prefix":"al"},{"suffix":"ha"}])", R"([{"numeric":[">",1]},{"exists":true}])",
          R"([{"anything-but":"alpha"},{"equals-ignore-case":"BETA"}])"};
      body += R"(,"$or":)" + (chance(0.4)   ? one_of(lists)
                              : chance(0.5) ? leaf_list()
                                            : R"({"x":)" + leaf_list() + "}");
    }
    return body + "}";
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> strings_ = {"alpha", "Alpha", "ALPHA", "alp", "beta", "a*b", "a\\b", "",
                                       "10.0.0.1", "10.0.1.200", "192.168.1.1", "2001:db8::1",
                                       "2001:DB8:0::1", "2001:db9::5", "x.png", "y.PNG",
                                       "us-east-1", "eu-west-1", "010.0.0.01",
                                       // Full case mapping: ß is "ß" or "SS", İ is "İ" or "i̇".
                                       "STRASSE", "straße", "Strasse", "i\u0307x", "İX", "FIX"};
  // Numbers that compare numerically, for numeric bounds and anything-but (which refuse others).
  std::vector<std::string> comparable_ = {
      "0",   "1",       "-1",    "2.5",  "5",     "10",   "100",
      "1e3", "3.018e2", "301.8", "-0.0", "1e300", "1e20", "100000000000000000000"};
  // Event values and exact pattern values: also numbers past the double range or more precise
  // than a double, which match only by their text (and their neighbours that do compare).
  std::vector<std::string> numbers_ = {"0",
                                       "1",
                                       "-1",
                                       "2.5",
                                       "5",
                                       "10",
                                       "100",
                                       "1e3",
                                       "3.018e2",
                                       "301.8",
                                       "-0.0",
                                       "1e300",
                                       "1e400",
                                       "1E400",
                                       "-1e400",
                                       "1e-400",
                                       "100000000000000000000",
                                       "1e20",
                                       "9007199254740993",
                                       "9007199254740992",
                                       "1.00000000000000000001",
                                       "1.0"};
  std::vector<std::string> ci_ = {"ALPHA", "alp",   "Beta", ".PNG", "US-",
                                  "x",     "straß", "ßE",   "İx",   "ﬁx"};
  std::vector<std::string> wildcards_ = {"a*", "*a",  "*ph*",   "al*a",  "a\\*b",
                                         "*",  "x.*", "10.*.1", "*-*-1", "a\\\\b"};
  std::vector<std::string> cidrs_ = {"10.0.0.0/24",    "10.0.0.0/8",  "2001:db8::/32",
                                     "192.168.0.0/16", "10.0.0.5/30", "010.0.0.0/8",
                                     "10.0.1.200/23"};
};

TEST(Differential, OneOffEvaluationAgreesWithReference) {
  Generator gen(20261128);
  int compared = 0, matched = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string pattern_json = gen.pattern();
    auto pattern = compile(pattern_json);
    ASSERT_TRUE(pattern.has_value()) << pattern_json << "\n" << pattern.error();
    for (int j = 0; j < 5; ++j) {
      std::string event_json = gen.event();
      auto got = matches(*pattern, event_json);
      ASSERT_TRUE(got.has_value()) << event_json;
      bool want = reference::matches(pattern_json, event_json);
      ASSERT_EQ(*got, want) << "pattern: " << pattern_json << "\nevent: " << event_json;
      ++compared;
      matched += want;
    }
  }
  // The generator must exercise both outcomes meaningfully.
  EXPECT_GT(matched, compared / 20);
  EXPECT_LT(matched, compared - compared / 20);
}

TEST(Differential, BusMatcherAgreesWithReference) {
  Generator gen(42);
  for (int round = 0; round < 4; ++round) {
    std::vector<std::string> sources;
    std::vector<Pattern> patterns;
    for (int i = 0; i < 250; ++i) {
      sources.push_back(gen.pattern());
      auto p = compile(sources.back());
      ASSERT_TRUE(p.has_value()) << sources.back();
      patterns.push_back(*p);
    }
    Matcher matcher(patterns);
    for (int e = 0; e < 150; ++e) {
      std::string event_json = gen.event();
      std::vector<std::uint32_t> got;
      matcher.match(std::string_view(event_json), got);
      std::vector<std::uint32_t> want;
      for (std::uint32_t i = 0; i < sources.size(); ++i) {
        if (reference::matches(sources[i], event_json)) want.push_back(i);
      }
      ASSERT_EQ(got, want) << "event: " << event_json;
    }
  }
}

// More seeds, with every pattern also tried on its own: the bus matcher decides most
// alternatives whose values lie in arrays without the full search (values met outside arrays,
// one candidate value per condition, one condition with several), so these paths get many
// generated cases of their own.
TEST(Differential, BusMatcherAgreesWithReferenceAcrossSeeds) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    Generator gen(seed * 7919);
    std::vector<std::string> sources;
    std::vector<Pattern> patterns;
    for (int i = 0; i < 150; ++i) {
      sources.push_back(gen.pattern());
      auto p = compile(sources.back());
      ASSERT_TRUE(p.has_value()) << sources.back();
      patterns.push_back(*p);
    }
    Matcher matcher(patterns);
    Matcher single({patterns.front()});
    for (int e = 0; e < 120; ++e) {
      std::string event_json = gen.event();
      std::vector<std::uint32_t> got;
      matcher.match(std::string_view(event_json), got);
      std::vector<std::uint32_t> want;
      for (std::uint32_t i = 0; i < sources.size(); ++i) {
        if (reference::matches(sources[i], event_json)) want.push_back(i);
      }
      ASSERT_EQ(got, want) << "seed " << seed << " event: " << event_json;
      std::vector<std::uint32_t> one;
      single.match(std::string_view(event_json), one);
      ASSERT_EQ(one.empty(), want.empty() || want.front() != 0) << event_json;
    }
  }
}

}  // namespace
}  // namespace eventrouter::pattern
