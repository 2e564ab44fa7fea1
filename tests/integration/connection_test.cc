// Connection handling: pipelining, many concurrent clients, protocol errors, QUIT, CLIENT
// LIST/KILL, MONITOR. Written to Redis 7.0's behaviour; they need keel-server's networking
// layer, connection family (PING/ECHO/QUIT/SELECT/HELLO) and the CLIENT and MONITOR commands.

#include <atomic>
#include <csignal>
#include <cstring>
#include <map>
#include <regex>
#include <thread>

#include "integration/fixture.h"
#include "support/resp.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

class ConnectionTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer();
  }
};

TEST_F(ConnectionTest, TenThousandPipelinedCommandsInOneWriteReplyInOrder) {
  constexpr int kCommands = 10000;
  std::string batch;
  for (int i = 0; i < kCommands; ++i) {
    batch += EncodeCommand({"ECHO", "value-" + std::to_string(i)});
  }
  RespConnection c = Connect();
  // Write from another thread: while the whole batch is in flight the server is already
  // answering, and a reader that is not reading could deadlock both sides on full buffers.
  ::testing::AssertionResult sent = ::testing::AssertionSuccess();
  std::thread writer([&] { sent = c.Send(batch); });
  for (int i = 0; i < kCommands; ++i) {
    std::string reply;
    ASSERT_TRUE(c.ReadReply(&reply)) << "reply " << i;
    std::string want = "value-" + std::to_string(i);
    ASSERT_EQ(reply, "$" + std::to_string(want.size()) + "\r\n" + want + "\r\n") << "reply " << i;
  }
  writer.join();
  EXPECT_TRUE(sent);
}

// Replies far bigger than the socket buffers, to a client that does not read for a while: the
// server's direct send stops short, the rest waits for the socket to drain, and other clients are
// served meanwhile. Every byte arrives, in order.
TEST_F(ConnectionTest, BigRepliesToAClientThatReadsLateArriveWhole) {
  RespConnection setup = Connect();
  std::vector<std::string> push = {"RPUSH", "big"};
  for (int i = 0; i < 100; ++i) push.push_back(std::to_string(i) + std::string(1000, 'v'));
  ASSERT_EQ(setup.Call(push), ":100\r\n");
  constexpr int kCommands = 200;  // 20 MB of replies: more than the socket buffers hold
  std::string batch;
  for (int i = 0; i < kCommands; ++i) batch += EncodeCommand({"LRANGE", "big", "0", "-1"});
  RespConnection slow = Connect();
  std::string id = slow.Call({"CLIENT", "ID"});
  ASSERT_GT(id.size(), 3u);
  id = id.substr(1, id.size() - 3);
  ASSERT_TRUE(slow.Send(batch));
  // Wait (not a fixed pause) until the server holds output for the client that does not read:
  // its socket is full. How much it holds then varies: the loopback socket's buffers take
  // several MB, and Keel stops running a client's commands once its output passes
  // client-output-pause-limit, so only what the last write left unsent (obl; Redis also has
  // omem) is certain to be there.
  auto field = [](const std::string& line, const char* name) -> long long {
    size_t at = line.find(std::string(" ") + name + "=");
    return at == std::string::npos ? 0 : std::stoll(line.substr(at + std::strlen(name) + 2));
  };
  bool backed_up = false;
  std::string line;
  for (int i = 0; i < 3000 && !backed_up; ++i) {
    line = setup.Call({"CLIENT", "LIST", "ID", id});
    backed_up = field(line, "obl") + field(line, "omem") > 32 * 1024;
    if (!backed_up) std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(backed_up) << "no output piled up for the slow client: " << EscapeBytes(line);
  EXPECT_EQ(setup.Call({"LLEN", "big"}), ":100\r\n");  // not stalled by the full socket
  std::string want = "*100\r\n";
  for (int i = 0; i < 100; ++i) {
    std::string v = std::to_string(i) + std::string(1000, 'v');
    want += "$" + std::to_string(v.size()) + "\r\n" + v + "\r\n";
  }
  for (int i = 0; i < kCommands; ++i) {
    std::string reply;
    ASSERT_TRUE(slow.ReadReply(&reply)) << "reply " << i;
    ASSERT_EQ(reply, want) << "reply " << i;
  }
  EXPECT_EQ(slow.Call({"PING"}), "+PONG\r\n");
}

// A deep pipeline of big commands, sent in one write: more is always waiting than the largest
// read buffer takes, so the server reads it in capped turns, with commands cut at every offset.
// Every command runs once, in order, and another client is answered meanwhile.
TEST_F(ConnectionTest, StreamOfBigCommandsIsReadWholeInCappedTurns) {
  constexpr int kCommands = 300;
  constexpr int kKeys = 10;
  auto value = [](int cmd, int key) {
    return std::to_string(cmd) + ":" + std::to_string(key) +
           std::string(900 + (cmd * 7 + key) % 241, 'v');
  };
  std::string batch;
  for (int i = 0; i < kCommands; ++i) {
    std::vector<std::string> mset = {"MSET"};
    for (int k = 0; k < kKeys; ++k) {
      mset.push_back("k" + std::to_string(k));
      mset.push_back(value(i, k));
    }
    batch += EncodeCommand(mset);
    batch += EncodeCommand({"APPEND", "log", std::to_string(i) + ","});
  }
  RespConnection c = Connect();
  ::testing::AssertionResult sent = ::testing::AssertionSuccess();
  std::thread writer([&] { sent = c.Send(batch); });
  RespConnection other = Connect();
  EXPECT_EQ(other.Call({"PING"}), "+PONG\r\n");
  size_t log_len = 0;
  for (int i = 0; i < kCommands; ++i) {
    std::string reply;
    ASSERT_TRUE(c.ReadReply(&reply)) << "reply " << i;
    ASSERT_EQ(reply, "+OK\r\n") << "MSET " << i;
    log_len += std::to_string(i).size() + 1;
    ASSERT_TRUE(c.ReadReply(&reply)) << "reply " << i;
    ASSERT_EQ(reply, ":" + std::to_string(log_len) + "\r\n") << "APPEND " << i;
  }
  writer.join();
  EXPECT_TRUE(sent);
  std::string log;
  for (int i = 0; i < kCommands; ++i) log += std::to_string(i) + ",";
  EXPECT_EQ(c.Call({"GET", "log"}), "$" + std::to_string(log.size()) + "\r\n" + log + "\r\n");
  for (int k = 0; k < kKeys; ++k) {
    std::string v = value(kCommands - 1, k);
    EXPECT_EQ(c.Call({"GET", "k" + std::to_string(k)}),
              "$" + std::to_string(v.size()) + "\r\n" + v + "\r\n");
  }
}

TEST_F(ConnectionTest, HiredisPipelineOfMixedCommandsKeepsOrder) {
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(HiredisAppend(ctx.get(), {"PING"}));
    ASSERT_TRUE(HiredisAppend(ctx.get(), {"ECHO", std::to_string(i)}));
  }
  for (int i = 0; i < 1000; ++i) {
    auto pong = HiredisGetReply(ctx.get());
    ASSERT_NE(pong, nullptr) << ctx->errstr;
    ASSERT_EQ(pong->type, REDIS_REPLY_STATUS) << DescribeReply(pong.get());
    ASSERT_EQ(std::string(pong->str, pong->len), "PONG");
    auto echo = HiredisGetReply(ctx.get());
    ASSERT_NE(echo, nullptr) << ctx->errstr;
    ASSERT_EQ(echo->type, REDIS_REPLY_STRING) << DescribeReply(echo.get());
    ASSERT_EQ(std::string(echo->str, echo->len), std::to_string(i));
  }
}

// Opens all connections first so 200 are open at once, then has each do round trips.
void RunConcurrentClients(int port, int threads, int per_thread, int rounds) {
  std::atomic<int> failures{0};
  std::atomic<int> connected{0};
  std::vector<std::thread> workers;
  std::vector<std::string> errors(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<RedisContextPtr> clients;
      for (int i = 0; i < per_thread; ++i) {
        std::string error;
        auto ctx = HiredisConnect(port, std::chrono::seconds(20), &error);
        if (ctx == nullptr) {
          errors[t] = "connect: " + error;
          ++failures;
          return;
        }
        clients.push_back(std::move(ctx));
      }
      ++connected;
      while (connected.load() < threads && failures.load() == 0) {
        std::this_thread::sleep_for(milliseconds(1));
      }
      for (int r = 0; r < rounds; ++r) {
        for (size_t i = 0; i < clients.size(); ++i) {
          auto pong = HiredisCommand(clients[i].get(), {"PING"});
          std::string msg =
              "t" + std::to_string(t) + "c" + std::to_string(i) + "r" + std::to_string(r);
          auto echo = HiredisCommand(clients[i].get(), {"ECHO", msg});
          if (pong == nullptr || pong->type != REDIS_REPLY_STATUS ||
              std::string(pong->str, pong->len) != "PONG" || echo == nullptr ||
              echo->type != REDIS_REPLY_STRING || std::string(echo->str, echo->len) != msg) {
            errors[t] = msg + ": PING -> " + DescribeReply(pong.get()) + ", ECHO -> " +
                        DescribeReply(echo.get());
            ++failures;
            return;
          }
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& e : errors) {
    if (!e.empty()) ADD_FAILURE() << e;
  }
}

TEST_F(ConnectionTest, TwoHundredConcurrentClientsAcrossThreads) {
  RunConcurrentClients(server_->port(), 8, 25, 20);
}

// Clients that connect while the server cannot accept (stopped here; a long fork or a burst
// in real life) wait in the listen backlog: once it runs again every one of them is served,
// without another client arriving to wake the listener.
TEST_F(ConnectionTest, ClientsQueuedInTheBacklogAreAllServed) {
  constexpr int kClients = 300;  // well past one accept batch, within the backlog of 511
  server_->Signal(SIGSTOP);
  std::vector<RespConnection> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Connect());
  server_->Signal(SIGCONT);
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(clients[i].SendCommand({"PING"}));
  }
  for (int i = 0; i < kClients; ++i) {
    std::string reply;
    ASSERT_TRUE(clients[i].ReadReply(&reply, milliseconds(10000))) << "client " << i;
    EXPECT_EQ(reply, "+PONG\r\n");
  }
}

TEST_F(ConnectionTest, ProtocolErrorClosesOnlyThatClient) {
  RespConnection bad = Connect();
  RespConnection good = Connect();
  EXPECT_EQ(good.Call({"PING"}), "+PONG\r\n");
  ASSERT_TRUE(bad.Send("*abc\r\n"));
  auto drained = bad.ReadUntilClose(milliseconds(5000));
  EXPECT_EQ(drained.bytes, "-ERR Protocol error: invalid multibulk length\r\n");
  EXPECT_TRUE(drained.closed);
  EXPECT_EQ(good.Call({"ECHO", "still here"}), "$10\r\nstill here\r\n");
  RespConnection fresh = Connect();
  EXPECT_EQ(fresh.Call({"PING"}), "+PONG\r\n");
}

// The connection parses a pipelined batch ahead of running it (to prefetch keys): what runs,
// and in which order, must be exactly what one-at-a-time parsing gives.
TEST_F(ConnectionTest, ProtocolErrorInsidePipelinedBatchRunsTheCommandsBeforeIt) {
  RespConnection c = Connect();
  std::string batch;
  for (int i = 0; i < 5; ++i) batch += EncodeCommand({"SET", "k" + std::to_string(i), "v"});
  batch += "*1\r\n$x\r\n";  // bad bulk length
  batch += EncodeCommand({"SET", "after", "v"});
  ASSERT_TRUE(c.Send(batch));
  auto drained = c.ReadUntilClose(milliseconds(5000));
  std::string want;
  for (int i = 0; i < 5; ++i) want += "+OK\r\n";
  want += "-ERR Protocol error: invalid bulk length\r\n";
  EXPECT_EQ(drained.bytes, want);
  RespConnection other = Connect();
  EXPECT_EQ(other.Call({"EXISTS", "k0", "k4", "after"}), ":2\r\n");
}

TEST_F(ConnectionTest, InlineAndMultibulkCommandsMixedInOneBatchKeepOrder) {
  RespConnection c = Connect();
  std::string batch = EncodeCommand({"SET", "a", "1"}) + "SET b \"two words\"\r\n" +
                      EncodeCommand({"GET", "b"}) + "GET a\r\n" +
                      EncodeCommand({"APPEND", "a", "x"});
  ASSERT_TRUE(c.Send(batch));
  std::string want = "+OK\r\n+OK\r\n$9\r\ntwo words\r\n$1\r\n1\r\n:2\r\n";
  std::string got;
  for (int i = 0; i < 5; ++i) {
    std::string reply;
    ASSERT_TRUE(c.ReadReply(&reply)) << "reply " << i;
    got += reply;
  }
  EXPECT_EQ(got, want);
}

TEST_F(ConnectionTest, BlockingCommandInsidePipelinedBatchHoldsBackTheRest) {
  RespConnection c = Connect();
  std::string batch = EncodeCommand({"SET", "x", "1"}) + EncodeCommand({"BLPOP", "q", "0"}) +
                      EncodeCommand({"INCR", "x"}) + EncodeCommand({"INCR", "x"}) +
                      "*2\r\n$3\r\nGET\r\n$1\r";  // and half of a GET x
  ASSERT_TRUE(c.Send(batch));
  std::string reply;
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  // The INCRs wait behind the blocked BLPOP.
  RespConnection other = Connect();
  std::string info;
  for (int i = 0; i < 3000 && info.find("blocked_clients:1\r\n") == std::string::npos; ++i) {
    if (i > 0) std::this_thread::sleep_for(milliseconds(10));
    info = other.Call({"INFO", "clients"});
  }
  ASSERT_NE(info.find("blocked_clients:1\r\n"), std::string::npos) << EscapeBytes(info);
  EXPECT_EQ(other.Call({"GET", "x"}), "$1\r\n1\r\n");
  EXPECT_EQ(other.Call({"RPUSH", "q", "job"}), ":1\r\n");
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "*2\r\n$1\r\nq\r\n$3\r\njob\r\n");
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, ":2\r\n");
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, ":3\r\n");
  ASSERT_TRUE(c.Send("\nx\r\n"));  // the rest of the GET
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "$1\r\n3\r\n");
}

TEST_F(ConnectionTest, QuitRepliesOkThenCloses) {
  RespConnection c = Connect();
  ASSERT_TRUE(c.Send(EncodeCommand({"QUIT"}) + EncodeCommand({"PING"})));
  auto drained = c.ReadUntilClose(milliseconds(5000));
  // The PING pipelined after QUIT is never answered.
  EXPECT_EQ(drained.bytes, "+OK\r\n");
  EXPECT_TRUE(drained.closed);
  RespConnection other = Connect();
  EXPECT_EQ(other.Call({"PING"}), "+PONG\r\n");
}

TEST_F(ConnectionTest, ClientVanishingMidCommandDoesNotHurtTheServer) {
  const std::vector<std::string> fragments = {
      "*3\r\n$3\r\nSET\r\n$1\r\nk",                                // half a multibulk
      "*2\r\n$4\r\nECHO\r\n$100000\r\n" + std::string(5000, 'x'),  // inside a big bulk
      "*2\r",                                                      // inside a header line
      "PING",                                                      // inline without newline
      "*1\r\n$4\r\nPING\r\n*1\r\n",  // a whole command, then half of another
  };
  for (int round = 0; round < 20; ++round) {
    for (const auto& f : fragments) {
      RespConnection c = Connect();
      ASSERT_TRUE(c.Send(f));
      c.Close();
    }
  }
  RespConnection c = Connect();
  EXPECT_EQ(c.Call({"PING"}), "+PONG\r\n");
  EXPECT_TRUE(server_->IsRunning());
}

TEST_F(ConnectionTest, ClientListShowsEachConnectionWithRedisFieldNames) {
  RespConnection a = Connect();
  RespConnection b = Connect();
  ASSERT_EQ(a.Call({"CLIENT", "SETNAME", "alpha"}), "+OK\r\n");
  ASSERT_EQ(b.Call({"CLIENT", "SETNAME", "beta"}), "+OK\r\n");
  ASSERT_EQ(b.Call({"SELECT", "3"}), "+OK\r\n");
  std::string reply = a.Call({"CLIENT", "LIST"});
  RespValue v;
  ASSERT_TRUE(ParseReply(reply, &v)) << EscapeBytes(reply);
  ASSERT_EQ(v.type, '$') << EscapeBytes(reply);
  const std::string& text = v.text;
  // One line per client, each "\n"-terminated, fields in Redis 7.0's order.
  const std::regex line_re(
      "id=\\d+ addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:\\d+ fd=\\d+ name=(\\S*) age=\\d+ "
      "idle=\\d+ flags=\\S+ db=(\\d+) sub=0 psub=0 ssub=0 multi=-1 qbuf=\\d+ qbuf-free=\\d+ "
      "argv-mem=\\d+ multi-mem=0 rbs=\\d+ rbp=\\d+ obl=\\d+ oll=\\d+ omem=\\d+ tot-mem=\\d+ "
      "events=\\S+ cmd=(\\S+) user=default redir=-1 resp=2");
  std::map<std::string, std::pair<std::string, std::string>> by_name;  // name -> (db, cmd)
  size_t start = 0;
  int lines = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    ASSERT_NE(nl, std::string::npos) << "last line is not newline-terminated";
    std::string line = text.substr(start, nl - start);
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, line_re)) << line;
    if (!m.empty()) by_name[m[1]] = {m[2], m[3]};
    start = nl + 1;
    ++lines;
  }
  EXPECT_EQ(lines, 2);
  EXPECT_EQ(by_name["alpha"], std::make_pair(std::string("0"), std::string("client|list")));
  EXPECT_EQ(by_name["beta"], std::make_pair(std::string("3"), std::string("select")));
}

int64_t ClientId(RespConnection& c) {
  std::string reply = c.Call({"CLIENT", "ID"});
  RespValue v;
  if (!ParseReply(reply, &v) || v.type != ':') {
    ADD_FAILURE() << "CLIENT ID -> " << EscapeBytes(reply);
    return -1;
  }
  return std::stoll(v.text);
}

TEST_F(ConnectionTest, ClientKillIdClosesThatClientOnly) {
  RespConnection victim = Connect();
  RespConnection killer = Connect();
  int64_t id = ClientId(victim);
  ASSERT_GT(id, 0);
  EXPECT_EQ(killer.Call({"CLIENT", "KILL", "ID", std::to_string(id)}), ":1\r\n");
  std::string extra;
  EXPECT_TRUE(victim.WaitForClose(milliseconds(5000), &extra));
  EXPECT_EQ(extra, "");
  EXPECT_EQ(killer.Call({"CLIENT", "KILL", "ID", std::to_string(id)}), ":0\r\n");
  EXPECT_EQ(killer.Call({"PING"}), "+PONG\r\n");
}

TEST_F(ConnectionTest, ClientKillSkipmeNoKillsTheCaller) {
  RespConnection c = Connect();
  int64_t id = ClientId(c);
  ASSERT_TRUE(c.SendCommand({"CLIENT", "KILL", "ID", std::to_string(id), "SKIPME", "no"}));
  auto drained = c.ReadUntilClose(milliseconds(5000));
  // Redis answers the kill count first and closes after the reply is written.
  EXPECT_EQ(drained.bytes, ":1\r\n");
  EXPECT_TRUE(drained.closed);
}

TEST_F(ConnectionTest, MonitorStreamsCommandsOfAnotherClient) {
  RespConnection monitor = Connect();
  RespConnection other = Connect();
  int64_t other_port = 0;
  {
    // The monitor line names the client's address; learn our local port from CLIENT INFO.
    std::string info = other.Call({"CLIENT", "INFO"});
    std::smatch m;
    ASSERT_TRUE(std::regex_search(info, m, std::regex("addr=127\\.0\\.0\\.1:(\\d+)"))) << info;
    other_port = std::stoll(m[1]);
  }
  ASSERT_EQ(monitor.Call({"MONITOR"}), "+OK\r\n");
  ASSERT_EQ(other.Call({"ECHO", "hello world"}), "$11\r\nhello world\r\n");
  ASSERT_EQ(other.Call({"SELECT", "2"}), "+OK\r\n");
  ASSERT_EQ(other.Call({"PING", "x\"y"}), "$3\r\nx\"y\r\n");
  const std::string addr = "127\\.0\\.0\\.1:" + std::to_string(other_port);
  const std::vector<std::string> expected = {
      "\\+\\d+\\.\\d{6} \\[0 " + addr + "\\] \"ECHO\" \"hello world\"\r\n",
      // The line is written after the command ran, so SELECT already shows the new db.
      "\\+\\d+\\.\\d{6} \\[2 " + addr + "\\] \"SELECT\" \"2\"\r\n",
      "\\+\\d+\\.\\d{6} \\[2 " + addr + "\\] \"PING\" \"x\\\\\"y\"\r\n",
  };
  for (const auto& pattern : expected) {
    std::string line;
    ASSERT_TRUE(monitor.ReadReply(&line));
    EXPECT_TRUE(std::regex_match(line, std::regex(pattern)))
        << "line: " << EscapeBytes(line) << "\npattern: " << pattern;
  }
}

TEST_F(ConnectionTest, Resp3HelloSwitchesTheProtocolAndClientListShowsIt) {
  RespConnection c = Connect();
  std::string hello = c.Call({"HELLO", "3"});
  EXPECT_EQ(hello.substr(0, 4), "%7\r\n") << EscapeBytes(hello);
  EXPECT_NE(hello.find("$5\r\nproto\r\n:3\r\n"), std::string::npos) << EscapeBytes(hello);
  EXPECT_EQ(c.Call({"GET", "nokey"}), "_\r\n");
  std::string info = c.Call({"CLIENT", "INFO"});
  EXPECT_EQ(info[0], '=') << EscapeBytes(info);
  EXPECT_NE(info.find("\r\ntxt:id="), std::string::npos) << EscapeBytes(info);
  EXPECT_NE(info.find(" resp=3\n"), std::string::npos) << EscapeBytes(info);
  // Refused: the protocol stays RESP3.
  EXPECT_EQ(c.Call({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(c.Call({"GET", "nokey"}), "_\r\n");
  EXPECT_EQ(c.Call({"HELLO", "2"}).substr(0, 5), "*14\r\n");
  EXPECT_EQ(c.Call({"GET", "nokey"}), "$-1\r\n");
}

TEST_F(ConnectionTest, MonitorLinesStaySimpleStringsInResp3) {
  RespConnection monitor = Connect();
  ASSERT_EQ(monitor.Call({"HELLO", "3"}).substr(0, 4), "%7\r\n");
  ASSERT_EQ(monitor.Call({"MONITOR"}), "+OK\r\n");
  RespConnection c = Connect();
  ASSERT_EQ(c.Call({"HELLO", "3"}).substr(0, 4), "%7\r\n");
  ASSERT_EQ(c.Call({"GET", "k"}), "_\r\n");
  std::string line;
  // The HELLO, then the GET, each a simple string (Redis 7.0 does not push them).
  for (const char* what : {"\"HELLO\" \"3\"", "\"GET\" \"k\""}) {
    ASSERT_TRUE(monitor.ReadReply(&line));
    EXPECT_EQ(line[0], '+') << EscapeBytes(line);
    EXPECT_NE(line.find(what), std::string::npos) << EscapeBytes(line);
  }
}

// CLIENT SETINFO arrived in Redis 7.2, which current client libraries send after connecting;
// Keel accepts it (the 7.0 oracle answers "unknown subcommand").
TEST_F(ConnectionTest, KeelOnlyClientSetinfoIsAcceptedAndValidated) {
  if (TestingRedis()) GTEST_SKIP() << "Keel-specific: Redis 7.0 has no CLIENT SETINFO";
  RespConnection c = Connect();
  EXPECT_EQ(c.Call({"CLIENT", "SETINFO", "lib-name", "mylib"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"CLIENT", "SETINFO", "LIB-VER", "1.2.3"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"CLIENT", "SETINFO", "lib-name", "has space"}),
            "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(c.Call({"CLIENT", "SETINFO", "bogus", "x"}), "-ERR Unrecognized option 'bogus'\r\n");
}

class IoThreadsTest : public ServerTest {};

TEST_F(IoThreadsTest, TwoHundredConcurrentClientsWithFourIoThreads) {
  StartServer(ThreadedArgs(4));
  RunConcurrentClients(server_->port(), 8, 25, 10);
}

}  // namespace
}  // namespace keel::test
