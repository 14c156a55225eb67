#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "plc/http/file_tree.hpp"
#include "plc/http/router.hpp"
#include "plc/http/server.hpp"
#include "tests/plc_http/client.hpp"
#include "tests/plc_http/server_fixture.hpp"

using namespace pl::plc::http;
using namespace pl::plc::http::test;
namespace fs = std::filesystem;

namespace {

/// A scratch directory holding a published tree (`conf/`) and a secret beside it (`secret`).
class scratch_tree {
public:
  scratch_tree() {
    auto pattern = (fs::temp_directory_path() / "plc_file_tree_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    fs::create_directories(dir_ / "conf" / "sub");
    write("secret", "the secret outside the tree\n");
    tree.root = dir_ / "conf";
  }
  ~scratch_tree() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  scratch_tree(const scratch_tree&) = delete;
  scratch_tree& operator=(const scratch_tree&) = delete;

  void write(const fs::path& relative, const std::string& bytes) {
    std::ofstream out{dir_ / relative, std::ios::binary};
    out << bytes;
    if (!out.flush())
      throw std::runtime_error("cannot write " + relative.string());
  }
  fs::path path(const fs::path& relative) const { return dir_ / relative; }

  file_tree tree;

private:
  fs::path dir_;
};

/// Every byte value, so a byte-exact answer is checked for text and binary alike.
std::string all_bytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i)
    bytes += static_cast<char>(i);
  return bytes + "\r\n\0tail";
}

} // namespace

TEST_CASE("a file of the tree is read byte for byte with its content type", "[file_tree]") {
  scratch_tree t;
  t.write("conf/blob.bin", all_bytes());
  t.write("conf/sub/ntp.conf", "server pool.ntp.org\n");
  t.write("conf/sudoers", "root ALL=(ALL) ALL\n");
  auto blob = read_tree_file(t.tree, "/PlanetLabConf/blob.bin");
  CHECK(blob.status == 200);
  CHECK(blob.body == all_bytes());
  CHECK(blob.content_type == "application/octet-stream");
  auto ntp = read_tree_file(t.tree, "/PlanetLabConf/sub/ntp.conf");
  CHECK(ntp.status == 200);
  CHECK(ntp.body == "server pool.ntp.org\n");
  CHECK(ntp.content_type == "text/plain; charset=utf-8");
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/sudoers").body == "root ALL=(ALL) ALL\n");
  // Percent escapes are decoded: a name with a space.
  t.write("conf/with space.txt", "spaced\n");
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/with%20space.txt").body == "spaced\n");
  t.write("conf/empty", "");
  auto empty = read_tree_file(t.tree, "/PlanetLabConf/empty");
  CHECK(empty.status == 200);
  CHECK(empty.body.empty());
}

TEST_CASE("missing files, directories and other prefixes are 404", "[file_tree]") {
  scratch_tree t;
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/nothing").status == 404);
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/sub").status == 404);
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/sub/nothing/deeper").status == 404);
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/").status == 404);
  CHECK(read_tree_file(t.tree, "/Other/secret").status == 404);
  // A FIFO is not a regular file, and opening it does not block.
  REQUIRE(::mkfifo(t.path("conf/fifo").c_str(), 0600) == 0);
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/fifo").status == 404);
  // A tree whose directory does not exist serves nothing.
  file_tree gone = t.tree;
  gone.root = t.path("no-such-dir");
  CHECK(read_tree_file(gone, "/PlanetLabConf/anything").status == 404);
}

TEST_CASE("traversal is refused and nothing outside the tree is read", "[file_tree]") {
  scratch_tree t;
  t.write("conf/.hidden", "hidden\n");
  for (auto path : {"/PlanetLabConf/../secret", "/PlanetLabConf/sub/../../secret",
                    "/PlanetLabConf/%2e%2e/secret", "/PlanetLabConf/%2E%2E%2Fsecret",
                    "/PlanetLabConf/sub/..%2f..%2fsecret", "/PlanetLabConf//etc/passwd",
                    "/PlanetLabConf/%2fetc%2fpasswd", "/PlanetLabConf/./sub",
                    "/PlanetLabConf/.hidden", "/PlanetLabConf/sub/", "/PlanetLabConf/a%00b"}) {
    CAPTURE(path);
    auto answer = read_tree_file(t.tree, path);
    CHECK(answer.status == 403);
    CHECK(answer.body.find("secret outside") == std::string::npos);
    CHECK(answer.body.find("root:") == std::string::npos);
  }
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/%zz").status == 400);
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/x%2").status == 400);
}

TEST_CASE("symbolic links may stay inside the tree but not lead out of it", "[file_tree]") {
  scratch_tree t;
  t.write("conf/sub/real.conf", "inside\n");
  fs::create_symlink("sub/real.conf", t.path("conf/alias.conf"));
  fs::create_symlink("../secret", t.path("conf/escape"));
  fs::create_symlink(t.path("secret"), t.path("conf/absolute"));
  fs::create_directory_symlink("..", t.path("conf/up"));
  fs::create_symlink("/etc/passwd", t.path("conf/passwd"));
  auto alias = read_tree_file(t.tree, "/PlanetLabConf/alias.conf");
  CHECK(alias.status == 200);
  CHECK(alias.body == "inside\n");
  for (auto path : {"/PlanetLabConf/escape", "/PlanetLabConf/absolute", "/PlanetLabConf/up/secret",
                    "/PlanetLabConf/passwd"}) {
    CAPTURE(path);
    auto answer = read_tree_file(t.tree, path);
    CHECK((answer.status == 403 || answer.status == 404));
    CHECK(answer.body.find("secret outside") == std::string::npos);
    CHECK(answer.body.find("root:") == std::string::npos);
  }
}

TEST_CASE("a file over the size limit is refused", "[file_tree]") {
  scratch_tree t;
  t.tree.max_bytes = 10;
  t.write("conf/small", "0123456789");
  t.write("conf/large", "0123456789A");
  CHECK(read_tree_file(t.tree, "/PlanetLabConf/small").body == "0123456789");
  auto large = read_tree_file(t.tree, "/PlanetLabConf/large");
  CHECK(large.status == 403);
  CHECK(large.body.find("limit of 10 bytes") != std::string::npos);
}

TEST_CASE("content types follow the extension", "[file_tree]") {
  CHECK(content_type_for("sudoers") == "text/plain; charset=utf-8");
  CHECK(content_type_for("a/b/syslog.conf") == "text/plain; charset=utf-8");
  CHECK(content_type_for("keys.PEM") == "application/x-pem-file");
  CHECK(content_type_for("bootstrap.tar.gz") == "application/gzip");
  CHECK(content_type_for("x.weird") == "application/octet-stream");
}

TEST_CASE("the router sends a tree's paths to it for GET and HEAD only", "[router][file_tree]") {
  std::vector<file_tree> trees{file_tree{}};
  CHECK(route_request("GET", "/PlanetLabConf/sudoers", "", nullptr, &trees).kind ==
        route_kind::file);
  CHECK(route_request("HEAD", "/PlanetLabConf/a/b?node_id=3", "", nullptr, &trees).kind ==
        route_kind::file);
  for (auto method : {"POST", "PUT", "DELETE"}) {
    auto r = route_request(method, "/PlanetLabConf/sudoers", "text/xml", nullptr, &trees);
    CHECK(r.status == 405);
    CHECK(r.allow == "GET, HEAD");
  }
  CHECK(route_request("GET", "/PlanetLabConf/sudoers", "").status == 404); // no trees
  CHECK(route_request("GET", "/PlanetLabConfX", "", nullptr, &trees).status == 404);
}

TEST_CASE("the server serves a tree's files by GET and HEAD", "[server][file_tree]") {
  bool tls = GENERATE(false, true);
  CAPTURE(tls);
  scratch_tree t;
  t.write("conf/blob.bin", all_bytes());
  auto config = test_config(tls);
  config.file_trees.push_back(t.tree);
  bool handler_called = false;
  running_server srv{std::move(config), [&](std::string_view, const request_info&) {
                       handler_called = true;
                       return std::string{"<unexpected/>"};
                     }};
  client c{srv.port(), tls};
  auto res = c.request(make_request(bhttp::verb::get, "/PlanetLabConf/blob.bin?node_id=7"));
  CHECK(res.result_int() == 200);
  CHECK(res[bhttp::field::content_type] == "application/octet-stream");
  CHECK(res.body() == all_bytes());
  auto head = c.request(make_request(bhttp::verb::head, "/PlanetLabConf/blob.bin"));
  CHECK(head.result_int() == 200);
  CHECK(head[bhttp::field::content_length] == std::to_string(all_bytes().size()));
  CHECK(head.body().empty());
  auto missing = c.request(make_request(bhttp::verb::get, "/PlanetLabConf/nothing"));
  CHECK(missing.result_int() == 404);
  auto escape = c.request(make_request(bhttp::verb::get, "/PlanetLabConf/%2e%2e/secret"));
  CHECK(escape.result_int() == 403);
  CHECK(escape.body().find("secret outside") == std::string::npos);
  // Still the same keep-alive connection; a POST there is refused without reading it.
  CHECK(c.request(make_request(bhttp::verb::post, "/PlanetLabConf/blob.bin", "<x/>", "text/xml"))
            .result_int() == 405);
  CHECK_FALSE(handler_called);
}
