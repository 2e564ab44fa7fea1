// Placeholder until this family's integration tests land.
#include "integration/fixture.h"
