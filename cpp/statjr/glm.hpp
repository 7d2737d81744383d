// Likelihoods of Binomial and Poisson responses on the linear-predictor
// scale, with the expected information used to shape Metropolis proposals.
// The link is a template parameter, so generated code is specialised and the
// per-observation switch disappears.
#pragma once
#include <cmath>
#include <vector>
#include "statjr/linalg.hpp"
#include "statjr/mh.hpp"

namespace statjr {
namespace glm {

enum class Link { Logit, Probit, Cloglog, Log };

inline double log_phi(double x) {  // log of the standard normal cdf, stable in the tail
    if (x > -5.0) return std::log(0.5 * std::erfc(-x / std::sqrt(2.0)));
    // Mills-ratio expansion: log(phi(x)/|x|) + log(1 - 1/x^2 + 3/x^4)
    const double x2 = x * x;
    return -0.5 * x2 - std::log(-x) - 0.5 * std::log(2.0 * M_PI) + std::log1p(-1.0 / x2 + 3.0 / (x2 * x2));
}

inline double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// Log-likelihood kernel of y (successes of m trials, or a count) at eta,
// without the terms free of eta (see log_const).
template <Link L>
inline double loglik(double y, double m, double eta) {
    if constexpr (L == Link::Logit) {
        return y * eta - m * softplus(eta);
    } else if constexpr (L == Link::Probit) {
        return y * log_phi(eta) + (m - y) * log_phi(-eta);
    } else if constexpr (L == Link::Cloglog) {
        const double e = std::exp(eta);
        const double logp = std::log(-std::expm1(-e));  // log(1 - exp(-e^eta))
        return y * logp - (m - y) * e;
    } else {
        return y * eta - std::exp(eta);
    }
}

// The terms loglik leaves out: log C(m, y) for Binomial, -log y! for Poisson.
template <Link L>
inline double log_const(double y, double m) {
    if constexpr (L == Link::Log) return -std::lgamma(y + 1.0);
    else return std::lgamma(m + 1.0) - std::lgamma(y + 1.0) - std::lgamma(m - y + 1.0);
}

// Expected information about eta from one observation.
template <Link L>
inline double weight(double m, double eta) {
    if constexpr (L == Link::Logit) {
        const double p = 1.0 / (1.0 + std::exp(-eta));
        return m * p * (1.0 - p);
    } else if constexpr (L == Link::Probit) {
        const double p = 0.5 * std::erfc(-eta / std::sqrt(2.0));
        const double d = std::exp(-0.5 * eta * eta) / std::sqrt(2.0 * M_PI);
        return m * d * d / std::max(p * (1.0 - p), 1e-300);
    } else if constexpr (L == Link::Cloglog) {
        const double e = std::exp(eta);
        const double p = -std::expm1(-e);
        const double d = e * std::exp(-e);
        return m * d * d / std::max(p * (1.0 - p), 1e-300);
    } else {
        return std::exp(eta);
    }
}

// Score contribution d loglik / d eta.
template <Link L>
inline double score(double y, double m, double eta) {
    if constexpr (L == Link::Logit) {
        return y - m / (1.0 + std::exp(-eta));
    } else if constexpr (L == Link::Probit) {
        const double d = -0.5 * eta * eta - 0.5 * std::log(2.0 * M_PI);
        return y * std::exp(d - log_phi(eta)) - (m - y) * std::exp(d - log_phi(-eta));
    } else if constexpr (L == Link::Cloglog) {
        const double e = std::exp(eta);
        return y * e * std::exp(-e) / -std::expm1(-e) - (m - y) * e;
    } else {
        return y - std::exp(eta);
    }
}

// Fixed effects of a GLM updated as one block by random-walk Metropolis.
//
// eta_i = base_i + x_i' beta, where base holds everything else (offset,
// random effects).  Starting values and the proposal's shape come from a
// few Fisher-scoring steps at the start, so the proposal is the posterior's
// covariance scaled (Roberts & Rosenthal 2001, Statistical Science 16:
// optimal scale 2.38/sqrt(K), acceptance near 0.23); the scale is tuned
// during burn-in.
template <Link L>
struct GlmBlock {
    int K = 0;
    long n = 0;
    const double *X = nullptr, *y = nullptr, *m = nullptr;
    Vec beta, xb, prop, prop_xb, shape;  // shape: lower Cholesky of the information inverse
    Tuner tuner;

    void init(const double *X_, const double *y_, const double *m_, long n_, int K_,
              const double *base) {
        X = X_; y = y_; m = m_; n = n_; K = K_;
        beta.assign(K, 0.0); xb.assign(n, 0.0); prop.assign(K, 0.0); prop_xb.assign(n, 0.0);
        Vec info(K * K), grad(K), step(K);
        for (int it = 0; it < 25; ++it) {  // Fisher scoring from beta = 0
            information(base, info.data(), grad.data());
            for (int a = 0; a < K; ++a) step[a] = grad[a];
            Vec chol = info;
            if (!cholesky(chol.data(), K)) break;
            forward_solve(chol.data(), K, step.data());
            backward_solve_t(chol.data(), K, step.data());
            double change = 0.0;
            for (int a = 0; a < K; ++a) {
                beta[a] += std::max(-2.0, std::min(2.0, step[a]));
                change = std::max(change, std::fabs(step[a]));
            }
            set_xb(beta.data(), xb.data());
            if (change < 1e-8) break;
        }
        information(base, info.data(), grad.data());
        Vec chol = info;
        shape.assign(K * K, 0.0);
        if (cholesky(chol.data(), K)) {
            chol_inverse(chol.data(), K, shape.data());
            if (!cholesky(shape.data(), K)) shape.assign(K * K, 0.0);
        }
        if (shape[0] == 0.0)
            for (int a = 0; a < K; ++a) shape[a * K + a] = 0.1;
        tuner = Tuner(2.38 / std::sqrt(double(K)), 0.3);
    }

    void set_xb(const double *b, double *out) const {
        for (long i = 0; i < n; ++i) {
            const double *x = X + i * K;
            double s = 0.0;
            for (int a = 0; a < K; ++a) s += x[a] * b[a];
            out[i] = s;
        }
    }

    void information(const double *base, double *info, double *grad) const {
        for (int a = 0; a < K * K; ++a) info[a] = 0.0;
        for (int a = 0; a < K; ++a) grad[a] = 0.0;
        for (long i = 0; i < n; ++i) {
            const double *x = X + i * K;
            const double eta = base[i] + xb[i];
            const double w = weight<L>(m[i], eta), s = score<L>(y[i], m[i], eta);
            for (int a = 0; a < K; ++a) {
                grad[a] += x[a] * s;
                for (int b = 0; b <= a; ++b) info[a * K + b] += w * x[a] * x[b];
            }
        }
        for (int a = 0; a < K; ++a)
            for (int b = 0; b < a; ++b) info[b * K + a] = info[a * K + b];
    }

    // One Metropolis step for beta (flat prior) given base.
    void update(Rng &rng, const double *base, bool adapt) {
        Vec z(K);
        for (int a = 0; a < K; ++a) z[a] = rng.normal();
        for (int a = 0; a < K; ++a) {
            double s = 0.0;
            for (int b = 0; b <= a; ++b) s += shape[a * K + b] * z[b];
            prop[a] = beta[a] + tuner.sd * s;
        }
        set_xb(prop.data(), prop_xb.data());
        double diff = 0.0;
        for (long i = 0; i < n; ++i)
            diff += loglik<L>(y[i], m[i], base[i] + prop_xb[i]) - loglik<L>(y[i], m[i], base[i] + xb[i]);
        const bool ok = std::log(rng.uniform()) < diff;
        if (ok) { beta.swap(prop); xb.swap(prop_xb); }
        tuner.note(ok, adapt);
    }
};

}  // namespace glm
}  // namespace statjr
