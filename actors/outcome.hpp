#pragma once

#include <optional>
#include <string>
#include <utility>

// A CAF-free "value or reason" for the plain parts of actors/ (ticket format,
// keys) that must be usable without an actor system. Code beside actors turns
// a failed outcome into a `caf::error` where it needs one.

namespace pl {

/// Carries the reason something failed; converts to any failed `outcome<T>`.
struct failure {
  std::string message;
};

/// Holds either a `T` or the message saying why there is none.
template <class T>
class outcome {
public:
  outcome(T value)
      : value_(std::move(value)) {}
  outcome(failure f)
      : error_(std::move(f.message)) {}

  /// Returns whether a value is present.
  explicit operator bool() const { return value_.has_value(); }

  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

  /// Returns the reason for the failure; empty when a value is present.
  const std::string& error() const { return error_; }

private:
  std::optional<T> value_;
  std::string error_;
};

/// Holds either success or the message saying why the operation failed.
template <>
class outcome<void> {
public:
  outcome() = default;
  outcome(failure f)
      : ok_(false)
      , error_(std::move(f.message)) {}

  explicit operator bool() const { return ok_; }

  const std::string& error() const { return error_; }

private:
  bool ok_ = true;
  std::string error_;
};

} // namespace pl
