// Random coefficients of a two-level GLM (Binomial or Poisson response):
//
//   y_ij ~ D(g^-1(eta_ij)),  eta_ij = base_ij + z_ij' u_j,  u_j ~ N_q(0, Omega),
//
// base holding everything else in the linear predictor (offset, x_ij' beta).
// Rows are sorted by unit (unit j owns rows start[j] .. start[j+1]-1).
//
// u_j: one multivariate random-walk Metropolis step per unit.  The proposal
// is u_j + s_j L_j e, e ~ N_q(0, I), with L_j L_j' the inverse of the unit's
// posterior precision at the current state, Omega^-1 + sum_i w_ij z_ij z_ij'
// (w the expected information about eta; glm::weight), so the proposal has
// the conditional posterior's shape.  The shapes are refreshed from the
// current state every 100 iterations of burn-in and then frozen, and s_j is
// tuned in burn-in towards 44% acceptance for q = 1, 35% for q = 2 and 30%
// beyond (Gelman, Roberts & Gilks 1996, Bayesian Statistics 5, 599-607;
// Roberts & Rosenthal 2001, Statistical Science 16, 351-367); after burn-in
// the step is an ordinary Metropolis step.
//
// Omega: the exact inverse-Wishart Gibbs draw under the flat prior of the
// Normal templates (statjr/twolevel.hpp, draw_flat_covariance).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>
#include "statjr/glm.hpp"
#include "statjr/linalg.hpp"
#include "statjr/mh.hpp"

namespace statjr {

template <glm::Link L>
struct GlmRandomCoefficients {
    static constexpr int batch = 100;  // iterations between shape refreshes (Tuner's batch)
    int q = 0, J = 0;
    const double *y = nullptr, *m = nullptr, *Z = nullptr;
    const std::int32_t *start = nullptr;
    Vec u, omega, omega_inv;
    Vec ll;                     // per row, the log-likelihood kernel at the current state
    Vec llp;                    // per row, the same at a proposal
    Vec shape;                  // per unit, q x q lower Cholesky factor of the proposal's shape
    std::vector<Tuner> tuners;  // per unit, the scale s_j
    bool shaped = false;
    long adapt_iterations = 0;
    Vec prop, eps, info, work, col;  // scratch of update()

    void init(const double *y_, const double *m_, const double *Z_, const std::int32_t *start_,
              int J_, int q_) {
        y = y_; m = m_; Z = Z_; start = start_; J = J_; q = q_;
        u.assign(std::size_t(J) * q, 0.0);
        ll.assign(start[J], 0.0);
        llp.assign(start[J], 0.0);
        omega.assign(q * q, 0.0);
        for (int a = 0; a < q; ++a) omega[a * q + a] = 0.1;
        refresh_omega_inv();
        shape.assign(std::size_t(J) * q * q, 0.0);
        const double target = q == 1 ? 0.44 : q == 2 ? 0.35 : 0.30;
        tuners.assign(J, Tuner(2.38 / std::sqrt(double(q)), target));
        prop.assign(q, 0.0); eps.assign(q, 0.0); info.assign(q * q, 0.0); work.assign(q * q, 0.0);
        col.assign(q, 0.0);
    }

    void refresh_omega_inv() {
        Vec l = omega;
        cholesky_or_throw(l.data(), q, "the level-2 covariance matrix");
        omega_inv.assign(q * q, 0.0);
        chol_inverse(l.data(), q, omega_inv.data());
    }

    double zu(long i, const double *uj) const {
        const double *z = Z + i * q;
        double s = 0.0;
        for (int a = 0; a < q; ++a) s += z[a] * uj[a];
        return s;
    }

    // The proposal shapes: for each unit, the Cholesky factor of
    // (Omega^-1 + sum_i w_ij z_ij z_ij')^-1 at the current state.
    void refresh_shapes(const double *base) {
        for (int j = 0; j < J; ++j) {
            const double *uj = &u[std::size_t(j) * q];
            info = omega_inv;
            for (long i = start[j]; i < start[j + 1]; ++i) {
                const double w = glm::weight<L>(m[i], base[i] + zu(i, uj));
                const double *z = Z + i * q;
                for (int a = 0; a < q; ++a)
                    for (int b = 0; b < q; ++b) info[a * q + b] += w * z[a] * z[b];
            }
            double *lj = &shape[std::size_t(j) * q * q];
            bool ok = cholesky(info.data(), q);
            if (ok) {
                chol_inverse(info.data(), q, work.data());
                ok = cholesky(work.data(), q);
            }
            for (int a = 0; a < q * q; ++a) lj[a] = ok ? work[a] : 0.0;
            if (!ok)
                for (int a = 0; a < q; ++a) lj[a * q + a] = std::sqrt(omega[a * q + a]);
        }
        shaped = true;
    }

    // One Metropolis step for every u_j given base, against its conditional
    // posterior: the likelihood of the unit's rows times the N(0, Omega) prior.
    // Leaves ll at the new state, for the moves that follow with the same base.
    void update(Rng &rng, const double *base, bool adapt) {
        if (!shaped || (adapt && adapt_iterations % batch == 0)) refresh_shapes(base);
        if (adapt) ++adapt_iterations;
        for (int j = 0; j < J; ++j) {
            double *uj = &u[std::size_t(j) * q];
            const double *lj = &shape[std::size_t(j) * q * q];
            for (int a = 0; a < q; ++a) eps[a] = rng.normal();
            for (int a = 0; a < q; ++a) {
                double s = 0.0;
                for (int b = 0; b <= a; ++b) s += lj[a * q + b] * eps[b];
                prop[a] = uj[a] + tuners[j].sd * s;
            }
            // log prior ratio: -(prop' Omega^-1 prop - u' Omega^-1 u) / 2
            double diff = 0.0;
            for (int a = 0; a < q; ++a)
                for (int b = 0; b < q; ++b)
                    diff -= 0.5 * omega_inv[a * q + b] * (prop[a] * prop[b] - uj[a] * uj[b]);
            for (long i = start[j]; i < start[j + 1]; ++i) {
                llp[i] = glm::loglik<L>(y[i], m[i], base[i] + zu(i, prop.data()));
                ll[i] = glm::loglik<L>(y[i], m[i], base[i] + zu(i, uj));
                diff += llp[i] - ll[i];
            }
            const bool ok = std::log(rng.uniform()) < diff;
            if (ok) {
                for (int a = 0; a < q; ++a) uj[a] = prop[a];
                for (long i = start[j]; i < start[j + 1]; ++i) ll[i] = llp[i];
            }
            tuners[j].note(ok, adapt);
        }
    }
};

// Scale moves: for each coordinate c of the random effects, u_jc -> a u_jc
// for every unit and Omega's row and column c scaled by a (Omega_cc by
// a^2), log a ~ N(0, s_c^2) with s_c tuned in burn-in towards 44%.  It is a
// Metropolis step along a group of transformations (Liu & Sabatti 2000;
// the parameter-expansion idea of Liu, Rubin & Wu 1998, Biometrika 85,
// 755-770): with the flat prior on Omega the prior density of the u_j falls
// by a^-J and the transformation's Jacobian is a^(J + q + 1), so the
// acceptance ratio is the likelihood ratio times a^(q + 1) (times the change
// in the prior's exp(-tr(psi I Omega^-1) / 2), which its tiny psi makes
// negligible but which is kept, so that the step is exact).  A variance near
// zero otherwise moves only as fast as all J coefficients drift together
// (the slope variance's ESS was about 1% of the draws without it, 5% with).
template <glm::Link L>
struct ScaleMoves {
    std::vector<Tuner> tuners;
    double psi = 0.0;  // the prior's scale matrix is psi I

    void init(int q, double psi_) {
        tuners.assign(q, Tuner(0.1, 0.44));
        psi = psi_;
    }

    // base_i: everything in eta but z_ij'u_j, as in the re.update just made
    // (so re.ll holds the current state's log-likelihood; kept so).
    void update(Rng &rng, const double *base, GlmRandomCoefficients<L> &re, bool adapt) {
        const int q = re.q;
        for (int c = 0; c < q; ++c) {
            const double la = tuners[c].sd * rng.normal(), a = std::exp(la);
            // (Omega^-1)_cc becomes (Omega^-1)_cc / a^2
            double diff = (q + 1) * la - 0.5 * psi * re.omega_inv[c * q + c] * (1.0 / (a * a) - 1.0);
            for (int j = 0; j < re.J; ++j) {
                const double *uj = &re.u[std::size_t(j) * q];
                for (long i = re.start[j]; i < re.start[j + 1]; ++i) {
                    const double next = base[i] + re.zu(i, uj) + (a - 1.0) * re.Z[i * q + c] * uj[c];
                    re.llp[i] = glm::loglik<L>(re.y[i], re.m[i], next);
                    diff += re.llp[i] - re.ll[i];
                }
            }
            const bool ok = std::log(rng.uniform()) < diff;
            if (ok) {
                re.ll.swap(re.llp);
                for (int j = 0; j < re.J; ++j) re.u[std::size_t(j) * q + c] *= a;
                for (int b = 0; b < q; ++b) {
                    re.omega[c * q + b] *= a;
                    re.omega[b * q + c] *= a;
                }
                re.refresh_omega_inv();
            }
            tuners[c].note(ok, adapt);
        }
    }
};

// Recentring along a column that x and z share (cons, standlrt, ...): moving
// beta_a by +delta and every u_j's matching coordinate by -delta leaves every
// linear predictor, so the likelihood, unchanged; only the prior of the u_j
// changes.  Drawing delta from its conditional,
//     p(delta | rest) ~ prod_j N(u_j - F delta; 0, Omega)
//                     = N(P^-1 h, P^-1),  P = J F'Omega^-1 F,  h = F'Omega^-1 sum_j u_j
// (F: the shared coordinates' columns of the q x q identity), is a Gibbs
// step along a group of translations with unit Jacobian (Liu & Sabatti 2000,
// Biometrika 87, 353-369), so it leaves the posterior invariant.  Without it
// beta and the mean of the u_j trade places slowly, as in any non-centred
// random-effects model (the intercept's ESS was about 1% of the draws, 15%
// or more with it).
struct SharedColumns {
    std::vector<int> xc, zc;  // X's column xc[s] equals Z's column zc[s] in every row

    void find(const double *X, const double *Z, long n, int K, int q) {
        xc.clear(); zc.clear();
        for (int b = 0; b < q; ++b)
            for (int a = 0; a < K; ++a) {
                long i = 0;
                while (i < n && X[i * K + a] == Z[i * q + b]) ++i;
                if (i == n) { xc.push_back(a); zc.push_back(b); break; }
            }
    }

    template <glm::Link L>
    void update(Rng &rng, glm::GlmBlock<L> &block, GlmRandomCoefficients<L> &re) const {
        const int s = int(xc.size()), q = re.q;
        if (s == 0) return;
        Vec usum(q, 0.0), prec(s * s), lin(s), delta(s);
        for (int j = 0; j < re.J; ++j)
            for (int c = 0; c < q; ++c) usum[c] += re.u[std::size_t(j) * q + c];
        for (int a = 0; a < s; ++a) {
            double h = 0.0;
            for (int c = 0; c < q; ++c) h += re.omega_inv[zc[a] * q + c] * usum[c];
            lin[a] = h;
            for (int b = 0; b < s; ++b) prec[a * s + b] = re.J * re.omega_inv[zc[a] * q + zc[b]];
        }
        draw_mvn_canonical(rng, prec.data(), lin.data(), s, delta.data());
        for (int j = 0; j < re.J; ++j)
            for (int a = 0; a < s; ++a) re.u[std::size_t(j) * q + zc[a]] -= delta[a];
        for (int a = 0; a < s; ++a) block.beta[xc[a]] += delta[a];
        block.set_xb(block.beta.data(), block.xb.data());
    }
};

}  // namespace statjr
