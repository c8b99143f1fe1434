#include "conchd/output.h"

#include <gtest/gtest.h>

namespace conch::conchd {
namespace {

TEST(OutputLinesTest, PrefixesCompleteLinesAndHoldsAPartialOne) {
  OutputLines lines("job| ", 12);
  std::string kept;
  EXPECT_EQ(lines.Add("one\ntw", &kept), "job| one\n");
  EXPECT_EQ(lines.Add("o\n\nthree", &kept), "job| two\njob| \n");
  EXPECT_EQ(lines.Flush(), "job| three\n");
  EXPECT_EQ(lines.Flush(), "");
  EXPECT_EQ(kept, "e\ntwo\n\nthree");  // the last 12 of 14 bytes written
}

TEST(OutputLinesTest, CutsOverlongLines) {
  OutputLines lines("j ", 4, 3);
  EXPECT_EQ(lines.Add("abcdefg", nullptr), "j abc\nj def\n");
  EXPECT_EQ(lines.Flush(), "j g\n");
}

TEST(OutputLinesTest, KeepTailKeepsTheEnd) {
  std::string kept = "abc";
  KeepTail(&kept, "defgh", 4);
  EXPECT_EQ(kept, "efgh");
  KeepTail(&kept, "0123456789", 4);
  EXPECT_EQ(kept, "6789");
  KeepTail(&kept, "x", 4);
  EXPECT_EQ(kept, "789x");
}

}  // namespace
}  // namespace conch::conchd
