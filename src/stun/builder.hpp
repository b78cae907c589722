// STUN message construction (RFC 8489). Attributes are appended in call order; finish()
// appends MESSAGE-INTEGRITY and FINGERPRINT, which must come last (§14.5, §14.7), and
// returns the bytes. Used for ICE-lite responses and by tests acting as the ICE client.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"
#include "common/socket_address.hpp"
#include "stun/message.hpp"

namespace strata::stun {

class MessageBuilder {
 public:
  MessageBuilder(MessageClass cls, uint16_t method, const TransactionId& transaction_id);

  static MessageBuilder binding_request(const TransactionId& tid) {
    return MessageBuilder(MessageClass::kRequest, kMethodBinding, tid);
  }
  static MessageBuilder binding_success(const TransactionId& tid) {
    return MessageBuilder(MessageClass::kSuccessResponse, kMethodBinding, tid);
  }
  static MessageBuilder binding_error(const TransactionId& tid) {
    return MessageBuilder(MessageClass::kErrorResponse, kMethodBinding, tid);
  }

  MessageBuilder& add_username(std::string_view username);
  MessageBuilder& add_priority(uint32_t priority);
  MessageBuilder& add_use_candidate();
  MessageBuilder& add_ice_controlling(uint64_t tie_breaker);
  MessageBuilder& add_ice_controlled(uint64_t tie_breaker);
  MessageBuilder& add_xor_mapped_address(const SocketAddress& address);
  // code 300..699; the reason phrase should be short (< 128 characters, §14.8).
  MessageBuilder& add_error_code(uint16_t code, std::string_view reason);
  // Any attribute; the value is zero-padded to a multiple of 4.
  MessageBuilder& add_attribute(uint16_t type, ByteSpan value);

  // Appends MESSAGE-INTEGRITY keyed with `integrity_key` when given (short-term
  // credentials: the password), then FINGERPRINT when `fingerprint`, fixing the header
  // length before each as §14.5/§14.7 require. The builder is spent afterwards.
  Bytes finish(std::optional<std::string_view> integrity_key, bool fingerprint = true);

 private:
  // Reserves an attribute of `length` value bytes (zero padded) and returns its value start.
  size_t append_attribute(uint16_t type, size_t length);
  void set_length(size_t body_length);

  Bytes buf_;
};

TransactionId random_transaction_id();

}  // namespace strata::stun
