#include "dtls/dtls_transport.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "dtls/datagram_packer.hpp"
#include "dtls/retired_dtls.hpp"
#include "dtls/ssl_context.hpp"

namespace strata::dtls {
namespace {

// RFC 5764 §4.2: the exporter label for DTLS-SRTP keying material.
constexpr char kSrtpExporterLabel[] = "EXTRACTOR-dtls_srtp";
// Largest plaintext of one TLS/DTLS record (RFC 6347 §4.1 / RFC 5246 §6.2.1).
constexpr size_t kMaxRecordPlaintext = 16384;

struct SslDeleter { void operator()(SSL* s) const { SSL_free(s); } };

uint32_t clamp_micros(Duration d) {
  int64_t us = std::clamp<int64_t>(d.count(), 1'000, 60'000'000);
  return uint32_t(us);
}

std::optional<SrtpProfile> profile_from_id(unsigned long id) {
  switch (id) {
    case SRTP_AEAD_AES_128_GCM: return SrtpProfile::kAeadAes128Gcm;
    case SRTP_AES128_CM_SHA1_80: return SrtpProfile::kAes128CmHmacSha1_80;
    default: return std::nullopt;
  }
}

}  // namespace

const char* to_string(State state) {
  switch (state) {
    case State::kNew: return "new";
    case State::kConnecting: return "connecting";
    case State::kConnected: return "connected";
    case State::kClosed: return "closed";
    case State::kFailed: return "failed";
  }
  return "?";
}

class DtlsTransport::Impl {
 public:
  Impl(std::shared_ptr<const Certificate> cert, Role role, const std::string& algorithm,
       Bytes fingerprint, TransportOptions options)
      : cert_(std::move(cert)), role_(role), options_(std::move(options)) {
    setup(algorithm, std::move(fingerprint));
  }

  void start(Timestamp now);
  void handle_datagram(ByteSpan data, Timestamp now);
  void handle_timeout(Timestamp now);
  void close(Timestamp now);
  bool send_application_data(ByteSpan data, Timestamp now);
  size_t max_application_data_size() const {
    return state_ == State::kConnected && ssl_ ? DTLS_get_data_mtu(ssl_.get()) : 0;
  }
  bool retired() const { return retired_.has_value(); }

  std::vector<Bytes> take_outgoing() { return std::exchange(outgoing_, {}); }
  std::vector<Bytes> take_application_data() { return std::exchange(application_in_, {}); }
  Timestamp next_timeout() const { return next_timeout_; }
  State state() const { return state_; }
  const std::string& failure_reason() const { return failure_reason_; }
  bool peer_closed() const { return peer_closed_; }
  Role role() const { return role_; }
  const std::optional<SrtpKeys>& srtp_keys() const { return keys_; }
  const Counters& counters() const { return counters_; }

 private:
  bool active() const { return state_ == State::kConnecting || state_ == State::kConnected; }
  void setup(const std::string& algorithm, Bytes fingerprint);
  bool create_ssl();
  void drive_handshake();
  void on_handshake_complete();
  bool peer_certificate_matches();
  bool export_srtp_keys();
  void read_application_records();
  void on_close_notify();
  void discard_unread_input();
  void fail(std::string reason);
  bool fail_false(std::string reason) { fail(std::move(reason)); return false; }
  void flush_output();
  void renew_bios();
  void release_idle_buffers();
  bool reclaim_buffers();
  void update_timer(Timestamp now);
  void retire();
  void handle_retired_datagram(ByteSpan data);

  std::shared_ptr<const Certificate> cert_;
  Role role_;
  TransportOptions options_;
  SessionHooks hooks_;  // the SSL's ex_data points here; Impl never moves
  std::unique_ptr<SSL, SslDeleter> ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_: datagrams from the peer
  BIO* wbio_ = nullptr;  // owned by ssl_: records OpenSSL wants sent
  State state_ = State::kNew;
  std::string failure_reason_;
  bool peer_closed_ = false;
  std::optional<SrtpKeys> keys_;
  Timestamp next_timeout_ = kNever;
  std::vector<Bytes> outgoing_;
  std::vector<Bytes> application_in_;
  bool bios_renewed_ = false;  // the handshake's grown memory BIOs were replaced
  bool buffers_released_ = false;  // SSL_free_buffers succeeded; SSL_alloc_buffers before use
  std::vector<Bytes> final_flight_;   // the server's last flight, kept for retire()
  std::optional<RetiredDtls> retired_;  // set: ssl_ is gone (options_.retire_after_handshake)
  Counters counters_;
};

void DtlsTransport::Impl::setup(const std::string& algorithm, Bytes fingerprint) {
  if (!cert_ || !cert_->ssl_ctx()) return fail("no local certificate");
  hooks_.fingerprint_md = digest_for_algorithm(algorithm);
  if (!hooks_.fingerprint_md) return fail("unsupported fingerprint algorithm '" + algorithm + "'");
  if (fingerprint.size() != size_t(EVP_MD_get_size(hooks_.fingerprint_md))) {
    return fail("remote fingerprint has " + std::to_string(fingerprint.size()) + " bytes, " +
                algorithm + " needs " + std::to_string(EVP_MD_get_size(hooks_.fingerprint_md)));
  }
  hooks_.expected_fingerprint = std::move(fingerprint);
  hooks_.initial_timeout_us = clamp_micros(options_.initial_retransmit_timeout);
  hooks_.max_timeout_us = std::max(hooks_.initial_timeout_us, clamp_micros(options_.max_retransmit_timeout));
  if (!create_ssl()) fail("DTLS setup failed: " + take_openssl_errors());
}

bool DtlsTransport::Impl::create_ssl() {
  ERR_clear_error();
  ssl_.reset(SSL_new(cert_->ssl_ctx()));
  if (!ssl_) return false;
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  if (!rbio_ || !wbio_) {
    BIO_free(rbio_);
    BIO_free(wbio_);
    return false;
  }
  // An empty memory BIO must mean "retry later", not end-of-file.
  BIO_set_mem_eof_return(rbio_, -1);
  BIO_set_mem_eof_return(wbio_, -1);
  SSL_set_bio(ssl_.get(), rbio_, wbio_);
  attach_session_hooks(ssl_.get(), &hooks_);
  if (options_.srtp_profiles != kDefaultSrtpProfiles &&
      SSL_set_tlsext_use_srtp(ssl_.get(), options_.srtp_profiles.c_str()) != 0) {  // 0 = success
    return false;
  }
  // We cannot query a path MTU through a memory BIO, so we fix it (SSL_OP_NO_QUERY_MTU is
  // set on the context); OpenSSL then fragments handshake messages to fit.
  if (DTLS_set_link_mtu(ssl_.get(), long(options_.mtu)) != 1) return false;
  if (role_ == Role::kClient) {
    SSL_set_connect_state(ssl_.get());
  } else {
    SSL_set_accept_state(ssl_.get());
  }
  return true;
}

void DtlsTransport::Impl::start(Timestamp now) {
  if (state_ != State::kNew) return;
  state_ = State::kConnecting;
  if (role_ == Role::kClient) drive_handshake();  // writes the ClientHello
  flush_output();
  update_timer(now);
}

void DtlsTransport::Impl::handle_datagram(ByteSpan data, Timestamp now) {
  if (state_ == State::kNew && role_ == Role::kServer) start(now);
  if (!active() || !looks_like_dtls(data)) {
    ++counters_.datagrams_ignored;
    return;
  }
  ++counters_.datagrams_in;
  if (retired_) return handle_retired_datagram(data);
  if (!reclaim_buffers()) return;
  BIO_write(rbio_, data.data(), int(data.size()));
  const bool was_connecting = state_ == State::kConnecting;
  const size_t sent_before = outgoing_.size();
  if (state_ == State::kConnecting) drive_handshake();
  if (state_ == State::kConnected) read_application_records();
  discard_unread_input();
  flush_output();
  // The flight that completed a server's handshake is its last (ChangeCipherSpec, Finished).
  if (was_connecting && state_ == State::kConnected && role_ == Role::kServer)
    final_flight_.assign(outgoing_.begin() + std::ptrdiff_t(sent_before), outgoing_.end());
  if (state_ == State::kConnected && options_.retire_after_handshake) retire();
  update_timer(now);
}

// Frees the SSL once the keys are out and nothing is pending; keeps it when the suite is
// not one RetiredDtls handles.
void DtlsTransport::Impl::retire() {
  if (retired_ || !ssl_ || BIO_ctrl_pending(wbio_) > 0 || SSL_pending(ssl_.get()) > 0) return;
  retired_ = RetiredDtls::from(ssl_.get(), role_ == Role::kServer, std::move(final_flight_));
  final_flight_.clear();
  if (!retired_) {  // a suite RetiredDtls does not handle: keep the SSL, lean
    release_idle_buffers();
    return;
  }
  ssl_.reset();  // frees the BIOs too
  rbio_ = wbio_ = nullptr;
}

void DtlsTransport::Impl::handle_retired_datagram(ByteSpan data) {
  const size_t before = outgoing_.size();
  const RetiredDtls::PeerAlert alert = retired_->handle_datagram(data, outgoing_);
  counters_.datagrams_out += outgoing_.size() - before;
  if (alert == RetiredDtls::PeerAlert::kCloseNotify) {
    peer_closed_ = true;
    outgoing_.push_back(retired_->close_notify());  // answer it (RFC 5246 §7.2.1)
    ++counters_.datagrams_out;
    state_ = State::kClosed;
  } else if (alert == RetiredDtls::PeerAlert::kFatal) {
    fail("DTLS fatal alert from the peer (description " + std::to_string(retired_->last_alert_description()) + ")");
  }
}

void DtlsTransport::Impl::handle_timeout(Timestamp now) {
  if (!active() || retired_ || now < next_timeout_ || !reclaim_buffers()) return;
  ERR_clear_error();
  // Returns 0 when OpenSSL's own clock says the timer has not expired yet; the timer is
  // then simply re-armed below with the remaining time.
  int rc = DTLSv1_handle_timeout(ssl_.get());
  if (rc > 0) ++counters_.retransmit_timeouts;
  if (rc < 0) fail("DTLS handshake timed out: " + take_openssl_errors());
  flush_output();
  update_timer(now);
}

void DtlsTransport::Impl::close(Timestamp now) {
  if (state_ == State::kConnected && retired_) {
    outgoing_.push_back(retired_->close_notify());
    ++counters_.datagrams_out;
  } else if (state_ == State::kConnected && reclaim_buffers()) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // close_notify (RFC 5246 §7.2.1); no reply is awaited
    ERR_clear_error();
  }
  if (state_ == State::kNew || active()) state_ = State::kClosed;
  flush_output();
  update_timer(now);
}

bool DtlsTransport::Impl::send_application_data(ByteSpan data, Timestamp now) {
  if (state_ != State::kConnected || retired_ || data.empty() || data.size() > kMaxRecordPlaintext) return false;
  if (!reclaim_buffers()) return false;
  ERR_clear_error();
  int n = SSL_write(ssl_.get(), data.data(), int(data.size()));
  if (n <= 0) {
    int err = SSL_get_error(ssl_.get(), n);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      fail("DTLS write failed: " + take_openssl_errors());
    }
  }
  flush_output();
  update_timer(now);
  return n > 0;
}

void DtlsTransport::Impl::drive_handshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_.get());
  if (rc == 1) return on_handshake_complete();
  int err = SSL_get_error(ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
  std::string errors = take_openssl_errors();
  if (hooks_.fingerprint_mismatch) {
    return fail("remote certificate does not match the SDP fingerprint (" + errors + ")");
  }
  fail("DTLS handshake failed: " + errors);
}

void DtlsTransport::Impl::on_handshake_complete() {
  // The verify callback already checked the fingerprint; checking again here guards
  // against any path that skipped it (e.g. a future resumption). We cannot inject a fatal
  // alert after the handshake, so a close_notify tells the peer we are gone.
  if (!peer_certificate_matches()) {
    SSL_shutdown(ssl_.get());
    return fail("remote certificate does not match the SDP fingerprint");
  }
  if (!export_srtp_keys()) {
    SSL_shutdown(ssl_.get());
    return;
  }
  state_ = State::kConnected;
}

bool DtlsTransport::Impl::peer_certificate_matches() {
  X509* peer = SSL_get0_peer_certificate(ssl_.get());
  if (!peer) return false;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(peer, hooks_.fingerprint_md, digest, &len) != 1) return false;
  return len == hooks_.expected_fingerprint.size() &&
         std::memcmp(digest, hooks_.expected_fingerprint.data(), len) == 0;
}

// RFC 5764 §4.2: the exported block is client_key | server_key | client_salt | server_salt.
bool DtlsTransport::Impl::export_srtp_keys() {
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_.get());
  if (!selected) return fail_false("peer did not negotiate use_srtp (RFC 5764 §4.1.1)");
  std::optional<SrtpProfile> profile = profile_from_id(selected->id);
  if (!profile) return fail_false(std::string("unsupported SRTP profile ") + selected->name);
  const size_t key_len = srtp_key_length(*profile), salt_len = srtp_salt_length(*profile);
  uint8_t material[2 * (16 + 14)];
  const size_t total = 2 * (key_len + salt_len);
  if (SSL_export_keying_material(ssl_.get(), material, total, kSrtpExporterLabel,
                                 sizeof kSrtpExporterLabel - 1, nullptr, 0, 0) != 1) {
    return fail_false("SRTP key export failed: " + take_openssl_errors());
  }
  const uint8_t* client_key = material;
  const uint8_t* server_key = material + key_len;
  const uint8_t* client_salt = material + 2 * key_len;
  const uint8_t* server_salt = client_salt + salt_len;
  const bool client = role_ == Role::kClient;
  SrtpKeys keys;
  keys.profile = *profile;
  keys.local_key.assign(client ? client_key : server_key, (client ? client_key : server_key) + key_len);
  keys.remote_key.assign(client ? server_key : client_key, (client ? server_key : client_key) + key_len);
  keys.local_salt.assign(client ? client_salt : server_salt, (client ? client_salt : server_salt) + salt_len);
  keys.remote_salt.assign(client ? server_salt : client_salt, (client ? server_salt : client_salt) + salt_len);
  OPENSSL_cleanse(material, sizeof material);
  keys_ = std::move(keys);
  return true;
}

void DtlsTransport::Impl::read_application_records() {
  // Also processes post-handshake records: a retransmitted final flight from the peer makes
  // OpenSSL resend ours, and alerts end up here.
  // One SSL_read target per thread, not per transport: 17 KB that every viewer would hold
  // for the rare record (issue 14: memory per viewer).
  static thread_local Bytes read_buffer(kMaxRecordPlaintext + 1024);
  while (state_ == State::kConnected) {
    ERR_clear_error();
    int n = SSL_read(ssl_.get(), read_buffer.data(), int(read_buffer.size()));
    if (n > 0) {
      application_in_.emplace_back(read_buffer.begin(), read_buffer.begin() + n);
      continue;
    }
    int err = SSL_get_error(ssl_.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
    if (err == SSL_ERROR_ZERO_RETURN) return on_close_notify();
    return fail("DTLS read failed: " + take_openssl_errors());
  }
}

void DtlsTransport::Impl::on_close_notify() {
  peer_closed_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_.get());  // answer with our close_notify (RFC 5246 §7.2.1)
  ERR_clear_error();
  state_ = State::kClosed;
}

// OpenSSL reads a whole datagram at a time, so the read BIO is normally empty here; if a
// failure left bytes behind they must not be glued to the next datagram.
void DtlsTransport::Impl::discard_unread_input() {
  if (BIO_ctrl_pending(rbio_) > 0) (void)BIO_reset(rbio_);
}

void DtlsTransport::Impl::fail(std::string reason) {
  if (state_ == State::kFailed) return;
  state_ = State::kFailed;
  failure_reason_ = std::move(reason);
  next_timeout_ = kNever;
}

void DtlsTransport::Impl::flush_output() {
  if (!wbio_ || !ssl_) return;
  size_t pending = BIO_ctrl_pending(wbio_);
  if (pending > 0) {
    // Drained wbio bytes: one buffer per thread, not one per transport (memory per viewer).
    static thread_local Bytes write_buffer;
    write_buffer.resize(pending);
    int n = BIO_read(wbio_, write_buffer.data(), int(pending));
    if (n <= 0) return;
    size_t before = outgoing_.size();
    pack_records_into_datagrams(ByteSpan(write_buffer.data(), size_t(n)), options_.mtu, outgoing_);
    counters_.datagrams_out += outgoing_.size() - before;
  }
  // A transport that retires frees the whole SSL right after this: renewing its BIOs and
  // freeing its record buffers first would be work thrown away.
  if (state_ == State::kConnected && !options_.retire_after_handshake) release_idle_buffers();
}

// Once connected, DTLS is idle on a media transport (SRTP bypasses it): give back what the
// handshake grew. OpenSSL keeps its 16.7 KB read and write record buffers for the life of a
// DTLS connection (SSL_MODE_RELEASE_BUFFERS applies to TLS only); SSL_free_buffers returns
// them when no record is pending, and OpenSSL allocates them again for the rare later
// record (a retransmitted flight, an alert, DataChannel data): its read path does that by
// itself, its DTLS write path does not, so reclaim_buffers() runs before every SSL call.
void DtlsTransport::Impl::release_idle_buffers() {
  if (!bios_renewed_) renew_bios();
  // 0 = a record is pending: keep them this time.
  if (!buffers_released_) buffers_released_ = SSL_free_buffers(ssl_.get()) == 1;
}

bool DtlsTransport::Impl::reclaim_buffers() {
  if (!buffers_released_) return true;
  if (SSL_alloc_buffers(ssl_.get()) != 1) {
    fail("DTLS: out of memory for record buffers");
    return false;
  }
  buffers_released_ = false;
  return true;
}

// A memory BIO keeps the largest buffer it ever held: after the handshake's flights that is
// several KB per transport, idle from then on (media bypasses DTLS). Once connected and both
// BIOs are empty, fresh ones take their place.
void DtlsTransport::Impl::renew_bios() {
  if (BIO_ctrl_pending(wbio_) > 0 || BIO_ctrl_pending(rbio_) > 0) return;
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (!rbio || !wbio) {
    BIO_free(rbio);
    BIO_free(wbio);
    return;
  }
  BIO_set_mem_eof_return(rbio, -1);
  BIO_set_mem_eof_return(wbio, -1);
  SSL_set0_rbio(ssl_.get(), rbio);  // frees the old ones
  SSL_set0_wbio(ssl_.get(), wbio);
  rbio_ = rbio;
  wbio_ = wbio;
  bios_renewed_ = true;
}

void DtlsTransport::Impl::update_timer(Timestamp now) {
  timeval tv{};
  if (active() && ssl_ && DTLSv1_get_timeout(ssl_.get(), &tv) == 1) {
    next_timeout_ = now + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  } else {
    next_timeout_ = kNever;
  }
}

// ---- public forwarding ----

DtlsTransport::DtlsTransport(std::shared_ptr<const Certificate> cert, Role role,
                             std::string remote_fp_algorithm, Bytes remote_fingerprint,
                             TransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(cert), role, remote_fp_algorithm,
                                   std::move(remote_fingerprint), std::move(options))) {}
DtlsTransport::~DtlsTransport() = default;

void DtlsTransport::start(Timestamp now) { impl_->start(now); }
void DtlsTransport::handle_datagram(ByteSpan data, Timestamp now) { impl_->handle_datagram(data, now); }
void DtlsTransport::handle_timeout(Timestamp now) { impl_->handle_timeout(now); }
Timestamp DtlsTransport::next_timeout() const { return impl_->next_timeout(); }
std::vector<Bytes> DtlsTransport::take_outgoing() { return impl_->take_outgoing(); }
void DtlsTransport::close(Timestamp now) { impl_->close(now); }
State DtlsTransport::state() const { return impl_->state(); }
const std::string& DtlsTransport::failure_reason() const { return impl_->failure_reason(); }
bool DtlsTransport::peer_closed() const { return impl_->peer_closed(); }
Role DtlsTransport::role() const { return impl_->role(); }
std::optional<SrtpKeys> DtlsTransport::srtp_keys() const { return impl_->srtp_keys(); }
bool DtlsTransport::send_application_data(ByteSpan data, Timestamp now) {
  return impl_->send_application_data(data, now);
}
std::vector<Bytes> DtlsTransport::take_application_data() { return impl_->take_application_data(); }
size_t DtlsTransport::max_application_data_size() const { return impl_->max_application_data_size(); }
bool DtlsTransport::retired() const { return impl_->retired(); }
const DtlsTransport::Counters& DtlsTransport::counters() const { return impl_->counters(); }

}  // namespace strata::dtls
