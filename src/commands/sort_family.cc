// SORT and SORT_RO: sort the elements of a list or set (numerically, or byte-wise with ALPHA),
// optionally by the values of other keys (BY pattern, hash fields with "->"), page with LIMIT,
// project with GET and store the result as a list (STORE, SORT only).
//
// Locking: BY and GET read keys whose names come from the sorted elements, which no key spec can
// name in advance, so SORT locks for itself (LockMode::kDatabase): the shards of its key and of
// the STORE destination when no pattern reads other keys, otherwise every shard of the database
// (ascending, as FLUSHDB does). Inside EXEC the transaction already holds the database.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/strings.h"
#include "keel/keyspace/hash_object.h"
#include "keel/keyspace/list_object.h"
#include "keel/keyspace/set_object.h"
#include "keel/keyspace/zset_object.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"
#include "write.h"

namespace keel {

namespace {

// One element to sort: its bytes and what it is compared by (a number, or the bytes of the BY
// key's value for ALPHA; `has_cmp` false when that key is missing).
struct SortItem {
  explicit SortItem(std::string_view v) : value(v) {}
  std::string value;
  double score = 0;
  std::string cmp;
  bool has_cmp = false;
};

struct SortOptions {
  std::string_view by;  // empty: sort by the elements themselves
  bool dontsort = false;
  bool desc = false;
  bool alpha = false;
  int64_t limit_start = 0;
  int64_t limit_count = -1;
  std::vector<std::string_view> gets;
  std::optional<std::string_view> store;
};

// Parses the options (args[2..]). Replies the error and returns false on a bad one.
bool ParseSortOptions(CommandContext& ctx, bool readonly, SortOptions* o) {
  const size_t argc = ctx.args.size();
  for (size_t j = 2; j < argc; ++j) {
    std::string_view a = ctx.args[j];
    size_t left = argc - j - 1;
    if (EqualsIgnoreCase(a, "asc")) {
      o->desc = false;
    } else if (EqualsIgnoreCase(a, "desc")) {
      o->desc = true;
    } else if (EqualsIgnoreCase(a, "alpha")) {
      o->alpha = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      std::optional<int64_t> start = ParseInt64(ctx.args[j + 1]);
      std::optional<int64_t> count = start ? ParseInt64(ctx.args[j + 2]) : std::nullopt;
      if (!start || !count) {
        ctx.reply.Error(errors::kNotInteger);
        return false;
      }
      o->limit_start = *start;
      o->limit_count = *count;
      j += 2;
    } else if (!readonly && EqualsIgnoreCase(a, "store") && left >= 1) {
      o->store = ctx.args[++j];
    } else if (EqualsIgnoreCase(a, "by") && left >= 1) {
      o->by = ctx.args[++j];
      // A pattern without '*' names one constant key: nothing to sort by.
      if (o->by.substr(0, o->by.find('\0')).find('*') == std::string_view::npos) {
        o->dontsort = true;
      }
    } else if (EqualsIgnoreCase(a, "get") && left >= 1) {
      o->gets.push_back(ctx.args[++j]);
    } else {
      ctx.reply.Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

// Whether a pattern reads other keys (so the whole database must be locked): "#" reads the
// element itself and a pattern without '*' reads nothing.
bool ReadsKeys(std::string_view pattern) {
  if (pattern == "#") return false;
  return pattern.substr(0, pattern.find('\0')).find('*') != std::string_view::npos;
}

// Redis's lookupKeyByPattern: "#" is the element; otherwise the first '*' is replaced by the
// element, and a "->field" after it (with a non-empty field) reads that field of a hash. The
// pattern is scanned as a C string (up to a NUL byte). A missing key, a key of another type, a
// missing field or a pattern without '*' give nothing.
std::optional<std::string> LookupByPattern(CommandContext& ctx, std::string_view pattern,
                                           std::string_view element) {
  if (pattern == "#") return std::string(element);
  std::string_view c = pattern.substr(0, pattern.find('\0'));
  size_t star = c.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  size_t arrow = c.find("->", star + 1);
  std::string_view field;
  size_t key_end = pattern.size();
  if (arrow != std::string_view::npos && arrow + 2 < c.size()) {
    field = pattern.substr(arrow + 2);
    key_end = arrow;
  }
  std::string key;
  key.reserve(key_end + element.size());
  key.append(pattern.substr(0, star));
  key.append(element);
  key.append(pattern.substr(star + 1, key_end - star - 1));
  Entry* e = ReadLookup(ctx, key);
  if (e == nullptr) return std::nullopt;
  if (!field.empty()) {
    if (e->type != ObjType::kHash) return std::nullopt;
    std::optional<std::string_view> v = HashRef::Read(e).Get(field);
    if (!v) return std::nullopt;
    return std::string(*v);
  }
  if (e->type != ObjType::kString) return std::nullopt;
  char buf[32];
  return std::string(e->StringValue(buf));
}

// strtod over the whole value, as Redis converts a sort weight: leading blanks, hex and
// "inf" are accepted; trailing bytes, overflow, underflow and NaN are not. (strtod stops at a
// NUL byte, so the bytes after one are not looked at.)
bool ParseSortScore(std::string_view s, double* out) {
  std::string z(s.substr(0, s.find('\0')));
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(z.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || std::isnan(d)) return false;
  *out = d;
  return true;
}

// The range [*start, *end] of the sorted vector to output, as Redis computes it (an empty range
// when *end < *start).
void SortRange(int64_t limit_start, int64_t limit_count, int64_t len, int64_t* start,
               int64_t* end) {
  *start = limit_start < 0 ? 0 : limit_start;
  if (limit_count < 0) {
    *end = len - 1;
  } else {
    *end = limit_count > INT64_MAX - *start ? INT64_MAX : *start + limit_count - 1;
  }
  if (*start >= len) {
    *start = len - 1;
    *end = len - 2;
  }
  if (*end >= len) *end = len - 1;
}

// Reads the elements to sort from `e` (a list or a set; nullptr: an empty input). For a list
// that is not sorted, only [*start, *end] is read, from the tail with DESC, and the range is
// rebased to the vector. Returns false for a type SORT cannot read (the caller replied nothing
// yet). The sorted-set family extends this with its own input.
bool LoadSortInput(CommandContext& ctx, Entry* e, const SortOptions& o, int64_t* start,
                   int64_t* end, std::vector<SortItem>* items) {
  if (e == nullptr) return true;
  if (e->type == ObjType::kList) {
    ListRef list(ctx.keyspace(), ctx.db(), e, ctx.server.config->list_max_listpack_size());
    if (o.dontsort) {
      if (*end < *start) return true;
      size_t len = list.size();
      auto take = [&](size_t, std::string_view v) {
        items->push_back(SortItem(v));
        return true;
      };
      if (o.desc) {
        // Elements len-1-start down to len-1-end.
        size_t from = len - 1 - static_cast<size_t>(*start);
        size_t stop = len - 1 - static_cast<size_t>(*end);
        list.ForBackward(from, [&](size_t i, std::string_view v) {
          if (i < stop) return false;
          return take(i, v);
        });
      } else {
        list.ForRange(static_cast<size_t>(*start), static_cast<size_t>(*end), take);
      }
      *end -= *start;
      *start = 0;
      return true;
    }
    items->reserve(list.size());
    if (!list.empty()) {
      list.ForRange(0, list.size() - 1, [&](size_t, std::string_view v) {
        items->push_back(SortItem(v));
        return true;
      });
    }
    return true;
  }
  if (e->type == ObjType::kSet) {
    SetRef::Read(e).ForEach([&](std::string_view m) { items->push_back(SortItem(m)); });
    return true;
  }
  if (e->type == ObjType::kZset) {
    const ZsetRef z = ZsetRef::Read(e);
    auto take = [&](std::string_view m, double) {
      items->push_back(SortItem(m));
      return true;
    };
    if (o.dontsort) {
      // A sorted set has an order of its own: the LIMIT range is taken by rank (from the top
      // with DESC), as Redis does.
      if (*end < *start) return true;
      size_t len = z.Size();
      if (o.desc) {
        z.Range(len - 1 - static_cast<size_t>(*end), len - static_cast<size_t>(*start), true, take);
      } else {
        z.Range(static_cast<size_t>(*start), static_cast<size_t>(*end) + 1, false, take);
      }
      *end -= *start;
      *start = 0;
      return true;
    }
    items->reserve(z.Size());
    z.Range(0, z.Size(), false, take);
    return true;
  }
  return false;
}

// The number of elements SORT reads from `e` (for the range computation before loading).
int64_t SortInputSize(CommandContext& ctx, Entry* e) {
  if (e == nullptr) return 0;
  if (e->type == ObjType::kList) {
    return static_cast<int64_t>(
        ListRef(ctx.keyspace(), ctx.db(), e, ctx.server.config->list_max_listpack_size()).size());
  }
  if (e->type == ObjType::kZset) return static_cast<int64_t>(ZsetRef::Read(e).Size());
  return static_cast<int64_t>(SetRef::Read(e).Size());
}

bool SortableType(const Entry* e) {
  return e == nullptr || e->type == ObjType::kList || e->type == ObjType::kSet ||
         e->type == ObjType::kZset;
}

int CompareBytes(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// Redis's comparison: numbers with ties broken by the elements' bytes; ALPHA by the BY values
// (a missing one first; equal ones are left in any order) or by the elements.
int CompareItems(const SortItem& a, const SortItem& b, const SortOptions& o, bool by_pattern) {
  int cmp;
  if (!o.alpha) {
    cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : CompareBytes(a.value, b.value);
  } else if (by_pattern) {
    if (!a.has_cmp || !b.has_cmp) {
      cmp = a.has_cmp == b.has_cmp ? 0 : !a.has_cmp ? -1 : 1;
    } else {
      cmp = CompareBytes(a.cmp, b.cmp);
    }
  } else {
    cmp = CompareBytes(a.value, b.value);
  }
  return o.desc ? -cmp : cmp;
}

void SortGeneric(CommandContext& ctx, bool readonly) {
  SortOptions o;
  if (!ParseSortOptions(ctx, readonly, &o)) return;
  std::string_view key = ctx.args[1];
  Keyspace& ks = ctx.keyspace();

  bool whole_db = (!o.dontsort && !o.by.empty() && ReadsKeys(o.by));
  for (std::string_view g : o.gets) whole_db |= ReadsKeys(g);
  std::vector<ShardGuard> all;
  KeyLocks some;
  if (whole_db) {
    all = ks.LockAll(ctx.db());
  } else {
    std::string_view keys[2] = {key, o.store.value_or(key)};
    some = KeyLocks(ks, ctx.db(), std::span<const std::string_view>(keys, o.store ? 2 : 1));
  }
  Entry* e = ReadLookup(ctx, key);
  if (!SortableType(e)) {
    ctx.reply.Error(errors::kWrongType);
    return;
  }
  // A set's order is the server's own: when the result is stored, sort it so that it is the
  // same everywhere (Redis does the same, and for scripts).
  if (o.dontsort && e != nullptr && e->type == ObjType::kSet && o.store) {
    o.dontsort = false;
    o.alpha = true;
    o.by = {};
  }
  const bool by_pattern = !o.by.empty() && !o.dontsort;

  int64_t len = SortInputSize(ctx, e);
  int64_t start, end;
  SortRange(o.limit_start, o.limit_count, len, &start, &end);
  std::vector<SortItem> items;
  LoadSortInput(ctx, e, o, &start, &end, &items);

  bool score_error = false;
  if (!o.dontsort) {
    for (SortItem& it : items) {
      if (by_pattern) {
        std::optional<std::string> byval = LookupByPattern(ctx, o.by, it.value);
        if (!byval) continue;
        if (o.alpha) {
          it.cmp = std::move(*byval);
          it.has_cmp = true;
        } else if (!ParseSortScore(*byval, &it.score)) {
          score_error = true;
        }
      } else if (!o.alpha && !ParseSortScore(it.value, &it.score)) {
        score_error = true;
      }
    }
    if (!score_error) {
      auto less = [&](const SortItem& a, const SortItem& b) {
        return CompareItems(a, b, o, by_pattern) < 0;
      };
      // Only the output range needs to be in order (Redis sorts partially under LIMIT).
      if (start == 0 && end == static_cast<int64_t>(items.size()) - 1) {
        std::sort(items.begin(), items.end(), less);
      } else if (end >= start) {
        std::partial_sort(items.begin(), items.begin() + end + 1, items.end(), less);
      }
    }
  }
  if (score_error) {
    ctx.reply.Error(errors::kSortScore);
    return;
  }

  const int64_t count = end >= start ? end - start + 1 : 0;
  const size_t per_item = o.gets.empty() ? 1 : o.gets.size();
  const int64_t output_len = count * static_cast<int64_t>(per_item);
  if (!o.store) {
    ctx.reply.ArrayHeader(static_cast<size_t>(output_len));
    for (int64_t j = start; j <= end; ++j) {
      const std::string& v = items[static_cast<size_t>(j)].value;
      if (o.gets.empty()) ctx.reply.Bulk(v);
      for (std::string_view g : o.gets) {
        std::optional<std::string> val = LookupByPattern(ctx, g, v);
        if (val) {
          ctx.reply.Bulk(*val);
        } else {
          ctx.reply.NullBulk();
        }
      }
    }
    return;
  }

  // STORE: a list of the output (a missing GET value stored as an empty string); an empty
  // output deletes the destination.
  std::string_view dest = *o.store;
  if (output_len > 0) {
    Entry* fresh = ListRef::NewEntry(dest);
    ListRef list(fresh, ctx.server.config->list_max_listpack_size(),
                 ctx.server.config->list_compress_depth());
    for (int64_t j = start; j <= end; ++j) {
      const std::string& v = items[static_cast<size_t>(j)].value;
      if (o.gets.empty()) list.PushBack(v);
      for (std::string_view g : o.gets) list.PushBack(LookupByPattern(ctx, g, v).value_or(""));
    }
    if (NotifyOn(ctx) && ks.Lookup(ctx.db(), dest) == nullptr) NewKeyEvent(ctx, dest);
    ks.Put(ctx.db(), list.entry());
    KeyChanged(ctx, dest, Event{'l', "sortstore"}, static_cast<uint64_t>(output_len));
  } else if (ks.Delete(ctx.db(), dest)) {
    KeyDeleted(ctx, dest);
  }
  ctx.reply.Integer(output_len);
}

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
//      [STORE destination]
void CmdSort(CommandContext& ctx) { SortGeneric(ctx, false); }

// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
void CmdSortRo(CommandContext& ctx) { SortGeneric(ctx, true); }

}  // namespace

void RegisterSortFamily(CommandRegistry* r) {
  r->Register("sort", CmdSort, LockMode::kDatabase);
  r->Register("sort_ro", CmdSortRo, LockMode::kDatabase);
}

}  // namespace keel
