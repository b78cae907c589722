// Files compiled into the binary by the CMake function strata_embed_files (see
// src/http/CMakeLists.txt), e.g. the demo page in web/.
#pragma once
#include <string_view>
#include <vector>

#include "http/router.hpp"

namespace strata::http {

struct EmbeddedFile {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view content;       // static storage, may contain NUL bytes
};

// Defined by the generated source of the strata_http_web library (web/*).
const std::vector<EmbeddedFile>& embedded_web_files();

// GET route per file; "/index.html" is also served at "/".
void add_embedded(Router& router, const std::vector<EmbeddedFile>& files);

}  // namespace strata::http
