// Placeholder until these integration tests land.
#include "integration/fixture.h"
