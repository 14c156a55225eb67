#include "actors/records.hpp"

#include <array>
#include <utility>

namespace pl {

std::string to_string(sliver_phase x) {
  switch (x) {
  case sliver_phase::pending:
    return "pending";
  case sliver_phase::created:
    return "created";
  case sliver_phase::running:
    return "running";
  case sliver_phase::stopped:
    return "stopped";
  case sliver_phase::destroyed:
    return "destroyed";
  case sliver_phase::failed:
    return "failed";
  }
  return "sliver_phase(" + std::to_string(static_cast<int>(x)) + ")";
}

namespace {

constexpr std::array<std::pair<proper_op, std::string_view>, 10> proper_op_names{{
    {proper_op::version, "version"},
    {proper_op::open_file, "open_file"},
    {proper_op::set_file_flags, "set_file_flags"},
    {proper_op::get_file_flags, "get_file_flags"},
    {proper_op::mount_dir, "mount_dir"},
    {proper_op::unmount, "unmount"},
    {proper_op::exec, "exec"},
    {proper_op::wait, "wait"},
    {proper_op::create_socket, "create_socket"},
    {proper_op::bind_socket, "bind_socket"},
}};

} // namespace

std::string to_string(proper_op x) {
  for (const auto& [op, name] : proper_op_names)
    if (op == x)
      return std::string{name};
  return "proper_op(" + std::to_string(static_cast<int>(x)) + ")";
}

std::optional<proper_op> parse_proper_op(std::string_view name) {
  for (const auto& [op, text] : proper_op_names)
    if (text == name)
      return op;
  return std::nullopt;
}

} // namespace pl
