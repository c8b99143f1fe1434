#include "switchman/layout.h"

#include <gtest/gtest.h>

namespace conch::switchman {
namespace {

TEST(LayoutTest, PathsAreTheOriginals) {
  Layout l("/sw/prod");
  EXPECT_EQ(l.lock("backup"), "/sw/prod/locks/backup");
  EXPECT_EQ(l.queue("rr"), "/sw/prod/queues/rr");
  EXPECT_EQ(l.queue_entry_prefix("rr", "backup"), "/sw/prod/queues/rr/backup-");
  EXPECT_EQ(l.semaphore("rr"), "/sw/prod/semaphores/rr");
  EXPECT_EQ(l.mutex("rr"), "/sw/prod/semaphores/rr/lock");
  EXPECT_EQ(l.mutex_entry_prefix("rr"), "/sw/prod/semaphores/rr/lock/acquire-");
  EXPECT_EQ(l.leases("vm_mem"), "/sw/prod/semaphores/vm_mem/leases");
  EXPECT_EQ(l.lease_entry_prefix("vm_mem", 4, 16),
            "/sw/prod/semaphores/vm_mem/leases/4_16_");
  EXPECT_EQ(l.lease_entry_prefix("r", -1, 2),
            "/sw/prod/semaphores/r/leases/-1_2_");
}

TEST(LayoutTest, QueueEntries) {
  std::optional<Sequenced> e = ParseQueueEntry("backup-0000000003");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->seq, 3);
  // A lockname may hold dashes and digits itself: the sequence is what
  // follows the last dash.
  e = ParseQueueEntry("db-2-backup-0000000120");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->seq, 120);
  EXPECT_EQ(e->name, "db-2-backup-0000000120");
  for (const char* bad : {"backup", "backup-", "backup-00x0000001", "-", "",
                          "backup-99999999999999999999"}) {
    EXPECT_FALSE(ParseQueueEntry(bad)) << bad;
  }
  EXPECT_TRUE(IsQueueEntryOf("backup-0000000003", "backup"));
  EXPECT_TRUE(IsQueueEntryOf("a.b-7", "a.b"));
  EXPECT_FALSE(IsQueueEntryOf("axb-0000000003", "a.b"));  // literal, no regex
  EXPECT_FALSE(IsQueueEntryOf("backup2-0000000003", "backup"));
  EXPECT_FALSE(IsQueueEntryOf("backup-", "backup"));
  EXPECT_FALSE(IsQueueEntryOf("db-backup-0000000003", "backup"));
}

TEST(LayoutTest, MutexAndLeaseEntries) {
  std::optional<Sequenced> m = ParseMutexEntry("acquire-0000000042");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->seq, 42);
  EXPECT_FALSE(ParseMutexEntry("acquire-"));
  EXPECT_FALSE(ParseMutexEntry("release-0000000042"));
  EXPECT_FALSE(ParseMutexEntry("acquire--000000042"));

  std::optional<LeaseNode> l = ParseLeaseNode("2_4_0000000003");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->count, 2);
  EXPECT_EQ(l->total, 4);
  EXPECT_EQ(l->seq, 3);
  l = ParseLeaseNode("-1_4_0000000007");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->count, -1);
  for (const char* bad :
       {"2_4", "2_4_", "x_4_0000000001", "2_-4_0000000001", "2__0000000001",
        "_4_0000000001", "2_4_00x", "2_4_0000000001_9"}) {
    EXPECT_FALSE(ParseLeaseNode(bad)) << bad;
  }
}

TEST(LayoutTest, TheQueuePredecessorIsTheNearestEntryAhead) {
  std::vector<std::string> q = {"b-0000000005", "a-0000000002", "c-0000000009"};
  Result<std::optional<Sequenced>> p = QueuePredecessor(q, 9, "/q/r");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(*p);
  EXPECT_EQ((*p)->name, "b-0000000005");
  p = QueuePredecessor(q, 2, "/q/r");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(*p);  // at the head
  p = QueuePredecessor(q, 7, "/q/r");
  EXPECT_EQ(p.status().code(), Code::kNotFound);
  EXPECT_EQ(p.status().message(), "Lost position 7 in queue /q/r");
  q.push_back("stray");
  p = QueuePredecessor(q, 9, "/q/r");
  EXPECT_EQ(p.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(p.status().message(), "Unexpected item stray in queue /q/r");
}

TEST(LayoutTest, TheMutexPredecessorIgnoresOtherChildren) {
  std::vector<std::string> m = {"acquire-0000000004", "junk",
                                "acquire-0000000001", "acquire-0000000006"};
  Result<std::optional<Sequenced>> p = MutexPredecessor(m, 6, "/s/r/lock");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(*p);
  EXPECT_EQ((*p)->seq, 4);
  p = MutexPredecessor(m, 1, "/s/r/lock");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(*p);
  EXPECT_EQ(MutexPredecessor(m, 5, "/s/r/lock").status().code(),
            Code::kNotFound);
}

TEST(LayoutTest, LeasesInUseSumsCountsAndRefusesOtherTotals) {
  Result<int64_t> used =
      LeasesInUse({"1_4_0000000001", "2_4_0000000002", "-1_4_0000000005"}, 4,
                  "/s/r/leases");
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 2);
  EXPECT_EQ(LeasesInUse({}, 4, "/s/r/leases").value(), 0);
  Result<int64_t> mismatch =
      LeasesInUse({"1_4_0000000001", "1_8_0000000002"}, 4, "/s/r/leases");
  EXPECT_EQ(mismatch.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(mismatch.status().message(),
            "Totals mismatch: /s/r/leases/1_8_0000000002 4");
  Result<int64_t> stray = LeasesInUse({"lease"}, 4, "/s/r/leases");
  EXPECT_EQ(stray.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(stray.status().message().find("/s/r/leases/lease"),
            std::string::npos);
  Result<int64_t> huge = LeasesInUse(
      {"9223372036854775807_1_0000000001", "1_1_0000000002"}, 1, "/l");
  EXPECT_FALSE(huge.ok());
}

}  // namespace
}  // namespace conch::switchman
