#include "../../src/app/tokens.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace eventrouter::app {
namespace {

TokenList load(const std::string& text) {
  const testing::TempDir dir;
  return TokenList::load(dir.write("tokens", text));
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
}

}  // namespace
}  // namespace eventrouter::app
