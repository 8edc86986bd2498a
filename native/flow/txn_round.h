// \summary: JavaScript's Math.round for the transaction tables: the reports round delays
// and latencies exactly as the JavaScript trackers did, so they stay byte for byte the
// same (issue 14).
#pragma once
#include <cmath>

namespace csumtop {

// The integer nearest to x, halves towards +infinity (ECMA-262 Math.round; std::round
// rounds halves away from zero, floor(x + 0.5) is off when x + 0.5 is inexact).
inline double js_round(double x) {
  if (!std::isfinite(x)) return x;
  const double r = std::floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}

}  // namespace csumtop
