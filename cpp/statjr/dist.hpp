// Draws from the distributions the samplers need.
#pragma once
#include <cmath>
#include <limits>
#include "statjr/rng.hpp"

namespace statjr {

// Gamma(shape, rate).  Marsaglia & Tsang (2000), ACM TOMS 26(3); shapes
// below one use the boost X * U^(1/shape).
inline double gamma(Rng &rng, double shape, double rate) {
    if (shape < 1.0) {
        const double u = rng.uniform();
        return gamma(rng, shape + 1.0, rate) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = rng.normal();
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = rng.uniform();
        if (u < 1.0 - 0.0331 * x * x * x * x) return d * v / rate;
        if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v / rate;
    }
}

inline double chisq(Rng &rng, double df) { return gamma(rng, 0.5 * df, 0.5); }

// Standard normal truncated to (lo, inf).  Robert (1995), Statistics and
// Computing 5, 121-125: plain rejection when lo <= 0.45, otherwise an
// exponential proposal with the optimal rate; both accept with probability
// above one half.
inline double std_normal_above(Rng &rng, double lo) {
    if (lo <= 0.45) {
        for (;;) {
            const double z = rng.normal();
            if (z > lo) return z;
        }
    }
    const double alpha = 0.5 * (lo + std::sqrt(lo * lo + 4.0));
    for (;;) {
        const double z = lo - std::log(rng.uniform()) / alpha;
        const double d = z - alpha;
        if (std::log(rng.uniform()) < -0.5 * d * d) return z;
    }
}

// Standard normal truncated to (lo, hi) with lo finite and hi finite: uniform
// proposal on a narrow interval, otherwise rejection from the one-sided draw.
inline double std_normal_between(Rng &rng, double lo, double hi) {
    if (lo >= 0.0 || hi <= 0.0) {
        // Interval on one side of zero: work on the side away from the mode.
        const bool neg = hi <= 0.0;
        const double a = neg ? -hi : lo, b = neg ? -lo : hi;
        double z;
        if (b - a < 0.5 + a) {  // narrow: uniform proposal, density ratio accept
            for (;;) {
                z = a + (b - a) * rng.uniform();
                if (std::log(rng.uniform()) < -0.5 * (z * z - a * a)) break;
            }
        } else {
            do { z = std_normal_above(rng, a); } while (z >= b);
        }
        return neg ? -z : z;
    }
    // Interval straddles zero: it holds at least half the mass of a side.
    if (hi - lo < 2.5) {
        for (;;) {
            const double z = lo + (hi - lo) * rng.uniform();
            if (std::log(rng.uniform()) < -0.5 * z * z) return z;
        }
    }
    for (;;) {
        const double z = rng.normal();
        if (z > lo && z < hi) return z;
    }
}

// N(mean, sd^2) truncated to (lo, hi); either bound may be infinite.
// inv_sd = 1/sd: a caller drawing many values with one sd passes it, so
// that standardising the bounds costs two multiplications, not two
// divisions (the costliest single instruction in a profile of the level-1 draws).
inline double truncated_normal(Rng &rng, double mean, double sd, double inv_sd, double lo, double hi) {
    const double inf = std::numeric_limits<double>::infinity();
    const double a = (lo - mean) * inv_sd, b = (hi - mean) * inv_sd;
    double z;
    if (a == -inf && b == inf) z = rng.normal();
    else if (b == inf) z = std_normal_above(rng, a);
    else if (a == -inf) z = -std_normal_above(rng, -b);
    else z = std_normal_between(rng, a, b);
    return mean + sd * z;
}

inline double truncated_normal(Rng &rng, double mean, double sd, double lo, double hi) {
    return truncated_normal(rng, mean, sd, 1.0 / sd, lo, hi);
}

}  // namespace statjr
