// Janus REST request bodies and reply parsing (no live Janus): the shapes below are the
// ones Janus 1.1.2 sends, captured with curl against bench/janus/ (see the report).
#include "loadtest/janus_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>

namespace strata::loadtest::janus {
namespace {

using nlohmann::json;

// ---- Request bodies

TEST(JanusBodies, SessionLevelRequests) {
  struct Case {
    std::string body, janus;
  } cases[] = {
      {create_session_body("t1"), "create"},
      {keepalive_body("t1"), "keepalive"},
      {hangup_body("t1"), "hangup"},
      {destroy_body("t1"), "destroy"},
  };
  for (const Case& c : cases) {
    json j = json::parse(c.body);
    EXPECT_EQ(j["janus"], c.janus) << c.body;
    EXPECT_EQ(j["transaction"], "t1") << c.body;
    EXPECT_EQ(j.size(), 2u) << c.body;
  }
}

TEST(JanusBodies, AttachNamesThePlugin) {
  json j = json::parse(attach_body(kStreamingPlugin, "tx"));
  EXPECT_EQ(j["janus"], "attach");
  EXPECT_EQ(j["plugin"], "janus.plugin.streaming");
  EXPECT_EQ(j["transaction"], "tx");
}

TEST(JanusBodies, WatchAndInfoCarryTheNumericMountpointId) {
  for (uint64_t id : {uint64_t(1), uint64_t(42), uint64_t(9007199254740991)}) {
    json w = json::parse(watch_body(id, "a"));
    EXPECT_EQ(w["janus"], "message");
    EXPECT_EQ(w["body"]["request"], "watch");
    EXPECT_TRUE(w["body"]["id"].is_number_unsigned());
    EXPECT_EQ(w["body"]["id"].get<uint64_t>(), id);
    json i = json::parse(info_body(id, "b"));
    EXPECT_EQ(i["body"]["request"], "info");
    EXPECT_EQ(i["body"]["id"].get<uint64_t>(), id);
  }
}

TEST(JanusBodies, StartCarriesTheAnswerVerbatim) {
  const std::string sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=\"quoted\" \\ back\r\n";
  json j = json::parse(start_body(sdp, "s"));
  EXPECT_EQ(j["janus"], "message");
  EXPECT_EQ(j["body"]["request"], "start");
  EXPECT_EQ(j["jsep"]["type"], "answer");
  EXPECT_EQ(j["jsep"]["sdp"], sdp);
}

TEST(JanusBodies, CreateRtpMountpointVp8AndOpus) {
  json j = json::parse(create_rtp_mountpoint_body(7, 5004, 5002, "c"));
  const json& b = j["body"];
  EXPECT_EQ(b["request"], "create");
  EXPECT_EQ(b["type"], "rtp");
  EXPECT_EQ(b["id"], 7);
  EXPECT_EQ(b["permanent"], false);
  ASSERT_EQ(b["media"].size(), 2u);
  const json& audio = b["media"][0];
  const json& video = b["media"][1];
  EXPECT_EQ(audio["type"], "audio");
  EXPECT_EQ(audio["port"], 5002);
  EXPECT_EQ(audio["pt"], 111);
  EXPECT_EQ(audio["codec"], "opus");
  EXPECT_EQ(video["type"], "video");
  EXPECT_EQ(video["port"], 5004);
  EXPECT_EQ(video["pt"], 96);
  EXPECT_EQ(video["codec"], "vp8");
  EXPECT_NE(audio["mid"], video["mid"]);
}

TEST(JanusBodies, LongPollUrl) {
  EXPECT_EQ(long_poll_url("http://127.0.0.1:8088/janus", 123, 10, 9),
            "http://127.0.0.1:8088/janus/123?maxev=10&rid=9");
}

// ---- Replies (captured from Janus 1.1.2)

TEST(JanusReplies, CreateAndAttachSuccess) {
  std::string err;
  auto s = parse_reply(R"({"janus":"success","transaction":"a","data":{"id":7901224133342953}})", &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->janus, "success");
  EXPECT_EQ(s->transaction, "a");
  EXPECT_EQ(s->data_id, 7901224133342953u);
  EXPECT_FALSE(s->has_error());
  auto h = parse_reply(
      R"({"janus":"success","session_id":7901224133342953,"transaction":"b","data":{"id":7697849019476236}})", &err);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->session_id, 7901224133342953u);
  EXPECT_EQ(h->data_id, 7697849019476236u);
}

TEST(JanusReplies, WatchEventWithOffer) {
  const char* body =
      R"({"janus":"event","session_id":1,"transaction":"w","sender":2,)"
      R"("plugindata":{"plugin":"janus.plugin.streaming","data":{"streaming":"event","result":{"status":"preparing"}}},)"
      R"("jsep":{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"}})";
  std::string err;
  auto r = parse_reply(body, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->janus, "event");
  EXPECT_EQ(r->sender, 2u);
  EXPECT_EQ(r->plugin, "janus.plugin.streaming");
  EXPECT_EQ(r->plugin_kind, "event");
  EXPECT_EQ(r->plugin_status, "preparing");
  EXPECT_EQ(r->jsep_type, "offer");
  EXPECT_EQ(r->jsep_sdp, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n");
  EXPECT_FALSE(r->has_error());
}

TEST(JanusReplies, ErrorsCoreAndPlugin) {
  struct Case {
    const char* body;
    int code;
    const char* text;
  } cases[] = {
      {R"({"janus":"error","session_id":5,"transaction":"k","error":{"code":458,"reason":"No such session 5"}})",
       458, "No such session 5"},
      {R"({"janus":"event","transaction":"w2","sender":1,"plugindata":{"plugin":"janus.plugin.streaming",)"
       R"("data":{"streaming":"event","error_code":455,"error":"No such mountpoint/stream 99"}}})",
       455, "No such mountpoint/stream 99"},
      {R"({"janus":"success","plugindata":{"plugin":"janus.plugin.streaming","data":{"error":"odd"}}})", -1, "odd"},
      {R"({"janus":"error","error":{"reason":"no code"}})", -1, "no code"},
      {R"({"janus":"error"})", 0, ""},
  };
  for (const Case& c : cases) {
    std::string err;
    auto r = parse_reply(c.body, &err);
    ASSERT_TRUE(r) << c.body;
    EXPECT_TRUE(r->has_error()) << c.body;
    EXPECT_EQ(r->error_code, c.code) << c.body;
    EXPECT_EQ(r->error, c.text) << c.body;
  }
  std::string err;
  auto r = parse_reply(cases[1].body, &err);
  EXPECT_EQ(describe_error(*r, "watch"), "watch: No such mountpoint/stream 99 (code 455)");
}

TEST(JanusReplies, MissingAndMistypedFieldsKeepDefaults) {
  struct Case {
    const char* body;
  } cases[] = {
      {R"({"janus":"success"})"},
      {R"({"janus":"success","data":{}})"},
      {R"({"janus":"success","data":{"id":-4},"session_id":"x","sender":null})"},
      {R"({"janus":"success","data":[1,2],"plugindata":"nope","jsep":7})"},
      {R"({"janus":"event","plugindata":{"data":{"result":"str"}},"jsep":{"type":1,"sdp":null}})"},
  };
  for (const Case& c : cases) {
    std::string err;
    auto r = parse_reply(c.body, &err);
    ASSERT_TRUE(r) << c.body << ": " << err;
    EXPECT_EQ(r->data_id, 0u) << c.body;
    EXPECT_EQ(r->session_id, 0u) << c.body;
    EXPECT_EQ(r->sender, 0u) << c.body;
    EXPECT_TRUE(r->jsep_sdp.empty()) << c.body;
    EXPECT_FALSE(r->has_error()) << c.body;
  }
}

TEST(JanusReplies, StringIdsAreAccepted) {
  std::string err;
  auto r = parse_reply(R"({"janus":"success","data":{"id":"123"},"session_id":"45"})", &err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->data_id, 123u);
  EXPECT_EQ(r->session_id, 45u);
  r = parse_reply(R"({"janus":"success","data":{"id":"12a"}})", &err);
  EXPECT_EQ(r->data_id, 0u);
}

TEST(JanusReplies, RejectsNonReplies) {
  for (const char* body : {"", "not json", "[]", "42", R"({"foo":1})", R"({"janus":5})", "{\"janus\":\"success\""}) {
    std::string err;
    EXPECT_FALSE(parse_reply(body, &err)) << body;
    EXPECT_FALSE(err.empty()) << body;
  }
}

TEST(JanusEvents, ObjectOrArray) {
  std::string err;
  auto one = parse_events(R"({"janus":"keepalive"})", &err);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].janus, "keepalive");

  auto many = parse_events(
      R"([{"janus":"webrtcup","session_id":1,"sender":2},3,{"x":1},)"
      R"({"janus":"event","transaction":"t","plugindata":{"data":{"result":{"status":"starting"}}}}])",
      &err);
  ASSERT_TRUE(many);
  ASSERT_EQ(many->size(), 2u);
  EXPECT_EQ((*many)[0].janus, "webrtcup");
  EXPECT_EQ((*many)[1].transaction, "t");
  EXPECT_EQ((*many)[1].plugin_status, "starting");

  auto none = parse_events("[]", &err);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(parse_events("<html>", &err));
}

TEST(JanusReplies, GarbageNeverCrashes) {
  std::mt19937 rng(5);
  const std::string seed =
      R"([{"janus":"event","session_id":1,"transaction":"w","sender":2,"plugindata":{"plugin":"p",)"
      R"("data":{"streaming":"event","error_code":455,"result":{"status":"x"}}},"jsep":{"type":"offer","sdp":"v=0"}}])";
  for (int i = 0; i < 3000; ++i) {
    std::string s = seed;
    if (i % 3 == 0) s.resize(rng() % (s.size() + 1));  // truncated
    for (int k = 0; k < 4 && !s.empty(); ++k) s[rng() % s.size()] = char(rng() % 256);
    std::string err;
    if (!parse_reply(s, &err)) {
      EXPECT_FALSE(err.empty()) << s;
    }
    err.clear();
    if (!parse_events(s, &err)) {
      EXPECT_FALSE(err.empty()) << s;
    }
  }
}

}  // namespace
}  // namespace strata::loadtest::janus
