#pragma once

#include <span>
#include <string>
#include <string_view>

// Every error string Keel sends, defined once, byte for byte as Redis 7.0 writes it (without the
// leading '-' and trailing CRLF, which ReplyBuilder::Error adds). Errors that embed arguments
// are built by the functions at the end. Only the config module's CONFIG SET/REWRITE errors
// (Status texts) are still written where they are raised.
namespace keel::errors {

inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";

// Scripting (EVAL family, SCRIPT).
inline constexpr std::string_view kNoScript = "NOSCRIPT No matching script. Please use EVAL.";
inline constexpr std::string_view kBusyScript =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
inline constexpr std::string_view kBusyFunction =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
inline constexpr std::string_view kUnkillable =
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
    "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
    "NOSAVE command.";
inline constexpr std::string_view kNotBusy = "NOTBUSY No scripts in execution right now.";
inline constexpr std::string_view kNegativeNumkeys = "ERR Number of keys can't be negative";
inline constexpr std::string_view kTooManyNumkeys =
    "ERR Number of keys can't be greater than number of args";
inline constexpr std::string_view kScriptFlushOption =
    "ERR SCRIPT FLUSH only support SYNC|ASYNC option";
inline constexpr std::string_view kScriptNoArgs =
    "ERR Please specify at least one argument for this redis lib call";
inline constexpr std::string_view kScriptArgType =
    "ERR Lua redis lib command arguments must be strings or integers";
inline constexpr std::string_view kScriptUnknownCommand =
    "ERR Unknown Redis command called from script";
inline constexpr std::string_view kScriptWrongArity =
    "ERR Wrong number of args calling Redis command from script";
inline constexpr std::string_view kScriptNotAllowed =
    "ERR This Redis command is not allowed from script";
inline constexpr std::string_view kScriptWriteInReadOnly =
    "ERR Write commands are not allowed from read-only scripts.";
// Keel's own: a script running under its declared keys' locks reached past them (the check of
// its source, keel/commands/script_keys.h, should make this unreachable).
inline constexpr std::string_view kScriptUndeclaredKey =
    "ERR Script attempted to access a key outside the shards it locked";
inline constexpr std::string_view kScriptReplyArgs = "ERR wrong number or type of arguments";
inline constexpr std::string_view kScriptCompile = "ERR Error compiling script (new function): ";
// Functions (FUNCTION, FCALL).
inline constexpr std::string_view kFunctionNotFound = "ERR Function not found";
inline constexpr std::string_view kLibraryNotFound = "ERR Library not found";
inline constexpr std::string_view kBadNumkeys = "ERR Bad number of keys provided";
inline constexpr std::string_view kFunctionWriteInRo =
    "ERR Can not execute a script with write flag using *_ro command.";
inline constexpr std::string_view kFunctionFlushOption =
    "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";
inline constexpr std::string_view kFunctionRestorePolicy =
    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.";
inline constexpr std::string_view kLibraryNameMissing = "ERR library name argument was not given";
inline constexpr std::string_view kNoFunctionsRegistered = "ERR No functions registered";
inline constexpr std::string_view kMissingLibraryMetadata = "ERR Missing library metadata";
inline constexpr std::string_view kInvalidLibraryMetadata = "ERR Invalid library metadata";
inline constexpr std::string_view kLibraryNameNotGiven = "ERR Library name was not given";
inline constexpr std::string_view kBadLibraryName =
    "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least "
    "one character long";
inline constexpr std::string_view kDuplicateLibraryName =
    "ERR Invalid metadata value, name argument was given multiple times";
// SRANDMEMBER / HRANDFIELD with a count that cannot be negated.
inline constexpr std::string_view kCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and "
    "9223372036854775807";
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";
// A denyoom command (or any command queued in MULTI) while memory is over maxmemory and nothing
// can be evicted.
inline constexpr std::string_view kOom = "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kMisconf =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB "
    "error.";
// Persistence (SAVE, BGSAVE, RESTORE, DEBUG, the start-up load).
inline constexpr std::string_view kLoading = "LOADING Redis is loading the dataset in memory";
inline constexpr std::string_view kBareErr = "ERR";  // SAVE or DEBUG RELOAD's save failed
inline constexpr std::string_view kBgsaveInProgress = "ERR Background save already in progress";
inline constexpr std::string_view kAofRewriteActive =
    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in "
    "order to schedule a BGSAVE whenever possible.";
inline constexpr std::string_view kBusyKey = "BUSYKEY Target key name already exists.";
inline constexpr std::string_view kInvalidTtl = "ERR Invalid TTL value, must be >= 0";
inline constexpr std::string_view kInvalidIdletime = "ERR Invalid IDLETIME value, must be >= 0";
inline constexpr std::string_view kInvalidFreq = "ERR Invalid FREQ value, must be >= 0 and <= 255";
inline constexpr std::string_view kDebugNotAllowed =
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you "
    "can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server.";
inline constexpr std::string_view kDebugReloadOptions =
    "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
inline constexpr std::string_view kDebugReloadFailed =
    "ERR Error trying to load the RDB dump, check server logs.";
inline constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kAuthNotSet =
    "ERR AUTH <password> called without any password configured for the default user. Are you "
    "sure your configuration is correct?";
inline constexpr std::string_view kNoSuchKey = "ERR no such key";
// The acceptor's answer when maxclients connections are open (then it closes the socket).
inline constexpr std::string_view kMaxClients = "ERR max number of clients reached";
// Sent to a client refused by protected mode (src/net/protected_mode.h), then closed. Redis's
// text, byte for byte (it names Redis: clients and scripts match on it).
inline constexpr std::string_view kProtectedModeDenied =
    "DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.";
inline constexpr std::string_view kDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kOutOfRange = "ERR index out of range";
inline constexpr std::string_view kMustBePositive = "ERR value is out of range, must be positive";
inline constexpr std::string_view kIntRange =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
inline constexpr std::string_view kPlainOutOfRange = "ERR value is out of range";
inline constexpr std::string_view kNumkeysPositive = "ERR numkeys should be greater than 0";
inline constexpr std::string_view kCountPositive = "ERR count should be greater than 0";
inline constexpr std::string_view kIncrNaN = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view kValueNaN = "ERR value is NaN or Infinity";
inline constexpr std::string_view kSameObject = "ERR source and destination objects are the same";
inline constexpr std::string_view kInvalidFirstDb = "ERR invalid first DB index";
inline constexpr std::string_view kInvalidSecondDb = "ERR invalid second DB index";

// Transactions.
inline constexpr std::string_view kExecWithoutMulti = "ERR EXEC without MULTI";
inline constexpr std::string_view kExecAbortPrevious =
    "EXECABORT Transaction discarded because of previous errors.";
inline constexpr std::string_view kExecAbortPrefix = "EXECABORT Transaction discarded because of: ";
inline constexpr std::string_view kMultiNested = "ERR MULTI calls can not be nested";
inline constexpr std::string_view kDiscardWithoutMulti = "ERR DISCARD without MULTI";
inline constexpr std::string_view kWatchInMulti = "ERR WATCH inside MULTI is not allowed";

// Keys and expiry.
inline constexpr std::string_view kExpireNxConflict =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
inline constexpr std::string_view kExpireGtLtConflict =
    "ERR GT and LT options at the same time are not compatible";
inline constexpr std::string_view kNoLfu =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust.";
inline constexpr std::string_view kLfuNoIdle =
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.";

// Strings.
inline constexpr std::string_view kStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kBitOffset = "ERR bit offset is not an integer or out of range";
inline constexpr std::string_view kBitValue = "ERR bit is not an integer or out of range";
inline constexpr std::string_view kBitArg = "ERR The bit argument must be 1 or 0.";
inline constexpr std::string_view kBitopNot =
    "ERR BITOP NOT must be called with a single source key.";
inline constexpr std::string_view kOffsetRange = "ERR offset is out of range";
inline constexpr std::string_view kDecrOverflow = "ERR decrement would overflow";
inline constexpr std::string_view kLcsNotStrings =
    "ERR The specified keys must contain string values";
inline constexpr std::string_view kLcsLenAndIdx =
    "ERR If you want both the length and indexes, please just use IDX.";
inline constexpr std::string_view kLcsTooLong = "ERR String too long for LCS";
inline constexpr std::string_view kLcsMemory =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";

// Lists, sets, hashes.
inline constexpr std::string_view kRankZero =
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
    "negative to start from the end of the list";
inline constexpr std::string_view kCountNegative = "ERR COUNT can't be negative";
inline constexpr std::string_view kMaxlenNegative = "ERR MAXLEN can't be negative";
inline constexpr std::string_view kTimeoutNotFloat = "ERR timeout is not a float or out of range";
inline constexpr std::string_view kTimeoutNegative = "ERR timeout is negative";
inline constexpr std::string_view kKeysMoreThanArgs =
    "ERR Number of keys can't be greater than number of args";
inline constexpr std::string_view kLimitNegative = "ERR LIMIT can't be negative";
inline constexpr std::string_view kHashNotInteger = "ERR hash value is not an integer";
inline constexpr std::string_view kHashNotFloat = "ERR hash value is not a float";

// Connections and the server.
inline constexpr std::string_view kBadClientName =
    "ERR Client names cannot contain spaces, newlines or special characters.";
inline constexpr std::string_view kProtoVersion =
    "ERR Protocol version is not an integer or out of range";
inline constexpr std::string_view kNoProto = "NOPROTO unsupported protocol version";
// CLIENT TRACKING / CLIENT CACHING.
inline constexpr std::string_view kTrackingOneRedirect =
    "ERR A client can only redirect to a single other client";
inline constexpr std::string_view kTrackingRedirectMissing =
    "ERR The client ID you want redirect to does not exist";
inline constexpr std::string_view kTrackingPrefixNeedsBcast =
    "ERR PREFIX option requires BCAST mode to be enabled";
inline constexpr std::string_view kTrackingSwitchBcast =
    "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then "
    "re-enabling it with a different mode.";
inline constexpr std::string_view kTrackingBcastOptin =
    "ERR OPTIN and OPTOUT are not compatible with BCAST";
inline constexpr std::string_view kTrackingOptinAndOptout =
    "ERR You can't specify both OPTIN mode and OPTOUT mode";
inline constexpr std::string_view kTrackingSwitchOptin =
    "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then "
    "re-enabling it with a different mode.";
inline constexpr std::string_view kCachingNeedsTracking =
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
    "OPTOUT mode enabled";
inline constexpr std::string_view kCachingYesNeedsOptin =
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
inline constexpr std::string_view kCachingNoNeedsOptout =
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";
inline constexpr std::string_view kInvalidClientId = "ERR Invalid client ID";
inline constexpr std::string_view kNoSuchClient = "ERR No such client";
inline constexpr std::string_view kClientIdPositive = "ERR client-id should be greater than 0";
inline constexpr std::string_view kUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
inline constexpr std::string_view kUnblockReason =
    "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
inline constexpr std::string_view kNoShutdown = "ERR No shutdown in progress.";
inline constexpr std::string_view kShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs.";
inline constexpr std::string_view kCommandInvalid = "ERR Invalid command specified";
inline constexpr std::string_view kCommandNoKeys = "ERR The command has no key arguments";
inline constexpr std::string_view kCommandBadArgCount =
    "ERR Invalid number of arguments specified for command";
inline constexpr std::string_view kCommandBadArgs = "ERR Invalid arguments specified for command";

// Errors that quote an argument. Redis formats them with %s, so a quoted argument ends at its
// first NUL byte; CR and LF in it become spaces when the error is written
// (ReplyBuilder::Error).
inline std::string_view UntilNul(std::string_view s) { return s.substr(0, s.find('\0')); }
inline std::string Quoting(std::string_view prefix, std::string_view arg, std::string_view suffix) {
  arg = UntilNul(arg);
  std::string msg;
  msg.reserve(prefix.size() + arg.size() + suffix.size());
  msg.append(prefix).append(arg).append(suffix);
  return msg;
}
inline std::string WrongArity(std::string_view command) {
  return Quoting("ERR wrong number of arguments for '", command, "' command");
}
inline std::string InvalidExpire(std::string_view command) {
  return Quoting("ERR invalid expire time in '", command, "' command");
}
// Two BCAST prefixes of one client overlap: a new one with one it has (`existing`), or two new
// ones.
inline std::string TrackingPrefixOverlap(std::string_view prefix, std::string_view other,
                                         bool existing) {
  return "ERR Prefix '" + std::string(prefix) + "' overlaps with " +
         (existing ? "an existing" : "another provided") + " prefix '" + std::string(other) +
         "'. Prefixes for a single client must not overlap.";
}
inline std::string HelloSyntax(std::string_view option) {
  return Quoting("ERR Syntax error in HELLO option '", option, "'");
}
inline std::string UnknownClientType(std::string_view type) {
  return Quoting("ERR Unknown client type '", type, "'");
}
inline std::string UnrecognizedOption(std::string_view option) {
  return Quoting("ERR Unrecognized option '", option, "'");
}
inline std::string NoSuchUser(std::string_view user) {
  return Quoting("ERR No such user '", user, "'");
}
inline std::string UnsupportedOption(std::string_view option) {
  return Quoting("ERR Unsupported option ", option, "");
}
// "lib-name" / "lib-ver" of CLIENT SETINFO.
inline std::string BadLibAttribute(std::string_view attr) {
  return Quoting("ERR ", attr, " cannot contain spaces, newlines or special characters.");
}
// A subscribed RESP2 client ran something else.
inline std::string NotInSubscribedContext(std::string_view command) {
  return Quoting("ERR Can't execute '", command,
                 "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
                 "this context");
}
// Errors that quote what the client sent replace CR and LF with spaces, as Redis does, so the
// error stays one protocol line.
inline void AppendSanitized(std::string* out, std::string_view s) {
  for (char c : s) out->push_back(c == '\r' || c == '\n' ? ' ' : c);
}
// The name (cut to 128 bytes) and the first arguments, each quoted, up to 128 bytes of them.
inline std::string UnknownCommand(std::string_view name, std::span<const std::string_view> args) {
  std::string msg = "ERR unknown command '";
  AppendSanitized(&msg, UntilNul(name.substr(0, 128)));
  msg += "', with args beginning with: ";
  size_t quoted = 0;
  for (size_t i = 0; i < args.size() && quoted < 128; ++i) {
    std::string part = "'";
    part.append(UntilNul(args[i].substr(0, 128 - quoted)));
    part += "' ";
    quoted += part.size();
    AppendSanitized(&msg, part);
  }
  return msg;
}
// "<sub>'. Try <CONTAINER> HELP.": the end of the subcommand errors (sub cut at 128 bytes and
// sanitized, the container upper-cased).
inline void AppendTryHelp(std::string* msg, std::string_view sub, std::string_view container) {
  AppendSanitized(msg, UntilNul(sub.substr(0, 128)));
  *msg += "'. Try ";
  for (char c : container) {
    c = c == '\r' || c == '\n' ? ' ' : c;
    msg->push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c);
  }
  *msg += " HELP.";
}
// `sub` as sent (cut to 128 bytes and at a NUL, CR and LF as spaces), `container` upper-cased.
inline std::string UnknownSubcommand(std::string_view sub, std::string_view container) {
  std::string msg = "ERR unknown subcommand '";
  AppendTryHelp(&msg, sub, container);
  return msg;
}

// Protocol errors: the connection is closed after the reply.
inline constexpr std::string_view kProtoInvalidMultibulk =
    "ERR Protocol error: invalid multibulk length";
inline constexpr std::string_view kProtoInvalidBulk = "ERR Protocol error: invalid bulk length";
inline constexpr std::string_view kProtoUnbalancedQuotes =
    "ERR Protocol error: unbalanced quotes in request";
inline constexpr std::string_view kProtoTooBigInline = "ERR Protocol error: too big inline request";
inline constexpr std::string_view kProtoTooBigMbulk =
    "ERR Protocol error: too big mbulk count string";
inline constexpr std::string_view kProtoTooBigBulk =
    "ERR Protocol error: too big bulk count string";
inline constexpr std::string_view kProtoUnauthMultibulk =
    "ERR Protocol error: unauthenticated multibulk length";
// The format of the error for a bulk header that does not start with '$' (%c: what it starts
// with).
inline constexpr char kProtoExpectedDollarFormat[] = "ERR Protocol error: expected '$', got '%c'";
inline constexpr std::string_view kProtoUnauthBulk =
    "ERR Protocol error: unauthenticated bulk length";

// The rest of the core surface (issue 26): SORT, SLOWLOG, LATENCY, CLIENT PAUSE, WAIT,
// BITFIELD, HyperLogLog.
inline constexpr std::string_view kSortScore =
    "ERR One or more scores can't be converted into double";
inline constexpr std::string_view kSlowlogCount = "ERR count should be greater than or equal to -1";
inline constexpr std::string_view kTimeoutNotInteger =
    "ERR timeout is not an integer or out of range";
inline constexpr std::string_view kPauseMode = "ERR CLIENT PAUSE mode must be WRITE or ALL";
inline constexpr std::string_view kBitfieldType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.";
inline constexpr std::string_view kBitfieldOverflow = "ERR Invalid OVERFLOW type specified";
inline constexpr std::string_view kBitfieldRoGetOnly =
    "ERR BITFIELD_RO only supports the GET subcommand";
inline constexpr std::string_view kNotHll =
    "WRONGTYPE Key is not a valid HyperLogLog string value.";
inline constexpr std::string_view kHllInvalid = "INVALIDOBJ Corrupted HLL object detected";
// DEBUG CLIENT-EVICTION with maxmemory-clients 0.
inline constexpr std::string_view kClientEvictionDisabled = "ERR maxmemory-clients is disabled.";
// "ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CONTAINER> HELP." (a
// subcommand whose arity passed but whose arguments do not fit, as Redis's
// addReplySubcommandSyntaxError).
inline std::string SubcommandSyntax(std::string_view sub, std::string_view container) {
  std::string msg = "ERR unknown subcommand or wrong number of arguments for '";
  AppendTryHelp(&msg, sub, container);
  return msg;
}
inline std::string NoLatencySamples(std::string_view event) {
  return Quoting("ERR No samples available for event '", event, "'");
}

}  // namespace keel::errors
