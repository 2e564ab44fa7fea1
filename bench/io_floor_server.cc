// bench/io_floor_server: the least a RESP server can do per request, to measure the kernel's
// share of a request on this machine. It parses complete multibulk commands and answers each
// with a nil bulk ("$-1\r\n", what GET of a missing key returns), keeping nothing. Two loops:
//
//   epoll  one thread, level-triggered epoll; every readable socket is read once, and the
//          replies of the whole batch are sent right before the next epoll_wait (Redis's
//          shape: read handlers, then writes in beforeSleep).
//   uring  one io_uring; a multishot recv per connection into a ring of provided buffers, the
//          sends of a batch queued as SQEs and submitted with the wait for the next batch.
//
// Usage: io_floor_server epoll|uring PORT. Built by bench/io_floor; not part of Keel.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#ifdef FLOOR_URING
#include <liburing.h>
#endif

namespace {

constexpr std::string_view kNil = "$-1\r\n";

// Reads "<type><number>\r\n" at `pos`; false if the line is incomplete or of another type.
bool ReadHeader(std::string_view in, size_t& pos, char type, long& value) {
  if (pos >= in.size() || in[pos] != type) return false;
  size_t end = in.find('\n', pos);
  if (end == std::string_view::npos) return false;
  value = std::strtol(in.data() + pos + 1, nullptr, 10);
  pos = end + 1;
  return true;
}

// Appends a nil reply for every complete command at the front of `in` and drops those
// commands from it.
void Answer(std::string& in, std::string& out) {
  std::string_view view(in);
  size_t done = 0;
  for (;;) {
    size_t pos = done;
    long argc = 0;
    if (!ReadHeader(view, pos, '*', argc)) break;
    bool complete = true;
    for (long i = 0; i < argc && complete; ++i) {
      long len = 0;
      complete = ReadHeader(view, pos, '$', len) && pos + len + 2 <= view.size();
      pos += complete ? len + 2 : 0;
    }
    if (!complete) break;
    done = pos;
    out.append(kNil);
  }
  in.erase(0, done);
}

int Listen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 511) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  return fd;
}

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct Client {
  explicit Client(int socket) : fd(socket) {}
  int fd;
  std::string in;
  std::string out;      // replies not yet handed to the kernel
  std::string sending;  // uring: the bytes of the send in flight
  bool queued = false;  // epoll: on the list of clients with replies to send
  bool busy = false;    // uring: a send is in flight
};

int RunEpoll(int port) {
  int listener = Listen(port);
  int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::vector<Client*> pending;
  epoll_event events[256];
  char buf[16384];
  for (;;) {
    for (Client* c : pending) {
      c->queued = false;
      ssize_t n = send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
      c->out.erase(0, n > 0 ? static_cast<size_t>(n) : 0);
      // A reply the socket would not take: wait until it is writable.
      epoll_event want{};
      want.events = c->out.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT;
      want.data.ptr = c;
      if (!c->out.empty()) epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &want);
    }
    pending.clear();
    int ready = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < ready; ++i) {
      auto* c = static_cast<Client*>(events[i].data.ptr);
      if (c == nullptr) {
        int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
        if (fd < 0) continue;
        NoDelay(fd);
        epoll_event add{};
        add.events = EPOLLIN;
        add.data.ptr = new Client(fd);
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &add);
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        ssize_t n = send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
        c->out.erase(0, n > 0 ? static_cast<size_t>(n) : 0);
        if (c->out.empty()) {
          epoll_event want{};
          want.events = EPOLLIN;
          want.data.ptr = c;
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &want);
        }
      }
      if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t n = recv(c->fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN)) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
        close(c->fd);
        if (!c->queued)
          delete c;
        else
          c->fd = -1;
        continue;
      }
      if (n < 0) continue;
      c->in.append(buf, static_cast<size_t>(n));
      Answer(c->in, c->out);
      if (!c->out.empty() && !c->queued) {
        c->queued = true;
        pending.push_back(c);
      }
    }
    // Clients closed while queued are dropped from the list here.
    std::erase_if(pending, [](Client* c) {
      if (c->fd >= 0) return false;
      delete c;
      return true;
    });
  }
}

#ifdef FLOOR_URING
constexpr unsigned kBuffers = 512;
constexpr unsigned kBufferSize = 4096;
enum Kind : uintptr_t { kAccept = 1, kRecv = 2, kSend = 3 };

struct Uring {
  io_uring ring{};
  io_uring_buf_ring* buffers = nullptr;
  std::unique_ptr<char[]> memory{new char[kBuffers * kBufferSize]};

  io_uring_sqe* Sqe(Client* c, Kind kind) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) {  // the submission queue is full: hand it to the kernel first
      io_uring_submit(&ring);
      sqe = io_uring_get_sqe(&ring);
    }
    io_uring_sqe_set_data(sqe, reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(c) | kind));
    return sqe;
  }
  void Recv(Client* c) {
    io_uring_sqe* sqe = Sqe(c, kRecv);
    io_uring_prep_recv_multishot(sqe, c->fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
  }
  void Send(Client* c) {
    c->sending.swap(c->out);
    c->out.clear();
    c->busy = true;
    io_uring_prep_send(Sqe(c, kSend), c->fd, c->sending.data(), c->sending.size(), MSG_NOSIGNAL);
  }
  void GiveBack(unsigned id) {
    io_uring_buf_ring_add(buffers, memory.get() + id * kBufferSize, kBufferSize, id,
                          io_uring_buf_ring_mask(kBuffers), 0);
    io_uring_buf_ring_advance(buffers, 1);
  }
};

int RunUring(int port) {
  Uring u;
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(1024, &u.ring, &params) < 0) {
    std::fprintf(stderr, "io_uring setup failed\n");
    return 1;
  }
  void* ring_memory = nullptr;
  if (posix_memalign(&ring_memory, 4096, kBuffers * sizeof(io_uring_buf)) != 0) return 1;
  u.buffers = static_cast<io_uring_buf_ring*>(ring_memory);
  io_uring_buf_ring_init(u.buffers);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uintptr_t>(u.buffers);
  reg.ring_entries = kBuffers;
  reg.bgid = 0;
  if (io_uring_register_buf_ring(&u.ring, &reg, 0) != 0) {
    std::fprintf(stderr, "provided buffers not supported\n");
    return 1;
  }
  for (unsigned id = 0; id < kBuffers; ++id) u.GiveBack(id);
  int listener = Listen(port);
  io_uring_prep_accept(u.Sqe(nullptr, kAccept), listener, nullptr, nullptr, 0);
  for (;;) {
    io_uring_submit_and_wait(&u.ring, 1);
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&u.ring, head, cqe) {
      ++seen;
      auto data = reinterpret_cast<uintptr_t>(io_uring_cqe_get_data(cqe));
      auto kind = static_cast<Kind>(data & 7);
      auto* c = reinterpret_cast<Client*>(data & ~uintptr_t{7});
      int res = cqe->res;
      if (kind == kAccept) {
        if (res >= 0) {
          NoDelay(res);
          u.Recv(new Client(res));
        }
        io_uring_prep_accept(u.Sqe(nullptr, kAccept), listener, nullptr, nullptr, 0);
      } else if (kind == kRecv) {
        if (res == -ENOBUFS) {  // all buffers in use: ask again
          u.Recv(c);
          continue;
        }
        if (res <= 0) {  // closed; a client with a send in flight is leaked, as it is rare
          close(c->fd);
          if (!c->busy) delete c;
          continue;
        }
        unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        c->in.append(u.memory.get() + id * kBufferSize, static_cast<size_t>(res));
        u.GiveBack(id);
        Answer(c->in, c->out);
        if (!c->out.empty() && !c->busy) u.Send(c);
        if (!(cqe->flags & IORING_CQE_F_MORE)) u.Recv(c);
      } else {
        c->busy = false;
        if (res > 0 && static_cast<size_t>(res) < c->sending.size()) {
          c->out.insert(0, c->sending, static_cast<size_t>(res));
        }
        if (res >= 0 && !c->out.empty()) u.Send(c);
      }
    }
    io_uring_cq_advance(&u.ring, seen);
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s epoll|uring PORT\n", argv[0]);
    return 2;
  }
  std::string_view mode = argv[1];
  int port = std::atoi(argv[2]);
  if (mode == "epoll") return RunEpoll(port);
#ifdef FLOOR_URING
  if (mode == "uring") return RunUring(port);
#endif
  std::fprintf(stderr, "mode %s not built\n", argv[1]);
  return 2;
}
