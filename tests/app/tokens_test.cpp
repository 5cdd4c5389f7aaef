// auth.tokens_file: every form of line, every mistake and its message, and the lookup.
#include "../../src/app/tokens.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace eventrouter::app {
namespace {

using server::Role;

constexpr std::uint8_t bits(Role role) {
  return static_cast<std::uint8_t>(role);
}

TokenList load(const std::string& text) {
  const testing::TempDir dir;
  return TokenList::load(dir.write("tokens", text));
}

// The problems of a file, as the user sees them, without the folder.
std::vector<std::string> problems_of(const std::string& text) {
  const testing::TempDir dir;
  const auto file = dir.write("tokens", text);
  std::vector<std::string> shown;
  for (const auto& problem : read_tokens_file(file).problems) {
    auto line = problem.to_string();
    shown.push_back(line.substr(dir.path().string().size() + 1));
  }
  return shown;
}

std::string only_problem(const std::string& text) {
  const auto problems = problems_of(text);
  EXPECT_EQ(problems.size(), 1u) << text;
  return problems.empty() ? std::string() : problems.front();
}

TEST(Tokens, AcceptOnlyAWholeKnownToken) {
  const auto tokens = load("# operators\n  first-token  \n\nsecond-token-that-is-longer\n");
  EXPECT_TRUE(tokens.contains("first-token"));
  EXPECT_TRUE(tokens.contains("second-token-that-is-longer"));
  EXPECT_FALSE(tokens.contains("first-toke"));
  EXPECT_FALSE(tokens.contains("first-token-"));
  EXPECT_FALSE(tokens.contains("second-token"));
  EXPECT_FALSE(tokens.contains(""));
  EXPECT_FALSE(tokens.contains("FIRST-TOKEN"));
  EXPECT_FALSE(tokens.contains("# operators"));
}

TEST(Tokens, TokensOfEveryLengthAreComparedTheSameWay) {
  // Digests have one length, so a token's length decides nothing about which comparisons run.
  std::string file;
  for (std::size_t length : {1, 7, 32, 33, 64, 200}) file += std::string(length, 'k') + "\n";
  const auto tokens = load(file);
  for (std::size_t length : {1, 7, 32, 33, 64, 200}) {
    EXPECT_TRUE(tokens.contains(std::string(length, 'k'))) << length;
    EXPECT_FALSE(tokens.contains(std::string(length, 'j'))) << length;
  }
  EXPECT_EQ(net::sha256("abc").size(), 32u);
  EXPECT_TRUE(net::digests_equal(net::sha256("abc"), net::sha256("abc")));
  EXPECT_FALSE(net::digests_equal(net::sha256("abc"), net::sha256("abd")));
}

TEST(Tokens, AFileWithoutTokensIsRefused) {
  EXPECT_THROW(load("# nothing here\n\n"), std::runtime_error);
  EXPECT_EQ(only_problem("# nothing here\n\n"),
            "tokens: auth.tokens_file holds no token (one a line: TOKEN [role=ROLE] "
            "[buses=BUS,BUS])");
}

TEST(Tokens, AnOldStyleLineIsFullAccess) {
  const auto tokens = load("plain-token\n");
  const auto* access = tokens.find("plain-token");
  ASSERT_NE(access, nullptr);
  EXPECT_TRUE(access->has(Role::kAdmin));
  EXPECT_TRUE(access->has(Role::kIngest));
  EXPECT_TRUE(access->has(Role::kRead));
  EXPECT_FALSE(access->buses);
  EXPECT_TRUE(access->may_post_to("any.bus"));
}

TEST(Tokens, EachLineGetsItsOwnRolesAndBuses) {
  const auto tokens = load(
      "ingest-one role=ingest buses=default,scanners\n"
      "reader\trole=read\n"
      "both   buses=scanners   role=ingest,read\n"
      "operator role=admin\n"
      "bus-only buses=scanners,scanners\r\n");
  const auto* ingest = tokens.find("ingest-one");
  ASSERT_NE(ingest, nullptr);
  EXPECT_EQ(ingest->roles, bits(Role::kIngest));
  EXPECT_EQ(*ingest->buses, (std::vector<std::string>{"default", "scanners"}));
  EXPECT_TRUE(ingest->may_post_to("scanners"));
  EXPECT_FALSE(ingest->may_post_to("payments"));

  const auto* reader = tokens.find("reader");
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->roles, bits(Role::kRead));
  EXPECT_FALSE(reader->has(Role::kIngest));
  EXPECT_FALSE(reader->has(Role::kAdmin));

  const auto* both = tokens.find("both");
  ASSERT_NE(both, nullptr);
  EXPECT_TRUE(both->has(Role::kIngest));
  EXPECT_TRUE(both->has(Role::kRead));
  EXPECT_FALSE(both->has(Role::kAdmin));

  const auto* op = tokens.find("operator");
  ASSERT_NE(op, nullptr);
  EXPECT_TRUE(op->has(Role::kIngest) && op->has(Role::kRead) && op->has(Role::kAdmin));

  // buses= without role= is a token for posting to those buses, nothing more.
  const auto* bus_only = tokens.find("bus-only");
  ASSERT_NE(bus_only, nullptr);
  EXPECT_EQ(bus_only->roles, bits(Role::kIngest));
  EXPECT_EQ(*bus_only->buses, std::vector<std::string>{"scanners"});
}

TEST(Tokens, AHashedLineMatchesItsTokenButNotTheHashText) {
  const std::string hex = net::sha256_hex("s3cret-token");
  std::string upper = net::sha256_hex("other-token");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto tokens =
      load("sha256:" + hex + " role=read\nsha256:" + upper + "\nplain role=ingest\n");
  const auto* access = tokens.find("s3cret-token");
  ASSERT_NE(access, nullptr);
  EXPECT_EQ(access->roles, bits(Role::kRead));
  ASSERT_NE(tokens.find("other-token"), nullptr);
  EXPECT_TRUE(tokens.find("other-token")->has(Role::kAdmin));
  // The file's text is not a token: who reads the file must not be able to call the API.
  EXPECT_EQ(tokens.find("sha256:" + hex), nullptr);
  EXPECT_EQ(tokens.find(hex), nullptr);
  EXPECT_EQ(tokens.find("sha256:" + upper), nullptr);
  // The plaintext is kept for the command line's default, the hash line has none.
  const testing::TempDir dir;
  const auto read = read_tokens_file(dir.write("t", "sha256:" + hex + "\nplain\n"));
  ASSERT_EQ(read.entries.size(), 2u);
  EXPECT_EQ(read.entries[0].plaintext, "");
  EXPECT_EQ(read.entries[1].plaintext, "plain");
}

TEST(Tokens, EveryLineIsFoundWhereverItIsInTheFile) {
  // The match is picked by masks over every line: check it finds the right line at each place.
  std::string file;
  for (int i = 0; i < 40; ++i)
    file += "token-" + std::to_string(i) + (i % 2 ? " role=read\n" : " role=ingest\n");
  const auto tokens = load(file);
  for (int i = 0; i < 40; ++i) {
    const auto* access = tokens.find("token-" + std::to_string(i));
    ASSERT_NE(access, nullptr) << i;
    EXPECT_EQ(access->roles, bits(i % 2 ? Role::kRead : Role::kIngest)) << i;
  }
  EXPECT_EQ(tokens.find("token-40"), nullptr);
}

TEST(Tokens, EveryBadLineSaysWhereAndWhatToFix) {
  EXPECT_EQ(only_problem("tok role=owner\n"),
            "tokens:1:10: unknown role 'owner' (the roles are ingest, read, admin)");
  EXPECT_EQ(only_problem("tok role=read,\n"),
            "tokens:1:15: empty role (the roles are ingest, read, admin)");
  EXPECT_EQ(only_problem("tok role=\n"),
            "tokens:1:5: role= is empty: give one or more of ingest, read, admin, separated by "
            "commas");
  EXPECT_EQ(only_problem("# c\ntok scope=read\n"),
            "tokens:2:5: unknown key 'scope' (the keys are role and buses)");
  EXPECT_EQ(only_problem("my token\n"),
            "tokens:1:4: unexpected text after the token: write role=ROLE or buses=BUS,BUS after "
            "it (a token holds no spaces)");
  EXPECT_EQ(only_problem("tok buses=\n"),
            "tokens:1:5: buses= is empty: name at least one bus (BUS,BUS...), or leave buses= out "
            "to allow every bus");
  EXPECT_EQ(only_problem("tok buses=a,,b\n"),
            "tokens:1:13: empty bus name in buses=: bus names are 1 to 256 of the characters . - "
            "_ / A-Z a-z 0-9");
  EXPECT_EQ(only_problem("tok buses=bad!bus\n"),
            "tokens:1:11: bus 'bad!bus' is not valid: bus names are 1 to 256 of the characters . "
            "- _ / A-Z a-z 0-9");
  EXPECT_EQ(only_problem("tok role=read role=ingest\n"),
            "tokens:1:15: role= is given twice on this line");
  EXPECT_EQ(only_problem("tok buses=a buses=b\n"),
            "tokens:1:13: buses= is given twice on this line");
  EXPECT_EQ(only_problem("role=admin\n"),
            "tokens:1:1: the line starts with 'role=': write the token (or sha256:HASH) first, "
            "then role= and buses=");
  EXPECT_EQ(only_problem("sha256:abc\n"),
            "tokens:1:8: sha256: needs 64 hex digits (the SHA-256 of the token, as `eventrouter "
            "token hash` prints it), not 3");
  EXPECT_EQ(only_problem("sha256:" + std::string(63, 'a') + "g\n"),
            "tokens:1:71: sha256: holds a character that is not a hex digit (0-9, a-f)");
  EXPECT_EQ(only_problem("same\nother\n  same role=read\n"),
            "tokens:3:1: this token is already on line 1 (give each token one line; several "
            "roles are role=ingest,read)");
  // A plaintext line and the hash of the same token are the same token.
  EXPECT_EQ(only_problem("same\nsha256:" + net::sha256_hex("same") + " role=read\n"),
            "tokens:2:1: this token is already on line 1 (give each token one line; several "
            "roles are role=ingest,read)");
}

TEST(Tokens, MessagesNeverQuoteTheToken) {
  const auto problems = problems_of(
      "hunter2-secret role=boss\nhunter2-secret\nhunter2-secret role=read\nhunter2 "
      "with-space\n");
  ASSERT_EQ(problems.size(), 3u);
  for (const auto& problem : problems)
    EXPECT_EQ(problem.find("hunter2"), std::string::npos) << problem;
  EXPECT_EQ(problems[2].find("with-space"), std::string::npos) << problems[2];
}

TEST(Tokens, EveryProblemIsReportedAndLoadRefusesTheFile) {
  const auto problems = problems_of("good\nbad role=x\nalso-good\nworse scope=y\n");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].rfind("tokens:2:", 0), 0u) << problems[0];
  EXPECT_EQ(problems[1].rfind("tokens:4:", 0), 0u) << problems[1];
  try {
    load("good\nbad role=x\n");
    FAIL() << "a bad line must refuse the file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tokens:2:10: unknown role 'x'"), std::string::npos)
        << e.what();
  }
}

TEST(Tokens, TheFileIsBounded) {
  std::string many;
  for (std::size_t i = 0; i <= kMaxTokenFileLines; ++i) many += "# comment\n";
  many += "late-token\n";
  EXPECT_EQ(only_problem(many),
            "tokens: auth.tokens_file has more than 10000 lines; keep one line per token and "
            "client");
  EXPECT_EQ(only_problem("tok buses=" + std::string(kMaxTokenLineBytes, 'b') + "\n"),
            "tokens:1:1: line is longer than 8192 bytes: a line is TOKEN [role=ROLE] "
            "[buses=BUS,BUS]");
  const testing::TempDir dir;
  EXPECT_EQ(read_tokens_file(dir / "missing").problems.at(0).message,
            "cannot read auth.tokens_file");
}

TEST(Tokens, BusesThatNothingUsesAreWarnedAbout) {
  const testing::TempDir dir;
  const auto file = dir.write("tokens", "a buses=default,scanners,typo\nb\nc buses=scanners\n");
  const auto tokens = read_tokens_file(file);
  ASSERT_TRUE(tokens.problems.empty());
  const auto warnings =
      unknown_bus_warnings(file, tokens, [](std::string_view bus) { return bus == "scanners"; });
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].line, 1);
  EXPECT_NE(warnings[0].message.find("'typo'"), std::string::npos) << warnings[0].message;
}

}  // namespace
}  // namespace eventrouter::app
