#include "backend/zookeeper/zk_names.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace conch::backend::zk {
namespace {

std::vector<std::string> Names(const std::vector<ChildName>& children) {
  std::vector<std::string> out;
  out.reserve(children.size());
  for (const ChildName& c : children) out.push_back(c.name);
  return out;
}

std::vector<ChildName> Sorted(const std::vector<std::string>& names) {
  return SortChildren(names, nullptr);
}

TEST(ZkNamesTest, SessionHexIsLowerCaseWithoutPadding) {
  EXPECT_EQ(SessionHex(1), "1");
  EXPECT_EQ(SessionHex(0x100000abcdef), "100000abcdef");
  EXPECT_EQ(SessionHex(0x01889f2b3c4d0000), "1889f2b3c4d0000");
  EXPECT_EQ(SessionHex(-1), "ffffffffffffffff");
}

TEST(ZkNamesTest, PrefixMustBeAbsoluteAndEndInSlash) {
  EXPECT_TRUE(CheckPrefix("/conch/v1/elect/db/").ok());
  EXPECT_TRUE(CheckPrefix("/").ok());
  for (const char* bad : {"", "conch/", "/conch", "/a//b/", "//"}) {
    Status s = CheckPrefix(bad);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
  }
}

TEST(ZkNamesTest, KeyMustBeAbsoluteAndNotEndInSlash) {
  EXPECT_TRUE(CheckKey("/conch/v1/elect/db/1a-0000000001").ok());
  EXPECT_TRUE(CheckKey("/").ok());
  for (const char* bad : {"", "a", "/a/", "/a//b"}) {
    EXPECT_EQ(CheckKey(bad).code(), Code::kInvalidArgument) << bad;
  }
}

TEST(ZkNamesTest, ParentsAndBaseNames) {
  EXPECT_EQ(ParentOfPrefix("/conch/v1/elect/db/"), "/conch/v1/elect/db");
  EXPECT_EQ(ParentOfPrefix("/a/"), "/a");
  EXPECT_EQ(ParentOfPrefix("/"), "/");
  EXPECT_EQ(ParentOf("/a/b/c"), "/a/b");
  EXPECT_EQ(ParentOf("/a"), "/");
  EXPECT_EQ(ParentOf("/"), "/");
  EXPECT_EQ(BaseName("/a/b/1f-0000000003"), "1f-0000000003");
  EXPECT_EQ(BaseName("/"), "");
}

TEST(ZkNamesTest, ParsesChildNamesOfTheLayout) {
  std::optional<ChildName> c = ParseChildName("1a2b-0000000007");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "1a2b-0000000007");
  EXPECT_EQ(c->session, 0x1a2b);
  EXPECT_EQ(c->sequence, 7);

  c = ParseChildName("ffffffffffffffff-2147483647");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->session, -1);
  EXPECT_EQ(c->sequence, 2147483647);
}

TEST(ZkNamesTest, RejectsNamesOutsideTheLayout) {
  for (const char* bad : {
           "",
           "abc",                          // no sequence
           "abc-",                         // empty sequence
           "-0000000001",                  // no session
           "abc-000000001",                // 9 digits
           "abc-00000000001",              // 11 digits
           "abc--2147483648",              // the counter after overflow
           "ABC-0000000001",               // upper-case hex
           "abc-000000000x",               // not a digit
           "lock-0000000001",              // not hex
           "12345678901234567-0000000001"  // 17 hex digits
       }) {
    EXPECT_FALSE(ParseChildName(bad)) << bad;
  }
}

TEST(ZkNamesTest, SortsBySequenceNotByName) {
  std::vector<std::string> ignored;
  std::vector<ChildName> sorted = SortChildren(
      {"b-0000000002", "junk", "a-0000000010", "c-0000000001"}, &ignored);
  EXPECT_EQ(Names(sorted),
            (std::vector<std::string>{"c-0000000001", "b-0000000002",
                                      "a-0000000010"}));
  EXPECT_EQ(ignored, std::vector<std::string>{"junk"});
}

TEST(ZkNamesTest, ChildrenOfMatchesTheWholeSessionHex) {
  std::vector<ChildName> sorted =
      Sorted({"abc-0000000001", "ab-0000000002", "ab-0000000005"});
  EXPECT_EQ(Names(ChildrenOf(sorted, "ab")),
            (std::vector<std::string>{"ab-0000000002", "ab-0000000005"}));
  EXPECT_EQ(Names(ChildrenOf(sorted, "abc")),
            std::vector<std::string>{"abc-0000000001"});
  EXPECT_TRUE(ChildrenOf(sorted, "a").empty());
}

TEST(ZkNamesTest, LocateFindsPredecessorAndFirst) {
  std::vector<ChildName> sorted =
      Sorted({"a-0000000001", "b-0000000004", "c-0000000007"});

  Position pos = Locate(sorted, "c-0000000007");
  EXPECT_TRUE(pos.self_present);
  ASSERT_TRUE(pos.previous);
  EXPECT_EQ(pos.previous->name, "b-0000000004");
  ASSERT_TRUE(pos.first);
  EXPECT_EQ(pos.first->name, "a-0000000001");

  pos = Locate(sorted, "a-0000000001");
  EXPECT_TRUE(pos.self_present);
  EXPECT_FALSE(pos.previous);
  EXPECT_EQ(pos.first->name, "a-0000000001");

  // Gone: the predecessor is still reckoned by sequence.
  pos = Locate(sorted, "d-0000000005");
  EXPECT_FALSE(pos.self_present);
  ASSERT_TRUE(pos.previous);
  EXPECT_EQ(pos.previous->name, "b-0000000004");

  pos = Locate({}, "d-0000000005");
  EXPECT_FALSE(pos.self_present);
  EXPECT_FALSE(pos.previous);
  EXPECT_FALSE(pos.first);
}

TEST(ZkNamesTest, ThroughKeepsUpToAndIncludingTheSequence) {
  std::vector<ChildName> sorted =
      Sorted({"a-0000000001", "b-0000000004", "c-0000000007"});
  EXPECT_EQ(Names(Through(sorted, 4)),
            (std::vector<std::string>{"a-0000000001", "b-0000000004"}));
  EXPECT_TRUE(Through(sorted, 0).empty());
  EXPECT_EQ(Through(sorted, 9).size(), 3U);
}

TEST(ZkNamesTest, DiffReportsVanishedAndAppearedInSequenceOrder) {
  std::vector<ChildName> before =
      Sorted({"a-0000000001", "b-0000000004", "c-0000000007"});
  std::vector<ChildName> after =
      Sorted({"b-0000000004", "d-0000000008", "e-0000000009"});
  std::vector<ChildChange> diff = DiffChildren(before, after);
  ASSERT_EQ(diff.size(), 4U);
  EXPECT_EQ(diff[0].name, "a-0000000001");
  EXPECT_TRUE(diff[0].deleted);
  EXPECT_EQ(diff[1].name, "c-0000000007");
  EXPECT_TRUE(diff[1].deleted);
  EXPECT_EQ(diff[2].name, "d-0000000008");
  EXPECT_FALSE(diff[2].deleted);
  EXPECT_EQ(diff[3].name, "e-0000000009");
  EXPECT_FALSE(diff[3].deleted);

  EXPECT_TRUE(DiffChildren(before, before).empty());
  EXPECT_EQ(DiffChildren({}, after).size(), 3U);
  EXPECT_EQ(DiffChildren(before, {}).size(), 3U);
}

TEST(ZkNamesTest, DiffInterleavesBySequence) {
  // A child that appeared with a lower sequence than one that vanished
  // (the container was deleted and created again) comes first.
  std::vector<ChildName> before = Sorted({"a-0000000005"});
  std::vector<ChildName> after = Sorted({"b-0000000000"});
  std::vector<ChildChange> diff = DiffChildren(before, after);
  ASSERT_EQ(diff.size(), 2U);
  EXPECT_EQ(diff[0].name, "b-0000000000");
  EXPECT_FALSE(diff[0].deleted);
  EXPECT_EQ(diff[1].name, "a-0000000005");
  EXPECT_TRUE(diff[1].deleted);
}

}  // namespace
}  // namespace conch::backend::zk
