// DCEP fuzz body: a data channel's first message on its stream is a stranger's bytes
// (RFC 8832 §5, PPID 50). Whatever parses must re-serialize to the same bytes (one meaning
// per message); a label or protocol that parses is UTF-8.
#include "common/bytes.hpp"
#include "datachannel/dcep.hpp"
#include "targets.hpp"

namespace strata::fuzz {

int dcep_one_input(const uint8_t* data, size_t size) {
  using namespace strata::datachannel;
  const ByteSpan bytes(data, size);
  const DcepMessage m = parse_dcep(bytes);
  if (const auto* open = std::get_if<OpenMessage>(&m)) {
    STRATA_FUZZ_CHECK("dcep", is_utf8(open->label) && is_utf8(open->protocol));
    const Bytes again = serialize_open(*open);
    const auto reparsed = parse_dcep(again);
    STRATA_FUZZ_CHECK("dcep", std::holds_alternative<OpenMessage>(reparsed) && std::get<OpenMessage>(reparsed) == *open);
    // Byte-identical unless a reliable channel carried a parameter, which a receiver ignores.
    if (open->options.reliability != Reliability::kReliable || load_be32(data + 4) == 0)
      STRATA_FUZZ_CHECK("dcep", again == Bytes(bytes.begin(), bytes.end()));
  } else if (std::holds_alternative<AckMessage>(m)) {
    STRATA_FUZZ_CHECK("dcep", size == 1);
  }
  return 0;
}

}  // namespace strata::fuzz
