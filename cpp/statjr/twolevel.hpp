// Kernels for two-level models with rows sorted by level-2 unit: unit j owns
// rows start[j] .. start[j+1]-1, so every per-unit loop walks memory in order.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>
#include "statjr/glm.hpp"
#include "statjr/linalg.hpp"

namespace statjr {

// Running posterior moments of the random effects, accumulated while
// monitoring so that Python can report level-2 residuals and DIC's
// deviance at the posterior mean without storing every draw.
struct Moments {
    std::vector<double> sum, sumsq;
    long count = 0;
    void init(std::size_t k) { sum.assign(k, 0.0); sumsq.assign(k, 0.0); count = 0; }
    void add(const std::vector<double> &u) {
        for (std::size_t i = 0; i < u.size(); ++i) { sum[i] += u[i]; sumsq[i] += u[i] * u[i]; }
        ++count;
    }
    // out = (count, sums..., sums of squares...)
    long write(double *out, long nout) const {
        const long need = 1 + 2 * long(sum.size());
        if (nout < need) throw std::runtime_error("output buffer too small for residuals");
        out[0] = double(count);
        for (std::size_t i = 0; i < sum.size(); ++i) { out[1 + i] = sum[i]; out[1 + sum.size() + i] = sumsq[i]; }
        return need;
    }
};

// y_ij = x_ij' beta + z_ij' u_j + e_ij,  u_j ~ N(0, Omega) (q x q),
// e_ij ~ N(0, sigma2).  Priors: flat on beta; inverse-Wishart(nu, Psi) on
// Omega (for q = 1, nu = Psi = 0.002 is the Gamma(0.001, 0.001) prior on the
// precision that MLwiN uses); Gamma(a, b) on 1/sigma2.  Every step is Gibbs.
struct NormalRandomCoefficients {
    int K = 0, q = 0, J = 0;
    long n = 0;
    const double *y = nullptr, *X = nullptr, *Z = nullptr;
    const std::int32_t *start = nullptr;
    double nu = 0.0, a0 = 0.001, b0 = 0.001;
    Vec psi, xtx, ztz, beta, u, omega, omega_inv, r, xb;
    double sigma2 = 1.0;

    void init(const double *y_, const double *X_, const double *Z_, const std::int32_t *start_,
              long n_, int K_, int q_, int J_, double nu_, const Vec &psi_) {
        y = y_; X = X_; Z = Z_; start = start_; n = n_; K = K_; q = q_; J = J_;
        nu = nu_; psi = psi_;
        xtx.assign(K * K, 0.0); ztz.assign(J * q * q, 0.0);
        for (long i = 0; i < n; ++i)
            for (int a = 0; a < K; ++a)
                for (int b = 0; b < K; ++b) xtx[a * K + b] += X[i * K + a] * X[i * K + b];
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i)
                for (int a = 0; a < q; ++a)
                    for (int b = 0; b < q; ++b) ztz[(j * q + a) * q + b] += Z[i * q + a] * Z[i * q + b];
        beta.assign(K, 0.0); u.assign(J * q, 0.0); r.assign(n, 0.0); xb.assign(n, 0.0);
        // Start at OLS ignoring the random effects, residual variance split.
        Vec prec = xtx, lin(K, 0.0);
        for (long i = 0; i < n; ++i)
            for (int a = 0; a < K; ++a) lin[a] += X[i * K + a] * y[i];
        cholesky_or_throw(prec.data(), K, "X'X (are the explanatory variables collinear?)");
        forward_solve(prec.data(), K, lin.data());
        backward_solve_t(prec.data(), K, lin.data());
        beta = lin;
        set_xb();
        double rss = 0.0;
        for (long i = 0; i < n; ++i) rss += (y[i] - xb[i]) * (y[i] - xb[i]);
        sigma2 = std::max(rss / n * 0.8, 1e-8);
        omega.assign(q * q, 0.0);
        for (int a = 0; a < q; ++a) omega[a * q + a] = std::max(rss / n * 0.2, 1e-8);
        refresh_omega_inv();
    }

    void set_xb() {
        for (long i = 0; i < n; ++i) {
            double s = 0.0;
            for (int a = 0; a < K; ++a) s += X[i * K + a] * beta[a];
            xb[i] = s;
        }
    }

    void refresh_omega_inv() {
        Vec l = omega;
        cholesky_or_throw(l.data(), q, "the level-2 covariance matrix");
        omega_inv.assign(q * q, 0.0);
        chol_inverse(l.data(), q, omega_inv.data());
    }

    double zu(long i, int j) const {
        double s = 0.0;
        for (int a = 0; a < q; ++a) s += Z[i * q + a] * u[j * q + a];
        return s;
    }

    void draw_beta(Rng &rng) {
        Vec prec(K * K), lin(K, 0.0);
        for (int a = 0; a < K * K; ++a) prec[a] = xtx[a] / sigma2;
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
                const double t = (y[i] - zu(i, j)) / sigma2;
                for (int a = 0; a < K; ++a) lin[a] += X[i * K + a] * t;
            }
        draw_mvn_canonical(rng, prec.data(), lin.data(), K, beta.data());
        set_xb();
    }

    void draw_u(Rng &rng) {
        Vec prec(q * q), lin(q), draw(q);
        for (int j = 0; j < J; ++j) {
            for (int a = 0; a < q * q; ++a) prec[a] = omega_inv[a] + ztz[j * q * q + a] / sigma2;
            for (int a = 0; a < q; ++a) lin[a] = 0.0;
            for (long i = start[j]; i < start[j + 1]; ++i) {
                const double t = (y[i] - xb[i]) / sigma2;
                for (int a = 0; a < q; ++a) lin[a] += Z[i * q + a] * t;
            }
            draw_mvn_canonical(rng, prec.data(), lin.data(), q, draw.data());
            for (int a = 0; a < q; ++a) u[j * q + a] = draw[a];
        }
    }

    double rss() const {
        double s = 0.0;
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
                const double e = y[i] - xb[i] - zu(i, j);
                s += e * e;
            }
        return s;
    }

    void draw_variances(Rng &rng) {
        Vec s = psi;
        for (int j = 0; j < J; ++j)
            for (int a = 0; a < q; ++a)
                for (int b = 0; b < q; ++b) s[a * q + b] += u[j * q + a] * u[j * q + b];
        draw_inverse_wishart(rng, nu + J, s.data(), q, omega.data());
        refresh_omega_inv();
        sigma2 = 1.0 / gamma(rng, a0 + 0.5 * n, b0 + 0.5 * rss());
    }

    void sweep(Rng &rng) {
        draw_beta(rng);
        draw_u(rng);
        draw_variances(rng);
    }

    // Deviance conditional on the random effects (as MLwiN's DIC), at the
    // current values or at given ones.
    double deviance() const { return n * std::log(2.0 * M_PI * sigma2) + rss() / sigma2; }
    double deviance_at(const double *b, const double *uu, double s2) const {
        double s = 0.0;
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
                double e = y[i];
                for (int a = 0; a < K; ++a) e -= X[i * K + a] * b[a];
                for (int a = 0; a < q; ++a) e -= Z[i * q + a] * uu[j * q + a];
                s += e * e;
            }
        return n * std::log(2.0 * M_PI * s2) + s / s2;
    }
};

// A complete sampler for the Normal two-level model, for templates to
// derive their Model from.  A draw records beta, the upper triangle of
// Omega row by row, sigma2 and the deviance.  Requests: "residuals" (running
// moments of u) and "deviance" (in: beta, sigma2, u).
struct NormalTwoLevelModel {
    Rng rng;
    NormalRandomCoefficients k;
    Moments moments;

    NormalTwoLevelModel(const double *y, const double *X, const double *Z, const std::int32_t *start,
                        long n, int K, int q, int J, double nu, const Vec &psi, std::uint64_t seed)
        : rng(seed) {
        k.init(y, X, Z, start, n, K, q, J, nu, psi);
        moments.init(std::size_t(J) * q);
    }

    void sweep(bool adapt) {
        k.sweep(rng);
        if (!adapt) moments.add(k.u);
    }

    void record(double *row) const {
        int c = 0;
        for (int a = 0; a < k.K; ++a) row[c++] = k.beta[a];
        for (int a = 0; a < k.q; ++a)
            for (int b = a; b < k.q; ++b) row[c++] = k.omega[a * k.q + b];
        row[c++] = k.sigma2;
        row[c] = k.deviance();
    }

    long call(const char *what, const double *in, long nin, double *out, long nout) {
        const std::string w(what);
        if (w == "residuals") return moments.write(out, nout);
        if (w == "deviance" && nin == k.K + 1 + long(k.J) * k.q && nout >= 1) {
            out[0] = k.deviance_at(in, in + k.K + 1, in[k.K]);
            return 1;
        }
        throw std::runtime_error("two-level Normal model cannot answer '" + w + "'");
    }
};

// Random intercepts of a GLM, one univariate random-walk Metropolis step per
// unit with its own tuned scale (as MLwiN), and the Gibbs draw of their
// variance under a Gamma(a, b) prior on the precision.
template <glm::Link L>
struct GlmRandomIntercepts {
    int J = 0;
    const std::int32_t *start = nullptr;
    const double *y = nullptr, *m = nullptr;
    Vec u, sd_u;
    std::vector<Tuner> tuners;
    double sigma2 = 0.1, a0 = 0.001, b0 = 0.001;

    void init(const double *y_, const double *m_, const std::int32_t *start_, int J_) {
        y = y_; m = m_; start = start_; J = J_;
        u.assign(J, 0.0);
        tuners.assign(J, Tuner(0.5, 0.44));
    }

    // base_i: everything in eta but u_j.
    void update(Rng &rng, const double *base, bool adapt) {
        const double prec = 1.0 / sigma2;
        for (int j = 0; j < J; ++j) {
            const double cur = u[j], prop = cur + tuners[j].sd * rng.normal();
            double diff = -0.5 * prec * (prop * prop - cur * cur);
            for (long i = start[j]; i < start[j + 1]; ++i)
                diff += glm::loglik<L>(y[i], m[i], base[i] + prop) - glm::loglik<L>(y[i], m[i], base[i] + cur);
            const bool ok = std::log(rng.uniform()) < diff;
            if (ok) u[j] = prop;
            tuners[j].note(ok, adapt);
        }
        double ss = 0.0;
        for (int j = 0; j < J; ++j) ss += u[j] * u[j];
        sigma2 = 1.0 / gamma(rng, a0 + 0.5 * J, b0 + 0.5 * ss);
    }
};

}  // namespace statjr
