#include "sy_curl.h"
