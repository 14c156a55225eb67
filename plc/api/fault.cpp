#include "plc/api/fault.hpp"

namespace pl::plc::api {

const char* fault_base(fault_code code) {
  switch (code) {
  case fault_code::invalid_method:
    return "Invalid method";
  case fault_code::invalid_argument_count:
    return "Invalid argument count";
  case fault_code::invalid_argument:
    return "Invalid argument";
  case fault_code::authentication_failure:
    return "Failed to authenticate call";
  case fault_code::db_error:
    return "Database error";
  case fault_code::permission_denied:
    return "Permission denied";
  case fault_code::not_implemented:
    return "Not fully implemented";
  case fault_code::internal_error:
    return "Internal API error";
  }
  return "Error";
}

namespace {

std::string compose(fault_code code, const std::string& detail) {
  // PLCAPI's invalid-method and argument-count faults carry their whole text.
  if (code == fault_code::invalid_method || code == fault_code::invalid_argument_count)
    return detail.empty() ? fault_base(code) : detail;
  return detail.empty() ? fault_base(code) : std::string{fault_base(code)} + ": " + detail;
}

} // namespace

fault::fault(fault_code code, const std::string& detail)
    : std::runtime_error(compose(code, detail))
    , code_(code) {}

fault fault::invalid_value(const std::string& name, const std::string& detail) {
  return fault{verbatim{}, fault_code::invalid_argument, "Invalid " + name + " value: " + detail};
}

} // namespace pl::plc::api
