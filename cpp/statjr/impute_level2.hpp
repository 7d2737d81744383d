// The level-2 steps of the joint imputation model (statjr/impute.hpp): the
// random effects u_j, the level-2 latents w_j and their coefficients gamma,
// and the thresholds of level-2 Ordered responses.
//
// Level 2, unit j:  (u_j, v_j) ~ N(0, Omega_u),  w_j = X2_j gamma + v_j,
// with u_j the level-1 responses' random effects (Q1 coordinates) and v_j
// the level-2 responses' residuals (Q2).  Each step reads the state only
// (Omega_u, U, W, mu2, ...) and keeps its scratch to itself.
//
// Included at the end of statjr/impute.hpp, which declares these members.
#pragma once
#include <cmath>
#include <vector>
#include "statjr/impute.hpp"

namespace statjr {
namespace impute {

// Partition of Omega_u: m = Omega_uv Omega_vv^-1 (Q1 x Q2) and
// C^-1 = (Omega_uu - m Omega_vu)^-1 (Q1 x Q1): the prior of u_j given v_j.
inline Model::UPrior Model::prior_of_u() const {
    UPrior p;
    p.c_inv.assign(Q1 * Q1, 0.0);
    p.m.assign(Q1 * Q2, 0.0);
    Vec work;
    const Vec &o = Ou.omega;
    Vec cu(Q1 * Q1);
    for (int c = 0; c < Q1; ++c) for (int d = 0; d < Q1; ++d) cu[c * Q1 + d] = o[c * Q + d];
    if (Q2 > 0) {
        Vec vv(Q2 * Q2), vvi(Q2 * Q2);
        for (int c = 0; c < Q2; ++c) for (int d = 0; d < Q2; ++d) vv[c * Q2 + d] = o[(Q1 + c) * Q + Q1 + d];
        invert(vv, Q2, work, vvi);
        for (int c = 0; c < Q1; ++c)
            for (int d = 0; d < Q2; ++d) {
                double v = 0; for (int e = 0; e < Q2; ++e) v += o[c * Q + Q1 + e] * vvi[e * Q2 + d];
                p.m[c * Q2 + d] = v;
            }
        for (int c = 0; c < Q1; ++c)
            for (int d = 0; d < Q1; ++d) {
                double v = 0; for (int e = 0; e < Q2; ++e) v += p.m[c * Q2 + e] * o[(Q1 + e) * Q + d];
                cu[c * Q1 + d] -= v;
            }
    }
    invert(cu, Q1, work, p.c_inv);
    return p;
}

// The prior mean of u_j given v_j.
inline void Model::prior_mean_u(const UPrior &p, int j, Vec &m0) const {
    for (int c = 0; c < Q1; ++c) {
        double v = 0.0;
        for (int d = 0; d < Q2; ++d) v += p.m[c * Q2 + d] * (W[j * Q2 + d] - mu2[j * Q2 + d]);
        m0[c] = v;
    }
}

// 3. u_j given v_j and the unit's rows, Gibbs: normal with precision
// C^-1 + n_j Omega_e^-1 and linear term C^-1 m0_j + Omega_e^-1 sum_i (z_ij - X_ij beta).
inline void Model::draw_u() {
    const Vec Pe = precision(Oe.omega, Q1);
    const UPrior up = prior_of_u();
    const Vec &cond_c = up.c_inv;
    Vec lam(Q1 * Q1), rhs(Q1), m0(Q1), sum(Q1), draw(Q1);
    for (int j = 0; j < J; ++j) {
        const long nj = start[j + 1] - start[j];
        for (int c = 0; c < Q1 * Q1; ++c) lam[c] = cond_c[c] + nj * Pe[c];
        prior_mean_u(up, j, m0);
        for (int c = 0; c < Q1; ++c) sum[c] = 0.0;
        for (long i = start[j]; i < start[j + 1]; ++i)
            for (int c = 0; c < Q1; ++c) sum[c] += Z[i * Q1 + c] - mu1[i * Q1 + c];
        for (int c = 0; c < Q1; ++c) {
            double v = 0.0;
            for (int d = 0; d < Q1; ++d) v += cond_c[c * Q1 + d] * m0[d] + Pe[c * Q1 + d] * sum[d];
            rhs[c] = v;
        }
        draw_mvn_canonical(rng, lam.data(), rhs.data(), Q1, draw.data());
        for (int c = 0; c < Q1; ++c) U[j * Q1 + c] = draw[c];
    }
}

// 4. Level-2 latents and missing values, one coordinate at a time from its
// conditional normal under Omega_u given u_j and the unit's other
// coordinates, truncated as the observed category requires (SMC: a missing
// value is proposed so and accepted with the model of interest's ratio).
inline void Model::draw_level2() {
    if (Q2 == 0) return;
    const Vec Pu = precision(Ou.omega, Q);
    const std::size_t R2 = s.r2.size();
    Vec res(Q), base(Q2);
    for (int j = 0; j < J; ++j) {
        for (int c = 0; c < Q1; ++c) res[c] = U[j * Q1 + c];
        for (int c = 0; c < Q2; ++c) { base[c] = mu2[j * Q2 + c]; res[Q1 + c] = W[j * Q2 + c] - base[c]; }
        for (std::size_t k = 0; k < R2; ++k) {
            const Resp &x = s.r2[k];
            const double y = Y2[j * R2 + x.col];
            if (smc && std::isnan(y)) {
                smc_level2(j, k, base.data(), res.data(), Pu);
                continue;
            }
            draw_response(rng, x, th2(k), y, &W[j * Q2], base.data(), Pu.data(), Q, res.data(), Q1 + x.coord);
        }
    }
}

// 5. gamma, Gibbs: w_j - N u_j = X2_j gamma + eps, eps ~ N(0, Omega_v|u),
// with N = Omega_vu Omega_uu^-1 and Omega_v|u = Omega_vv - N Omega_uv.
inline void Model::draw_gamma() {
    if (Q2 == 0) return;
    const Vec &o = Ou.omega;
    Vec work, uu(Q1 * Q1), uui(Q1 * Q1), nmat(Q2 * Q1), vcond(Q2 * Q2), p2(Q2 * Q2);
    for (int c = 0; c < Q1; ++c) for (int d = 0; d < Q1; ++d) uu[c * Q1 + d] = o[c * Q + d];
    invert(uu, Q1, work, uui);
    for (int c = 0; c < Q2; ++c)
        for (int d = 0; d < Q1; ++d) {
            double v = 0; for (int e = 0; e < Q1; ++e) v += o[(Q1 + c) * Q + e] * uui[e * Q1 + d];
            nmat[c * Q1 + d] = v;
        }
    for (int c = 0; c < Q2; ++c)
        for (int d = 0; d < Q2; ++d) {
            double v = o[(Q1 + c) * Q + Q1 + d];
            for (int e = 0; e < Q1; ++e) v -= nmat[c * Q1 + e] * o[e * Q + Q1 + d];
            vcond[c * Q2 + d] = v;
        }
    invert(vcond, Q2, work, p2);
    gls_gamma(p2, nmat, true);
}

// GLS for gamma with precision p2 per unit: a draw of gamma given w - N u
// (draw), or the estimate from w alone (to start; nmat unused).
inline void Model::gls_gamma(const Vec &p2, const Vec &nmat, bool draw) {
    Vec A, b, r(Q2), t(Q2);
    block_precision(p2.data(), Q2, S2, off2, K2, A, b);
    for (int j = 0; j < J; ++j) {
        for (int c = 0; c < Q2; ++c) {
            double v = W[j * Q2 + c];
            if (draw) for (int d = 0; d < Q1; ++d) v -= nmat[c * Q1 + d] * U[j * Q1 + d];
            r[c] = v;
        }
        for (int c = 0; c < Q2; ++c) { double v = 0; for (int d = 0; d < Q2; ++d) v += p2[c * Q2 + d] * r[d]; t[c] = v; }
        const double *x = X2 + std::size_t(j) * K2;
        for (int c = 0; c < Q2; ++c)
            for (int a = off2[c]; a < off2[c + 1]; ++a) b[a] += x[a] * t[c];
    }
    solve_or_draw(A, b, K2, gamma, draw);
    for (int j = 0; j < J; ++j) {
        const double *x = X2 + std::size_t(j) * K2;
        for (int c = 0; c < Q2; ++c) {
            double v = 0.0;
            for (int a = off2[c]; a < off2[c + 1]; ++a) v += x[a] * gamma[a];
            mu2[j * Q2 + c] = v;
        }
    }
}

// 7 (level 2). Thresholds of a level-2 Ordered response by Cowles' step,
// each latent's conditional given the unit's other coordinates under Omega_u.
inline void Model::cowles_level2(std::size_t k, bool adapt) {
    const Resp &x = s.r2[k];
    const std::size_t R2 = s.r2.size();
    const int kc = Q1 + x.coord;
    const Vec Pu = precision(Ou.omega, Q);
    const double pk = Pu[kc * Q + kc], csd = 1.0 / std::sqrt(pk);
    cowles(rng, thresholds[s.r1.size() + k], threshold_tuners[s.r1.size() + k], x.ncat, adapt, [&](auto f) {
        for (int j = 0; j < J; ++j) {
            const double y = Y2[j * R2 + x.col];
            if (std::isnan(y)) continue;
            double m = 0.0;
            for (int l = 0; l < Q; ++l) {
                if (l == kc) continue;
                const double rl = l < Q1 ? U[j * Q1 + l] : W[j * Q2 + l - Q1] - mu2[j * Q2 + l - Q1];
                m += Pu[kc * Q + l] * rl;
            }
            const double mean = mu2[j * Q2 + x.coord] - m / pk;
            f(y, mean, csd, &W[j * Q2 + x.coord]);
        }
    });
}

}  // namespace impute
}  // namespace statjr
