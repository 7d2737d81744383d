// The latent normals behind one observed response, as the imputation model
// uses them (cpp/statjr/impute.hpp): which interval or region of the latent
// space each observed value stands for, the truncated univariate
// conditional draw that respects it, and reading a value back.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include "statjr/dist.hpp"
#include "statjr/linalg.hpp"
#include "statjr/mh.hpp"
#include "statjr/dims.hpp"

namespace statjr {
namespace impute {

const double INF = std::numeric_limits<double>::infinity();

enum Type : int { Normal = 0, Binary = 1, Ordered = 2, Unordered = 3 };

struct Resp {
    int type;   // Type
    int ncat;   // categories (Ordered, Unordered), 2 for Binary, 0 for Normal
    int coord;  // its first latent coordinate within its level
    int col;    // its column in Y1 or Y2
};

inline int ncoords(const Resp &r) { return r.type == Unordered ? r.ncat - 1 : 1; }

// A latent value consistent with an observed category, to start from.
inline double start_value(const Resp &x, const Vec &th, double y, int m) {
    if (std::isnan(y)) return 0.0;
    switch (x.type) {
        case Normal: return y;
        case Binary: return y > 0.5 ? 0.5 : -0.5;
        case Ordered: {
            const int c = int(y);
            if (c == 0) return th[0] - 0.5;
            if (c == x.ncat - 1) return th.back() + 0.5;
            return 0.5 * (th[c - 1] + th[c]);
        }
        default: return (int(y) == m) ? 0.5 : -0.5;
    }
}

// The latent interval (lo, hi] of category c of an Ordered response with
// thresholds th: category 0 is below th[0], the last above th[ncat - 2].
struct Interval { double lo, hi; };
inline Interval ordered_interval(const Vec &th, int ncat, int c) {
    return {c > 0 ? th[c - 1] : -INF, c < ncat - 1 ? th[c] : INF};
}

// The interval (lo, hi] that the observed value y of response x allows
// coordinate m of its latents, given the row's latents z (the other
// coordinates of an Unordered response bound it): Binary, the side of 0;
// Ordered, the category's thresholds; Unordered, above 0 and the others for
// the observed category, below the observed category's coordinate otherwise,
// below 0 for the reference.  A missing y allows everything.  Normal
// responses have no interval (their observed latent is the value itself).
inline Interval latent_interval(const Resp &x, const Vec &th, double y, const double *z, int m) {
    if (std::isnan(y)) return {-INF, INF};
    if (x.type == Binary) return y > 0.5 ? Interval{0.0, INF} : Interval{-INF, 0.0};
    if (x.type == Ordered) return ordered_interval(th, x.ncat, int(y));
    const int nc = x.ncat - 1, obs = int(y);
    if (obs == nc) return {-INF, 0.0};  // reference category: every coordinate negative
    if (obs != m) return {-INF, z[x.coord + obs]};
    double lo = 0.0;
    for (int o = 0; o < nc; ++o) if (o != m) lo = std::max(lo, z[x.coord + o]);
    return {lo, INF};
}

// The precision p (q x q) of a row's coordinates, with what each
// coordinate's conditional needs formed once per sweep rather than once per
// row: 1/p_kk (its conditional variance), 1/sqrt(p_kk) (its sd) and
// sqrt(p_kk).  The divisions per row and coordinate were the costliest
// single instructions in a profile of the level-1 draws (the whole-run gain
// measured within the noise: docs/performance.md).
struct Precision {
    const double *p = nullptr;
    Vec inv_diag, sd, inv_sd;
    Precision(const Vec &prec, int q) : p(prec.data()), inv_diag(q), sd(q), inv_sd(q) { refresh(q); }
    // Recompute the per-coordinate values after p's contents changed.
    void refresh(int q) {
        for (int k = 0; k < q; ++k) {
            const double pk = p[k * q + k];
            inv_diag[k] = 1.0 / pk;
            inv_sd[k] = std::sqrt(pk);
            sd[k] = 1.0 / inv_sd[k];
        }
    }
};

// Draw coordinate k of residual vector res (length q) from its
// conditional given the others under precision P, so that
// base + res[k] lies in (lo, hi).
// Inlined everywhere (STATJR_HOT), so that a caller with q fixed at compile
// time (statjr/dims.hpp) gets this loop unrolled.
STATJR_HOT inline double draw_conditional(Rng &rng, const Precision &P, int q, double *res, int k, double base,
                                          double lo, double hi) {
    const double *p = P.p;
    double m = 0.0;
#pragma GCC unroll 4
    for (int l = 0; l < q; ++l) if (l != k) m += p[k * q + l] * res[l];
    const double mean = -m * P.inv_diag[k], sd = P.sd[k];
    const double v = (lo == -INF && hi == INF) ? mean + sd * rng.normal()
                                                : truncated_normal(rng, mean, sd, P.inv_sd[k], lo - base, hi - base);
    res[k] = v;
    return base + v;
}

// Update the latent coordinates of response x for one row or unit.
// z: that row's latents (within the level), base: their means, res:
// residual vector in the precision's coordinates, at: index of the
// response's first coordinate in res.
STATJR_HOT inline void draw_response(Rng &rng, const Resp &x, const Vec &th, double y, double *z,
                                     const double *base, const Precision &p, int q, double *res, int at) {
    const bool miss = std::isnan(y);
    if (x.type == Normal) {
        if (miss) z[x.coord] = draw_conditional(rng, p, q, res, at, base[x.coord], -INF, INF);
        return;
    }
    // Binary and Ordered: one coordinate; Unordered: one at a time, bounds
    // from the others' current values.
    for (int m = 0; m < ncoords(x); ++m) {
        const Interval b = latent_interval(x, th, y, z, m);
        z[x.coord + m] = draw_conditional(rng, p, q, res, at + m, base[x.coord + m], b.lo, b.hi);
    }
}

// Category (or value) a response's latents stand for.
inline double read_back(const Resp &x, const Vec &th, const double *z) {
    switch (x.type) {
        case Normal: return z[x.coord];
        case Binary: return z[x.coord] > 0.0 ? 1.0 : 0.0;
        case Ordered: {
            int c = 0;
            while (c < x.ncat - 1 && z[x.coord] > th[c]) ++c;
            return double(c);
        }
        default: {
            int best = x.ncat - 1;
            double top = 0.0;
            for (int m = 0; m < x.ncat - 1; ++m)
                if (z[x.coord + m] > top) { top = z[x.coord + m]; best = m; }
            return double(best);
        }
    }
}

inline double log_interval(double lo, double hi) {  // log(Phi(hi) - Phi(lo)), lo < hi
    const double s2 = std::sqrt(2.0);
    if (lo > 0) return std::log(0.5 * (std::erfc(lo / s2) - std::erfc(hi / s2)));
    return std::log(0.5 * (std::erfc(-hi / s2) - std::erfc(-lo / s2)));
}


// One Cowles (1996, Statistics and Computing 6, 101-111) update of an
// Ordered response's free thresholds th[1..] (th[0] = 0 is fixed): all are
// proposed from truncated normals, accepted with the latents integrated out,
// then the latents are redrawn in their new intervals.  `rows` calls its
// argument with (category, conditional mean, conditional sd, latent pointer)
// for every observed value.
template <class Rows>
void cowles(Rng &rng, Vec &th, Tuner &tuner, int ncat, bool adapt, Rows rows) {
    const double sd = tuner.sd;
    Vec prop = th;
    double logq = 0.0;  // log proposal ratio
    // th[0] = 0 is fixed; th[1..] are proposed in turn, each between
    // its new lower neighbour and its old upper one.
    for (int c = 1; c < ncat - 1; ++c) {
        const double hi = (c + 1 < ncat - 1) ? th[c + 1] : INF;
        prop[c] = truncated_normal(rng, th[c], sd, prop[c - 1], hi);
    }
    for (int c = 1; c < ncat - 1; ++c) {
        const double hi_old = (c + 1 < ncat - 1) ? th[c + 1] : INF, hi_new = (c + 1 < ncat - 1) ? prop[c + 1] : INF;
        logq += log_interval((prop[c - 1] - th[c]) / sd, (hi_old - th[c]) / sd)
              - log_interval((th[c - 1] - prop[c]) / sd, (hi_new - prop[c]) / sd);
    }
    double diff = logq;
    rows([&](double y, double mean, double csd, double *) {
        const Interval o = ordered_interval(th, ncat, int(y)), n = ordered_interval(prop, ncat, int(y));
        diff += log_interval((n.lo - mean) / csd, (n.hi - mean) / csd)
              - log_interval((o.lo - mean) / csd, (o.hi - mean) / csd);
    });
    const bool ok = std::log(rng.uniform()) < diff;
    tuner.note(ok, adapt);
    if (!ok) return;
    th = prop;
    rows([&](double y, double mean, double csd, double *z) {
        const Interval b = ordered_interval(th, ncat, int(y));
        *z = truncated_normal(rng, mean, csd, b.lo, b.hi);
    });
}


}  // namespace impute
}  // namespace statjr
