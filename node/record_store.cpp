#include "node/record_store.hpp"
#include "node/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/errors.hpp"

namespace pl::node {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sliver_record& x) {
  return f(caf::meta::type_name("sliver_record"), x.spec, x.timestamp, x.instantiated, x.held,
           x.loans, x.overrides, x.removal, x.phase, x.applied_spec, x.applied_rspec,
           x.initscript_ran);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_records& x) {
  return f(caf::meta::type_name("node_records"), x.min_timestamp, x.slivers);
}

namespace {

constexpr std::string_view magic = "plnm-records 1\n";

caf::error io_error(const std::string& what, const std::filesystem::path& p) {
  return make_error(errc::mechanism_failure, what + " " + p.string() + ": " + std::strerror(errno));
}

} // namespace

caf::expected<std::optional<node_records>> record_store::load() const {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec))
    return std::optional<node_records>{};
  std::ifstream in(file_, std::ios::binary);
  if (!in)
    return io_error("cannot open", file_);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    return io_error("cannot read", file_);
  if (bytes.size() < magic.size() || std::string_view(bytes.data(), magic.size()) != magic)
    return make_error(errc::invalid_argument,
                      file_.string() + ": not a node manager record file (version 1)");
  std::vector<char> payload(bytes.begin() + static_cast<std::ptrdiff_t>(magic.size()), bytes.end());
  node_records records;
  caf::binary_deserializer source{nullptr, payload};
  if (auto err = source(records))
    return make_error(errc::invalid_argument, file_.string() + ": damaged: " + to_string(err));
  if (source.remaining() != 0)
    return make_error(errc::invalid_argument, file_.string() + ": damaged: trailing bytes");
  return std::optional<node_records>{std::move(records)};
}

caf::error record_store::save(const node_records& records) const {
  std::vector<char> payload;
  caf::binary_serializer sink{nullptr, payload};
  auto copy = records;
  if (auto err = sink(copy))
    return make_error(errc::invalid_argument, "cannot encode the records: " + to_string(err));
  auto dir = file_.parent_path();
  if (dir.empty())
    dir = ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::mechanism_failure,
                      "cannot create " + dir.string() + ": " + ec.message());
  std::string text{magic};
  text.append(payload.data(), payload.size());
  if (auto why = replace_file(file_, text))
    return make_error(errc::mechanism_failure, *why);
  return caf::none;
}

} // namespace pl::node
