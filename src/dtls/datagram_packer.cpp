#include "dtls/datagram_packer.hpp"

namespace strata::dtls {
namespace {

// Size of the whole record starting at `p` (header + fragment), or the remaining size when
// the header or the fragment is truncated.
size_t record_size(const uint8_t* p, size_t remaining) {
  if (remaining < kDtlsRecordHeaderSize) return remaining;
  size_t size = kDtlsRecordHeaderSize + load_be16(p + 11);
  return size <= remaining ? size : remaining;
}

}  // namespace

void pack_records_into_datagrams(ByteSpan records, size_t mtu, std::vector<Bytes>& out) {
  Bytes current;
  size_t at = 0;
  while (at < records.size()) {
    size_t size = record_size(records.data() + at, records.size() - at);
    if (!current.empty() && current.size() + size > mtu) {
      out.push_back(std::move(current));
      current.clear();
    }
    current.insert(current.end(), records.begin() + at, records.begin() + at + size);
    at += size;
  }
  if (!current.empty()) out.push_back(std::move(current));
}

bool looks_like_dtls(ByteSpan datagram) {
  return datagram.size() >= kDtlsRecordHeaderSize && datagram[0] >= 20 && datagram[0] <= 63;
}

}  // namespace strata::dtls
