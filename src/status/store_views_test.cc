#include "status/store_views.h"

#include <gtest/gtest.h>

namespace conch::status {
namespace {

using backend::KeyValue;

KeyValue Kv(std::string key, std::string value, int64_t create_revision) {
  return KeyValue{std::move(key), std::move(value), create_revision, 7};
}

std::string Holder(const std::string& host, int pid,
                   const std::string& extra = "") {
  return R"({"host":")" + host + R"(","pid":)" + std::to_string(pid) +
         R"(,"started":"2026-11-22T07:28:36Z")" + extra + "}";
}

TEST(StoreViewsTest, NoKeysAreEmptyArrays) {
  EXPECT_EQ(ElectJsonOf({}), "[]");
  EXPECT_EQ(SemaJsonOf({}), "[]");
}

TEST(StoreViewsTest, EachOfficeShowsItsOldestKeyInOfficeOrder) {
  std::vector<KeyValue> kvs = {
      Kv("/conch/v1/elect/web/2a", Holder("w2", 2), 30),
      Kv("/conch/v1/elect/db/1f", Holder("d1", 1, R"(,"cmd":"pg_dump x")"), 12),
      Kv("/conch/v1/elect/web/1b", Holder("w1", 1), 20),
      Kv("/conch/v1/elect/odd/99", "not json", 5),
      Kv("/conch/v1/elect/bare", Holder("x", 9), 1),  // no contender id
      Kv("/conch/v1/elect//77", Holder("x", 9), 2),   // no office
      Kv("/conch/v1/sema/s/1/1", Holder("x", 9), 3),  // not an election
  };
  EXPECT_EQ(
      ElectJsonOf(kvs),
      R"([{"office":"db","leader":"d1","pid":1,)"
      R"("started":"2026-11-22T07:28:36Z","cmd":"pg_dump x",)"
      R"("create_revision":12},)"
      R"({"office":"odd","leader":"","pid":0,"started":"","cmd":"",)"
      R"("create_revision":5},)"
      R"({"office":"web","leader":"w1","pid":1,)"
      R"("started":"2026-11-22T07:28:36Z","cmd":"","create_revision":20}])");
}

TEST(StoreViewsTest, WithoutMarksTheFirstMaxClaimsHold) {
  std::vector<KeyValue> kvs = {
      Kv("/conch/v1/sema/pool/2/c", Holder("h3", 3), 40),
      Kv("/conch/v1/sema/pool/2/a", Holder("h1", 1), 10),
      Kv("/conch/v1/sema/pool/2/b", Holder("h2", 2), 20),
  };
  EXPECT_EQ(SemaJsonOf(kvs),
            R"([{"name":"pool","max":2,"holders":[)"
            R"({"host":"h1","pid":1,"started":"2026-11-22T07:28:36Z","cmd":"",)"
            R"("create_revision":10},)"
            R"({"host":"h2","pid":2,"started":"2026-11-22T07:28:36Z","cmd":"",)"
            R"("create_revision":20}],"waitlist":[)"
            R"({"host":"h3","pid":3,"started":"2026-11-22T07:28:36Z","cmd":"",)"
            R"("create_revision":40}]}])");
}

TEST(StoreViewsTest, WithMarksTheMarkedClaimsHold) {
  // Weighted: the first takes 2 of 3 units, the second (2) must wait, and
  // the third waits behind it.
  std::vector<KeyValue> kvs = {
      Kv("/conch/v1/sema/gpu/3/a",
         Holder("h1", 1, R"(,"weight":2,"held":true)"), 10),
      Kv("/conch/v1/sema/gpu/3/b", Holder("h2", 2, R"(,"weight":2)"), 20),
      Kv("/conch/v1/sema/gpu/3/c", Holder("h3", 3), 30),
  };
  EXPECT_EQ(SemaJsonOf(kvs),
            R"([{"name":"gpu","max":3,"holders":[)"
            R"({"host":"h1","pid":1,"started":"2026-11-22T07:28:36Z","cmd":"",)"
            R"("create_revision":10}],"waitlist":[)"
            R"({"host":"h2","pid":2,"started":"2026-11-22T07:28:36Z","cmd":"",)"
            R"("create_revision":20},)"
            R"({"host":"h3","pid":3,"started":"2026-11-22T07:28:36Z","cmd":"",)"
            R"("create_revision":30}]}])");
}

TEST(StoreViewsTest, SemaphoresAreGroupedByNameAndMaxAndOddKeysSkipped) {
  std::vector<KeyValue> kvs = {
      Kv("/conch/v1/sema/b/1/x", Holder("h1", 1), 1),
      Kv("/conch/v1/sema/a/10/x", Holder("h2", 2), 2),
      Kv("/conch/v1/sema/a/9/x", Holder("h3", 3), 3),
      Kv("/conch/v1/sema/team/a/1/x", Holder("h4", 4), 4),  // name "team/a"
      Kv("/conch/v1/sema/a/many/x", Holder("x", 9), 5),     // max not a number
      Kv("/conch/v1/sema/a/-1/x", Holder("x", 9), 6),
      Kv("/conch/v1/sema/a/1/", Holder("x", 9), 7),  // no id
      Kv("/conch/v1/sema/1/x", Holder("x", 9), 8),   // no name
  };
  std::string json = SemaJsonOf(kvs);
  EXPECT_EQ(json.find(R"("host":"x")"), std::string::npos) << json;
  // In name order, then max order (9 before 10: numbers, not text).
  size_t last = 0;
  for (const char* item :
       {R"({"name":"a","max":9,)", R"({"name":"a","max":10,)",
        R"({"name":"b","max":1,)", R"({"name":"team/a","max":1,)"}) {
    size_t at = json.find(item);
    ASSERT_NE(at, std::string::npos) << item << " in " << json;
    EXPECT_GE(at, last) << item << " in " << json;
    last = at;
  }
}

}  // namespace
}  // namespace conch::status
