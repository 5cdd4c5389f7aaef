#include "eventrouter/rules/schedule.hpp"

#include <array>
#include <cctype>
#include <vector>

namespace eventrouter::rules {

namespace chrono = std::chrono;

namespace {

constexpr std::size_t kMaxExpression = 256;     // EventBridge's bound on ScheduleExpression
constexpr std::int64_t kMaxRateValue = 100000;  // 100000 days end in 2243
constexpr int kFirstYear = 1970;
constexpr int kLastYear = 2199;

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED",
                                                       "THU", "FRI", "SAT"};

enum Field { kMinutes, kHours, kDayOfMonth, kMonth, kDayOfWeek, kYear, kFieldCount };

struct FieldSpec {
  std::string_view name;
  int lo, hi;
  const std::string_view* names;  // the value lo + i is names[i]; nullptr when none
  std::string_view expected;
};

constexpr std::array<FieldSpec, kFieldCount> kFields = {{
    {"minutes", 0, 59, nullptr, "expected 0-59, ',', '-', '*' or '/'"},
    {"hours", 0, 23, nullptr, "expected 0-23, ',', '-', '*' or '/'"},
    {"day-of-month", 1, 31, nullptr, "expected 1-31, ',', '-', '*', '?', '/', L or W"},
    {"month", 1, 12, kMonthNames.data(), "expected 1-12, JAN-DEC, ',', '-', '*' or '/'"},
    {"day-of-week", 1, 7, kDayNames.data(), "expected 1-7, SUN-SAT, ?, *, L or #"},
    {"year", kFirstYear, kLastYear, nullptr, "expected 1970-2199, ',', '-', '*' or '/'"},
}};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A whole number of at most 7 digits, else nothing.
std::optional<std::int64_t> small_number(std::string_view text) {
  if (!all_digits(text) || text.size() > 7) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  return value;
}

// A piece of the expression and where it starts (0-based).
struct Token {
  std::string_view text;
  std::size_t at = 0;
};

std::vector<Token> split_on_space(std::string_view text, std::size_t at) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) tokens.push_back({text.substr(start, i - start), at + start});
  }
  return tokens;
}

std::vector<Token> split_on(Token token, char separator) {
  std::vector<Token> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= token.text.size(); ++i) {
    if (i == token.text.size() || token.text[i] == separator) {
      parts.push_back({token.text.substr(start, i - start), token.at + start});
      start = i + 1;
    }
  }
  return parts;
}

ScheduleError error_at(std::size_t at, std::string message) {
  return ScheduleError{at + 1, std::move(message)};
}

ScheduleError field_error(Field field, Token token, std::string_view what) {
  std::string shown(token.text.substr(0, 32));
  if (token.text.size() > 32) shown += "...";
  return error_at(token.at, "cron field " + std::to_string(field + 1) + " (" +
                                std::string(kFields[field].name) + ") '" + shown +
                                "' at character " + std::to_string(token.at + 1) + ": " +
                                std::string(what));
}

}  // namespace

struct Schedule::Cron {
  std::array<std::vector<bool>, kFieldCount> allowed;  // index: value - lo
  bool day_of_month_any = false;                       // '?'
  bool day_of_week_any = false;                        // '?'
  bool last_day = false;                               // L in day-of-month
  bool last_weekday = false;                           // LW
  int nearest_weekday_to = 0;                          // nW
  int last_of_weekday = 0;                             // nL in day-of-week (1 = SUN)
  int nth_weekday = 0, nth = 0;                        // n#k

  bool has(Field field, int value) const {
    const int index = value - kFields[field].lo;
    return index >= 0 && index < static_cast<int>(allowed[field].size()) && allowed[field][index];
  }
  bool day_matches(chrono::year_month_day date) const;
};

namespace {

using ParseResult = std::optional<ScheduleError>;

// One value of a field: a number in range, or (month, day-of-week) a name.
Expected<int, ScheduleError> read_value(Field field, Token token) {
  const FieldSpec& spec = kFields[field];
  if (all_digits(token.text)) {
    const auto value = small_number(token.text);
    if (!value || *value < spec.lo || *value > spec.hi) {
      return unexpected(field_error(
          field, token,
          "out of range; use " + std::to_string(spec.lo) + "-" + std::to_string(spec.hi)));
    }
    return static_cast<int>(*value);
  }
  if (spec.names != nullptr) {
    const std::string name = upper(token.text);
    for (int i = 0; i <= spec.hi - spec.lo; ++i) {
      if (spec.names[i] == name) return spec.lo + i;
    }
  }
  return unexpected(field_error(field, token, spec.expected));
}

// a, a-b, *, each optionally followed by /step.
ParseResult read_item(Field field, Token item, std::vector<bool>& allowed) {
  const FieldSpec& spec = kFields[field];
  Token range = item;
  int step = 1;
  if (const auto slash = item.text.find('/'); slash != std::string_view::npos) {
    if (field == kDayOfWeek) return field_error(field, item, spec.expected);
    range = {item.text.substr(0, slash), item.at};
    const Token step_text{item.text.substr(slash + 1), item.at + slash + 1};
    const auto value = small_number(step_text.text);
    if (!value || *value < 1 || *value > spec.hi - spec.lo + 1) {
      return field_error(field, step_text,
                         "the increment after '/' must be a whole number from 1 to " +
                             std::to_string(spec.hi - spec.lo + 1));
    }
    step = static_cast<int>(*value);
  }
  int first = spec.lo, last = spec.hi;
  if (range.text != "*") {
    const auto dash = range.text.find('-');
    const Token from{range.text.substr(0, dash), range.at};
    auto a = read_value(field, from);
    if (!a) return a.error();
    first = *a;
    last = *a;
    if (dash != std::string_view::npos) {
      const Token to{range.text.substr(dash + 1), range.at + dash + 1};
      auto b = read_value(field, to);
      if (!b) return b.error();
      if (*b < *a) {
        return field_error(field, range, "a range goes from the smaller value to the larger");
      }
      last = *b;
    } else if (item.text.find('/') != std::string_view::npos) {
      last = spec.hi;  // a/step: from a to the end of the field
    }
  }
  for (int v = first; v <= last; v += step) allowed[static_cast<std::size_t>(v - spec.lo)] = true;
  return std::nullopt;
}

// L, LW, nW: each the whole field.
std::optional<ParseResult> read_day_of_month_special(Token token, Schedule::Cron& cron) {
  const std::string text = upper(token.text);
  if (text == "L") {
    cron.last_day = true;
    return ParseResult{};
  }
  if (text == "LW") {
    cron.last_weekday = true;
    return ParseResult{};
  }
  if (text.size() > 1 && text.back() == 'W') {
    auto day = read_value(kDayOfMonth, {token.text.substr(0, token.text.size() - 1), token.at});
    if (!day) return ParseResult{day.error()};
    cron.nearest_weekday_to = *day;
    return ParseResult{};
  }
  return std::nullopt;  // not special
}

// L, nL, n#k: each the whole field.
std::optional<ParseResult> read_day_of_week_special(Token token, Schedule::Cron& cron) {
  const std::string text = upper(token.text);
  if (text == "L") {  // the last day of the week: Saturday
    cron.allowed[kDayOfWeek][6] = true;
    return ParseResult{};
  }
  if (text.size() > 1 && text.back() == 'L') {
    auto day = read_value(kDayOfWeek, {token.text.substr(0, token.text.size() - 1), token.at});
    if (!day) return ParseResult{day.error()};
    cron.last_of_weekday = *day;
    return ParseResult{};
  }
  if (const auto hash = token.text.find('#'); hash != std::string_view::npos) {
    auto day = read_value(kDayOfWeek, {token.text.substr(0, hash), token.at});
    if (!day) return ParseResult{day.error()};
    const Token nth{token.text.substr(hash + 1), token.at + hash + 1};
    const auto n = small_number(nth.text);
    if (!n || *n < 1 || *n > 5) {
      return ParseResult{field_error(kDayOfWeek, nth, "the number after '#' must be 1 to 5")};
    }
    cron.nth_weekday = *day;
    cron.nth = static_cast<int>(*n);
    return ParseResult{};
  }
  return std::nullopt;
}

bool has_special(Field field, std::string_view text) {
  const std::string t = upper(text);
  if (field == kDayOfMonth) return t.find_first_of("LW") != std::string::npos;
  if (field == kDayOfWeek) return t.find_first_of("#") != std::string::npos || t == "L";
  return false;
}

bool is_weekday_last_form(std::string_view text) {
  // nL in day-of-week (a day followed by L), not a name such as SAT.
  return text.size() > 1 && (text.back() == 'L' || text.back() == 'l');
}

ParseResult read_field(Field field, Token token, Schedule::Cron& cron) {
  const FieldSpec& spec = kFields[field];
  cron.allowed[field].assign(static_cast<std::size_t>(spec.hi - spec.lo + 1), false);
  if (token.text.find('?') != std::string_view::npos) {
    if (field != kDayOfMonth && field != kDayOfWeek)
      return field_error(field, token, spec.expected);
    if (token.text != "?") {
      return field_error(field, token,
                         "'?' stands alone: it means any day, set by the other day field");
    }
    (field == kDayOfMonth ? cron.day_of_month_any : cron.day_of_week_any) = true;
    return std::nullopt;
  }
  const bool special =
      has_special(field, token.text) || (field == kDayOfWeek && is_weekday_last_form(token.text));
  if (special) {
    if (token.text.find(',') != std::string_view::npos) {
      return field_error(field, token,
                         "L, W and # take the whole field: one such expression per field, no "
                         "list");
    }
    auto result = field == kDayOfMonth ? read_day_of_month_special(token, cron)
                                       : read_day_of_week_special(token, cron);
    if (result) return *result;
    return field_error(field, token, spec.expected);
  }
  for (const Token& item : split_on(token, ',')) {
    if (item.text.empty()) return field_error(field, token, "an empty item in a ',' list");
    if (auto problem = read_item(field, item, cron.allowed[field])) return problem;
  }
  return std::nullopt;
}

Expected<Schedule::Cron, ScheduleError> parse_cron(std::string_view inner, std::size_t at) {
  const auto tokens = split_on_space(inner, at);
  if (tokens.size() != kFieldCount) {
    return unexpected(error_at(
        at, "cron expression has " + std::to_string(tokens.size()) +
                " fields; it needs 6: minutes hours day-of-month month day-of-week year, e.g. "
                "cron(0 12 * * ? *)"));
  }
  Schedule::Cron cron;
  for (int f = 0; f < kFieldCount; ++f) {
    if (auto problem = read_field(static_cast<Field>(f), tokens[f], cron)) {
      return unexpected(*problem);
    }
  }
  const Token dow = tokens[kDayOfWeek];
  if (cron.day_of_month_any && cron.day_of_week_any) {
    return unexpected(field_error(kDayOfWeek, dow,
                                  "day-of-month and day-of-week are both '?'; give one of them a "
                                  "value (or *) and leave '?' in the other"));
  }
  if (!cron.day_of_month_any && !cron.day_of_week_any) {
    return unexpected(field_error(kDayOfWeek, dow,
                                  "day-of-month and day-of-week are both set; use '?' in one of "
                                  "them (e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON *))"));
  }
  return cron;
}

Expected<std::int64_t, ScheduleError> parse_rate(std::string_view inner, std::size_t at) {
  const auto tokens = split_on_space(inner, at);
  if (tokens.size() != 2) {
    return unexpected(
        error_at(at, "rate expression needs a value and a unit, e.g. rate(5 minutes)"));
  }
  const Token value_text = tokens[0], unit = tokens[1];
  const auto value = small_number(value_text.text);
  if (!value || *value < 1 || *value > kMaxRateValue) {
    return unexpected(
        error_at(value_text.at, "rate value '" + std::string(value_text.text.substr(0, 32)) +
                                    "' at character " + std::to_string(value_text.at + 1) +
                                    ": expected a whole number from 1 to 100000"));
  }
  struct Unit {
    std::string_view singular, plural;
    std::int64_t seconds;
  };
  static constexpr std::array<Unit, 3> kUnits = {
      {{"minute", "minutes", 60}, {"hour", "hours", 3600}, {"day", "days", 86400}}};
  for (const Unit& u : kUnits) {
    if (unit.text != u.singular && unit.text != u.plural) continue;
    const std::string_view wanted = *value == 1 ? u.singular : u.plural;
    if (unit.text != wanted) {
      return unexpected(error_at(
          unit.at, "rate unit '" + std::string(unit.text) + "' at character " +
                       std::to_string(unit.at + 1) + ": use '" + std::string(wanted) +
                       (*value == 1 ? "' for a value of 1" : "' for a value other than 1")));
    }
    return *value * u.seconds;
  }
  return unexpected(error_at(unit.at, "rate unit '" + std::string(unit.text.substr(0, 32)) +
                                          "' at character " + std::to_string(unit.at + 1) +
                                          ": expected minute, minutes, hour, hours, day or days"));
}

// 1 = Sunday ... 7 = Saturday, as cron's day-of-week counts.
int cron_weekday(chrono::sys_days day) {
  return static_cast<int>(chrono::weekday(day).c_encoding()) + 1;
}

}  // namespace

bool Schedule::Cron::day_matches(chrono::year_month_day date) const {
  const int day = static_cast<int>(static_cast<unsigned>(date.day()));
  const auto last_date = chrono::year_month_day_last(date.year(), date.month() / chrono::last);
  const int last = static_cast<int>(static_cast<unsigned>(last_date.day()));
  const chrono::sys_days first_of_month =
      chrono::year_month_day(date.year(), date.month(), chrono::day(1));
  const auto weekday_of = [&](int d) { return cron_weekday(first_of_month + chrono::days(d - 1)); };
  if (!day_of_month_any) {
    if (last_day) return day == last;
    if (last_weekday) {
      const int w = weekday_of(last);
      return day == (w == 7 ? last - 1 : w == 1 ? last - 2 : last);
    }
    if (nearest_weekday_to > 0) {
      const int n = nearest_weekday_to;
      if (n > last) return false;  // no such day this month
      // The nearest weekday within the month: never moves into another month.
      const int w = weekday_of(n);
      int target = n;
      if (w == 7) target = n == 1 ? n + 2 : n - 1;
      if (w == 1) target = n == last ? n - 2 : n + 1;
      return day == target;
    }
    return has(kDayOfMonth, day);
  }
  const int w = weekday_of(day);
  if (last_of_weekday > 0) return w == last_of_weekday && day + 7 > last;
  if (nth > 0) return w == nth_weekday && (day - 1) / 7 + 1 == nth;
  return has(kDayOfWeek, w);
}

Expected<Schedule, ScheduleError> Schedule::parse(std::string_view expression) {
  if (expression.size() > kMaxExpression) {
    return unexpected(error_at(kMaxExpression, "the expression is " +
                                                   std::to_string(expression.size()) +
                                                   " characters long; at most 256 are allowed"));
  }
  const auto usage = [] {
    return std::string(
        "expected rate(value unit), e.g. rate(5 minutes), or cron(minutes hours day-of-month "
        "month day-of-week year), e.g. cron(0 12 * * ? *)");
  };
  const bool rate = expression.starts_with("rate(");
  const bool cron = expression.starts_with("cron(");
  if (!rate && !cron) return unexpected(error_at(0, usage()));
  if (!expression.ends_with(")")) {
    return unexpected(error_at(expression.size(), "missing ')' at the end; " + usage()));
  }
  const std::size_t open = 5;
  const std::string_view inner = expression.substr(open, expression.size() - open - 1);
  Schedule schedule;
  schedule.expression_ = std::string(expression);
  if (rate) {
    auto seconds = parse_rate(inner, open);
    if (!seconds) return unexpected(seconds.error());
    schedule.rate_seconds_ = *seconds;
  } else {
    auto fields = parse_cron(inner, open);
    if (!fields) return unexpected(fields.error());
    schedule.cron_ = std::make_shared<const Cron>(std::move(*fields));
  }
  return schedule;
}

std::optional<ScheduleTime> Schedule::next_after(ScheduleTime after) const {
  const std::int64_t t = after.time_since_epoch().count();
  if (rate_seconds_ > 0) {
    // Floor division, so that times before the epoch fall on the same grid.
    std::int64_t periods = t / rate_seconds_;
    if (t % rate_seconds_ != 0 && t < 0) --periods;
    return ScheduleTime(chrono::seconds((periods + 1) * rate_seconds_));
  }
  const Cron& cron = *cron_;
  const auto start = chrono::floor<chrono::minutes>(after) + chrono::minutes(1);
  chrono::sys_days day = chrono::floor<chrono::days>(start);
  const chrono::sys_days first_day =
      chrono::year_month_day(chrono::year(kFirstYear), chrono::January, chrono::day(1));
  if (day < first_day) day = first_day;
  const chrono::sys_days end =
      chrono::year_month_day(chrono::year(kLastYear + 1), chrono::January, chrono::day(1));
  while (day < end) {
    const chrono::year_month_day date(day);
    const int year = static_cast<int>(date.year());
    if (!cron.has(kYear, year)) {
      day = chrono::year_month_day(date.year() + chrono::years(1), chrono::January, chrono::day(1));
      continue;
    }
    if (!cron.has(kMonth, static_cast<int>(static_cast<unsigned>(date.month())))) {
      day = chrono::year_month_day(date.year(), date.month(), chrono::day(1)) + chrono::months(1);
      continue;
    }
    if (cron.day_matches(date)) {
      const auto from = day == chrono::floor<chrono::days>(start)
                            ? chrono::duration_cast<chrono::minutes>(start - day).count()
                            : 0;
      for (auto minute_of_day = from; minute_of_day < 24 * 60; ++minute_of_day) {
        if (cron.has(kHours, static_cast<int>(minute_of_day / 60)) &&
            cron.has(kMinutes, static_cast<int>(minute_of_day % 60))) {
          return ScheduleTime(day + chrono::minutes(minute_of_day));
        }
      }
    }
    day += chrono::days(1);
  }
  return std::nullopt;
}

}  // namespace eventrouter::rules
