// Mutex, MutexLock and CondVar: the one way to share state between threads,
// annotated so that clang's thread-safety analysis (-Wthread-safety, the
// CONCH_THREAD_SAFETY build) proves at compile time that every field marked
// GUARDED_BY(mu) is touched only with mu held, and every function marked
// REQUIRES(mu) is called only with mu held.
//
//   class Counter {
//    public:
//     void Add() {
//       MutexLock lock(mu_);
//       ++count_;
//       changed_.NotifyAll();
//     }
//     void AwaitPositive() {
//       MutexLock lock(mu_);
//       changed_.Wait(mu_, [&]() REQUIRES(mu_) { return count_ > 0; });
//     }
//    private:
//     Mutex mu_;
//     CondVar changed_;
//     int count_ GUARDED_BY(mu_) = 0;
//   };
//
// The macros follow the attribute names of clang's documentation
// (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html) and expand to
// nothing on compilers without the attributes (g++), which then build the
// same code unchecked.
//
// The analysis checks each function body on its own, and a lambda is a
// function of its own: a lambda that reads guarded fields (a CondVar
// predicate) says so with REQUIRES(mu) after its parameter list.
//
// Thread contract: Mutex and CondVar are safe from any thread; a MutexLock
// belongs to the thread that made it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <utility>

// g++ knows __has_attribute but none of these attributes.
#if defined(__has_attribute)
#if __has_attribute(guarded_by)
#define CONCH_THREAD_ANNOTATION_(x) __attribute__((x))
#endif
#endif
#ifndef CONCH_THREAD_ANNOTATION_
#define CONCH_THREAD_ANNOTATION_(x)
#endif

// On a class: its objects are capabilities (locks) named `x` in warnings.
#define CAPABILITY(x) CONCH_THREAD_ANNOTATION_(capability(x))
// On a class: its objects hold a capability from construction to
// destruction (an RAII guard).
#define SCOPED_CAPABILITY CONCH_THREAD_ANNOTATION_(scoped_lockable)
// On a field: reading or writing it needs `x` held.
#define GUARDED_BY(x) CONCH_THREAD_ANNOTATION_(guarded_by(x))
// On a pointer field: what it points to needs `x` held (the pointer itself
// does not).
#define PT_GUARDED_BY(x) CONCH_THREAD_ANNOTATION_(pt_guarded_by(x))
// On a capability field: the order in which capabilities are taken.
#define ACQUIRED_BEFORE(...) \
  CONCH_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) \
  CONCH_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))
// On a function: its callers must hold the capabilities (exclusively, or at
// least shared).
#define REQUIRES(...) CONCH_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) \
  CONCH_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
// On a function: it takes the capabilities and returns holding them (with
// no argument on a capability's own member: the object itself).
#define ACQUIRE(...) CONCH_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) \
  CONCH_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
// On a function: it lets go of capabilities its caller held.
#define RELEASE(...) CONCH_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) \
  CONCH_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
// On a function: it takes the capabilities when it returns `result`.
#define TRY_ACQUIRE(...) \
  CONCH_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
// On a function: its callers must not hold the capabilities (it takes them
// itself; a caller holding one would deadlock).
#define EXCLUDES(...) CONCH_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
// On a function: it checks at run time that the capability is held, and
// the analysis takes that as given from then on.
#define ASSERT_CAPABILITY(x) CONCH_THREAD_ANNOTATION_(assert_capability(x))
// On a function returning a capability: which one it is.
#define RETURN_CAPABILITY(x) CONCH_THREAD_ANNOTATION_(lock_returned(x))
// On a function: the analysis skips its body. Each use says why.
#define NO_THREAD_SAFETY_ANALYSIS \
  CONCH_THREAD_ANNOTATION_(no_thread_safety_analysis)

namespace conch {

// A std::mutex the analysis can see. Prefer MutexLock to Lock/Unlock.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Blocks until this thread holds the mutex. Not recursive.
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from construction to the end of the scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable over a Mutex. Every wait needs the mutex held, lets
// go of it while blocked, and holds it again when the predicate runs and
// when the wait returns; the predicate is annotated REQUIRES(mu) when it
// reads guarded fields. Notify* need not hold the mutex.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

  // Blocks until pred() is true.
  template <typename Predicate>
  void Wait(Mutex& mu, Predicate pred) REQUIRES(mu) {
    Adopted lock(mu);
    cv_.wait(lock.get(), std::move(pred));
  }

  // Blocks until pred() is true or `timeout` has passed on the steady
  // clock; returns pred().
  template <typename Rep, typename Period, typename Predicate>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> timeout,
               Predicate pred) REQUIRES(mu) {
    Adopted lock(mu);
    return cv_.wait_for(lock.get(), timeout, std::move(pred));
  }

  // Blocks until pred() is true or `deadline` comes; returns pred().
  template <typename Clock, typename ClockDuration, typename Predicate>
  bool WaitUntil(Mutex& mu,
                 std::chrono::time_point<Clock, ClockDuration> deadline,
                 Predicate pred) REQUIRES(mu) {
    Adopted lock(mu);
    return cv_.wait_until(lock.get(), deadline, std::move(pred));
  }

  // As above, and also returns (with pred()'s value) once `stop` is
  // requested: a std::jthread's loop waits this way.
  template <typename Predicate>
  bool Wait(Mutex& mu, const std::stop_token& stop, Predicate pred)
      REQUIRES(mu) {
    Adopted lock(mu);
    return cv_.wait(lock.get(), stop, std::move(pred));
  }
  template <typename Rep, typename Period, typename Predicate>
  bool WaitFor(Mutex& mu, const std::stop_token& stop,
               std::chrono::duration<Rep, Period> timeout, Predicate pred)
      REQUIRES(mu) {
    Adopted lock(mu);
    return cv_.wait_for(lock.get(), stop, timeout, std::move(pred));
  }

 private:
  // Lends the std::mutex of a Mutex the caller already holds to the
  // standard wait, which unlocks and relocks it, and hands it back locked:
  // the caller's lock, as the analysis sees it, is never given up.
  class Adopted {
   public:
    explicit Adopted(Mutex& mu) : lock_(mu.mu_, std::adopt_lock) {}
    ~Adopted() { lock_.release(); }
    Adopted(const Adopted&) = delete;
    Adopted& operator=(const Adopted&) = delete;
    std::unique_lock<std::mutex>& get() { return lock_; }

   private:
    std::unique_lock<std::mutex> lock_;
  };

  // _any for the stop_token waits, which std::condition_variable lacks.
  std::condition_variable_any cv_;
};

}  // namespace conch
