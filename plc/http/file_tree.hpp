#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace pl::plc::http {

/// A directory whose regular files are published read-only under a URL prefix, such as PLC's
/// `PlanetLabConf/` (the `source` of conf files, fetched by node managers).
struct file_tree {
  /// Names the URL prefix, with leading and trailing slash (`/PlanetLabConf/`).
  std::string prefix = "/PlanetLabConf/";
  /// Names the directory served; files outside it are never opened.
  std::filesystem::path root;
  /// Bounds the size of a file served; a larger one is answered 403 without being read.
  std::size_t max_bytes = 16u << 20;
};

/// The answer to one request for a file of a tree.
struct file_answer {
  unsigned status = 200;
  std::string content_type;
  /// Holds the file's bytes (200) or a one-sentence plain-text reason (any other status).
  std::string body;
};

/// Returns whether `path` (a request target without query) lies under `tree.prefix`.
bool in_tree(const file_tree& tree, std::string_view path);

/// Reads the file that request path `path` (under `tree.prefix`, query stripped) names.
///
/// The rest of the path is percent-decoded and split at `/`; a segment that is empty, `.`, `..`
/// or starts with `.` (hidden files), or a NUL byte, is refused with 403 before anything is
/// opened. The file is opened beneath `tree.root` with `openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS)`, so a symbolic link may point within the tree but one leading out of
/// it is refused (403) and nothing outside is ever read. Missing files and directories are 404,
/// files over `max_bytes` 403, other I/O errors 500. The content type follows the file's
/// extension (`text/plain` for unknown text-like names, `application/octet-stream` otherwise).
file_answer read_tree_file(const file_tree& tree, std::string_view path);

/// Returns the content type served for a file name, by its extension.
std::string content_type_for(std::string_view file_name);

} // namespace pl::plc::http
