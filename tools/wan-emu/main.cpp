// wan-emu --profile FILE [--seed N] [--stats-interval S]
// Joins network namespaces through TUN devices and impairs each direction as the profile
// says. Prints "wan-emu: ready" once every device and route is up, runs until SIGTERM or
// SIGINT, removes its devices and prints per-direction counters as JSON on stdout.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "emulator.hpp"
#include "profile.hpp"

using namespace strata::wan_emu;

int main(int argc, char** argv) {
  CLI::App app{"wan-emu: userspace WAN emulator between network namespaces (TUN)"};
  std::string profile_path;
  EmulatorOptions options;
  app.add_option("--profile", profile_path, "TOML profile with [[link]] tables")->required();
  app.add_option("--seed", options.seed, "seed for loss and jitter (deterministic per seed)")
      ->default_val(1);
  app.add_option("--stats-interval", options.stats_interval_s,
                 "print counters as one JSON line on stderr every S seconds (0 = never)")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  ProfileResult loaded = load_profile(profile_path);
  if (!loaded.profile) {
    std::cerr << "wan-emu: bad profile: " << loaded.error << std::endl;
    return 2;
  }

  // Blocked before setup so a stop request during setup is kept for the signalfd.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigprocmask(SIG_BLOCK, &signals, nullptr);

  std::string error;
  std::unique_ptr<Emulator> emulator = Emulator::create(*loaded.profile, options, error);
  if (!emulator) {
    std::cerr << "wan-emu: setup failed: " << error << std::endl;
    return 1;
  }
  std::cout << "wan-emu: ready" << std::endl;

  error = emulator->run();
  emulator->remove_devices();
  std::cout << emulator->stats().dump(2) << std::endl;
  if (!error.empty()) {
    std::cerr << "wan-emu: " << error << std::endl;
    return 1;
  }
  return 0;
}
