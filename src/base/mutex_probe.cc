// Not part of any target: the CONCH_THREAD_SAFETY build compiles this file
// at configure time (src/base/CMakeLists.txt), once per PROBE_CASE, to show
// that the analysis is live. Case 0 keeps every rule and must compile; each
// other case breaks one rule and must fail with a -Wthread-safety error. A
// mutex.h whose macros expanded to nothing would pass case 0 and every
// other case too, and the configure step stops.
#include "base/mutex.h"

namespace conch {

class Probe {
 public:
  void Keep() {
    MutexLock lock(mu_);
    ++count_;
    Bump();
    changed_.Wait(mu_, [&]() REQUIRES(mu_) { return count_ > 0; });
  }

#if PROBE_CASE == 1
  // A guarded field written without its mutex.
  void Break() { ++count_; }
#elif PROBE_CASE == 2
  // A function that needs the mutex called without it.
  void Break() { Bump(); }
#elif PROBE_CASE == 3
  // A predicate that reads a guarded field without saying it needs the
  // mutex (the analysis checks each lambda as a function of its own).
  void Break() {
    MutexLock lock(mu_);
    changed_.Wait(mu_, [&] { return count_ > 0; });
  }
#elif PROBE_CASE == 4
  // A guarded field read after the MutexLock's scope ended.
  int Break() {
    {
      MutexLock lock(mu_);
      ++count_;
    }
    return count_;
  }
#endif

 private:
  void Bump() REQUIRES(mu_) { ++count_; }

  Mutex mu_;
  CondVar changed_;
  int count_ GUARDED_BY(mu_) = 0;
};

}  // namespace conch
