// libFuzzer target: the config file parser (redis.conf syntax) and CONFIG SET.
//
// The input is loaded as a config file into a fresh Config. Whatever it accepted must read back
// through CONFIG GET and be accepted again by CONFIG SET on another fresh Config (what CONFIG
// REWRITE and tools that copy a live configuration rely on); immutable and protected options,
// which CONFIG SET refuses by design, are skipped. The input's words are also tried as one
// CONFIG SET. `dir` changes the working directory, so it is restored after each input.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/config/config.h"
#include "keel/protocol/parser.h"

namespace {

int CwdFd() {
  static int fd = ::open(".", O_RDONLY | O_DIRECTORY);
  return fd;
}

// Options CONFIG SET refuses whatever their value.
bool NotSettable(std::string_view name) {
  static const char* kSkip[] = {"bind",
                                "port",
                                "io-threads",
                                "databases",
                                "logfile",
                                "pidfile",
                                "daemonize",
                                "dir",
                                "dbfilename",
                                "enable-debug-command",
                                "supervised",
                                "syslog-enabled",
                                "syslog-ident",
                                "syslog-facility",
                                "unixsocket",
                                "unixsocketperm",
                                "enable-protected-configs"};
  for (const char* s : kSkip) {
    if (name == s) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int cwd = CwdFd();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  {
    keel::Config config;
    if (config.LoadFromString(text, "fuzz").ok()) {
      std::vector<std::pair<std::string, std::string>> all;
      std::string_view star = "*";
      config.Get({&star, 1}, &all);
      keel::Config again;
      for (const auto& [name, value] : all) {
        if (NotSettable(name)) continue;
        std::string_view pair[] = {name, value};
        keel::Status st = again.Set(pair, /*local_client=*/true);
        // Immutable options are refused by design, whatever the value (the list above names
        // the ones with side effects; the rest are recognised by the refusal itself).
        if (!st.ok() && st.message().find("can't set immutable config") != std::string::npos) {
          continue;
        }
        if (!st.ok()) {
          std::fprintf(stderr, "CONFIG SET %s '%s' refused what CONFIG GET gave: %s\n",
                       name.c_str(), value.c_str(), st.message().c_str());
          std::abort();
        }
      }
    }
  }
  {
    std::string line(text);
    std::vector<std::string_view> words;
    if (keel::SplitArgsInPlace(line.data(), line.size(), &words) && words.size() <= 64) {
      keel::Config config;
      (void)config.Set(words, /*local_client=*/(size & 1) != 0);
    }
  }
  if (cwd >= 0 && ::fchdir(cwd) != 0) std::abort();
  return 0;
}
