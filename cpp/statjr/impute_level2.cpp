// The level-2 steps of the joint imputation model (statjr/impute.hpp): the
// random effects u_j, the level-2 latents w_j and their coefficients gamma,
// the moves on each random-effect column (parameter expansion, step 6) and
// the thresholds of level-2 Ordered responses.
//
// Level 2, unit j:  (u_j, v_j) ~ N(0, Omega_u),  w_j = X2_j gamma + v_j,
// with u_j the level-1 responses' random effects (Q1 coordinates) and v_j
// the level-2 responses' residuals (Q2).  Each step reads the state only
// (Omega_u, U, W, mu2, ...) and keeps its scratch to itself.
//
// Declared in statjr/impute.hpp; compiled once into the kernel library
// (statjr_py/kernel.py) with statjr/impute.cpp.
#include <cmath>
#include <vector>
#include "statjr/impute.hpp"
#include "statjr/dims.hpp"

namespace statjr {
namespace impute {

// Partition of Omega_u: m = Omega_uv Omega_vv^-1 (Q1 x Q2) and
// C^-1 = (Omega_uu - m Omega_vu)^-1 (Q1 x Q1): the prior of u_j given v_j.
Model::UPrior Model::prior_of_u() const {
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
void Model::prior_mean_u(const UPrior &p, int j, Vec &m0) const {
    for (int c = 0; c < Q1; ++c) {
        double v = 0.0;
        for (int d = 0; d < Q2; ++d) v += p.m[c * Q2 + d] * (W[j * Q2 + d] - mu2[j * Q2 + d]);
        m0[c] = v;
    }
}

// 3. u_j given v_j and the unit's rows, Gibbs: normal with precision
// C^-1 + n_j Omega_e^-1 and linear term C^-1 m0_j + Omega_e^-1 sum_i (z_ij - X_ij beta).
void Model::draw_u() {
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
void Model::draw_level2() {
    if (Q2 == 0) return;
    const Vec Pu = precision(Ou.omega, Q);
    const Precision P(Pu, Q);
    const std::size_t R2 = s.r2.size();
    Vec res(Q), base(Q2);
    for (int j = 0; j < J; ++j) {
        for (int c = 0; c < Q1; ++c) res[c] = U[j * Q1 + c];
        for (int c = 0; c < Q2; ++c) { base[c] = mu2[j * Q2 + c]; res[Q1 + c] = W[j * Q2 + c] - base[c]; }
        for (std::size_t k = 0; k < R2; ++k) {
            const Resp &x = s.r2[k];
            const double y = Y2[j * R2 + x.col];
            if (smc && std::isnan(y)) {
                smc_level2(j, k, base.data(), res.data(), P);
                continue;
            }
            draw_response(rng, x, th2(k), y, &W[j * Q2], base.data(), P, Q, res.data(), Q1 + x.coord);
        }
    }
}

// 5. gamma, Gibbs: w_j - N u_j = X2_j gamma + eps, eps ~ N(0, Omega_v|u),
// with N = Omega_vu Omega_uu^-1 and Omega_v|u = Omega_vv - N Omega_uv.
void Model::draw_gamma() {
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
void Model::gls_gamma(const Vec &p2, const Vec &nmat, bool draw) {
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
    for (int c = 0; c < Q2; ++c) refresh_mu2(c);
}

// mu2 = X2 gamma for level-2 coordinate c, every unit.
void Model::refresh_mu2(int c) {
    for (int j = 0; j < J; ++j) {
        double v = 0.0;
        for (int a = off2[c]; a < off2[c + 1]; ++a) v += X2[std::size_t(j) * K2 + a] * gamma[a];
        mu2[j * Q2 + c] = v;
    }
}

// 8 (level 2). Thresholds of a level-2 Ordered response by Cowles' step,
// each latent's conditional given the unit's other coordinates under Omega_u.
void Model::cowles_level2(std::size_t k, bool adapt) {
    const Resp &x = s.r2[k];
    const std::size_t R2 = s.r2.size();
    const int kc = Q1 + x.coord;
    const Vec Pu = precision(Ou.omega, Q);
    const double pk = Pu[kc * Q + kc], csd = 1.0 / std::sqrt(pk);
    cowles(rng, thresholds[s.r1.size() + k], threshold_tuners[s.r1.size() + k], x.ncat, adapt, [&](auto f) {
        for (int j = 0; j < J; ++j) {
            double y = Y2[j * R2 + x.col];
            if (std::isnan(y)) {
                if (!smc) continue;
                y = V2[std::size_t(j) * R2 + x.col];  // SMC: held at its imputed category (cowles_level1)
            }
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

// ------------------------------------------------------------------------
// 6. Moves on the random-effect column u_.c of each coordinate c of a
// categorical level-1 response (Binary, Ordered, Unordered).
//
// Gibbs alone mixes slowly when many units' u_jc are held by the prior
// rather than the data (a Binary response that is all 0 or all 1 within a
// unit): u_jc is drawn given the unit's latents z_ic, which follow it within
// about 1/sqrt(n_j), and Omega_u given u, so all of them move by small
// steps.  Each move leaves the posterior invariant (docs/imputation.md,
// "Step 6", derives them).  a and b condition on the other coordinates'
// latents z_.-c with z_.c integrated out, and z_.c is redrawn from its
// conditional straight after them (a partially collapsed update):
//  a. per unit, (u_jc, v_jL) (L: the level-2 coordinates of categorical
//     responses) proposed from their prior given the rest of (u_j, v_j) and
//     accepted with the unit's likelihood ratio;
//  b. the scale move of parameter expansion: u_.c -> g u_.c and
//     Omega_u -> D Omega_u D, D = diag(1, .., g, .., 1), Metropolis on
//     log g with the ratio lik(g u_.c) / lik(u_.c) times g^(Q+1);
// and then, for every coordinate c with an intercept (Normal ones too),
//  c. a shift of all units' (u_j, v_j) along column c of Omega_u against the
//     intercepts, which leaves X beta + u and w unchanged; drawn exactly.
// Omega_e is not touched (coordinates with fixed unit variance included).

// The constant covariate of each coordinate (its intercept: an index into
// beta for level-1 coordinates, into gamma for level-2 ones, or -1), and a
// proposal scale per level-1 coordinate for the scale move.
void Model::init_expansion() {
    intercept.assign(Q, -1);
    scale_tuners.assign(Q1, Tuner(0.1, 0.44));
    col.a.assign(n, 0.0); col.lo.assign(n, 0.0); col.hi.assign(n, 0.0); col.kind.assign(n, 0);
    cur.assign(J, 0.0); prop.assign(J, 0.0);
    auto constant = [](const double *x, long rows, int k, int a) {
        for (long i = 0; i < rows; ++i) if (x[i * k + a] != 1.0) return false;
        return true;
    };
    for (int c = 0; c < Q1; ++c)
        for (int a = off1[c]; a < off1[c + 1] && intercept[c] < 0; ++a)
            if (constant(X1, n, K1, a)) intercept[c] = a;
    for (int c = 0; c < Q2; ++c)
        for (int a = off2[c]; a < off2[c + 1] && intercept[Q1 + c] < 0; ++a)
            if (constant(X2, J, K2, a)) intercept[Q1 + c] = a;
}

// z_ic given the row's other coordinates is N(a_i + u_jc, sd^2), with sd^2 =
// 1/P_cc and a_i = X_i beta_c - sum_{l != c} P_cl r_il / P_cc (P = Omega_e^-1,
// r = z - X beta - u), restricted to what the observed value allows:
// Binary, the side of 0; Ordered, the category's thresholds; Unordered, the
// bounds the response's other coordinates set (as draw_response does).
// Observed Normal values are held; so are missing values under SMC, where
// the model of interest depends on them.  Also sets cur, each unit's log
// lik_j at its current u_jc.
void Model::collapse(int c) {
    col.c = c;
    std::fill(col.lo.begin(), col.lo.end(), -INF);
    std::fill(col.hi.begin(), col.hi.end(), INF);
    std::fill(col.kind.begin(), col.kind.end(), char(0));
    const Vec Pe = precision(Oe.omega, Q1);
    const double pcc = Pe[c * Q1 + c];
    col.sd = 1.0 / std::sqrt(pcc);
    std::size_t k = 0;
    while (!(s.r1[k].coord <= c && c < s.r1[k].coord + ncoords(s.r1[k]))) ++k;
    const Resp &x = s.r1[k];
    const std::size_t R1 = s.r1.size();
    with_dim(Q1, [&](auto D) {  // E[z_ic | the row's others] - u_jc
        const int q = dim(D, Q1);
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i)
                col.a[i] = mu1[i * q + c] - others(Pe, i, j, c, D) / pcc;
    });
    for (int j = 0; j < J; ++j)
        for (long i = start[j]; i < start[j + 1]; ++i) {
            const double y = Y1[i * R1 + x.col];
            if (std::isnan(y)) {
                if (smc) col.kind[i] = 2;
                continue;
            }
            col.kind[i] = x.type == Normal ? 2 : 1;
            if (x.type == Normal) continue;
            const Interval b = latent_interval(x, th1(k), y, &Z[i * Q1], c - x.coord);
            col.lo[i] = b.lo; col.hi[i] = b.hi;
        }
    for (int j = 0; j < J; ++j) cur[j] = unit_loglik(j, U[j * Q1 + c], -INF);
}

// log p(unit j's observed values of coordinate c | u_jc = ujc, the rest),
// up to a constant: the probability of each interval, the density of each
// held value.  Every term is at most 0, so the partial sum only falls: once
// it is below `floor` the proposal being scored is already rejected, and
// -INF is returned without scoring the unit's remaining rows.  Interval
// probabilities are multiplied and their log taken once the product falls
// below 1e-20 (a probability below 1e-280 is logged alone, so the product
// never underflows), which saves a log per row.
double Model::unit_loglik(int j, double ujc, double floor) const {
    constexpr double fold = 1e-20, tiny = 1e-280;
    const double r2 = 1.0 / (col.sd * std::sqrt(2.0));
    double out = 0.0, prod = 1.0;
    for (long i = start[j]; i < start[j + 1]; ++i) {
        if (col.kind[i] == 0) continue;
        const double mean = col.a[i] + ujc;
        if (col.kind[i] == 1) {  // Phi(hi) - Phi(lo), from the side that keeps its digits
            // Phi(x) = erfc(-x / sqrt 2) / 2; a one-sided interval (every Binary
            // row, Ordered's end categories) needs one erfc, not two
            const double lo = (col.lo[i] - mean) * r2, hi = (col.hi[i] - mean) * r2;
            const double p = col.hi[i] == INF ? 0.5 * std::erfc(lo)
                           : col.lo[i] == -INF ? 0.5 * std::erfc(-hi)
                           : lo > 0 ? 0.5 * (std::erfc(lo) - std::erfc(hi))
                                    : 0.5 * (std::erfc(-hi) - std::erfc(-lo));
            if (p < tiny) { out += std::log(p); if (out < floor) return -INF; continue; }
            prod *= p;
            if (prod < fold) {
                out += std::log(prod);
                prod = 1.0;
                if (out < floor) return -INF;
            }
        } else {
            const double e = (Z[i * Q1 + col.c] - mean) / col.sd;
            out -= 0.5 * e * e;
        }
    }
    out += std::log(prod);
    return out < floor ? -INF : out;
}

// z_ic for every row not held, from N(a_i + u_jc, sd^2) in its interval.
void Model::redraw_collapsed() {
    const double inv_sd = 1.0 / col.sd;
    for (int j = 0; j < J; ++j)
        for (long i = start[j]; i < start[j + 1]; ++i) {
            if (col.kind[i] == 2) continue;
            const double mean = col.a[i] + U[j * Q1 + col.c];
            Z[i * Q1 + col.c] = col.kind[i] == 0 ? mean + col.sd * rng.normal()
                                                 : truncated_normal(rng, mean, col.sd, inv_sd, col.lo[i], col.hi[i]);
        }
}

// 6c. A shift of every unit's (u_j, v_j) by d e, e = Omega_u[., c] / Omega_cc
// (the direction in which the prior moves the other coordinates with
// coordinate c), on the coordinates that have an intercept (0 elsewhere),
// paid for by those intercepts: beta_l (level 1) or gamma_l (level 2) minus
// d e_l.  X beta + u and the level-2 latents w are unchanged, so only the
// prior of (u_j, v_j) varies along the move, and with P = Omega_u^-1
//   d | rest ~ N(-sum_j e'P r_j / (J e'Pe), 1 / (J e'Pe)),  r_j = (u_j, v_j):
// an exact draw (a translation: Jacobian 1).  With every coordinate
// shifted, e'Pe = 1/Omega_cc and the mean is -mean_j(u_jc).
void Model::shift_intercepts(int c) {
    const Vec &o = Ou.omega;
    const Vec Pu = precision(o, Q);
    Vec e(Q, 0.0), pe(Q, 0.0);
    for (int l = 0; l < Q; ++l) if (intercept[l] >= 0) e[l] = o[l * Q + c] / o[c * Q + c];
    double q = 0.0;
    for (int l = 0; l < Q; ++l) {
        for (int m = 0; m < Q; ++m) pe[l] += Pu[l * Q + m] * e[m];
        q += e[l] * pe[l];
    }
    double lin = 0.0;
    for (int j = 0; j < J; ++j) {
        for (int l = 0; l < Q1; ++l) lin += pe[l] * U[j * Q1 + l];
        for (int l = 0; l < Q2; ++l) lin += pe[Q1 + l] * (W[j * Q2 + l] - mu2[j * Q2 + l]);
    }
    const double prec = J * q;
    const double d = -lin / prec + rng.normal() / std::sqrt(prec);
    for (int l = 0; l < Q1; ++l) {
        if (e[l] == 0.0) continue;
        for (int j = 0; j < J; ++j) U[j * Q1 + l] += d * e[l];
        beta[intercept[l]] -= d * e[l];  // mu1 = X beta is brought up to date by the caller
    }
    for (int l = 0; l < Q2; ++l) {
        if (e[Q1 + l] == 0.0) continue;
        gamma[intercept[Q1 + l]] -= d * e[Q1 + l];  // v = w - X2 gamma gains d e
        refresh_mu2(l);
    }
}

// 6a. Per unit j, (u_jc, v_jL) given the rest of (u_j, v_j) and z_.-c, with
// z_.c integrated out; L are the level-2 coordinates of categorical
// responses, whose latents w_jL follow u_jc as z_.c does.  Proposed from
// their prior given the rest of (u_j, v_j) under Omega_u (an independence
// proposal), so the acceptance ratio is the unit's likelihood ratio: of its
// observed values of coordinate c (unit_loglik) times whether the proposed
// w_jL lie in the regions of the unit's observed categories (0 or 1).  Under
// SMC a unit with a missing level-2 category is left alone (its value is the
// model of interest's too).
void Model::unit_moves() {
    const int c = col.c;
    std::vector<int> S{c};
    for (const Resp &x : s.r2)
        if (x.type != Normal)
            for (int m = 0; m < ncoords(x); ++m) S.push_back(Q1 + x.coord + m);
    const int ns = int(S.size());
    std::vector<char> in(Q, 0);
    for (int k : S) in[k] = 1;
    const Vec Pu = precision(Ou.omega, Q);
    Vec chol(ns * ns), b(ns), r(Q), w(std::max(Q2, 1));
    for (int a = 0; a < ns; ++a)
        for (int e = 0; e < ns; ++e) chol[a * ns + e] = Pu[S[a] * Q + S[e]];
    cholesky_or_throw(chol.data(), ns, "the random effects' conditional precision");
    const std::size_t R2 = s.r2.size();
    for (int j = 0; j < J; ++j) {
        bool held = false;
        for (std::size_t k = 0; k < R2; ++k)
            held = held || (smc && s.r2[k].type != Normal && std::isnan(Y2[j * R2 + s.r2[k].col]));
        if (held) continue;
        for (int l = 0; l < Q1; ++l) r[l] = U[j * Q1 + l];
        for (int l = 0; l < Q2; ++l) r[Q1 + l] = W[j * Q2 + l] - mu2[j * Q2 + l];
        // x_S ~ N(A^-1 b, A^-1), A = P_SS, b = -P_S,rest r_rest: x = L^-T (L^-1 b + z)
        for (int a = 0; a < ns; ++a) {
            double v = 0.0;
            for (int l = 0; l < Q; ++l) if (!in[l]) v -= Pu[S[a] * Q + l] * r[l];
            b[a] = v;
        }
        forward_solve(chol.data(), ns, b.data());
        for (int a = 0; a < ns; ++a) b[a] += rng.normal();
        backward_solve_t(chol.data(), ns, b.data());
        bool inside = true;
        for (int l = 0; l < Q2; ++l) w[l] = W[j * Q2 + l];
        for (int a = 1; a < ns; ++a) w[S[a] - Q1] = mu2[j * Q2 + S[a] - Q1] + b[a];
        for (std::size_t k = 0; k < R2 && inside; ++k) {
            const double y = Y2[j * R2 + s.r2[k].col];
            if (s.r2[k].type != Normal && !std::isnan(y)) inside = read_back(s.r2[k], th2(k), w.data()) == y;
        }
        if (!inside) continue;
        const double floor = std::log(rng.uniform()) + cur[j];  // accept when the proposal's log lik exceeds it
        const double now = unit_loglik(j, b[0], floor);
        if (now > floor) {
            U[j * Q1 + c] = b[0];
            for (int a = 1; a < ns; ++a) W[j * Q2 + S[a] - Q1] = w[S[a] - Q1];
            cur[j] = now;
        }
    }
}

// 6b. The scale move of parameter expansion on coordinate c (Liu & Wu 1999,
// JASA 94, 1264-1274; van Dyk & Meng 2001, JCGS 10, 1-50):
//   u_.c -> g u_.c,  Omega_u -> D Omega_u D,  D = diag(1, .., g, .., 1),
// log g ~ N(0, sd^2), the sd tuned while adapting.  The target, with z_.c
// integrated out and a flat prior on Omega_u's free elements, is
// prod_j N((u_j, v_j); 0, Omega_u) lik_j(u_jc).  Each unit's quadratic form
// is unchanged (D^-1 r_j' = r_j) and its |Omega_u|^(-1/2) gains 1/g; the
// map's Jacobian is g^J on u_.c and g^2 g^(Q-1) on Omega_u's free elements
// (Omega_cc and the Q - 1 covariances in row c, all free: a fixed
// covariance joins two fixed variances), and the map with 1/g undoes it.
// The proposal being symmetric in log g, log alpha =
// sum_j [log lik_j(g u_jc) - log lik_j(u_jc)] + (Q + 1) log g.
void Model::scale_move(bool adapt) {
    const int c = col.c;
    Tuner &t = scale_tuners[c];
    const double eps = t.sd * rng.normal(), g = std::exp(eps);
    // Accept when sum_j prop_j > log(uniform) - (Q + 1) eps + sum_j cur_j.  Each
    // prop_j is at most 0, so scoring stops once the partial sum is below that.
    double floor = std::log(rng.uniform()) - (Q + 1) * eps, sum = 0.0;
    for (int j = 0; j < J; ++j) floor += cur[j];
    bool ok = true;
    for (int j = 0; j < J && ok; ++j) {
        prop[j] = unit_loglik(j, g * U[j * Q1 + c], floor - sum);
        sum += prop[j];
        ok = sum > floor;
    }
    if (ok) {
        for (int j = 0; j < J; ++j) U[j * Q1 + c] *= g;
        for (int d = 0; d < Q; ++d) {
            Ou.omega[c * Q + d] *= g;
            Ou.omega[d * Q + c] *= g;  // the diagonal twice: g^2
        }
        cur.swap(prop);
    }
    t.note(ok, adapt);
}

// 6. The moves on each categorical coordinate's column, then the shifts.
void Model::expand_random_effects(bool adapt) {
    for (const Resp &x : s.r1) {
        if (x.type == Normal) continue;  // u_jc of a Normal response: held by its data
        for (int c = x.coord; c < x.coord + ncoords(x); ++c) {
            collapse(c);                              // col, and cur at the current u_.c
            unit_moves();                             // 6a.
            if (!Ou.fixed[c]) scale_move(adapt);      // 6b., when row c of Omega_u is free
            redraw_collapsed();  // z_.c | everything, after the moves that integrated it out
        }
    }
    // 6c. The shifts, exact, along each coordinate's column of Omega_u.
    Vec before(Q1, 0.0);
    for (int l = 0; l < Q1; ++l) if (intercept[l] >= 0) before[l] = beta[intercept[l]];
    for (int c = 0; c < Q; ++c)
        if (intercept[c] >= 0) shift_intercepts(c);
    // mu1 = X beta after the intercepts moved: their covariate is 1 in every
    // row, so each row's mean moves by its coordinate's change in intercept.
    for (int l = 0; l < Q1; ++l) {
        if (intercept[l] < 0) continue;
        const double delta = beta[intercept[l]] - before[l];
        if (delta != 0.0)
            for (long i = 0; i < n; ++i) mu1[i * Q1 + l] += delta;
    }
}

}  // namespace impute
}  // namespace statjr
