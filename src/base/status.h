// Status and Result<T>: how every conch function that can fail for outside
// reasons (network, store, OS, user input) reports it. Conch code neither
// throws nor catches; foreign errors are translated once, at their source
// (FromErrno here, FromGrpc in the etcd backend).
//
// Thread contract: values; safe to move between threads.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace conch {

enum class Code {
  kOk = 0,
  kNotFound,            // the key, lease or process does not exist
  kAlreadyExists,       // create-if-absent found something there
  kUnavailable,         // the store could not be reached; nothing happened
  kDeadlineExceeded,    // no answer in time; the outcome is unknown
  kSessionLost,         // the lease/session is gone; holds under it are void
  kInvalidArgument,     // bad user input
  kFailedPrecondition,  // a fence or compare failed (key not ours)
  kInternal,            // unexpected answer or OS failure
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes context: Status(kUnavailable, "etcd: connection refused")
  //   .With("acquire office \"db\"") -> "acquire office "db": etcd: ...".
  Status With(const std::string& context) const;

  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status Error(Code code, std::string message) {
  return Status(code, std::move(message));
}

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) std::abort();   // ok Status without value
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Translates an errno value, naming what was being attempted:
// FromErrno("spawn \"foo\"", ENOENT) -> kNotFound "spawn "foo": No such
// file..."
Status FromErrno(const std::string& what, int err);

// strerror without the thread-safety hazard.
std::string ErrnoString(int err);

// Bugs are not errors: aborts with file:line.
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond);
#define CONCH_CHECK(cond) \
  ((cond) ? (void)0 : ::conch::CheckFailed(__FILE__, __LINE__, #cond))

#define CONCH_RETURN_IF_ERROR(expr)      \
  do {                                   \
    ::conch::Status conch_s_ = (expr);   \
    if (!conch_s_.ok()) return conch_s_; \
  } while (0)

}  // namespace conch
