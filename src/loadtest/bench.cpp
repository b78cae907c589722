#include "loadtest/bench.hpp"

#include <CLI/CLI.hpp>

namespace strata::loadtest {

int bench_main(int argc, char** argv) {
  CLI::App app{"strata bench: WebRTC load tester (WHEP viewers, WHIP publisher, Janus streaming)"};
  BenchOptions o;
  app.add_option("--url", o.url, "server or broker base URL")->capture_default_str();
  app.add_option("--stream", o.stream, "stream name (several hosts: NAME-0, NAME-1, ...)")->capture_default_str();
  app.add_option("--viewers", o.viewers, "viewers")->capture_default_str()->check(CLI::Range(0, 1000000));
  app.add_option("--ramp", o.ramp, "viewers joining per second (0 = all at once)")->capture_default_str();
  app.add_option("--duration", o.duration, "seconds to run after the last join")->capture_default_str();
  app.add_flag("--publish", o.publish, "also publish the clip (WHIP, or plain RTP to Janus)");
  app.add_flag("--no-simulcast", o.no_simulcast, "publish one 1280x720 layer instead of q/h/f");
  app.add_option("--layer", o.layer, "WHEP ?layer= for every viewer")->check(CLI::IsMember({"q", "h", "f"}));
  app.add_option("--bitrate", o.bitrate, "top layer bit rate of the published clip")->capture_default_str();
  app.add_option("--target", o.target, "strata | janus")->check(CLI::IsMember({"strata", "janus"}))->capture_default_str();
  app.add_option("--janus-url", o.janus_url, "Janus REST API root")->capture_default_str();
  app.add_option("--mountpoint", o.mountpoint, "Janus streaming mountpoint id")->capture_default_str();
  app.add_option("--janus-video-port", o.janus_video_port, "mountpoint's video RTP port")->capture_default_str();
  app.add_option("--janus-audio-port", o.janus_audio_port, "mountpoint's audio RTP port")->capture_default_str();
  app.add_option("--server-pid", o.server_pid, "server process to sample CPU and RSS from");
  app.add_option("--scenario", o.scenario_file, "JSON scenario (bench/scenarios/README.md)");
  app.add_option("--json", o.json_file, "write the results as JSON");
  app.add_option("--media-dir", o.media_dir, "clip cache directory");
  app.add_option("--threads", o.threads, "packet loop threads")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_flag("--quiet", o.quiet, "no progress line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return run_bench(o);
}

}  // namespace strata::loadtest
