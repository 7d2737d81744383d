// The joint latent-normal imputation model (REALCOM-IMPUTE; Goldstein,
// Carpenter, Kenward & Levin 2009, Statistical Modelling 9(3), 173-197).
//
// Level 1, row i of unit j: z_ij = X_ij beta + u_j + e_ij,  e_ij ~ N(0, Omega_e)
// Level 2, unit j:          w_j  = X2_j gamma + v_j
//                           (u_j, v_j) ~ N(0, Omega_u)
// One latent coordinate per Normal, Binary or Ordered response, p-1 per
// Unordered response with p categories.  Binary/Ordered/Unordered
// coordinates have unit variance (Omega_e at level 1, Omega_u at level 2);
// which elements are fixed, and at what, the template passes as masks.
//
// Rows are sorted by unit (unit j owns rows start[j] .. start[j+1]-1).
// Per-response latent logic is in statjr/latent.hpp, the level-2 steps in
// statjr/impute_level2.hpp.  Every step but the covariance and threshold
// updates and two of step 6's moves is Gibbs; see docs/imputation.md for
// the derivations and costs.
// Each step reads only the model's state and keeps its own scratch, so no
// step depends on another having run first.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>
#include "statjr/covariance.hpp"
#include "statjr/latent.hpp"
#include "statjr/smc.hpp"
#include "statjr/dist.hpp"
#include "statjr/linalg.hpp"
#include "statjr/mh.hpp"

namespace statjr {
namespace impute {

// Which elements of a q x q covariance matrix are free, and the values of
// the fixed ones, row-major (q*q each): the template computes them
// (ImputeModel.covariance_masks, the one statement of the constraints) and
// passes them as data arrays, so the recorded names and the sampler agree.
struct CovMask {
    const std::int32_t *free = nullptr;  // 1: a parameter; 0: held at value
    const double *value = nullptr;
};

// Step 6's view of one categorical coordinate c with z_.c integrated out
// (statjr/impute_level2.hpp, Model::collapse).  Kept in the model and
// refilled each sweep, so step 6 allocates nothing per iteration.
struct Collapsed {
    int c = 0;
    double sd = 1.0;          // sd of z_ic given the row's other coordinates
    std::vector<double> a;    // per row: E[z_ic | the row's other coordinates] - u_jc
    std::vector<double> lo, hi;  // per row: the interval its observed value allows
    std::vector<char> kind;   // per row: 0 missing (free), 1 interval, 2 held at z_ic
};

// Everything fixed for one model: generated code fills it in.
struct Spec {
    bool two_level = true, conditional = true;
    bool expansion = true;  // step 6's moves on the random-effect columns (off: the older sampler)
    std::vector<Resp> r1, r2;
    std::vector<int> k1, k2;  // covariates per coordinate, levels 1 and 2
};

struct Model {
    Spec s;
    long n = 0;
    int J = 0, Q1 = 0, Q2 = 0, Q = 0, K1 = 0, K2 = 0;
    const double *Y1, *X1, *Y2, *X2;
    const std::int32_t *start;
    std::vector<int> off1, off2;             // first covariate of each coordinate
    Vec Z, mu1, U, W, mu2, beta, gamma;      // latents, means, random effects, coefficients
    Vec S1, S2;                              // X'X cross-products (K1 x K1, K2 x K2)
    std::vector<Vec> thresholds;             // per response (level 1 then level 2); t[0] = 0
    std::vector<Tuner> threshold_tuners;
    CovarianceSampler Oe, Ou;
    std::vector<Tuner> scale_tuners;         // step 6b's proposal sd of log g, per level-1 coordinate
    std::vector<int> intercept;              // per coordinate: its constant covariate (beta or gamma), or -1
    Collapsed col;                           // step 6's scratch: the coordinate being moved
    std::vector<double> cur, prop;           // step 6's scratch: each unit's log lik_j, now and proposed
    Rng rng;
    Substantive *smc = nullptr;              // the model of interest, for SMC imputation
    Vec V1, V2;                              // current values of every response (SMC only)
    // No work buffers are shared between steps: each step derives what it
    // needs (a precision matrix, the prior of u_j) from the state above and
    // keeps its scratch to itself, so the steps may run in any order.

    // me, mu: the masks of Omega_e (Q1 x Q1) and Omega_u (Q x Q; unused with one level).
    Model(const Spec &spec, const double *Y1_, const double *X1_, const std::int32_t *start_,
          long n_, int J_, const double *Y2_, const double *X2_, CovMask me, CovMask mu,
          std::uint64_t seed)
        : s(spec), n(n_), J(J_), Y1(Y1_), X1(X1_), Y2(Y2_), X2(X2_), start(start_), rng(seed) {
        for (const Resp &x : s.r1) Q1 += ncoords(x);
        for (const Resp &x : s.r2) Q2 += ncoords(x);
        Q = Q1 + Q2;
        off1.assign(Q1 + 1, 0);
        for (int c = 0; c < Q1; ++c) off1[c + 1] = off1[c] + s.k1[c];
        off2.assign(Q2 + 1, 0);
        for (int c = 0; c < Q2; ++c) off2[c + 1] = off2[c] + s.k2[c];
        K1 = off1[Q1]; K2 = off2[Q2];
        Z.assign(n * Q1, 0.0); mu1.assign(n * Q1, 0.0); U.assign(std::size_t(J) * Q1, 0.0);
        W.assign(std::size_t(J) * Q2, 0.0); mu2.assign(std::size_t(J) * Q2, 0.0);
        beta.assign(K1, 0.0); gamma.assign(K2, 0.0);
        cross_products();
        init_thresholds();
        init_latents();
        init_parameters(me, mu);
        init_expansion();
    }

    // ---------------------------------------------------------------- setup
    void cross_products() {
        S1.assign(K1 * K1, 0.0);
        for (long i = 0; i < n; ++i) {
            const double *x = X1 + i * K1;
            for (int a = 0; a < K1; ++a)
                for (int c = 0; c < K1; ++c) S1[a * K1 + c] += x[a] * x[c];
        }
        S2.assign(K2 * K2, 0.0);
        for (int j = 0; j < J && K2 > 0; ++j) {
            const double *x = X2 + std::size_t(j) * K2;
            for (int a = 0; a < K2; ++a)
                for (int c = 0; c < K2; ++c) S2[a * K2 + c] += x[a] * x[c];
        }
    }

    void init_thresholds() {
        for (const Resp &x : s.r1) add_thresholds(x);
        for (const Resp &x : s.r2) add_thresholds(x);
    }
    void add_thresholds(const Resp &x) {
        Vec th;
        if (x.type == Ordered)
            for (int c = 0; c < x.ncat - 1; ++c) th.push_back(double(c));  // t[0] = 0 fixed
        thresholds.push_back(th);
        threshold_tuners.push_back(Tuner(0.05, 0.44));
    }
    const Vec &th1(int k) const { return thresholds[k]; }
    const Vec &th2(int k) const { return thresholds[s.r1.size() + k]; }

    void init_latents() {
        init_block(s.r1, Y1, n, Q1, Z, 0);
        init_block(s.r2, Y2, J, Q2, W, s.r1.size());
    }
    // Starting latents of one level's responses (rows x R values in Y, rows x
    // q latents in L); a missing Normal value starts at the observed mean.
    void init_block(const std::vector<Resp> &rs, const double *Y, long rows, int q, Vec &L,
                    std::size_t th0) {
        const std::size_t R = rs.size();
        for (std::size_t k = 0; k < R; ++k) {
            const Resp &x = rs[k];
            double sum = 0.0; long cnt = 0;
            for (long i = 0; i < rows; ++i) {
                const double y = Y[i * R + x.col];
                for (int m = 0; m < ncoords(x); ++m) L[i * q + x.coord + m] = start_value(x, thresholds[th0 + k], y, m);
                if (x.type == Normal && !std::isnan(y)) { sum += y; ++cnt; }
            }
            if (x.type == Normal)
                for (long i = 0; i < rows; ++i)
                    if (std::isnan(Y[i * R + x.col])) L[i * q + x.coord] = cnt ? sum / cnt : 0.0;
        }
    }

    // The constraints of one q x q covariance matrix, read from its mask:
    // fixed[c] when variance c is held, fixed_pair[c*q+d] when covariance
    // (c, d) is; the held values are written into the starting matrix.  The
    // exact split (statjr/covariance.hpp) needs a held covariance to join two
    // held variances, and the mask must be symmetric.
    static void read_mask(const CovMask &mk, int q, std::vector<char> &fixed,
                          std::vector<char> &fixed_pair, Vec &start) {
        fixed.assign(q, 0);
        fixed_pair.assign(std::size_t(q) * q, 0);
        for (int c = 0; c < q; ++c)
            for (int d = 0; d < q; ++d) {
                const std::size_t k = std::size_t(c) * q + d;
                if (mk.free[k] != mk.free[std::size_t(d) * q + c] ||
                    mk.value[k] != mk.value[std::size_t(d) * q + c])
                    throw std::runtime_error("ImputeModel: covariance mask is not symmetric");
                if (mk.free[k]) continue;
                if (c == d) {
                    if (!(mk.value[k] > 0.0)) throw std::runtime_error("ImputeModel: a fixed variance must be positive");
                    fixed[c] = 1;
                    start[k] = mk.value[k];
                }
            }
        for (int c = 0; c < q; ++c)
            for (int d = 0; d < q; ++d) {
                const std::size_t k = std::size_t(c) * q + d;
                if (c == d || mk.free[k]) continue;
                if (!fixed[c] || !fixed[d])
                    throw std::runtime_error("ImputeModel: a fixed covariance must join two fixed variances");
                fixed_pair[k] = 1;
                start[k] = mk.value[k];
            }
    }

    void init_parameters(const CovMask &me, const CovMask &mu) {
        // Coefficients: per-coordinate least squares on the starting latents.
        Vec ident(Q1 * Q1, 0.0);
        for (int c = 0; c < Q1; ++c) ident[c * Q1 + c] = 1.0;
        gls_beta(ident, false);
        Vec oe(Q1 * Q1, 0.0);
        for (int c = 0; c < Q1; ++c) {
            double ss = 0.0;
            for (long i = 0; i < n; ++i) { const double e = Z[i * Q1 + c] - mu1[i * Q1 + c]; ss += e * e; }
            oe[c * Q1 + c] = std::max(ss / n, 1e-6);
        }
        std::vector<char> fe, pe;
        read_mask(me, Q1, fe, pe, oe);
        Oe.init(Q1, fe, pe, oe);
        if (!s.two_level) return;
        Vec ou(Q * Q, 0.0);
        for (int c = 0; c < Q1; ++c) ou[c * Q + c] = 0.1 * oe[c * Q1 + c];
        if (Q2 > 0) {
            Vec ident2(Q2 * Q2, 0.0);
            for (int c = 0; c < Q2; ++c) ident2[c * Q2 + c] = 1.0;
            gls_gamma(ident2, Vec(), false);
            for (int c = 0; c < Q2; ++c) {
                double ss = 0.0;
                for (int j = 0; j < J; ++j) { const double e = W[j * Q2 + c] - mu2[j * Q2 + c]; ss += e * e; }
                ou[(Q1 + c) * Q + Q1 + c] = std::max(ss / J, 1e-6);
            }
        }
        std::vector<char> fu, pu;
        read_mask(mu, Q, fu, pu, ou);
        Ou.init(Q, fu, pu, ou);
    }

    // ---------------------------------------------------------------- pieces
    static void invert(const Vec &m, int q, Vec &work, Vec &out) {
        work = m;
        cholesky_or_throw(work.data(), q, "a covariance matrix");
        chol_inverse(work.data(), q, out.data());
    }
    // The inverse of a q x q covariance matrix, as a new matrix.
    static Vec precision(const Vec &m, int q) {
        Vec work(q * q), out(q * q);
        invert(m, q, work, out);
        return out;
    }

    // ---------------------------------------------------------------- steps
    // 1. Level-1 latents and missing values.
    void draw_level1() {
        const Vec Pe = precision(Oe.omega, Q1);
        Vec r(Q1), t(Q1), tmpq(Q1 * Q1);  // residual and mean of one row
        const std::size_t R1 = s.r1.size();
        if (!s.two_level || s.conditional) {
            for (int j = 0; j < J; ++j)
                for (long i = start[j]; i < start[j + 1]; ++i) {
                    double *z = &Z[i * Q1];
                    const double *m = &mu1[i * Q1];
                    for (int c = 0; c < Q1; ++c) { t[c] = m[c] + (s.two_level ? U[j * Q1 + c] : 0.0); r[c] = z[c] - t[c]; }
                    for (std::size_t k = 0; k < R1; ++k) {
                        const Resp &x = s.r1[k];
                        const double y = Y1[i * R1 + x.col];
                        if (smc && std::isnan(y)) {
                            smc_level1(i, j, k, z, t.data(), r.data(), Pe);
                            continue;
                        }
                        draw_response(rng, x, th1(k), y, z, t.data(), Pe.data(), Q1, r.data(), x.coord);
                    }
                }
            return;
        }
        // Marginal variant: u_j integrated out.  Row i is drawn from its
        // distribution given the unit's other rows: mean mu + E[u_j | others],
        // covariance Omega_e + Var[u_j | others].
        const UPrior up = prior_of_u();
        const Vec &cond_c = up.c_inv;
        Vec lam(Q1 * Q1), lam_inv(Q1 * Q1), g(Q1 * Q1), a0(Q1), sum(Q1), pm(Q1 * Q1), sm(Q1 * Q1), mu(Q1);
        for (int j = 0; j < J; ++j) {
            const long nj = start[j + 1] - start[j];
            for (int c = 0; c < Q1 * Q1; ++c) lam[c] = cond_c[c] + (nj - 1) * Pe[c];  // cond_c: C^{-1}
            invert(lam, Q1, tmpq, lam_inv);
            // a0 = lam^-1 C^-1 m0, g = lam^-1 Pe
            prior_mean_u(up, j, mu);  // m0
            for (int c = 0; c < Q1; ++c) { double v = 0; for (int d = 0; d < Q1; ++d) v += cond_c[c * Q1 + d] * mu[d]; t[c] = v; }
            for (int c = 0; c < Q1; ++c) { double v = 0; for (int d = 0; d < Q1; ++d) v += lam_inv[c * Q1 + d] * t[d]; a0[c] = v; }
            for (int c = 0; c < Q1; ++c)
                for (int d = 0; d < Q1; ++d) { double v = 0; for (int e = 0; e < Q1; ++e) v += lam_inv[c * Q1 + e] * Pe[e * Q1 + d]; g[c * Q1 + d] = v; }
            for (int c = 0; c < Q1 * Q1; ++c) sm[c] = Oe.omega[c] + lam_inv[c];
            invert(sm, Q1, tmpq, pm);
            for (int c = 0; c < Q1; ++c) sum[c] = 0.0;
            for (long i = start[j]; i < start[j + 1]; ++i)
                for (int c = 0; c < Q1; ++c) sum[c] += Z[i * Q1 + c] - mu1[i * Q1 + c];
            for (long i = start[j]; i < start[j + 1]; ++i) {
                double *z = &Z[i * Q1];
                const double *m = &mu1[i * Q1];
                for (int c = 0; c < Q1; ++c) sum[c] -= z[c] - m[c];  // the unit's other rows
                for (int c = 0; c < Q1; ++c) {
                    double v = a0[c];
                    for (int d = 0; d < Q1; ++d) v += g[c * Q1 + d] * sum[d];
                    t[c] = m[c] + v;
                    r[c] = z[c] - t[c];
                }
                for (std::size_t k = 0; k < R1; ++k)
                    draw_response(rng, s.r1[k], th1(k), Y1[i * R1 + s.r1[k].col], z, t.data(), pm.data(), Q1, r.data(), s.r1[k].coord);
                for (int c = 0; c < Q1; ++c) sum[c] += z[c] - m[c];
            }
        }
    }

    // The GLS precision A of coefficients with per-coordinate designs: block
    // (c, d) is p_cd S_cd, with S the cross-product formed before the chain;
    // b (the right side) is zeroed for the caller to fill.
    static void block_precision(const double *p, int q, const Vec &S, const std::vector<int> &off,
                                int K, Vec &A, Vec &b) {
        A.assign(std::size_t(K) * K, 0.0);
        b.assign(K, 0.0);
        for (int c = 0; c < q; ++c)
            for (int d = 0; d < q; ++d)
                for (int a = off[c]; a < off[c + 1]; ++a)
                    for (int e = off[d]; e < off[d + 1]; ++e) A[a * K + e] = p[c * q + d] * S[a * K + e];
    }

    // 2. beta ~ N(A^-1 b, A^-1) given the latents and u under Omega_e.
    void draw_beta() { gls_beta(precision(Oe.omega, Q1), true); }

    // GLS for coefficients: precision from block_precision, right side from
    // per-row (or per-unit) P * target; a draw, or the estimate (to start).
    void gls_beta(const Vec &Pe, bool draw) {
        Vec A, b, r(Q1), t(Q1);
        block_precision(Pe.data(), Q1, S1, off1, K1, A, b);
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
                for (int c = 0; c < Q1; ++c) r[c] = Z[i * Q1 + c] - (s.two_level ? U[j * Q1 + c] : 0.0);
                for (int c = 0; c < Q1; ++c) { double v = 0; for (int d = 0; d < Q1; ++d) v += Pe[c * Q1 + d] * r[d]; t[c] = v; }
                const double *x = X1 + i * K1;
                for (int c = 0; c < Q1; ++c)
                    for (int a = off1[c]; a < off1[c + 1]; ++a) b[a] += x[a] * t[c];
            }
        solve_or_draw(A, b, K1, beta, draw);
        for (long i = 0; i < n; ++i) {
            const double *x = X1 + i * K1;
            for (int c = 0; c < Q1; ++c) {
                double v = 0.0;
                for (int a = off1[c]; a < off1[c + 1]; ++a) v += x[a] * beta[a];
                mu1[i * Q1 + c] = v;
            }
        }
    }

    void solve_or_draw(const Vec &a, const Vec &rhs, int k, Vec &out, bool draw) {
        Vec aa(a.begin(), a.begin() + k * k), bb(rhs.begin(), rhs.begin() + k);
        if (draw) { draw_mvn_canonical(rng, aa.data(), bb.data(), k, out.data()); return; }
        cholesky_or_throw(aa.data(), k, "the coefficients' precision (collinear explanatory variables?)");
        forward_solve(aa.data(), k, bb.data());
        backward_solve_t(aa.data(), k, bb.data());
        for (int i = 0; i < k; ++i) out[i] = bb[i];
    }

    // Level-2 steps (statjr/impute_level2.hpp).
    // The prior of u_j given v_j under Omega_u: u_j | v_j ~ N(m (v_j - mu2_j), C).
    struct UPrior {
        Vec c_inv;  // C^-1 = (Omega_uu - m Omega_vu)^-1, Q1 x Q1
        Vec m;      // Omega_uv Omega_vv^-1, Q1 x Q2
    };
    UPrior prior_of_u() const;
    void prior_mean_u(const UPrior &p, int j, Vec &m0) const;
    void draw_u();                                          // 3.
    void draw_level2();                                     // 4.
    void draw_gamma();                                      // 5.
    void gls_gamma(const Vec &p2, const Vec &nmat, bool draw);
    void refresh_mu2(int c);
    void cowles_level2(std::size_t k, bool adapt);
    // Step 6: moves on the random-effect column of each categorical level-1 coordinate.
    void init_expansion();
    void expand_random_effects(bool adapt);                 // 6.
    void collapse(int c);                                   // fills col and cur
    double unit_loglik(int j, double ujc, double floor) const;
    void redraw_collapsed();
    void unit_moves();
    void scale_move(bool adapt);
    void shift_intercepts(int c);

    // ------------------------------------------------------------- SMC steps
    // Start the value arrays from the data and the starting latents.
    void enable_values() {
        V1.assign(n * s.r1.size(), 0.0);
        V2.assign(std::size_t(J) * s.r2.size() + 1, 0.0);
        current_values(V1.data(), V2.data());
    }

    // A missing value: each latent coordinate in turn is proposed from the
    // joint model's univariate conditional and accepted with the model of
    // interest's likelihood ratio.  One coordinate at a time matters: a
    // single-coordinate Gibbs draw is reversible with respect to the joint
    // model's conditional, so the ratio is the whole acceptance probability;
    // a sweep over an Unordered response's p-1 coordinates is not, and
    // accepting it with the same ratio biased the category effects
    // (docs/validation.md records the before and after).
    template <class Loglik>
    void smc_coordinates(const Resp &x, const Vec &th, double *z, const double *base, const double *p,
                         int q, double *res, int at, double *value, Loglik loglik) {
        double current = 0.0;  // loglik() at the current value, once it is needed
        bool known = false;
        for (int m = 0; m < ncoords(x); ++m) {
            const double saved = z[x.coord + m], saved_res = res[at + m];
            z[x.coord + m] = draw_conditional(rng, p, q, res, at + m, base[x.coord + m], -INF, INF);
            const double old = *value, now = read_back(x, th, z);
            if (now == old && x.type != Normal) continue;
            if (!known) { current = loglik(); known = true; }
            *value = now;
            const double proposed = loglik();
            if (std::log(rng.uniform()) < proposed - current) { current = proposed; continue; }
            *value = old;
            z[x.coord + m] = saved;
            res[at + m] = saved_res;
        }
    }

    void smc_level1(long i, int j, std::size_t k, double *z, const double *base, double *res,
                    const Vec &Pe) {
        const Resp &x = s.r1[k];
        double *v1 = &V1[i * s.r1.size()];
        const double *v2 = &V2[std::size_t(j) * s.r2.size()];
        smc_coordinates(x, th1(k), z, base, Pe.data(), Q1, res, x.coord, &v1[x.col],
                        [&] { return smc->row_loglik(i, j, v1, v2); });
    }

    void smc_level2(int j, std::size_t k, const double *base, double *res, const Vec &Pu) {
        const Resp &x = s.r2[k];
        double *v2 = &V2[std::size_t(j) * s.r2.size()];
        smc_coordinates(x, th2(k), &W[std::size_t(j) * Q2], base, Pu.data(), Q, res, Q1 + x.coord,
                        &v2[x.col], [&] { return smc->unit_loglik(j, V1.data(), v2); });
    }

    // 7. Covariance matrices from their sufficient statistics.
    void draw_covariances(bool adapt) {
        Vec Se(Q1 * Q1, 0.0), Su(Q * Q, 0.0), r(std::max(Q, 1));
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
                for (int c = 0; c < Q1; ++c) r[c] = Z[i * Q1 + c] - mu1[i * Q1 + c] - (s.two_level ? U[j * Q1 + c] : 0.0);
                for (int c = 0; c < Q1; ++c)
                    for (int d = 0; d <= c; ++d) Se[c * Q1 + d] += r[c] * r[d];
            }
        for (int c = 0; c < Q1; ++c) for (int d = 0; d < c; ++d) Se[d * Q1 + c] = Se[c * Q1 + d];
        Oe.update(rng, Se, double(n), adapt);
        if (!s.two_level) return;
        for (int j = 0; j < J; ++j) {
            for (int c = 0; c < Q1; ++c) r[c] = U[j * Q1 + c];
            for (int c = 0; c < Q2; ++c) r[Q1 + c] = W[j * Q2 + c] - mu2[j * Q2 + c];
            for (int c = 0; c < Q; ++c)
                for (int d = 0; d < Q; ++d) Su[c * Q + d] += r[c] * r[d];
        }
        Ou.update(rng, Su, double(J), adapt);
    }

    // 8. Ordered thresholds by Cowles (1996), Statistics and Computing 6,
    // 101-111: propose all free thresholds from truncated normals, accept
    // with the latent integrated out, then redraw the latents inside their
    // new intervals.  Level-1 responses only use row-wise conditionals.
    // Under SMC a missing value's category is the model of interest's data
    // too: moving the thresholds under its latent would change the category
    // without the model of interest's likelihood ratio.  So the move is made
    // given the imputed categories, each treated as observed, which leaves
    // the model of interest's term unchanged (without SMC a missing value's
    // latent is free and its category only read from it, so it is left out).
    // Found by the Ordered scenarios of bench/coverage.py (docs/validation.md).
    void draw_thresholds(bool adapt) {
        const Vec Pe = precision(Oe.omega, Q1);
        for (std::size_t k = 0; k < s.r1.size(); ++k)
            if (s.r1[k].type == Ordered && s.r1[k].ncat > 2) cowles_level1(k, Pe, adapt);
        for (std::size_t k = 0; k < s.r2.size(); ++k)
            if (s.r2[k].type == Ordered && s.r2[k].ncat > 2) cowles_level2(k, adapt);
    }

    // sum over l != c of (Omega_e^-1)_cl r_il, row i's residuals r = z - X beta
    // (- u_j at two levels): z_ic's conditional mean given the row's other
    // coordinates is X_i beta_c (+ u_jc) minus this over (Omega_e^-1)_cc.
    double others(const Vec &Pe, long i, int j, int c) const {
        double m = 0.0;
        for (int l = 0; l < Q1; ++l)
            if (l != c) m += Pe[c * Q1 + l] * (Z[i * Q1 + l] - mu1[i * Q1 + l] - (s.two_level ? U[j * Q1 + l] : 0.0));
        return m;
    }

    void cowles_level1(std::size_t k, const Vec &Pe, bool adapt) {
        const Resp &x = s.r1[k];
        const std::size_t R1 = s.r1.size();
        const int kc = x.coord;
        const double pk = Pe[kc * Q1 + kc], csd = 1.0 / std::sqrt(pk);
        cowles(rng, thresholds[k], threshold_tuners[k], x.ncat, adapt, [&](auto f) {
            for (int j = 0; j < J; ++j)
                for (long i = start[j]; i < start[j + 1]; ++i) {
                    double y = Y1[i * R1 + x.col];
                    if (std::isnan(y)) {
                        if (!smc) continue;  // a free latent: the thresholds do not bear on it
                        y = V1[i * R1 + x.col];  // SMC: held at its imputed category (see below)
                    }
                    const double mean = mu1[i * Q1 + kc] + (s.two_level ? U[j * Q1 + kc] : 0.0)
                                        - others(Pe, i, j, kc) / pk;
                    f(y, mean, csd, &Z[i * Q1 + kc]);
                }
        });
    }

    // ---------------------------------------------------------------- sweep
    void sweep(bool adapt) {
        draw_level1();
        draw_beta();
        if (s.two_level) {
            draw_u();
            draw_level2();
            draw_gamma();
            if (s.expansion) expand_random_effects(adapt);
        }
        draw_covariances(adapt);
        draw_thresholds(adapt);
        if (smc) smc->update(rng, V1.data(), V2.data());
    }

    static bool free_element(const CovarianceSampler &o, int c, int d) {
        return c == d ? !o.fixed[c] : !o.fixed_pair[c * o.q + d];
    }

    // Parameters in recording order: beta, gamma, free elements of Omega_e
    // and Omega_u (upper triangle by rows), free thresholds.
    int nrecorded() const {
        int k = K1 + K2;
        for (int c = 0; c < Q1; ++c) for (int d = c; d < Q1; ++d) k += free_element(Oe, c, d);
        if (s.two_level)
            for (int c = 0; c < Q; ++c) for (int d = c; d < Q; ++d) k += free_element(Ou, c, d);
        for (const Vec &th : thresholds) k += th.empty() ? 0 : int(th.size()) - 1;
        return k + (smc ? smc->nrecorded() : 0);
    }

    void record(double *row) const {
        int k = 0;
        for (int a = 0; a < K1; ++a) row[k++] = beta[a];
        for (int a = 0; a < K2; ++a) row[k++] = gamma[a];
        for (int c = 0; c < Q1; ++c) for (int d = c; d < Q1; ++d) if (free_element(Oe, c, d)) row[k++] = Oe.omega[c * Q1 + d];
        if (s.two_level)
            for (int c = 0; c < Q; ++c) for (int d = c; d < Q; ++d) if (free_element(Ou, c, d)) row[k++] = Ou.omega[c * Q + d];
        for (const Vec &th : thresholds)
            for (std::size_t c = 1; c < th.size(); ++c) row[k++] = th[c];
        if (smc) smc->record(row + k);
    }

    // Every response's value, observed or read back from its latents:
    // level 1 into v1 (n x R1), level 2 into v2 (J x R2).
    void current_values(double *v1, double *v2) const {
        const std::size_t R1 = s.r1.size(), R2 = s.r2.size();
        for (long i = 0; i < n; ++i)
            for (std::size_t k = 0; k < R1; ++k) {
                const double y = Y1[i * R1 + s.r1[k].col];
                v1[i * R1 + s.r1[k].col] = std::isnan(y) ? read_back(s.r1[k], th1(k), &Z[i * Q1]) : y;
            }
        for (int j = 0; j < J; ++j)
            for (std::size_t k = 0; k < R2; ++k) {
                const double y = Y2[j * R2 + s.r2[k].col];
                v2[j * R2 + s.r2[k].col] = std::isnan(y) ? read_back(s.r2[k], th2(k), &W[j * Q2]) : y;
            }
    }

    // The completed data: level-1 values (n x R1) then level-2 values (J x R2);
    // observed cells are copied through unchanged.
    long completed(double *out, long nout) const {
        const std::size_t R1 = s.r1.size(), R2 = s.r2.size();
        const long need = long(n * R1 + J * R2) + (smc ? n : 0);
        if (nout < need) throw std::runtime_error("output buffer too small for the completed data");
        current_values(out, out + n * R1);
        double *o2 = out + n * R1;
        if (smc)  // the outcome of the model of interest, after the responses
            for (long i = 0; i < n; ++i) o2[J * R2 + i] = smc->y[i];
        return need;
    }
};

}  // namespace impute
}  // namespace statjr

#include "statjr/impute_level2.hpp"
