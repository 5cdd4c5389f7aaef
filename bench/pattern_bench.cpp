// Pattern matching throughput: realistic security findings (the fixtures, varied by a
// generator) against 10 / 100 / 1,000 / 10,000 rules in two series, and, in the same run,
// simdjson parsing the same events with no matching (the floor). Series 1 mixes every operator
// in rules that each match 0.5 % of events (so matches grow with the rules); series 2 is seven
// broad routes plus rare routing rules (so matches per event stay near one). See
// docs/benchmarks.md.
//
//   build-pattern/bench/pattern_bench --benchmark_min_time=0.5 --benchmark_repetitions=3
//   (add --benchmark_report_aggregates_only=true for medians only)

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "eventrouter/pattern/pattern.hpp"

namespace {

namespace dom = simdjson::dom;
using eventrouter::pattern::Matcher;
using eventrouter::pattern::Pattern;

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string number_text(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

std::vector<std::string> load_fixtures() {
  std::vector<std::string> out;
  auto dir = std::filesystem::path(EVENTROUTER_SOURCE_DIR) / "tests/fixtures/events";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    std::ostringstream s;
    s << in.rdbuf();
    out.push_back(s.str());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- events: the fixtures with ids, numbers, addresses and names varied -----------------------

class EventVariator {
 public:
  explicit EventVariator(std::uint64_t seed) : rng_(seed) {}

  std::string vary(dom::element e, std::string_view key) {
    switch (e.type()) {
      case dom::element_type::OBJECT: {
        std::string out = "{";
        bool first = true;
        for (auto [k, v] : dom::object(e)) {
          out += (first ? "" : ",") + json_string(k) + ":" + vary(v, k);
          first = false;
        }
        return out + "}";
      }
      case dom::element_type::ARRAY: {
        std::string out = "[";
        bool first = true;
        for (dom::element item : dom::array(e)) {
          out += (first ? "" : ",") + vary(item, key);
          first = false;
        }
        return out + "]";
      }
      case dom::element_type::STRING:
        return json_string(vary_string(std::string(std::string_view(e)), key));
      case dom::element_type::INT64:
      case dom::element_type::UINT64:
      case dom::element_type::DOUBLE: {
        double v = double(e);
        if (key.find("everity") != std::string_view::npos || key == "score") {
          v = std::uniform_int_distribution<int>(0, 89)(rng_) / 10.0;
        } else if (chance(0.5)) {
          v = std::floor(v * std::uniform_real_distribution<double>(0.5, 1.5)(rng_));
        }
        return number_text(v);
      }
      default:
        return simdjson::minify(e);
    }
  }

 private:
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  std::string vary_string(std::string s, std::string_view key) {
    if (key == "source" || key == "detail-type" || key == "version") return s;
    if (key.find("egion") != std::string_view::npos && chance(0.3)) {
      static const char* regions[] = {"us-east-1", "us-west-2", "eu-west-1", "ap-south-1"};
      return regions[std::uniform_int_distribution<int>(0, 3)(rng_)];
    }
    if (chance(0.6)) {
      // Change digits and hex letters; keeps the shape (ARNs, ids, IPs stay plausible).
      for (char& c : s) {
        if (c >= '0' && c <= '9' && chance(0.3)) c = static_cast<char>('0' + (rng_() % 10));
      }
    }
    return s;
  }

  std::mt19937_64 rng_;
};

// ---- rules: every operator, on values the fixtures really carry -------------------------------

struct LeafSample {
  std::string path;
  dom::element value;
};

void collect(dom::element e, const std::string& path, std::vector<LeafSample>& out) {
  if (e.is_object()) {
    for (auto [k, v] : dom::object(e))
      collect(v, path.empty() ? std::string(k) : path + "." + std::string(k), out);
  } else if (e.is_array()) {
    for (dom::element item : dom::array(e)) collect(item, path, out);
  } else {
    out.push_back({path, e});
  }
}

class RuleGenerator {
 public:
  RuleGenerator(const std::vector<std::string>& fixtures, std::uint64_t seed) : rng_(seed) {
    parsers_.resize(fixtures.size());
    for (std::size_t i = 0; i < fixtures.size(); ++i) {
      dom::element root = parsers_[i].parse(fixtures[i]);
      Fixture f;
      f.source = std::string(std::string_view(root["source"]));
      f.detail_type = std::string(std::string_view(root["detail-type"]));
      collect(root, "", f.leaves);
      fixtures_.push_back(std::move(f));
    }
  }

  // A rule names a source, one selective condition (a value the fixtures carry, its digits
  // varied the way events vary them, so it matches only some events), and sometimes a second
  // condition with any operator, or an $or.
  std::string rule() {
    const Fixture& f = fixtures_[pick(fixtures_.size())];
    std::map<std::string, std::string> fields;  // dotted path -> value list
    fields["source"] = "[" + json_string(f.source) + "]";
    if (chance(0.5)) fields["detail-type"] = "[" + json_string(f.detail_type) + "]";
    const LeafSample& key = distinctive_leaf(f);
    fields[key.path] = "[" + selective(key.value) + "]";
    if (chance(0.5)) {
      const LeafSample& leaf = random_leaf(f);
      fields[leaf.path] = "[" + condition(leaf.value) + "]";
    }
    std::string out = "{";
    bool first = true;
    for (auto& [path, values] : fields) {
      out += (first ? "" : ",") + json_string(path) + ":" + values;
      first = false;
    }
    if (chance(0.1)) {
      const LeafSample& a = distinctive_leaf(f);
      const LeafSample& b = distinctive_leaf(f);
      out += (first ? "" : ",") + std::string("\"$or\":[{") + json_string(a.path) + ":[" +
             selective(a.value) + "]},{" + json_string(b.path) + ":[" + selective(b.value) + "]}]";
    }
    return out + "}";
  }

  // A rule as most real routing rules are: keyed on one specific finding, account, ARN,
  // resource or address range that few events carry (a value the fixtures carry with every digit
  // drawn afresh, or an address range nobody uses), plus sometimes a second condition with any
  // operator. Each such rule matches almost no event, so adding them must not add matches.
  std::string rare_rule() {
    const Fixture& f = fixtures_[pick(fixtures_.size())];
    std::map<std::string, std::string> fields;
    fields["source"] = "[" + json_string(f.source) + "]";
    if (chance(0.5)) fields["detail-type"] = "[" + json_string(f.detail_type) + "]";
    const LeafSample& key = distinctive_string_leaf(f);
    std::string text{std::string_view(key.value)};
    bool ip = text.find_first_not_of("0123456789.") == std::string::npos &&
              std::count(text.begin(), text.end(), '.') == 3;
    if (ip) {
      fields[key.path] = "[{\"cidr\":\"" + std::to_string(1 + pick(223)) + "." +
                         std::to_string(pick(256)) + "." + std::to_string(pick(256)) + ".0/24\"}]";
    } else {
      for (char& c : text) {
        if (c >= '0' && c <= '9') c = static_cast<char>('0' + pick(10));
      }
      fields[key.path] = "[" + selective_text(text) + "]";
    }
    if (chance(0.5)) {
      const LeafSample& leaf = random_leaf(f);
      if (!fields.count(leaf.path)) fields[leaf.path] = "[" + condition(leaf.value) + "]";
    }
    std::string out = "{";
    bool first = true;
    for (auto& [path, values] : fields) {
      out += (first ? "" : ",") + json_string(path) + ":" + values;
      first = false;
    }
    return out + "}";
  }

  // The broad routes a bus also has: every finding of one kind (source and detail-type).
  std::vector<std::string> broad_rules() const {
    std::set<std::string> out;
    for (const Fixture& f : fixtures_) {
      out.insert("{\"source\":[" + json_string(f.source) + "],\"detail-type\":[" +
                 json_string(f.detail_type) + "]}");
    }
    return {out.begin(), out.end()};
  }

  struct Fixture {
    std::string source, detail_type;
    std::vector<LeafSample> leaves;
  };

  const LeafSample& random_leaf(const Fixture& f) {
    while (true) {
      const LeafSample& leaf = f.leaves[pick(f.leaves.size())];
      if (leaf.path != "source" && leaf.path != "detail-type") return leaf;
    }
  }

  // A value that tells findings apart: an id, ARN, address, name with digits, or a number.
  const LeafSample& distinctive_leaf(const Fixture& f) {
    for (int attempt = 0;; ++attempt) {
      const LeafSample& leaf = random_leaf(f);
      if (attempt > 100 || is_number(leaf.value)) return leaf;
      if (!leaf.value.is_string()) continue;
      std::string_view text = leaf.value;
      if (leaf.path == "account" || leaf.path == "region" || leaf.path == "version") continue;
      if (std::count_if(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) >=
          6) {
        return leaf;
      }
    }
  }

  // A string leaf with at least six digits (ids, ARNs, accounts, addresses).
  const LeafSample& distinctive_string_leaf(const Fixture& f) {
    while (true) {
      const LeafSample& leaf = random_leaf(f);
      if (!leaf.value.is_string()) continue;
      std::string_view text = leaf.value;
      if (std::count_if(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) >=
          6) {
        return leaf;
      }
    }
  }

  static bool is_number(dom::element e) {
    return e.type() == dom::element_type::INT64 || e.type() == dom::element_type::UINT64 ||
           e.type() == dom::element_type::DOUBLE;
  }

  std::string vary_digits(std::string s) {
    bool digits = false;
    for (char& c : s) {
      if (c >= '0' && c <= '9') {
        digits = true;
        if (chance(0.3)) c = static_cast<char>('0' + pick(10));
      }
    }
    if (!digits && chance(0.8)) s += "-" + std::to_string(pick(100000));
    return s;
  }

  std::string escaped_glob(std::string_view text) {
    std::string glob;
    for (char c : text) {
      if (c == '*' || c == '\\') glob += '\\';
      glob += c;
    }
    return glob;
  }

  std::string selective(dom::element v) {
    if (v.is_string()) return selective_text(vary_digits(std::string(std::string_view(v))));
    if (v.is_bool()) return bool(v) ? "true" : "false";
    if (v.is_null()) return "null";
    double d = std::floor(double(v) * std::uniform_real_distribution<double>(0.5, 1.5)(rng_));
    if (chance(0.5)) return number_text(d);
    return "{\"numeric\":[\">=\"," + number_text(d) + ",\"<\"," + number_text(d + 1) + "]}";
  }

  // The value as exact, prefix, suffix, equals-ignore-case, prefix ignoring case or wildcard.
  std::string selective_text(std::string s) {
    {
      std::size_t keep = std::max<std::size_t>(1, s.size() * 2 / 3);
      switch (pick(7)) {
        case 0:
        case 1:
          return json_string(s);
        case 2:
          return "{\"prefix\":" + json_string(s.substr(0, keep)) + "}";
        case 3:
          return "{\"suffix\":" + json_string(s.substr(s.size() - keep)) + "}";
        case 4: {
          for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          return "{\"equals-ignore-case\":" + json_string(s) + "}";
        }
        case 5:
          return "{\"prefix\":{\"equals-ignore-case\":" + json_string(s.substr(0, keep)) + "}}";
        default:
          return "{\"wildcard\":" +
                 json_string(escaped_glob(s.substr(0, s.size() / 2)) + "*" +
                             escaped_glob(s.substr(s.size() * 3 / 4))) +
                 "}";
      }
    }
  }

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  std::string maybe_other(const std::string& s) {
    // Half the rules name a value the events rarely carry, as most real rules do not match.
    if (!chance(0.5) || s.empty()) return s;
    std::string t = s;
    t[pick(t.size())] = static_cast<char>('a' + pick(26));
    return t + std::to_string(pick(1000));
  }

  std::string condition(dom::element v) {
    if (v.is_string()) {
      std::string s{std::string_view(v)};
      bool ip = s.find_first_not_of("0123456789.") == std::string::npos &&
                std::count(s.begin(), s.end(), '.') == 3;
      switch (pick(ip ? 13 : 12)) {
        case 0:
        case 1:
          return json_string(maybe_other(s));
        case 2:
          return "{\"prefix\":" +
                 json_string(maybe_other(s.substr(0, std::max<std::size_t>(1, s.size() / 2)))) +
                 "}";
        case 3:
          return "{\"suffix\":" + json_string(maybe_other(s.substr(s.size() / 2))) + "}";
        case 4: {
          std::string u = maybe_other(s);
          for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          return "{\"equals-ignore-case\":" + json_string(u) + "}";
        }
        case 5:
          return "{\"prefix\":{\"equals-ignore-case\":" + json_string(maybe_other(s.substr(0, 3))) +
                 "}}";
        case 6:
          return "{\"suffix\":{\"equals-ignore-case\":" + json_string(s.substr(s.size() / 2)) +
                 "}}";
        case 7: {
          std::string w = maybe_other(s);
          std::string glob;
          for (char c : w.substr(0, w.size() / 3)) {
            if (c == '*' || c == '\\') glob += '\\';
            glob += c;
          }
          glob += "*";
          for (char c : w.substr(2 * w.size() / 3)) {
            if (c == '*' || c == '\\') glob += '\\';
            glob += c;
          }
          return "{\"wildcard\":" + json_string(glob) + "}";
        }
        case 8:
          return "{\"anything-but\":[" + json_string(maybe_other(s)) + "," + json_string("x") +
                 "]}";
        case 9:
          return "{\"anything-but\":{\"prefix\":" + json_string(s.substr(0, 2) + "zz") + "}}";
        case 10:
          return chance(0.7) ? "{\"exists\":true}" : "{\"exists\":false}";
        case 11:
          return "{\"anything-but\":{\"suffix\":" +
                 json_string("-" + s.substr(s.size() - s.size() / 4)) + "}}";
        default:
          return chance(0.5) ? "{\"cidr\":\"10.0.0.0/8\"}" : "{\"cidr\":\"54.0.0.0/11\"}";
      }
    }
    if (v.is_bool()) return bool(v) ? "true" : "false";
    if (v.is_null()) return chance(0.5) ? "null" : "{\"exists\":true}";
    double d = double(v);
    switch (pick(5)) {
      case 0:
        return number_text(d);
      case 1:
        return "{\"numeric\":[\">=\"," + number_text(std::floor(d * 0.8)) + "]}";
      case 2:
        return "{\"numeric\":[\">\"," + number_text(std::floor(d * 0.5)) + ",\"<=\"," +
               number_text(std::ceil(d * 1.2) + 1) + "]}";
      case 3:
        return "{\"numeric\":[\"<\"," + number_text(std::floor(d * 1.5) + pick(10)) + "]}";
      default:
        return "{\"anything-but\":" + number_text(d + 1) + "}";
    }
  }

  std::mt19937_64 rng_;
  std::vector<dom::parser> parsers_;
  std::vector<Fixture> fixtures_;
};

// ---- shared inputs --------------------------------------------------------------------------

struct Inputs {
  std::vector<std::string> fixtures = load_fixtures();
  std::vector<simdjson::padded_string> events;
  std::vector<std::string> rules;
  // The second series: the broad routes (one per kind of finding), then rare rules.
  std::vector<std::string> sparse_rules;
  std::size_t event_bytes = 0;

  Inputs() {
    EventVariator variator(7);
    dom::parser parser;
    for (int i = 0; i < 1024; ++i) {
      dom::element root = parser.parse(fixtures[static_cast<std::size_t>(i) % fixtures.size()]);
      events.emplace_back(variator.vary(root, ""));
      event_bytes += events.back().size();
    }
    RuleGenerator generator(fixtures, 11);
    while (rules.size() < 10000) {
      std::string rule = generator.rule();
      if (eventrouter::pattern::compile(rule)) rules.push_back(std::move(rule));
    }
    RuleGenerator rare(fixtures, 13);
    sparse_rules = rare.broad_rules();
    while (sparse_rules.size() < 10000) {
      std::string rule = rare.rare_rule();
      if (eventrouter::pattern::compile(rule)) sparse_rules.push_back(std::move(rule));
    }
  }
};

const Inputs& inputs() {
  static Inputs in;
  return in;
}

void BM_SimdjsonParseOnly(benchmark::State& state) {
  const Inputs& in = inputs();
  dom::parser parser;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& event = in.events[i++ % in.events.size()];
    dom::element root;
    auto err = parser.parse(event).get(root);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * in.event_bytes / in.events.size()));
}

void run_matcher(benchmark::State& state, const std::vector<std::string>& rules) {
  const Inputs& in = inputs();
  std::vector<Pattern> patterns;
  for (std::int64_t r = 0; r < state.range(0); ++r) {
    patterns.push_back(*eventrouter::pattern::compile(rules[static_cast<std::size_t>(r)]));
  }
  Matcher matcher(std::move(patterns));
  std::vector<std::uint32_t> out;
  std::size_t i = 0, matched = 0;
  for (auto _ : state) {
    out.clear();
    matcher.match(simdjson::padded_string_view(in.events[i++ % in.events.size()]), out);
    matched += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * in.event_bytes / in.events.size()));
  state.counters["rules_matched_per_event"] =
      static_cast<double>(matched) / static_cast<double>(state.iterations());
}

// Series 1: rules that each match 0.5 % of events, so matches per event grow with the rules.
void BM_MatchRules(benchmark::State& state) {
  run_matcher(state, inputs().rules);
}

// Series 2: seven broad routes plus rare rules, so matches per event stay about constant.
void BM_MatchSparseRules(benchmark::State& state) {
  run_matcher(state, inputs().sparse_rules);
}

// PATTERN_BENCH_ITERATIONS=N runs every benchmark for exactly N events (for instruction counts
// under callgrind: 1024 is each event once, so runs of two binaries count the same events).
void register_benchmarks() {
  std::int64_t iterations = 0;
  if (const char* env = std::getenv("PATTERN_BENCH_ITERATIONS")) iterations = std::atoll(env);
  auto fixed = [&](benchmark::internal::Benchmark* b) {
    if (iterations > 0) b->Iterations(iterations);
    return b;
  };
  fixed(benchmark::RegisterBenchmark("BM_SimdjsonParseOnly", BM_SimdjsonParseOnly));
  for (std::int64_t rules : {10, 100, 1000, 10000}) {
    fixed(benchmark::RegisterBenchmark("BM_MatchRules", BM_MatchRules))->Arg(rules);
  }
  for (std::int64_t rules : {10, 100, 1000, 10000}) {
    fixed(benchmark::RegisterBenchmark("BM_MatchSparseRules", BM_MatchSparseRules))->Arg(rules);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
