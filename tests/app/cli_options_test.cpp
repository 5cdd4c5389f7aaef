// Parsing of the admin commands' arguments: what users type must land in the right fields, and
// mistakes must be usage errors that say what is wrong.
#include "eventrouter/app/cli_options.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string_view>
#include <vector>

#include "eventrouter/app/dlq_command.hpp"
#include "eventrouter/app/replay_command.hpp"

namespace {

using eventrouter::app::ClientOptions;
using eventrouter::app::parse_dlq_list_args;
using eventrouter::app::parse_dlq_redrive_args;
using eventrouter::app::parse_replay_args;
using eventrouter::app::split_options;
using Args = std::vector<std::string_view>;

TEST(SplitOptions, TakesSeparateAndInlineValuesAndFlags) {
  auto options =
      split_options({"--rule", "r1", "--target=t1", "--json", "-c", "x.yaml"}, {"--json"});
  ASSERT_TRUE(options) << options.error();
  ASSERT_EQ(options->size(), 4u);
  EXPECT_EQ((*options)[0].name, "--rule");
  EXPECT_EQ((*options)[0].value, "r1");
  EXPECT_EQ((*options)[1].name, "--target");
  EXPECT_EQ((*options)[1].value, "t1");
  EXPECT_EQ((*options)[2].name, "--json");
  EXPECT_EQ((*options)[2].value, "");
  EXPECT_EQ((*options)[3].name, "-c");
  EXPECT_EQ((*options)[3].value, "x.yaml");
}

TEST(SplitOptions, AValueMayStartWithADash) {
  auto options = split_options({"--token", "-secret-"}, {});
  ASSERT_TRUE(options) << options.error();
  EXPECT_EQ((*options)[0].value, "-secret-");
}

TEST(SplitOptions, RejectsMissingValuesPositionalsAndFlagValues) {
  auto missing = split_options({"--rule"}, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "--rule needs a value");
  auto empty = split_options({"--rule="}, {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), "--rule needs a value");
  auto positional = split_options({"stray"}, {});
  ASSERT_FALSE(positional);
  EXPECT_EQ(positional.error(), "unexpected argument 'stray'");
  auto flag = split_options({"--json=yes"}, {"--json"});
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error(), "--json takes no value");
}

TEST(DlqListArgs, ReadsConfigFiltersAndJson) {
  auto args =
      parse_dlq_list_args({"-c", "/etc/er.yaml", "--rule", "r.1", "--target", "t_2", "--json"});
  ASSERT_TRUE(args) << args.error();
  EXPECT_EQ(args->config_file, "/etc/er.yaml");
  EXPECT_EQ(args->filter.rule, "r.1");
  EXPECT_EQ(args->filter.target, "t_2");
  EXPECT_TRUE(args->json);

  auto defaults = parse_dlq_list_args({});
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->config_file.empty());
  EXPECT_FALSE(defaults->filter.rule);
  EXPECT_FALSE(defaults->filter.target);
  EXPECT_FALSE(defaults->json);
}

TEST(DlqListArgs, RejectsUnknownOptionsAndImpossibleNames) {
  auto unknown = parse_dlq_list_args({"--token", "x"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error(), "unknown option --token");
  auto bad_rule = parse_dlq_list_args({"--rule", "no spaces"});
  ASSERT_FALSE(bad_rule);
  EXPECT_NE(bad_rule.error().find("'no spaces' is not a valid rule name"), std::string::npos)
      << bad_rule.error();
}

TEST(DlqRedriveArgs, ReadsFiltersAndConnectionOptions) {
  auto args =
      parse_dlq_redrive_args({"--config=/c.yaml", "--target", "t", "--token", "abc", "--ca-file",
                              "ca.pem", "--cert", "c.pem", "--key", "k.pem", "--timeout", "1.5"});
  ASSERT_TRUE(args) << args.error();
  EXPECT_EQ(args->client.config_file, "/c.yaml");
  EXPECT_FALSE(args->filter.rule);
  EXPECT_EQ(args->filter.target, "t");
  EXPECT_EQ(args->client.token, "abc");
  EXPECT_EQ(args->client.ca_file, "ca.pem");
  EXPECT_EQ(args->client.cert_file, "c.pem");
  EXPECT_EQ(args->client.key_file, "k.pem");
  ASSERT_TRUE(args->client.timeout);
  EXPECT_EQ(*args->client.timeout, std::chrono::milliseconds(1500));
}

TEST(DlqRedriveArgs, RejectsBadTimeoutsAndListOnlyFlags) {
  for (std::string_view bad : {"0", "-1", "abc", "5s", "nan"}) {
    auto args = parse_dlq_redrive_args({"--timeout", bad});
    ASSERT_FALSE(args) << bad;
    EXPECT_NE(args.error().find("--timeout wants a number of seconds"), std::string::npos);
  }
  auto json = parse_dlq_redrive_args({"--json"});
  ASSERT_FALSE(json);
}

TEST(DlqRedriveBody, HasOnlyTheGivenKeys) {
  using eventrouter::app::DeadLetterFilter;
  EXPECT_EQ(eventrouter::app::redrive_request_body(DeadLetterFilter{}), "{}");
  EXPECT_EQ(eventrouter::app::redrive_request_body(DeadLetterFilter{"r", std::nullopt}),
            R"({"rule":"r"})");
  EXPECT_EQ(eventrouter::app::redrive_request_body(DeadLetterFilter{std::nullopt, "t"}),
            R"({"target":"t"})");
  EXPECT_EQ(eventrouter::app::redrive_request_body(DeadLetterFilter{"r", "t"}),
            R"({"rule":"r","target":"t"})");
}

TEST(ReplayArgs, ReadsWindowAndOptionalKeys) {
  auto args = parse_replay_args({"--from", "2026-11-28T10:00:00Z", "--to=2026-11-28T12:30:00+01:00",
                                 "--bus", "security", "--rule", "r", "--name", "n1", "-c", "x"});
  ASSERT_TRUE(args) << args.error();
  EXPECT_EQ(args->from, "2026-11-28T10:00:00Z");
  EXPECT_EQ(args->to, "2026-11-28T12:30:00+01:00");
  EXPECT_EQ(args->bus, "security");
  EXPECT_EQ(args->rule, "r");
  EXPECT_EQ(args->name, "n1");
  EXPECT_EQ(args->client.config_file, "x");
  EXPECT_EQ(eventrouter::app::replay_request_body(*args),
            R"({"from":"2026-11-28T10:00:00Z","to":"2026-11-28T12:30:00+01:00",)"
            R"("bus":"security","rule":"r","name":"n1"})");
}

TEST(ReplayArgs, BodyOmitsWhatWasNotGiven) {
  auto args = parse_replay_args({"--from", "2026-11-28T10:00:00Z", "--to", "2026-11-28T11:00:00Z"});
  ASSERT_TRUE(args) << args.error();
  EXPECT_EQ(eventrouter::app::replay_request_body(*args),
            R"({"from":"2026-11-28T10:00:00Z","to":"2026-11-28T11:00:00Z"})");
}

TEST(ReplayArgs, NeedsBothTimes) {
  auto args = parse_replay_args({"--from", "2026-11-28T10:00:00Z"});
  ASSERT_FALSE(args);
  EXPECT_NE(args.error().find("give both --from and --to"), std::string::npos);
}

TEST(ReplayArgs, RejectsTimesThatAreNotRfc3339) {
  for (std::string_view bad : {"yesterday", "2026-11-28", "2026-11-28T10:00", "1732788000"}) {
    auto args = parse_replay_args({"--from", bad, "--to", "2026-11-28T11:00:00Z"});
    ASSERT_FALSE(args) << bad;
    EXPECT_EQ(args.error(), "--from '" + std::string(bad) +
                                "' is not an RFC 3339 time; write e.g. 2026-11-28T10:00:00Z "
                                "(date, T, time, then Z or an offset like +01:00)");
  }
  auto to = parse_replay_args({"--from", "2026-11-28T10:00:00Z", "--to", "soon"});
  ASSERT_FALSE(to);
  EXPECT_NE(to.error().find("--to 'soon' is not an RFC 3339 time"), std::string::npos);
}

TEST(ReplayArgs, RejectsAnEmptyOrBackwardWindow) {
  // 11:00+01:00 is 10:00Z: the same instant, so the window is empty.
  auto same =
      parse_replay_args({"--from", "2026-11-28T10:00:00Z", "--to", "2026-11-28T11:00:00+01:00"});
  ASSERT_FALSE(same);
  EXPECT_NE(same.error().find("must be later than --from"), std::string::npos);
  auto backward =
      parse_replay_args({"--from", "2026-11-28T12:00:00Z", "--to", "2026-11-28T10:00:00Z"});
  ASSERT_FALSE(backward);
}

TEST(ReplayArgs, RejectsBadNamesAndUnknownOptions) {
  const Args window{"--from", "2026-11-28T10:00:00Z", "--to", "2026-11-28T11:00:00Z"};
  for (Args extra : {Args{"--bus", "a b"}, Args{"--rule", std::string_view("x/y")},
                     Args{"--name", "n!"}, Args{"--target", "t"}}) {
    Args args = window;
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_FALSE(parse_replay_args(args)) << extra[0] << " " << extra[1];
  }
}

}  // namespace
