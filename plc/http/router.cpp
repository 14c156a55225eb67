#include "plc/http/router.hpp"

#include <algorithm>
#include <cctype>

namespace pl::plc::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

route to(route_kind kind) {
  route r;
  r.kind = kind;
  return r;
}

route error(unsigned status, std::string message, std::string_view allow = {}) {
  return route{route_kind::error, status, std::move(message), allow};
}

} // namespace

bool is_xml_content_type(std::string_view content_type) {
  auto media = trim(content_type.substr(0, content_type.find(';')));
  return iequals(media, "text/xml") || iequals(media, "application/xml");
}

route route_request(std::string_view method, std::string_view target, std::string_view content_type,
                    const document_map* documents, const std::vector<file_tree>* trees) {
  auto path = target.substr(0, target.find('?'));
  if (path == "/PLCAPI/" || path == "/PLCAPI") {
    if (method != "POST")
      return error(405, "method not allowed: XML-RPC calls are POST requests\n", "POST");
    if (!is_xml_content_type(content_type))
      return error(415, "unsupported content type '" + std::string{content_type} +
                            "': XML-RPC requests need Content-Type: text/xml\n");
    return to(route_kind::rpc);
  }
  if (path == "/healthz" || path == "/metrics") {
    if (method != "GET" && method != "HEAD")
      return error(405, "method not allowed: use GET\n", "GET, HEAD");
    return to(path == "/healthz" ? route_kind::healthz : route_kind::metrics);
  }
  if (documents != nullptr && documents->find(path) != documents->end()) {
    if (method != "GET" && method != "HEAD")
      return error(405, "method not allowed: use GET\n", "GET, HEAD");
    return to(route_kind::document);
  }
  if (trees != nullptr && std::any_of(trees->begin(), trees->end(), [path](const file_tree& tree) {
        return in_tree(tree, path);
      })) {
    if (method != "GET" && method != "HEAD")
      return error(405, "method not allowed: files are read with GET\n", "GET, HEAD");
    return to(route_kind::file);
  }
  return error(404, "not found: XML-RPC is served at /PLCAPI/\n");
}

} // namespace pl::plc::http
