#include "base/status.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>

namespace conch {

Status Status::With(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return message_;
}

std::string ErrnoString(int err) {
  char buf[256];
  // GNU strerror_r returns a pointer that may or may not be buf.
  const char* msg = strerror_r(err, buf, sizeof(buf));
  return msg;
}

Status FromErrno(const std::string& what, int err) {
  Code code = Code::kInternal;
  switch (err) {
    case ENOENT:
    case ESRCH:
      code = Code::kNotFound;
      break;
    case EEXIST:
      code = Code::kAlreadyExists;
      break;
    case EACCES:
    case EPERM:
    case EINVAL:
    case ENOEXEC:
      code = Code::kInvalidArgument;
      break;
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
      code = Code::kUnavailable;
      break;
    case ETIMEDOUT:
      code = Code::kDeadlineExceeded;
      break;
    default:
      break;
  }
  return Status(code, what + ": " + ErrnoString(err));
}

void CheckFailed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "conch: internal error: %s:%d: check failed: %s\n", file,
               line, cond);
  std::abort();
}

}  // namespace conch
