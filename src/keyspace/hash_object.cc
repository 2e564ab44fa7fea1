#include "keel/keyspace/hash_object.h"
