#include "node/plc_sync.hpp"

#include <charconv>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include "actors/errors.hpp"
#include "actors/node_hmac.hpp"
#include "actors/xmlrpc_client.hpp"

namespace pl::node {

namespace {

std::string trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && blank(s.back()))
    s.remove_suffix(1);
  return std::string{s};
}

} // namespace

caf::expected<node_identity> parse_plnode(std::string_view text, std::string_view source) {
  const std::string src{source};
  std::map<std::string, std::string> vars;
  std::size_t lineno = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    auto line = trim(raw);
    if (line.empty() || line.front() == '#')
      continue;
    auto where = src + ":" + std::to_string(lineno) + ": ";
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(errc::invalid_argument,
                        where + "expected NAME=\"value\", got \"" + line + "\"");
    auto name = trim(std::string_view{line}.substr(0, eq));
    auto value = trim(std::string_view{line}.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
      if (value.back() != value.front())
        return make_error(errc::invalid_argument, where + "unterminated quote in " + name);
      value = value.substr(1, value.size() - 2);
    }
    vars[name] = value;
  }
  node_identity out;
  auto id = vars.find("NODE_ID");
  if (id == vars.end())
    return make_error(errc::invalid_argument, src + ": NODE_ID missing");
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(id->second.data(), id->second.data() + id->second.size(), n);
  if (ec != std::errc{} || end != id->second.data() + id->second.size() || n <= 0 ||
      n > std::numeric_limits<std::int32_t>::max())
    return make_error(errc::invalid_argument,
                      src + ": NODE_ID \"" + id->second + "\" is not a positive integer");
  out.node_id = static_cast<std::int32_t>(n);
  auto key = vars.find("NODE_KEY");
  if (key == vars.end() || key->second.empty())
    return make_error(errc::invalid_argument, src + ": NODE_KEY missing or empty");
  out.node_key = key->second;
  auto host = vars.find("HOST_NAME");
  if (host == vars.end() || host->second.empty())
    return make_error(errc::invalid_argument, src + ": HOST_NAME missing or empty");
  out.hostname = host->second;
  if (auto d = vars.find("DOMAIN_NAME"); d != vars.end() && !d->second.empty())
    out.hostname += "." + d->second;
  if (auto dev = vars.find("NET_DEVICE"); dev != vars.end())
    out.net_device = dev->second;
  return out;
}

caf::expected<node_identity> load_plnode(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(errc::invalid_argument, "cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse_plnode(text.str(), path.string());
}

namespace {

caf::error fault_error(const rpc_result& r, const std::string& method) {
  if (r.is_transport_error())
    return make_error(errc::not_connected, "PLC unreachable: " + method + ": " + r.error);
  auto text = method + ": fault " + std::to_string(r.fault_code) + ": " + r.fault_string;
  if (r.fault_code == 103)
    return make_error(errc::permission_denied, text);
  return make_error(errc::invalid_argument, text);
}

/// One connection to PLC and, in session mode, the node session.
struct plc_link {
  explicit plc_link(plc_sync_options o)
      : opts(std::move(o))
      , rpc({.url = opts.url,
             .ca_file = opts.ca_file,
             .verify = true,
             .connect_timeout = opts.connect_timeout,
             .io_timeout = opts.io_timeout}) {}

  plc_sync_options opts;
  std::mutex mutex;
  xmlrpc_client rpc;
  std::optional<std::string> session;

  xmlrpc_c::value hmac_auth(const std::vector<xmlrpc_c::value>& args) const {
    // GetSlivers and GetSession take only scalars: the message always exists.
    return *hmac::node_auth(opts.node.node_id, opts.node.node_key, args);
  }

  caf::expected<xmlrpc_c::value> auth() {
    if (opts.auth == plc_auth::hmac)
      return hmac_auth({});
    if (!session) {
      auto r = rpc.call("GetSession", {hmac_auth({})});
      if (!r.ok())
        return fault_error(r, "GetSession");
      if (r.value.type() != xmlrpc_c::value::TYPE_STRING)
        return make_error(errc::invalid_argument, "GetSession: expected a string");
      session = xmlrpc_c::value_string(r.value).cvalue();
    }
    std::map<std::string, xmlrpc_c::value> a{
        {"AuthMethod", xmlrpc_c::value_string("session")},
        {"session", xmlrpc_c::value_string(*session)},
    };
    return xmlrpc_c::value{xmlrpc_c::value_struct(a)};
  }

  caf::expected<desired_state> get_slivers() {
    std::lock_guard guard{mutex};
    for (int attempt = 0;; ++attempt) {
      auto a = auth();
      if (!a)
        return a.error();
      auto r = rpc.call("GetSlivers", {*a});
      if (r.is_fault() && r.fault_code == 103 && opts.auth == plc_auth::session && session &&
          attempt == 0) {
        // The session expired or was replaced: get a new one once.
        session.reset();
        continue;
      }
      if (!r.ok())
        return fault_error(r, "GetSlivers");
      return parse_get_slivers(r.value);
    }
  }
};

} // namespace

fetch_fn make_get_slivers_fetch(plc_sync_options options) {
  auto link = std::make_shared<plc_link>(std::move(options));
  return [link] { return link->get_slivers(); };
}

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

/// Sends the GET on `stream` and reads the answer, each step bounded by the
/// deadline of `lowest`.
template <class Stream>
caf::expected<std::string> get_on(Stream& stream, beast::tcp_stream& lowest, const endpoint_url& u,
                                  const std::string& url, const http_get_options& o) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, u.target, 11};
  req.set(bhttp::field::host, u.host);
  req.set(bhttp::field::user_agent, "nodemgr");
  req.set(bhttp::field::connection, "close");
  beast::error_code ec;
  lowest.expires_after(o.timeout);
  bhttp::write(stream, req, ec);
  if (ec)
    return make_error(errc::not_connected, url + ": sending the request: " + ec.message());
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(o.max_body_bytes);
  bhttp::read(stream, buffer, parser, ec);
  if (ec)
    return make_error(errc::not_connected, url + ": reading the answer: " + ec.message());
  auto res = parser.release();
  if (res.result() != bhttp::status::ok)
    return make_error(errc::not_connected, url + ": HTTP " + std::to_string(res.result_int()) +
                                               " " + std::string{res.reason()});
  return std::move(res.body());
}

} // namespace

caf::expected<std::string> http_get(const std::string& url, const http_get_options& o) {
  std::string why;
  auto u = parse_endpoint_url(url, &why);
  if (!u)
    return make_error(errc::not_connected, url + ": " + why);
  net::io_context ioc;
  beast::error_code ec;
  tcp::resolver resolver{ioc};
  auto found = resolver.resolve(u->host, u->port, ec);
  if (ec)
    return make_error(errc::not_connected, url + ": resolving " + u->host + ": " + ec.message());
  if (!u->tls) {
    beast::tcp_stream stream{ioc};
    stream.expires_after(o.timeout);
    stream.connect(found, ec);
    if (ec)
      return make_error(errc::not_connected, url + ": connect: " + ec.message());
    return get_on(stream, stream, *u, url, o);
  }
  ssl::context ctx{ssl::context::tls_client};
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.set_verify_mode(ssl::verify_peer);
  if (o.ca_file.empty())
    ctx.set_default_verify_paths(ec);
  else
    ctx.load_verify_file(o.ca_file, ec);
  if (ec)
    return make_error(errc::not_connected, "CA file '" + o.ca_file + "': " + ec.message());
  ctx.set_verify_callback(ssl::host_name_verification(u->host));
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
  beast::error_code not_ip;
  net::ip::make_address(u->host, not_ip);
  if (not_ip && !SSL_set_tlsext_host_name(stream.native_handle(), u->host.c_str()))
    return make_error(errc::not_connected, url + ": cannot set SNI"); // SNI for names only
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(o.timeout);
  lowest.connect(found, ec);
  if (ec)
    return make_error(errc::not_connected, url + ": connect: " + ec.message());
  stream.handshake(ssl::stream_base::client, ec);
  if (ec)
    return make_error(errc::not_connected, url + ": TLS: " + ec.message());
  return get_on(stream, lowest, *u, url, o);
}

} // namespace pl::node
