// SPDX-License-Identifier: MIT
// upci.h from C++: the accessors (and the whole header) compile as C++.
#include "accessors.c"
