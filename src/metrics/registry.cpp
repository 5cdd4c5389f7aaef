#include "eventrouter/metrics/registry.hpp"

#include <cmath>
#include <cstdio>

namespace eventrouter::metrics {

void Gauge::add(double d) noexcept {
  double current = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(current, current + d, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double current = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(current, current + value, std::memory_order_relaxed)) {
  }
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                              1,      2.5,     5,      10,    30,     60};
  return buckets;
}

struct Registry::Series {
  std::string labels;  // rendered: {a="b",c="d"} or empty
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
  std::function<double()> read;
};

struct Registry::Family {
  std::string name;
  std::string help;
  std::string type;
  std::map<std::string, Series> series;  // by rendered labels: output sorted and stable
};

namespace {

void append_escaped(std::string& out, std::string_view text, bool quote_too) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote_too && c == '"') {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

std::string render_labels(const Labels& labels, std::string_view extra_key = {},
                          std::string_view extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view key, std::string_view value) {
    if (!first) out.push_back(',');
    first = false;
    out.append(key);
    out += "=\"";
    append_escaped(out, value, true);
    out.push_back('"');
  };
  for (const auto& [key, value] : labels) add(key, value);
  if (!extra_key.empty()) add(extra_key, extra_value);
  out.push_back('}');
  return out;
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

// Splices `le` into already-rendered labels.
std::string with_le(const std::string& labels, const std::string& le) {
  if (labels.empty()) return "{le=\"" + le + "\"}";
  return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help,
                                   std::string_view type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto created = std::make_unique<Family>();
    created->name = std::string(name);
    created->help = std::string(help);
    created->type = std::string(type);
    it = families_.emplace(std::string(name), std::move(created)).first;
  }
  return *it->second;
}

Registry::Series& Registry::series(Family& family, const Labels& labels) {
  auto rendered = render_labels(labels);
  auto& s = family.series[rendered];
  s.labels = rendered;
  return s;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& s = series(family(name, help, "counter"), labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& s = series(family(name, help, "gauge"), labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               const std::vector<double>& upper_bounds) {
  std::lock_guard lock(mutex_);
  auto& s = series(family(name, help, "histogram"), labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(upper_bounds);
  return *s.histogram;
}

void Registry::gauge_callback(std::string_view name, std::string_view help,
                              std::function<double()> read, const Labels& labels) {
  std::lock_guard lock(mutex_);
  series(family(name, help, "gauge"), labels).read = std::move(read);
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " ";
    append_escaped(out, family->help, false);
    out += "\n# TYPE " + name + " " + family->type + "\n";
    for (const auto& [labels, s] : family->series) {
      if (s.counter) out += name + labels + " " + std::to_string(s.counter->value()) + "\n";
      if (s.gauge) out += name + labels + " " + format_number(s.gauge->value()) + "\n";
      if (s.read) out += name + labels + " " + format_number(s.read()) + "\n";
      if (s.histogram) {
        const auto counts = s.histogram->cumulative_counts();
        const auto& bounds = s.histogram->upper_bounds();
        for (std::size_t i = 0; i < bounds.size(); ++i)
          out += name + "_bucket" + with_le(labels, format_number(bounds[i])) + " " +
                 std::to_string(counts[i]) + "\n";
        out +=
            name + "_bucket" + with_le(labels, "+Inf") + " " + std::to_string(counts.back()) + "\n";
        out += name + "_sum" + labels + " " + format_number(s.histogram->sum()) + "\n";
        out += name + "_count" + labels + " " + std::to_string(s.histogram->count()) + "\n";
      }
    }
  }
  return out;
}

std::uint64_t Registry::counter_sum(std::string_view name, std::string_view label,
                                    const std::vector<std::string_view>& values) const {
  // Series are keyed by their rendered labels ({a="x",b="y"}, values escaped), so `label="v"`
  // between a '{' or ',' and a ',' or '}' is that label, never text inside another value.
  auto has_label = [&](const std::string& labels) {
    for (auto value : values) {
      const std::string wanted = std::string(label) + "=\"" + std::string(value) + "\"";
      for (auto at = labels.find(wanted); at != std::string::npos;
           at = labels.find(wanted, at + 1)) {
        const auto end = at + wanted.size();
        if (at > 0 && (labels[at - 1] == '{' || labels[at - 1] == ',') && end < labels.size() &&
            (labels[end] == ',' || labels[end] == '}'))
          return true;
      }
    }
    return false;
  };
  std::lock_guard lock(mutex_);
  const auto found = families_.find(name);
  if (found == families_.end()) return 0;
  std::uint64_t sum = 0;
  for (const auto& [labels, s] : found->second->series) {
    if (s.counter && (label.empty() || has_label(labels))) sum += s.counter->value();
  }
  return sum;
}

LabeledCounters::LabeledCounters(Registry& registry, std::string name, std::string help,
                                 std::string label, Labels fixed)
    : registry_(registry),
      name_(std::move(name)),
      help_(std::move(help)),
      label_(std::move(label)),
      fixed_(std::move(fixed)) {}

Counter& LabeledCounters::get(std::string_view value) {
  {
    std::shared_lock lock(mutex_);
    auto it = counters_.find(value);
    if (it != counters_.end()) return *it->second;
  }
  Labels labels = fixed_;
  labels.emplace_back(label_, std::string(value));
  Counter& counter = registry_.counter(name_, help_, labels);
  std::unique_lock lock(mutex_);
  counters_.emplace(std::string(value), &counter);
  return counter;
}

}  // namespace eventrouter::metrics
