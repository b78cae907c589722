// A viewer's WHEP offer with several slots, shared by the signaling tests.
#pragma once
#include <string>

namespace strata::signaling::testing_offers {

// A viewer's offer with `slots` pairs of recvonly audio (Opus) and video (VP8 + RTX)
// m-lines, as a browser writes one with 2×slots recvonly transceivers.
inline std::string slots_offer(int slots, bool audio = true) {
  std::string bundle, media;
  int mid = 0;
  for (int i = 0; i < slots; ++i) {
    for (int k = audio ? 0 : 1; k < 2; ++k) {
      const std::string m = std::to_string(mid++);
      bundle += " " + m;
      if (k == 0) {
        media += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n";
      } else {
        media += "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n";
      }
      media +=
          "a=ice-ufrag:abcd\r\na=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa\r\n"
          "a=fingerprint:sha-256 "
          "41:79:DC:E2:3B:B8:C1:46:A3:29:F6:F3:AD:57:FF:92:F4:47:79:99:3C:5D:29:CF:5E:69:13:6C:C6:DF:DC:14\r\n"
          "a=setup:actpass\r\na=mid:" + m + "\r\na=recvonly\r\na=rtcp-mux\r\n"
          "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n";
      if (k == 0) {
        media += "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n";
      } else {
        media +=
            "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
            "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";
      }
    }
  }
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE" + bundle + "\r\n" + media;
}

}  // namespace strata::signaling::testing_offers
