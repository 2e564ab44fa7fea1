#include "keel/keyspace/set_object.h"
