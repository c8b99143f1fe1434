// The ZooKeeper backend's naming and ordering rules, kept pure so that unit
// tests can check them without a server.
//
// Layout: a caller's prefix "/conch/v1/elect/db/" names the parent znode
// "/conch/v1/elect/db" (a container, created on demand). Each contender is
// an ephemeral sequential child "<session-hex>-<seq10>": the session id in
// lower-case hex without padding, then the 10-digit sequence ZooKeeper
// appends. Children are ordered by that sequence: every child of one
// container incarnation draws from one counter, and a container is deleted
// only when empty, so the children present at any moment share a counter.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace conch::backend::zk {

// A session id as contender names carry it: lower-case hex, no "0x", no
// padding (the form primitives/keys.h calls LeaseHex).
std::string SessionHex(int64_t session_id);

// Checks a caller's prefix: absolute, ending in '/', no empty component
// ("//"). kInvalidArgument naming it.
Status CheckPrefix(std::string_view prefix);

// Checks a key: absolute, not ending in '/' (the root "/" aside), no empty
// component. kInvalidArgument naming it.
Status CheckKey(std::string_view key);

// The parent znode of a prefix: "/a/b/" -> "/a/b"; "/" -> "/".
std::string ParentOfPrefix(std::string_view prefix);

// The parent of a znode path: "/a/b" -> "/a"; "/a" -> "/"; "/" -> "/".
std::string ParentOf(std::string_view path);

// The last component of a znode path: "/a/b" -> "b"; "/" -> "".
std::string_view BaseName(std::string_view path);

// A child name that follows the layout.
struct ChildName {
  std::string name;      // "<hex>-<seq10>"
  int64_t session = 0;   // parsed from <hex>
  int64_t sequence = 0;  // parsed from <seq10>
};

// Parses "<hex>-<seq10>": 1 to 16 lower-case hex digits, '-', exactly 10
// decimal digits. nullopt for anything else (including the 11-character
// negative sequences ZooKeeper writes after its counter overflows 2^31).
std::optional<ChildName> ParseChildName(std::string_view name);

// The children that follow the layout, oldest first. Names that do not
// parse are left out and appended to *ignored when it is given.
// Every name as a record (backend.h: any name, sequence 0), sorted by
// name: the order ListRecords reports and DiffChildren walks.
std::vector<ChildName> SortRecords(const std::vector<std::string>& names);

std::vector<ChildName> SortChildren(const std::vector<std::string>& names,
                                    std::vector<std::string>* ignored);

// The children of session `session_hex` ("<hex>-" prefix), oldest first.
std::vector<ChildName> ChildrenOf(const std::vector<ChildName>& sorted,
                                  std::string_view session_hex);

// Where a contender stands in a sorted child list.
struct Position {
  bool self_present = false;
  std::optional<ChildName> previous;  // youngest child older than self
  std::optional<ChildName> first;     // oldest child
};

// Locates `self` (a child name) in `sorted`. `previous` is computed from
// self's sequence even when self is gone; it is meaningful only when
// self_present (otherwise the children may belong to a later incarnation of
// the container, whose sequence started again).
Position Locate(const std::vector<ChildName>& sorted, std::string_view self);

// The children whose sequence is at most `sequence`, oldest first.
std::vector<ChildName> Through(const std::vector<ChildName>& sorted,
                               int64_t sequence);

// One change between two listings of a container.
struct ChildChange {
  std::string name;
  bool deleted = false;
};

// What changed from `before` to `after` (both sorted, as SortChildren
// returns them): one entry per child that vanished or appeared, in
// sequence order (by name when two share a sequence, which only children
// of different container incarnations can).
std::vector<ChildChange> DiffChildren(const std::vector<ChildName>& before,
                                      const std::vector<ChildName>& after);

}  // namespace conch::backend::zk
