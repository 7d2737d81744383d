// Covariance matrices with some variances fixed at 1 (the latent normals of
// categorical responses), and without.
//
// S is the sum of outer products of the N residual vectors.  The prior is
// flat on the free elements (p(Omega) = const on the positive definite
// matrices that satisfy the constraints), the "uniform priors" REALCOM
// uses.  Its density stays finite as a variance goes to zero, so weakly
// identified variances (random effects of latent responses) have no spike
// there; the Gamma(eps, eps)-like IW(q - 1 + eps, eps I), tried first, put
// a near-1/x density there and its chains stuck at degenerate matrices.
//
// Unconstrained: the conjugate draw from IW(N - q - 1, S).
// With a set C of m coordinates whose variances are fixed (U = the other k),
// the likelihood factors as r_C ~ N(0, Omega_CC) times the regression
// r_U | r_C ~ N(X' r_C, Omega_UU.C), with X = Omega_CC^-1 Omega_CU and
// Omega_UU.C = Omega_UU - Omega_UC Omega_CC^-1 Omega_CU.  A flat prior on
// (Omega_UU, Omega_UC) is flat on (Omega_UU.C, X) too (the Jacobian,
// |Omega_CC|^k, is constant given Omega_CC), so the posterior is
//   Omega_CC                prop. to |Omega_CC|^(-N/2) etr(-S_CC Omega_CC^-1 / 2), restricted
//   Omega_UU.C              ~ IW(N - k - m - 1, S_UU - S_UC S_CC^-1 S_CU)
//   X | Omega_UU.C          ~ MN(S_CC^-1 S_CU, S_CC^-1, Omega_UU.C)
// the last two free of Omega_CC (cf. Gupta & Nagar 2000, Matrix Variate
// Distributions, th. 3.4.1).  Each update is: random-walk Metropolis
// on the free off-diagonal elements of Omega_CC against its marginal
// (Browne 2006, "MCMC algorithms for constrained variance matrices", CSDA
// 50, 1655-1677; the acceptance ratio needs only S_CC, never the rows), then
// an exact draw of the free block given Omega_CC.  With a single constrained
// coordinate, or a fully fixed block, nothing is left to Metropolis.
// Proposals that are not positive definite are rejected; scales are tuned
// during burn-in towards 44% acceptance.  tests/test_covariance.py checks
// the draws against numpy.  The posterior is proper when N > q + k.
#pragma once
#include <cmath>
#include <vector>
#include "statjr/linalg.hpp"
#include "statjr/mh.hpp"

namespace statjr {

// log IW(Omega; nu, A) up to a constant, given df_total = nu + q + 1:
// -df_total/2 log|Omega| - tr(Omega^-1 A)/2.  False when Omega is not
// positive definite.
inline bool covariance_logpost(const Vec &omega, int q, const Vec &a, double df_total, Vec &work,
                               Vec &col, double &out) {
    work = omega;
    if (!cholesky(work.data(), q)) return false;
    double tr = 0.0;
    for (int c = 0; c < q; ++c) {
        for (int r = 0; r < q; ++r) col[r] = a[r * q + c];
        forward_solve(work.data(), q, col.data());
        backward_solve_t(work.data(), q, col.data());
        tr += col[c];
    }
    out = -0.5 * df_total * chol_logdet(work.data(), q) - 0.5 * tr;
    return true;
}

struct CovarianceSampler {
    int q = 0;
    double ridge = 0.0;  // S + ridge I, only to keep S invertible
    std::vector<char> fixed;      // fixed[a]: variance a is held at 1
    std::vector<char> fixed_pair; // fixed_pair[a*q+b]: covariance held at its start value
    std::vector<int> cu, cc;      // free and fixed coordinates
    bool any_fixed = false;
    Vec omega, a, work, col;
    Vec acc, cur_c, lcc, uu, xm, lu, draw_uu, x;  // blocks, sized once
    std::vector<Tuner> tuners;    // one per off-diagonal pair of fixed coordinates

    // fixed_pair may only join coordinates whose variances are fixed too.
    void init(int q_, const std::vector<char> &fixed_, const std::vector<char> &fixed_pair_,
              const Vec &start) {
        q = q_; fixed = fixed_; fixed_pair = fixed_pair_; omega = start;
        cu.clear(); cc.clear();
        for (int i = 0; i < q; ++i) (fixed[i] ? cc : cu).push_back(i);
        any_fixed = !cc.empty();
        const int m = int(cc.size()), k = int(cu.size());
        a.assign(q * q, 0.0); work.assign(q * q, 0.0); col.assign(q, 0.0);
        acc.assign(m * m, 0.0); cur_c.assign(m * m, 0.0); lcc.assign(m * m, 0.0);
        uu.assign(k * k, 0.0); xm.assign(m * k, 0.0); lu.assign(k * k, 0.0);
        draw_uu.assign(k * k, 0.0); x.assign(m * k, 0.0);
        tuners.assign(m * m, Tuner(0.1, 0.44));
    }

    // One update given the cross-product s of nobs residual vectors.
    void update(Rng &rng, const Vec &s, double nobs, bool adapt) {
        double tr = 0.0;
        for (int i = 0; i < q; ++i) tr += s[i * q + i];
        ridge = 1e-10 * tr / q;
        for (int i = 0; i < q * q; ++i) a[i] = s[i];
        for (int i = 0; i < q; ++i) a[i * q + i] += ridge;
        if (!any_fixed) {
            if (nobs - q - 1 <= q - 1) throw std::runtime_error("too few units for the covariance matrix");
            draw_inverse_wishart(rng, nobs - q - 1, a.data(), q, omega.data());
            return;
        }
        const int m = int(cc.size()), k = int(cu.size());
        for (int r = 0; r < m; ++r)
            for (int c = 0; c < m; ++c) {
                acc[r * m + c] = a[cc[r] * q + cc[c]];
                cur_c[r * m + c] = omega[cc[r] * q + cc[c]];
            }
        // 1. Off-diagonal elements of Omega_CC by Metropolis on their marginal.
        if (m >= 2) {
            const double df_total = nobs;
            Vec wk(m * m), cl(m);
            double cur;
            if (!covariance_logpost(cur_c, m, acc, df_total, wk, cl, cur))
                throw std::runtime_error("covariance matrix lost positive definiteness");
            // A_CC is fixed within the update, so extra sweeps cost O(|C|^3)
            // each and remove the random walk's own autocorrelation.
            for (int rep = 0; rep < 10; ++rep)
            for (int r = 0; r < m; ++r)
                for (int c = r + 1; c < m; ++c) {
                    if (fixed_pair[cc[r] * q + cc[c]]) continue;
                    Tuner &t = tuners[r * m + c];
                    const double step = t.sd * rng.normal();
                    cur_c[r * m + c] += step;
                    cur_c[c * m + r] += step;
                    double prop;
                    const bool ok = covariance_logpost(cur_c, m, acc, df_total, wk, cl, prop) &&
                                    std::log(rng.uniform()) < prop - cur;
                    if (ok) {
                        cur = prop;
                    } else {
                        cur_c[r * m + c] -= step;
                        cur_c[c * m + r] -= step;
                    }
                    t.note(ok, adapt);
                }
        }
        for (int r = 0; r < m; ++r)
            for (int c = 0; c < m; ++c) omega[cc[r] * q + cc[c]] = cur_c[r * m + c];
        if (k == 0) return;
        // 2. The free block given Omega_CC, exactly.
        lcc = acc;
        cholesky_or_throw(lcc.data(), m, "fixed block of the covariance scale");
        for (int c = 0; c < k; ++c) {  // xm = A_CC^-1 A_CU (m x k)
            for (int r = 0; r < m; ++r) col[r] = a[cc[r] * q + cu[c]];
            forward_solve(lcc.data(), m, col.data());
            backward_solve_t(lcc.data(), m, col.data());
            for (int r = 0; r < m; ++r) xm[r * k + c] = col[r];
        }
        for (int r = 0; r < k; ++r)  // uu = A_UU - A_UC A_CC^-1 A_CU
            for (int c = 0; c < k; ++c) {
                double v = a[cu[r] * q + cu[c]];
                for (int e = 0; e < m; ++e) v -= a[cu[r] * q + cc[e]] * xm[e * k + c];
                uu[r * k + c] = v;
            }
        if (nobs - k - m - 1 <= k - 1) throw std::runtime_error("too few units for the covariance matrix");
        draw_inverse_wishart(rng, nobs - k - m - 1, uu.data(), k, draw_uu.data());
        lu = draw_uu;
        cholesky_or_throw(lu.data(), k, "free block of the covariance matrix");
        // X = xm + L_C^{-T} Z L_U', with L_C L_C' = A_CC so that cov rows = A_CC^-1
        Vec z(m);
        Vec zl(m * k, 0.0);
        for (int c = 0; c < k; ++c) {
            for (int r = 0; r < m; ++r) z[r] = rng.normal();
            backward_solve_t(lcc.data(), m, z.data());  // z ~ N(0, A_CC^-1)
            for (int r = 0; r < m; ++r) zl[r * k + c] = z[r];
        }
        for (int r = 0; r < m; ++r)  // x = xm + zl * L_U'
            for (int c = 0; c < k; ++c) {
                double v = xm[r * k + c];
                for (int e = 0; e <= c; ++e) v += zl[r * k + e] * lu[c * k + e];
                x[r * k + c] = v;
            }
        for (int r = 0; r < m; ++r)  // Omega_CU = Omega_CC X
            for (int c = 0; c < k; ++c) {
                double v = 0.0;
                for (int e = 0; e < m; ++e) v += cur_c[r * m + e] * x[e * k + c];
                omega[cc[r] * q + cu[c]] = omega[cu[c] * q + cc[r]] = v;
            }
        for (int r = 0; r < k; ++r)  // Omega_UU = Omega_UU.C + X' Omega_CC X
            for (int c = 0; c < k; ++c) {
                double v = draw_uu[r * k + c];
                for (int e = 0; e < m; ++e) v += x[e * k + r] * omega[cc[e] * q + cu[c]];
                omega[cu[r] * q + cu[c]] = v;
            }
    }
};

}  // namespace statjr
