#include "primitives/holder.h"

#include <gtest/gtest.h>

namespace conch::primitives {
namespace {

TEST(HolderTest, EncodesTheOriginalsShape) {
  Holder h{"web1", 4242, "2026-11-22T07:28:36Z", "sleep 5"};
  EXPECT_EQ(
      EncodeHolder(h),
      R"({"host":"web1","pid":4242,"started":"2026-11-22T07:28:36Z","cmd":"sleep 5"})");
  h.cmd.clear();
  EXPECT_EQ(EncodeHolder(h),
            R"({"host":"web1","pid":4242,"started":"2026-11-22T07:28:36Z"})");
}

TEST(HolderTest, EscapesWhatTheOriginalDidNot) {
  Holder h{"h", 1, "t", "echo \"hi\"\n"};
  std::optional<Holder> back = DecodeHolder(EncodeHolder(h));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->cmd, "echo \"hi\"\n");
}

TEST(HolderTest, DecodesForeignRecords) {
  std::optional<Holder> h = DecodeHolder(
      R"({"host":"node-watch","pid":12345,"started":"2026-01-01T00:00:00Z","extra":[1]})");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->host, "node-watch");
  EXPECT_EQ(h->pid, 12345);
  EXPECT_EQ(h->cmd, "");
}

TEST(HolderTest, RejectsNonObjects) {
  EXPECT_FALSE(DecodeHolder("not json"));
  EXPECT_FALSE(DecodeHolder("[1,2]"));
  EXPECT_FALSE(DecodeHolder(""));
  std::optional<Holder> typed = DecodeHolder(R"({"host":7,"pid":"x"})");
  ASSERT_TRUE(typed);
  EXPECT_EQ(typed->host, "");
  EXPECT_EQ(typed->pid, 0);
}

TEST(HolderTest, JoinCommandCutsAt256Bytes) {
  std::vector<std::string> argv(300, "a");
  std::string cmd = JoinCommand(argv);
  EXPECT_EQ(cmd.size(), 256u);
  EXPECT_EQ(JoinCommand({"sleep", "5"}), "sleep 5");
  EXPECT_EQ(JoinCommand({}), "");
}

TEST(HolderTest, JoinCommandCutsAtACharacterBoundary) {
  std::string cmd = JoinCommand({std::string(255, 'a') + "\xc3\xa9"});
  EXPECT_EQ(cmd, std::string(255, 'a'));
  std::optional<Holder> back = DecodeHolder(EncodeHolder({"h", 1, "t", cmd}));
  ASSERT_TRUE(back);
  EXPECT_LE(back->cmd.size(), kMaxCmdBytes);
}

}  // namespace
}  // namespace conch::primitives
