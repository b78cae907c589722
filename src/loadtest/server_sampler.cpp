#include "loadtest/server_sampler.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace strata::loadtest {

std::optional<uint64_t> parse_proc_stat_cpu_ticks(const std::string& line) {
  auto t = parse_proc_stat_user_system_ticks(line);
  if (!t) return std::nullopt;
  return t->first + t->second;
}

std::optional<std::pair<uint64_t, uint64_t>> parse_proc_stat_user_system_ticks(const std::string& line) {
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(line.substr(close + 1));
  // Fields after the name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt
  // majflt cmajflt utime(14) stime(15).
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15; ++i) {
    if (!(in >> field)) return std::nullopt;
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return std::make_pair(utime, stime);
}

std::optional<uint64_t> parse_proc_status_rss(const std::string& text) {
  auto at = text.find("VmRSS:");
  if (at == std::string::npos) return std::nullopt;
  return std::strtoull(text.c_str() + at + 6, nullptr, 10) * 1024;
}

std::optional<ProcSample> ServerSampler::sample(Timestamp now) {
  if (pid_ <= 0) return std::nullopt;
  std::string base = "/proc/" + std::to_string(pid_);
  std::ifstream stat(base + "/stat"), status(base + "/status");
  std::string line;
  if (!stat || !std::getline(stat, line)) return std::nullopt;
  std::stringstream st;
  st << status.rdbuf();
  auto ticks = parse_proc_stat_cpu_ticks(line);
  auto rss = parse_proc_status_rss(st.str());
  if (!ticks || !rss) return std::nullopt;
  ProcSample s;
  s.rss_bytes = *rss;
  if (have_prev_ && now > prev_at_) {
    double secs = std::chrono::duration<double>(now - prev_at_).count();
    s.cpu_percent = double(*ticks - prev_ticks_) / double(::sysconf(_SC_CLK_TCK)) / secs * 100.0;
  }
  have_prev_ = true;
  prev_ticks_ = *ticks;
  prev_at_ = now;
  return s;
}

std::optional<CpuTimes> ServerSampler::cpu_times() const {
  if (pid_ <= 0) return std::nullopt;
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line)) return std::nullopt;
  auto t = parse_proc_stat_user_system_ticks(line);
  if (!t) return std::nullopt;
  double hz = double(::sysconf(_SC_CLK_TCK));
  return CpuTimes{double(t->first) / hz, double(t->second) / hz};
}

std::optional<uint64_t> ServerSampler::rss_bytes() const {
  if (pid_ <= 0) return std::nullopt;
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::stringstream st;
  st << status.rdbuf();
  return parse_proc_status_rss(st.str());
}

}  // namespace strata::loadtest
