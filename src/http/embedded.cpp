#include "http/embedded.hpp"

namespace strata::http {

void add_embedded(Router& router, const std::vector<EmbeddedFile>& files) {
  for (const EmbeddedFile& file : files) {
    std::string content_type(file.content_type);
    std::string content(file.content);
    if (file.path == "/index.html") add_static(router, "/", content_type, content);
    add_static(router, std::string(file.path), std::move(content_type), std::move(content));
  }
}

}  // namespace strata::http
