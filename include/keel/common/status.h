#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace keel {

// Status is the result of an operation that can fail for a reason worth telling a person:
// I/O, configuration, persistence. An OK status holds no allocation.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return message_ == nullptr; }
  // REQUIRES: !ok().
  const std::string& message() const { return *message_; }

 private:
  explicit Status(std::string message)
      : message_(std::make_shared<const std::string>(std::move(message))) {}
  std::shared_ptr<const std::string> message_;
};

}  // namespace keel
