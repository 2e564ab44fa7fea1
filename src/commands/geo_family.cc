// Geo commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE and the deprecated
// GEORADIUS, GEORADIUSBYMEMBER and their _RO forms, on sorted sets.
//
// A position is stored as its member's score: a 52-bit geohash, the 26-bit fixed-point
// latitude (in -85.05112878..85.05112878) in the even bits and the 26-bit longitude (in
// -180..180) in the odd bits, as Redis 7.0 stores it, so geo data moves between Keel and Redis
// unchanged (RDB, DUMP/RESTORE). A stored position reads back as the centre of its cell.
//
// A search around a point covers the cell of a geohash step coarse enough that the search area
// fits in it and its 8 neighbours, dropping neighbours the area's bounding box does not reach;
// each cell is one score range of the sorted set, and every member found there is kept if it
// lies in the circle (Haversine distance) or box. The step rule, the bounding box and the order
// in which cells are walked follow Redis, so both find the same members in the same order.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/strings.h"
#include "keel/keyspace/zset_object.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"
#include "write.h"
#include "zset_store.h"

namespace keel {

namespace {

// ---- geohash ----

constexpr double kLonMin = -180;
constexpr double kLonMax = 180;
constexpr double kLatMin = -85.05112878;
constexpr double kLatMax = 85.05112878;
constexpr int kStepMax = 26;                     // 26 bits per coordinate: 52-bit scores
constexpr double kEarthRadius = 6372797.560856;  // meters
constexpr double kMercatorMax = 20037726.37;     // half the Earth's circumference, meters
constexpr double kDegToRad = M_PI / 180.0;

double Rad(double deg) { return deg * kDegToRad; }
double Deg(double rad) { return rad / kDegToRad; }

struct Range {
  double min, max;
};
constexpr Range kLonRange{kLonMin, kLonMax};
constexpr Range kLatRange{kLatMin, kLatMax};

struct Hash {
  uint64_t bits = 0;
  int step = 0;
  bool Zero() const { return bits == 0 && step == 0; }
};

struct Area {
  Range lon, lat;
};

// Bit i of v to bit 2i.
uint64_t Spread(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

// The even bits of x, packed.
uint32_t Squash(uint64_t x) {
  x &= 0x5555555555555555ULL;
  x = (x | (x >> 1)) & 0x3333333333333333ULL;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(x);
}

// The cell of `step` bits per coordinate holding (lon, lat) within the given ranges; nullopt
// outside the ranges or the WGS84/Mercator limits.
std::optional<Hash> Encode(double lon, double lat, int step, Range lon_r = kLonRange,
                           Range lat_r = kLatRange) {
  if (lon > kLonMax || lon < kLonMin || lat > kLatMax || lat < kLatMin) return std::nullopt;
  if (lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max) {
    return std::nullopt;
  }
  double lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min);
  double lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min);
  lat_off *= static_cast<double>(1ULL << step);
  lon_off *= static_cast<double>(1ULL << step);
  auto ilat = static_cast<uint32_t>(lat_off);
  auto ilon = static_cast<uint32_t>(lon_off);
  return Hash{Spread(ilat) | (Spread(ilon) << 1), step};
}

Area Decode(Hash h, Range lon_r = kLonRange, Range lat_r = kLatRange) {
  uint32_t ilat = Squash(h.bits);
  uint32_t ilon = Squash(h.bits >> 1);
  double cells = static_cast<double>(1ULL << h.step);
  double lat_scale = lat_r.max - lat_r.min;
  double lon_scale = lon_r.max - lon_r.min;
  Area a;
  a.lat.min = lat_r.min + (ilat * 1.0 / cells) * lat_scale;
  a.lat.max = lat_r.min + (static_cast<uint32_t>(ilat + 1) * 1.0 / cells) * lat_scale;
  a.lon.min = lon_r.min + (ilon * 1.0 / cells) * lon_scale;
  a.lon.max = lon_r.min + (static_cast<uint32_t>(ilon + 1) * 1.0 / cells) * lon_scale;
  return a;
}

struct Point2 {
  double lon, lat;
};

// The centre of a cell, clamped to the limits.
Point2 Center(const Area& a) {
  Point2 p{(a.lon.min + a.lon.max) / 2, (a.lat.min + a.lat.max) / 2};
  p.lon = std::clamp(p.lon, kLonMin, kLonMax);
  p.lat = std::clamp(p.lat, kLatMin, kLatMax);
  return p;
}

// The position a score stands for.
Point2 FromScore(double score) {
  return Center(Decode(Hash{static_cast<uint64_t>(score), kStepMax}));
}

// The score of a position. REQUIRES: the position is within the limits.
double ToScore(double lon, double lat) {
  return static_cast<double>(Encode(lon, lat, kStepMax)->bits);
}

// Moves a cell by d (-1, 0, 1) cells east-west (odd bits) or north-south (even bits), wrapping.
void Move(Hash* h, int d, bool lon) {
  if (d == 0) return;
  const uint64_t own_mask = lon ? 0xAAAAAAAAAAAAAAAAULL : 0x5555555555555555ULL;
  const uint64_t other_mask = ~own_mask;
  uint64_t own = h->bits & own_mask;
  uint64_t other = h->bits & other_mask;
  // Ones in the other coordinate's bits, so that carries and borrows cross them.
  uint64_t fill = other_mask >> (64 - h->step * 2);
  if (d > 0) {
    own = own + (fill + 1);
  } else {
    own = (own | fill) - (fill + 1);
  }
  own &= own_mask >> (64 - h->step * 2);
  h->bits = own | other;
}

Hash Moved(Hash h, int dlon, int dlat) {
  Move(&h, dlon, true);
  Move(&h, dlat, false);
  return h;
}

double LatDistance(double lat1, double lat2) {
  return kEarthRadius * std::fabs(Rad(lat2) - Rad(lat1));
}

// Haversine distance in meters.
double Distance(double lon1, double lat1, double lon2, double lat2) {
  double lon1r = Rad(lon1), lon2r = Rad(lon2);
  double v = std::sin((lon2r - lon1r) / 2);
  if (v == 0.0) return LatDistance(lat1, lat2);
  double lat1r = Rad(lat1), lat2r = Rad(lat2);
  double u = std::sin((lat2r - lat1r) / 2);
  double a = u * u + std::cos(lat1r) * std::cos(lat2r) * v * v;
  return 2.0 * kEarthRadius * std::asin(std::sqrt(a));
}

// ---- search shapes ----

struct Shape {
  bool box = false;
  Point2 center{0, 0};
  double radius = 0;             // in the unit
  double width = 0, height = 0;  // in the unit
  double conversion = 1;         // meters per unit
};

// min lon, min lat, max lon, max lat of the area to search.
struct Bounds {
  double min_lon, min_lat, max_lon, max_lat;
};

Bounds BoundingBox(const Shape& s) {
  double height = s.conversion * (s.box ? s.height / 2 : s.radius);
  double width = s.conversion * (s.box ? s.width / 2 : s.radius);
  double lat_delta = Deg(height / kEarthRadius);
  double lon_delta_top = Deg(width / kEarthRadius / std::cos(Rad(s.center.lat + lat_delta)));
  double lon_delta_bottom = Deg(width / kEarthRadius / std::cos(Rad(s.center.lat - lat_delta)));
  // The widest parallel is the one nearer the equator.
  bool south = s.center.lat < 0;
  double lon_delta = south ? lon_delta_bottom : lon_delta_top;
  return {s.center.lon - lon_delta, s.center.lat - lat_delta, s.center.lon + lon_delta,
          s.center.lat + lat_delta};
}

// The coarsest useful step for a search of `meters` around latitude `lat`.
int StepsFor(double meters, double lat) {
  if (meters == 0) return kStepMax;
  int step = 1;
  while (meters < kMercatorMax) {
    meters *= 2;
    step++;
  }
  step -= 2;
  // Cells narrow towards the poles.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  return std::clamp(step, 1, kStepMax);
}

// The cells to scan, in the order they are scanned: the centre's cell, then north, south, east,
// west, north-east, north-west, south-east, south-west; a zero hash is skipped.
std::vector<Hash> CellsToScan(const Shape& s) {
  Bounds b = BoundingBox(s);
  double meters = s.box ? std::sqrt((s.width * s.conversion / 2) * (s.width * s.conversion / 2) +
                                    (s.height * s.conversion / 2) * (s.height * s.conversion / 2))
                        : s.radius * s.conversion;
  int steps = StepsFor(meters, s.center.lat);
  auto cells_at = [&](int step) {
    Hash c = *Encode(s.center.lon, s.center.lat, step);
    return std::vector<Hash>{c,
                             Moved(c, 0, 1),
                             Moved(c, 0, -1),
                             Moved(c, 1, 0),
                             Moved(c, -1, 0),
                             Moved(c, 1, 1),
                             Moved(c, -1, 1),
                             Moved(c, 1, -1),
                             Moved(c, -1, -1)};
  };
  enum { kC, kN, kS, kE, kW, kNE, kNW, kSE, kSW };
  std::vector<Hash> cells = cells_at(steps);
  // When a neighbour does not reach the edge of the area, one step coarser.
  bool coarser = Decode(cells[kN]).lat.max < b.max_lat || Decode(cells[kS]).lat.min > b.min_lat ||
                 Decode(cells[kE]).lon.max < b.max_lon || Decode(cells[kW]).lon.min > b.min_lon;
  if (steps > 1 && coarser) {
    steps--;
    cells = cells_at(steps);
  }
  // Neighbours beyond the area's bounding box are not scanned.
  if (steps >= 2) {
    Area a = Decode(cells[kC]);
    auto drop = [&](std::initializer_list<int> which) {
      for (int i : which) cells[i] = Hash{};
    };
    if (a.lat.min < b.min_lat) drop({kS, kSW, kSE});
    if (a.lat.max > b.max_lat) drop({kN, kNE, kNW});
    if (a.lon.min < b.min_lon) drop({kW, kSW, kNW});
    if (a.lon.max > b.max_lon) drop({kE, kSE, kNE});
  }
  return cells;
}

struct Found {
  double dist;  // meters
  double score;
  Point2 pos;
  std::string_view member;
};

// The distance of a member at `score` from the shape's centre, if it lies in the shape.
std::optional<double> DistanceIfInside(const Shape& s, double score, Point2* pos) {
  *pos = FromScore(score);
  if (!s.box) {
    double d = Distance(s.center.lon, s.center.lat, pos->lon, pos->lat);
    if (d > s.radius * s.conversion) return std::nullopt;
    return d;
  }
  if (LatDistance(pos->lat, s.center.lat) > s.height * s.conversion / 2) return std::nullopt;
  if (Distance(pos->lon, pos->lat, s.center.lon, pos->lat) > s.width * s.conversion / 2) {
    return std::nullopt;
  }
  return Distance(s.center.lon, s.center.lat, pos->lon, pos->lat);
}

// Every member in the shape (at most `limit` when not 0), in scan order.
std::vector<Found> Search(const ZsetRef& z, const Shape& s, size_t limit) {
  std::vector<Found> out;
  std::vector<Hash> cells = CellsToScan(s);
  int last = 0;
  for (int i = 0; i < static_cast<int>(cells.size()); ++i) {
    Hash h = cells[i];
    if (h.Zero()) continue;
    // Huge areas can make neighbours coincide: a cell equal to the last one scanned is skipped.
    if (last != 0 && h.bits == cells[last].bits && h.step == cells[last].step) continue;
    if (!out.empty() && limit != 0 && out.size() >= limit) break;
    int shift = 52 - h.step * 2;
    auto lo_score = static_cast<double>(h.bits << shift);
    auto hi_score = static_cast<double>((h.bits + 1) << shift);
    size_t lo = z.CountWhile([&](std::string_view, double sc) { return sc < lo_score; });
    size_t hi = z.CountWhile([&](std::string_view, double sc) { return sc < hi_score; });
    if (hi > lo) {
      z.Range(lo, hi, false, [&](std::string_view m, double sc) {
        Point2 pos;
        if (std::optional<double> d = DistanceIfInside(s, sc, &pos)) {
          out.push_back({*d, sc, pos, m});
        }
        return !(limit != 0 && out.size() >= limit);
      });
    }
    last = i;
  }
  return out;
}

// Puts the `keep` nearest (or farthest, with `desc`) results first, in order, the way Redis
// 7.0 does when COUNT keeps fewer than it found: Bentley and McIlroy's quicksort (median-of-3
// or ninther pivot, fat partition, insertion sort below 7 elements or after a partition that
// moved nothing), recursing only into parts that hold some of the first `keep` places. Equal
// distances then come out in the same order as from Redis.
class PartialSorter {
 public:
  PartialSorter(std::vector<Found>* v, bool desc, size_t keep)
      : v_(*v), desc_(desc), last_(keep - 1) {}
  void Run() { Sort(0, v_.size()); }

 private:
  int Cmp(size_t i, size_t j) const {
    double a = v_[i].dist, b = v_[j].dist;
    int r = a > b ? 1 : (a == b ? 0 : -1);
    return desc_ ? -r : r;
  }
  void Swap(size_t i, size_t j) { std::swap(v_[i], v_[j]); }
  void SwapRuns(size_t i, size_t j, size_t n) {
    for (size_t k = 0; k < n; ++k) Swap(i + k, j + k);
  }
  size_t Median(size_t x, size_t y, size_t z) const {
    if (Cmp(x, y) < 0) return Cmp(y, z) < 0 ? y : (Cmp(x, z) < 0 ? z : x);
    return Cmp(y, z) > 0 ? y : (Cmp(x, z) < 0 ? x : z);
  }
  void Insertion(size_t a, size_t n) {
    for (size_t m = a + 1; m < a + n; ++m) {
      for (size_t l = m; l > a && Cmp(l - 1, l) > 0; --l) Swap(l, l - 1);
    }
  }
  void Sort(size_t a, size_t n) {
    for (;;) {
      if (n < 7) {
        Insertion(a, n);
        return;
      }
      size_t pm = a + n / 2;
      if (n > 7) {
        size_t pl = a, pn = a + n - 1;
        if (n > 40) {
          size_t d = n / 8;
          pl = Median(pl, pl + d, pl + 2 * d);
          pm = Median(pm - d, pm, pm + d);
          pn = Median(pn - 2 * d, pn - d, pn);
        }
        pm = Median(pl, pm, pn);
      }
      Swap(a, pm);
      bool moved = false;
      size_t pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1;
      for (;;) {
        int r;
        while (pb <= pc && (r = Cmp(pb, a)) <= 0) {
          if (r == 0) {
            moved = true;
            Swap(pa++, pb);
          }
          ++pb;
        }
        while (pb <= pc && (r = Cmp(pc, a)) >= 0) {
          if (r == 0) {
            moved = true;
            Swap(pc, pd--);
          }
          --pc;
        }
        if (pb > pc) break;
        Swap(pb++, pc--);
        moved = true;
      }
      if (!moved) {
        Insertion(a, n);
        return;
      }
      size_t end = a + n;
      size_t r = std::min(pa - a, pb - pa);
      SwapRuns(a, pb - r, r);
      r = std::min(pd - pc, end - pd - 1);
      SwapRuns(pb, end - r, r);
      if ((r = pb - pa) > 1 && a <= last_) Sort(a, r);
      if ((r = pd - pc) <= 1) return;
      a = end - r;
      n = r;
      if (a > last_) return;
    }
  }

  std::vector<Found>& v_;
  bool desc_;
  size_t last_;
};

// ---- arguments ----

constexpr std::string_view kUnit = "ERR unsupported unit provided. please use M, KM, FT, MI";
constexpr std::string_view kNoMember = "ERR could not decode requested zset member";

// Meters per unit, or a negative value after replying the error.
double ParseUnit(CommandContext& ctx, std::string_view u) {
  if (EqualsIgnoreCase(u, "m")) return 1;
  if (EqualsIgnoreCase(u, "km")) return 1000;
  if (EqualsIgnoreCase(u, "ft")) return 0.3048;
  if (EqualsIgnoreCase(u, "mi")) return 1609.34;
  ctx.reply.Error(kUnit);
  return -1;
}

bool ParseLonLat(CommandContext& ctx, std::string_view lon_s, std::string_view lat_s, Point2* p) {
  std::optional<double> lon = ParseDouble(lon_s);
  std::optional<double> lat = lon ? ParseDouble(lat_s) : std::nullopt;
  if (!lon || !lat) {
    ctx.reply.Error(errors::kNotFloat);
    return false;
  }
  if (*lon < kLonMin || *lon > kLonMax || *lat < kLatMin || *lat > kLatMax) {
    char buf[700];
    std::snprintf(buf, sizeof(buf), "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
    ctx.reply.Error(buf);
    return false;
  }
  *p = {*lon, *lat};
  return true;
}

bool ParseNumber(CommandContext& ctx, std::string_view s, std::string_view what, double* v) {
  std::optional<double> d = ParseDouble(s);
  if (!d) {
    ctx.reply.Error("ERR need numeric " + std::string(what));
    return false;
  }
  *v = *d;
  return true;
}

// radius unit
bool ParseRadius(CommandContext& ctx, size_t at, Shape* s) {
  if (!ParseNumber(ctx, ctx.args[at], "radius", &s->radius)) return false;
  if (s->radius < 0) {
    ctx.reply.Error("ERR radius cannot be negative");
    return false;
  }
  s->conversion = ParseUnit(ctx, ctx.args[at + 1]);
  s->box = false;
  return s->conversion >= 0;
}

// width height unit
bool ParseBox(CommandContext& ctx, size_t at, Shape* s) {
  if (!ParseNumber(ctx, ctx.args[at], "width", &s->width) ||
      !ParseNumber(ctx, ctx.args[at + 1], "height", &s->height)) {
    return false;
  }
  if (s->width < 0 || s->height < 0) {
    ctx.reply.Error("ERR height or width cannot be negative");
    return false;
  }
  s->conversion = ParseUnit(ctx, ctx.args[at + 2]);
  s->box = true;
  return s->conversion >= 0;
}

// The position of a member, if the set has it.
bool MemberPosition(const Entry* e, std::string_view member, Point2* p) {
  std::optional<double> score = ZsetRef::Read(e).Score(member);
  if (!score) return false;
  *p = FromScore(*score);
  return true;
}

// A distance as Redis replies one: a bulk string with 4 decimals.
void ReplyDistance(ReplyBuilder& reply, double d) {
  char buf[512];
  int n = std::snprintf(buf, sizeof(buf), "%.4f", d);
  reply.Bulk(std::string_view(buf, static_cast<size_t>(n)));
}

// A coordinate: fixed notation with 17 decimals, trailing zeros removed.
void ReplyCoordinate(ReplyBuilder& reply, double v) {
  reply.DoubleText(FormatIncrFloat(static_cast<long double>(v)));
}

// ---- GEOADD ----

// GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]
// Runs as the ZADD of the positions' scores, as Redis does (same replies, "zadd" events).
void CmdGeoadd(CommandContext& ctx) {
  size_t first = 2;
  bool nx = false, xx = false;
  for (; first < ctx.args.size(); ++first) {
    std::string_view a = ctx.args[first];
    if (EqualsIgnoreCase(a, "nx")) {
      nx = true;
    } else if (EqualsIgnoreCase(a, "xx")) {
      xx = true;
    } else if (!EqualsIgnoreCase(a, "ch")) {
      break;
    }
  }
  size_t rest = ctx.args.size() - first;
  if (rest % 3 != 0 || (nx && xx)) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  std::vector<std::string> scores(rest / 3);
  for (size_t i = 0; i < scores.size(); ++i) {
    Point2 p;
    if (!ParseLonLat(ctx, ctx.args[first + 3 * i], ctx.args[first + 3 * i + 1], &p)) return;
    AppendInt(&scores[i], static_cast<int64_t>(ToScore(p.lon, p.lat)));
  }
  std::vector<std::string_view> zargs(ctx.args.begin(), ctx.args.begin() + first);
  zargs[0] = "zadd";
  for (size_t i = 0; i < scores.size(); ++i) {
    zargs.push_back(scores[i]);
    zargs.push_back(ctx.args[first + 3 * i + 2]);
  }
  CommandContext zctx{ctx.server, ctx.client, zargs, ctx.reply, ctx.meta};
  ZaddCommand(zctx);
}

// ---- reads ----

// GEOPOS and GEOHASH: an array with one reply per member, from its position or its absence.
void EachMemberPosition(CommandContext& ctx, void (*one)(ReplyBuilder&, const Point2*)) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e, ObjType::kZset)) return;
  ctx.reply.ArrayHeader(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    Point2 p;
    bool found = e != nullptr && MemberPosition(e, ctx.args[i], &p);
    one(ctx.reply, found ? &p : nullptr);
  }
}

// GEOPOS key [member ...]
void CmdGeopos(CommandContext& ctx) {
  EachMemberPosition(ctx, [](ReplyBuilder& reply, const Point2* p) {
    if (p == nullptr) {
      reply.NullArray();
      return;
    }
    reply.ArrayHeader(2);
    ReplyCoordinate(reply, p->lon);
    ReplyCoordinate(reply, p->lat);
  });
}

// GEODIST key member1 member2 [M|KM|FT|MI]
void CmdGeodist(CommandContext& ctx) {
  double to_meters = 1;
  if (ctx.args.size() == 5) {
    to_meters = ParseUnit(ctx, ctx.args[4]);
    if (to_meters < 0) return;
  } else if (ctx.args.size() > 5) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e, ObjType::kZset)) return;
  Point2 a, b;
  if (e == nullptr || !MemberPosition(e, ctx.args[2], &a) || !MemberPosition(e, ctx.args[3], &b)) {
    ctx.reply.NullBulk();
    return;
  }
  ReplyDistance(ctx.reply, Distance(a.lon, a.lat, b.lon, b.lat) / to_meters);
}

// GEOHASH key [member ...]: the standard 11-character geohash (latitude over -90..90) of each
// member's stored position.
void CmdGeohash(CommandContext& ctx) {
  EachMemberPosition(ctx, [](ReplyBuilder& reply, const Point2* p) {
    static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    if (p == nullptr) {
      reply.NullBulk();
      return;
    }
    Hash h = *Encode(p->lon, p->lat, kStepMax, kLonRange, Range{-90, 90});
    char buf[11];
    for (int c = 0; c < 10; ++c) buf[c] = kAlphabet[(h.bits >> (52 - (c + 1) * 5)) & 0x1F];
    buf[10] = kAlphabet[0];  // 52 bits fill 10.4 characters; the 11th is always '0'
    reply.Bulk(std::string_view(buf, sizeof(buf)));
  });
}

// ---- searches ----

enum SearchFlags : unsigned {
  kByCoords = 1,   // GEORADIUS[_RO] key lon lat radius unit ...
  kByMember = 2,   // GEORADIUSBYMEMBER[_RO] key member radius unit ...
  kGeosearch = 4,  // GEOSEARCH key ..., GEOSEARCHSTORE dst key ...
  kStoreForm = 8,  // GEOSEARCHSTORE
  kNoStore = 16,   // the _RO forms
};

enum class Order { kNone, kAsc, kDesc };

void SearchGeneric(CommandContext& ctx, size_t src, unsigned flags) {
  std::optional<std::string_view> store;
  bool storedist = false;
  if (flags & kStoreForm) store = ctx.args[1];
  Entry* e = ReadLookup(ctx, ctx.args[src]);
  if (WrongType(ctx, e, ObjType::kZset)) return;
  Shape shape;
  size_t base;
  if (flags & kByCoords) {
    base = 6;
    if (!ParseLonLat(ctx, ctx.args[2], ctx.args[3], &shape.center)) return;
    if (!ParseRadius(ctx, 4, &shape)) return;
  } else if (flags & kByMember) {
    base = 5;
    // Without the key, the options are still checked, and the reply is empty.
    if (e != nullptr) {
      if (!MemberPosition(e, ctx.args[2], &shape.center)) {
        ctx.reply.Error(kNoMember);
        return;
      }
      if (!ParseRadius(ctx, 3, &shape)) return;
    }
  } else {
    base = (flags & kStoreForm) ? 3 : 2;
  }
  bool withdist = false, withhash = false, withcoord = false, any = false;
  bool frommember = false, fromlonlat = false, byradius = false, bybox = false;
  Order order = Order::kNone;
  int64_t count = 0;
  const bool geosearch = flags & kGeosearch;
  for (size_t i = base; i < ctx.args.size(); ++i) {
    std::string_view a = ctx.args[i];
    size_t left = ctx.args.size() - i - 1;
    if (EqualsIgnoreCase(a, "withdist")) {
      withdist = true;
    } else if (EqualsIgnoreCase(a, "withhash")) {
      withhash = true;
    } else if (EqualsIgnoreCase(a, "withcoord")) {
      withcoord = true;
    } else if (EqualsIgnoreCase(a, "any")) {
      any = true;
    } else if (EqualsIgnoreCase(a, "asc")) {
      order = Order::kAsc;
    } else if (EqualsIgnoreCase(a, "desc")) {
      order = Order::kDesc;
    } else if (EqualsIgnoreCase(a, "count") && left >= 1) {
      std::optional<int64_t> n = ParseInt64(ctx.args[i + 1]);
      if (!n) {
        ctx.reply.Error(errors::kNotInteger);
        return;
      }
      if (*n <= 0) {
        ctx.reply.Error("ERR COUNT must be > 0");
        return;
      }
      count = *n;
      ++i;
    } else if ((EqualsIgnoreCase(a, "store") || EqualsIgnoreCase(a, "storedist")) && left >= 1 &&
               !(flags & kNoStore) && !geosearch) {
      store = ctx.args[i + 1];
      storedist = EqualsIgnoreCase(a, "storedist");
      ++i;
    } else if (EqualsIgnoreCase(a, "storedist") && (flags & kStoreForm)) {
      storedist = true;
    } else if (EqualsIgnoreCase(a, "frommember") && left >= 1 && geosearch && !fromlonlat) {
      if (e != nullptr && !MemberPosition(e, ctx.args[i + 1], &shape.center)) {
        ctx.reply.Error(kNoMember);
        return;
      }
      frommember = true;
      ++i;
    } else if (EqualsIgnoreCase(a, "fromlonlat") && left >= 2 && geosearch && !frommember) {
      if (!ParseLonLat(ctx, ctx.args[i + 1], ctx.args[i + 2], &shape.center)) return;
      fromlonlat = true;
      i += 2;
    } else if (EqualsIgnoreCase(a, "byradius") && left >= 2 && geosearch && !bybox) {
      if (!ParseRadius(ctx, i + 1, &shape)) return;
      byradius = true;
      i += 2;
    } else if (EqualsIgnoreCase(a, "bybox") && left >= 3 && geosearch && !byradius) {
      if (!ParseBox(ctx, i + 1, &shape)) return;
      bybox = true;
      i += 3;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  if (store && (withdist || withhash || withcoord)) {
    ctx.reply.Error(std::string("ERR ") +
                    ((flags & kStoreForm) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS") +
                    " is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
    return;
  }
  if (geosearch && !(frommember || fromlonlat)) {
    ctx.reply.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " +
                    std::string(ctx.args[0]));
    return;
  }
  if (geosearch && !(byradius || bybox)) {
    ctx.reply.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " +
                    std::string(ctx.args[0]));
    return;
  }
  if (any && count == 0) {
    ctx.reply.Error("ERR the ANY argument requires COUNT argument");
    return;
  }
  if (e == nullptr) {
    if (!store) {
      ctx.reply.EmptyArray();
      return;
    }
    if (ctx.keyspace().Delete(ctx.db(), *store)) KeyDeleted(ctx, *store);
    ctx.reply.Integer(0);
    return;
  }
  // COUNT returns the nearest ones unless ANY asks for the first found.
  if (count != 0 && order == Order::kNone && !any) order = Order::kAsc;

  ZsetRef z = ZsetRef::Read(e);
  std::vector<Found> found = Search(z, shape, any ? static_cast<size_t>(count) : 0);
  size_t n = found.size();
  if (count != 0 && static_cast<uint64_t>(count) < n) n = static_cast<size_t>(count);
  if (order != Order::kNone && n < found.size()) {
    PartialSorter(&found, order == Order::kDesc, n).Run();
  } else if (order != Order::kNone) {
    // A full sort keeps equal distances in scan order (glibc's qsort, which Redis calls, is a
    // merge sort).
    std::stable_sort(found.begin(), found.end(), [&](const Found& x, const Found& y) {
      return order == Order::kAsc ? x.dist < y.dist : x.dist > y.dist;
    });
  }

  if (!store) {
    size_t options = size_t{withdist} + size_t{withhash} + size_t{withcoord};
    ctx.reply.ArrayHeader(n);
    for (size_t i = 0; i < n; ++i) {
      const Found& f = found[i];
      if (options != 0) ctx.reply.ArrayHeader(options + 1);
      ctx.reply.Bulk(f.member);
      if (withdist) ReplyDistance(ctx.reply, f.dist / shape.conversion);
      if (withhash) ctx.reply.Integer(static_cast<int64_t>(f.score));
      if (withcoord) {
        ctx.reply.ArrayHeader(2);
        ReplyCoordinate(ctx.reply, f.pos.lon);
        ReplyCoordinate(ctx.reply, f.pos.lat);
      }
    }
    return;
  }
  // Built as a skiplist, then packed when it fits (as ZUNIONSTORE's results).
  ZsetRef out(ZsetRef::NewEntry(*store, false));
  ZsetRef::Limits unlimited{SIZE_MAX, SIZE_MAX};
  for (size_t i = 0; i < n; ++i) {
    const Found& f = found[i];
    out.Set(f.member, storedist ? f.dist / shape.conversion : f.score, unlimited);
  }
  out.ConvertToPackedIfFits(ZsetLimits(ctx.server));
  StoreZset(ctx, *store, out, geosearch ? "geosearchstore" : "georadiusstore",
            std::max<uint64_t>(n, 1));
}

void CmdGeoradius(CommandContext& ctx) { SearchGeneric(ctx, 1, kByCoords); }
void CmdGeoradiusRo(CommandContext& ctx) { SearchGeneric(ctx, 1, kByCoords | kNoStore); }
void CmdGeoradiusbymember(CommandContext& ctx) { SearchGeneric(ctx, 1, kByMember); }
void CmdGeoradiusbymemberRo(CommandContext& ctx) { SearchGeneric(ctx, 1, kByMember | kNoStore); }
void CmdGeosearch(CommandContext& ctx) { SearchGeneric(ctx, 1, kGeosearch); }
void CmdGeosearchstore(CommandContext& ctx) { SearchGeneric(ctx, 2, kGeosearch | kStoreForm); }

}  // namespace

void RegisterGeoFamily(CommandRegistry* r) {
  r->Register("geoadd", CmdGeoadd);
  r->Register("geopos", CmdGeopos);
  r->Register("geodist", CmdGeodist);
  r->Register("geohash", CmdGeohash);
  r->Register("georadius", CmdGeoradius);
  r->Register("georadius_ro", CmdGeoradiusRo);
  r->Register("georadiusbymember", CmdGeoradiusbymember);
  r->Register("georadiusbymember_ro", CmdGeoradiusbymemberRo);
  r->Register("geosearch", CmdGeosearch);
  r->Register("geosearchstore", CmdGeosearchstore);
}

}  // namespace keel
