// `strata bench`: the load tester's entry points (CLI in bench.cpp, the run in runner.cpp).
#pragma once
#include <cstdint>
#include <string>

namespace strata::loadtest {

struct BenchOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string stream = "bench";
  int viewers = 10;
  double ramp = 0;        // viewers per second, 0 = all at once
  double duration = 10;   // seconds after the last join
  bool publish = false;
  bool no_simulcast = false;
  std::string layer;      // WHEP ?layer=
  uint64_t bitrate = 2'500'000;  // top layer
  std::string target = "strata";  // strata | janus
  std::string janus_url = "http://127.0.0.1:8088/janus";
  uint64_t mountpoint = 1;
  uint16_t janus_video_port = 5004, janus_audio_port = 5002;
  int server_pid = 0;
  std::string scenario_file, json_file, media_dir;
  int threads = 1;
  bool quiet = false;
};

// Exit status: 0 every viewer received media, 3 some viewer received nothing, 1 the run
// could not start (publisher, media, bad scenario), 2 bad command line.
int run_bench(const BenchOptions& options);
// argv[0] is "bench" (or the program name); parses the flags and runs.
int bench_main(int argc, char** argv);

}  // namespace strata::loadtest
