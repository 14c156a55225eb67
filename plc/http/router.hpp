#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plc/http/file_tree.hpp"

namespace pl::plc::http {

/// Names what the server does with a request once its header has been read.
enum class route_kind {
  rpc,      ///< read the body and pass it to the XML-RPC handler
  healthz,  ///< answer the liveness probe
  metrics,  ///< render the Prometheus metrics
  document, ///< answer one of the server's fixed documents (e.g. `/ticket-key.pem`)
  file,     ///< answer a file of one of the server's file trees (e.g. `/PlanetLabConf/...`)
  error,    ///< answer `status` with `message` without reading the body
};

/// Describes how to answer one request.
struct route {
  route_kind kind = route_kind::error;
  unsigned status = 200;
  /// Holds the plain-text body of an error answer.
  std::string message;
  /// Holds the value of the `Allow` header of a 405 answer.
  std::string_view allow;
};

/// A fixed document the server publishes by GET and HEAD, such as PLC's ticket key.
struct document {
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Maps request paths (`/ticket-key.pem`) to their documents.
using document_map = std::map<std::string, document, std::less<>>;

/// Decides how to answer a request from its method, target and `Content-Type` alone.
///
/// Kept free of I/O so the whole routing table is tested directly. XML-RPC is served at
/// `/PLCAPI/` (and `/PLCAPI`) by POST with an XML content type; `/healthz`, `/metrics` and the
/// paths of `documents` and every path under the prefix of one of `trees` answer GET and HEAD;
/// everything else is 404, 405 or 415 with a sentence saying what to do instead.
route route_request(std::string_view method, std::string_view target, std::string_view content_type,
                    const document_map* documents = nullptr,
                    const std::vector<file_tree>* trees = nullptr);

/// Returns whether a `Content-Type` value names XML (`text/xml` or `application/xml`, any case,
/// parameters such as `charset` allowed).
bool is_xml_content_type(std::string_view content_type);

} // namespace pl::plc::http
