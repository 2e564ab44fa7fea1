#include "keel/keyspace/list_object.h"
