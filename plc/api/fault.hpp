#pragma once

#include <stdexcept>
#include <string>

namespace pl::plc::api {

/// PLCAPI's fault codes (PLC/Faults.py); clients match on these numbers.
enum class fault_code : int {
  invalid_method = 100,
  invalid_argument_count = 101,
  invalid_argument = 102,
  authentication_failure = 103,
  db_error = 106,
  permission_denied = 108,
  not_implemented = 109,
  internal_error = 111,
};

/// Returns PLCAPI's fixed text that starts every fault string of `code`.
const char* fault_base(fault_code code);

/// Carries a PLCAPI fault from a method handler to the API edge, where it
/// becomes an XML-RPC fault. Only thrown within one synchronous call.
class fault : public std::runtime_error {
public:
  /// Makes a fault whose string is PLCAPI's "<base>: <detail>" (or the base alone).
  fault(fault_code code, const std::string& detail = {});

  /// Makes PLCAPI's named invalid-argument fault: "Invalid <name> value: <detail>".
  static fault invalid_value(const std::string& name, const std::string& detail);

  fault_code code() const { return code_; }

private:
  struct verbatim {};
  fault(verbatim, fault_code code, const std::string& text)
      : std::runtime_error(text)
      , code_(code) {}

  fault_code code_;
};

} // namespace pl::plc::api
