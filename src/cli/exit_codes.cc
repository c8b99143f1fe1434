#include "cli/exit_codes.h"

namespace conch::cli {

int ExitCodeForStartError(const Status& status) {
  switch (status.code()) {
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      return kExitUnavailable;
    case Code::kInvalidArgument:
      return kExitUsage;
    default:
      return kExitNotAcquired;
  }
}

}  // namespace conch::cli
