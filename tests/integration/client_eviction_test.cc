// maxmemory-clients: clients whose buffers pass the limit are closed, largest first; NO-EVICT
// clients stay. Run against Redis too (tests/run-all.sh): the sizes are far from both servers'
// per-client overheads (Redis about 20-40 kB, Keel about 1.5 kB), so the same cases hold.

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

// A SET whose value is announced as kBigValue bytes, with only the first `sent` of them sent:
// the server holds the command in its query buffer (both servers allocate the announced size).
constexpr size_t kBigValue = 5000000;

class ClientEvictionTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer({"--enable-debug-command", "yes"});
    c_ = Client();
    ASSERT_NE(c_, nullptr);
  }

  std::string Call(const std::vector<std::string>& args) {
    auto r = Run(c_.get(), args);
    return DescribeReply(r.get());
  }

  // A field of INFO, as text ("" if missing).
  std::string Info(const std::string& section, const std::string& field) {
    auto r = Run(c_.get(), {"INFO", section});
    if (!r || r->type != REDIS_REPLY_STRING) return "";
    std::string text(r->str, r->len);
    size_t at = text.find("\r\n" + field + ":");
    if (at == std::string::npos) return "";
    size_t from = at + field.size() + 3;
    return text.substr(from, text.find("\r\n", from) - from);
  }
  int64_t Evicted() { return std::stoll(Info("stats", "evicted_clients")); }

  // Waits until evicted_clients is at least n (eviction may run from the server's cron).
  bool WaitEvicted(int64_t n) {
    for (int i = 0; i < 500; ++i) {
      if (Evicted() >= n) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  // Waits until an integer INFO field reaches `n`.
  bool WaitInfoAtLeast(const std::string& section, const std::string& field, uint64_t n) {
    for (int i = 0; i < 300; ++i) {
      std::string v = Info(section, field);
      if (!v.empty() && std::stoull(v) >= n) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    ADD_FAILURE() << field << " stayed at " << Info(section, field);
    return false;
  }

  // Starts a SET of kBigValue bytes on `conn` and sends `sent` of them.
  void StartBigSet(RespConnection& conn, const std::string& key, size_t sent) {
    std::string head = "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key +
                       "\r\n$" + std::to_string(kBigValue) + "\r\n";
    // The server may close the connection while we send (eviction): not an error here.
    (void)conn.Send(head + std::string(sent, 'x'));
  }

  // The id of the client on `conn` (CLIENT ID).
  static int64_t IdOf(RespConnection& conn) {
    std::string r = conn.Call({"CLIENT", "ID"});
    return std::stoll(r.substr(1));
  }

  // A connection that sets CLIENT NO-EVICT on, so it stays whatever the others hold.
  RespConnection ConnectNoEvict() {
    RespConnection conn = Connect();
    EXPECT_EQ(conn.Call({"CLIENT", "NO-EVICT", "on"}), "+OK\r\n");
    return conn;
  }

  RedisContextPtr c_;
};

// A client holding a big partial command is evicted once the clients' memory passes the limit;
// what it had written before stays, the other clients stay.
TEST_F(ClientEvictionTest, BigQueryBufferIsEvicted) {
  ASSERT_EQ(Call({"CLIENT", "NO-EVICT", "on"}), "status OK");
  ASSERT_EQ(Call({"CONFIG", "SET", "maxmemory-clients", "1mb"}), "status OK");
  RespConnection bystander = Connect();
  RespConnection big = Connect();
  int64_t id = IdOf(big);
  EXPECT_EQ(big.Call({"SET", "before", "1"}), "+OK\r\n");
  StartBigSet(big, "k", 200000);
  EXPECT_TRUE(WaitEvicted(1));
  EXPECT_TRUE(big.WaitForClose(milliseconds(5000)));
  EXPECT_EQ(Evicted(), 1);
  EXPECT_EQ(bystander.Call({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Call({"GET", "before"}), "string \"1\"");
  EXPECT_EQ(Call({"EXISTS", "k"}), "integer 0");
  std::string log = server_->ReadLog();
  EXPECT_NE(log.find("Evicting client: id=" + std::to_string(id) + " "), std::string::npos) << log;
}

// Unread replies count too: a client that pipelines GETs of a big value and reads nothing.
TEST_F(ClientEvictionTest, BigOutputIsEvicted) {
  ASSERT_EQ(Call({"CLIENT", "NO-EVICT", "on"}), "status OK");
  ASSERT_EQ(Call({"SET", "v", std::string(1000000, 'v')}), "status OK");
  ASSERT_EQ(Call({"CONFIG", "SET", "maxmemory-clients", "2mb"}), "status OK");
  RespConnection reader = Connect();
  std::string gets;
  for (int i = 0; i < 30; ++i) gets += "GET v\r\n";
  ASSERT_TRUE(reader.Send(gets));
  EXPECT_TRUE(WaitEvicted(1));
  EXPECT_TRUE(reader.WaitForClose(milliseconds(5000)));
}

// CLIENT NO-EVICT on: the client stays even alone over the limit; its memory still counts, so
// every evictable client goes ("Over client maxmemory ..." in the log), and its command completes
// once its payload arrives.
TEST_F(ClientEvictionTest, NoEvictClientSurvives) {
  ASSERT_EQ(Call({"CLIENT", "NO-EVICT", "on"}), "status OK");
  ASSERT_EQ(Call({"CONFIG", "SET", "maxmemory-clients", "1mb"}), "status OK");
  RespConnection big = ConnectNoEvict();
  StartBigSet(big, "k", 200000);
  RespConnection other = Connect();
  (void)other.Send("PING\r\n");
  EXPECT_TRUE(WaitEvicted(1));
  EXPECT_TRUE(other.WaitForClose(milliseconds(5000)));
  ASSERT_TRUE(big.Send(std::string(kBigValue - 200000, 'x') + "\r\n"));
  std::string reply;
  ASSERT_TRUE(big.ReadReply(&reply, milliseconds(20000)));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(Call({"STRLEN", "k"}), "integer " + std::to_string(kBigValue));
  EXPECT_NE(server_->ReadLog().find("Over client maxmemory after evicting all evictable clients"),
            std::string::npos);
}

// CLIENT NO-EVICT off makes the client evictable again.
TEST_F(ClientEvictionTest, NoEvictOffMakesItEvictable) {
  ASSERT_EQ(Call({"CLIENT", "NO-EVICT", "on"}), "status OK");
  ASSERT_EQ(Call({"CONFIG", "SET", "maxmemory-clients", "1mb"}), "status OK");
  RespConnection big = ConnectNoEvict();
  EXPECT_EQ(big.Call({"CLIENT", "NO-EVICT", "off"}), "+OK\r\n");
  StartBigSet(big, "k", 200000);
  EXPECT_TRUE(WaitEvicted(1));
  EXPECT_TRUE(big.WaitForClose(milliseconds(5000)));
}

// A percentage is of maxmemory: 2% of 100 MB lets a 5 MB command be evicted, keeps a 600 kB one.
TEST_F(ClientEvictionTest, PercentageOfMaxmemory) {
  ASSERT_EQ(Call({"CLIENT", "NO-EVICT", "on"}), "status OK");
  ASSERT_EQ(Call({"CONFIG", "SET", "maxmemory", "100mb"}), "status OK");
  ASSERT_EQ(Call({"CONFIG", "SET", "maxmemory-clients", "2%"}), "status OK");
  RespConnection small = Connect();
  (void)small.Send("*3\r\n$3\r\nSET\r\n$1\r\ns\r\n$600000\r\n" + std::string(1000, 'x'));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Evicted(), 0);
  RespConnection big = Connect();
  StartBigSet(big, "k", 200000);
  EXPECT_TRUE(WaitEvicted(1));
  EXPECT_TRUE(big.WaitForClose(milliseconds(5000)));
  // The small one is still there: its command completes.
  ASSERT_TRUE(small.Send(std::string(600000 - 1000, 'x') + "\r\n"));
  std::string reply;
  ASSERT_TRUE(small.ReadReply(&reply, milliseconds(20000)));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(Evicted(), 1);
}

// 0 turns eviction off, and so does a percentage while maxmemory is 0.
TEST_F(ClientEvictionTest, ZeroAndPercentWithoutMaxmemoryDisable) {
  for (std::string setting : {"0", "5%"}) {
    SCOPED_TRACE(setting);
    ASSERT_EQ(Call({"CONFIG", "SET", "maxmemory-clients", setting}), "status OK");
    RespConnection big = Connect();
    StartBigSet(big, "k", 200000);
    EXPECT_FALSE(big.WaitForClose(milliseconds(300)));  // still there, mid-command
    EXPECT_EQ(Evicted(), 0);
    ASSERT_TRUE(big.Send(std::string(kBigValue - 200000, 'x') + "\r\n"));
    std::string reply;
    ASSERT_TRUE(big.ReadReply(&reply, milliseconds(20000)));
    EXPECT_EQ(reply, "+OK\r\n");
    EXPECT_EQ(Call({"STRLEN", "k"}), "integer " + std::to_string(kBigValue));
  }
}

// A big pending command shows in CLIENT LIST's tot-mem, INFO's mem_clients_normal and
// client_recent_max_input_buffer, and DEBUG CLIENT-EVICTION's 4-8 MiB bucket.
TEST_F(ClientEvictionTest, MemoryIsReported) {
  EXPECT_EQ(Call({"DEBUG", "CLIENT-EVICTION"}), "error ERR maxmemory-clients is disabled.");
  RespConnection big = Connect();
  int64_t id = IdOf(big);
  StartBigSet(big, "k", 200000);
  std::string line;
  int64_t tot_mem = 0;
  for (int i = 0; i < 500 && tot_mem < static_cast<int64_t>(kBigValue); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    auto r = Run(c_.get(), {"CLIENT", "LIST", "ID", std::to_string(id)});
    ASSERT_EQ(r->type, REDIS_REPLY_STRING);
    line.assign(r->str, r->len);
    size_t at = line.find(" tot-mem=");
    ASSERT_NE(at, std::string::npos) << line;
    tot_mem = std::stoll(line.substr(at + 9));
  }
  EXPECT_GE(tot_mem, static_cast<int64_t>(kBigValue)) << line;
  EXPECT_LT(tot_mem, static_cast<int64_t>(kBigValue) + 1000000) << line;
  // Redis updates these from its clients cron (every client once a second).
  EXPECT_TRUE(WaitInfoAtLeast("memory", "mem_clients_normal", kBigValue));
  EXPECT_EQ(Info("memory", "mem_clients_slaves"), "0");
  EXPECT_TRUE(WaitInfoAtLeast("clients", "client_recent_max_input_buffer", kBigValue));
  // The limit above everything: nothing evicted, the buckets show the big client.
  ASSERT_EQ(Call({"CONFIG", "SET", "maxmemory-clients", "1gb"}), "status OK");
  std::string report;
  for (int i = 0; i < 300; ++i) {
    auto r = Run(c_.get(), {"DEBUG", "CLIENT-EVICTION"});
    ASSERT_EQ(r->type, REDIS_REPLY_STRING);
    report.assign(r->str, r->len);
    if (report.find("bucket    4194304 -    8388607: tot-mem:") != std::string::npos &&
        report.find("8388607: tot-mem:          0") == std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_NE(report.find("bucket          0 -      32767: tot-mem: "), std::string::npos) << report;
  EXPECT_NE(report.find("bucket 4294967296+            : tot-mem:          0, clients: 0\n"),
            std::string::npos)
      << report;
  size_t at = report.find("bucket    4194304 -    8388607: tot-mem: ");
  ASSERT_NE(at, std::string::npos) << report;
  EXPECT_EQ(report.substr(report.find('\n', at) - 10, 10), "clients: 1") << report;
  EXPECT_EQ(Evicted(), 0);
}

// CLIENT LIST shows NO-EVICT as the 'e' flag; RESET keeps it (Redis 7.0 does), OFF clears it.
TEST_F(ClientEvictionTest, NoEvictFlagSurvivesReset) {
  ASSERT_EQ(Call({"CLIENT", "NO-EVICT", "on"}), "status OK");
  auto flags = [&] {
    auto r = Run(c_.get(), {"CLIENT", "INFO"});
    std::string line(r->str, r->len);
    size_t at = line.find(" flags=") + 7;
    return line.substr(at, line.find(' ', at) - at);
  };
  EXPECT_EQ(flags(), "e");
  ASSERT_EQ(Call({"RESET"}), "status RESET");
  EXPECT_EQ(flags(), "e");
  ASSERT_EQ(Call({"CLIENT", "NO-EVICT", "off"}), "status OK");
  EXPECT_EQ(flags(), "N");
}

}  // namespace
}  // namespace keel::test
