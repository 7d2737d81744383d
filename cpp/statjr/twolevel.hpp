// Kernels for two-level models with rows sorted by level-2 unit: unit j owns
// rows start[j] .. start[j+1]-1, so every per-unit loop walks memory in order.
// The Normal model's steps are defined in statjr/twolevel.cpp, compiled once
// into the kernel library (statjr_py/kernel.py); the GLM parts are templates
// on the link and stay here.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>
#include "statjr/centring.hpp"
#include "statjr/glm.hpp"
#include "statjr/linalg.hpp"
#include "statjr/sizes.hpp"

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

// Omega | u ~ IW(nu + J, Psi + sum_j u_j u_j'), the conjugate Gibbs draw of
// a q x q random-effect covariance under an IW(nu, Psi) prior.  The
// templates use nu = -(q + 1) and Psi ~ 0 (1e-12 I, only to keep the scale
// invertible): the flat prior p(Omega) = const, so the posterior is
// IW(J - q - 1, S) (2LevelRS.py explains the choice).
inline void draw_covariance_given(Rng &rng, const Vec &u, int J, int q, double nu, const Vec &psi,
                                  Vec &omega) {
    Vec s = psi;
    for (int j = 0; j < J; ++j)
        for (int a = 0; a < q; ++a)
            for (int b = 0; b < q; ++b) s[a * q + b] += u[j * q + a] * u[j * q + b];
    draw_inverse_wishart(rng, nu + J, s.data(), q, omega.data());
}

// y_ij = x_ij' beta + z_ij' u_j + e_ij,  u_j ~ N(0, Omega) (q x q),
// e_ij ~ N(0, sigma2).  Priors: flat on beta; inverse-Wishart(nu, Psi) on
// Omega (nu = -(q + 1), Psi = 0 is the flat prior the templates use; for
// q = 1, nu = Psi = 0.002 would be the Gamma(0.001, 0.001) prior on the
// precision that MLwiN uses); Gamma(a, b) on 1/sigma2.  Every step is Gibbs:
// (beta, u) as one block (beta marginally, then u), then the variances.
//
// Every step needs only cross-products formed once before the chain.  They
// are formed from the centred design Xc and the residuals r from a reference
// least-squares fit b0 (statjr/centring.hpp), never from y itself: Xc'Xc,
// Xc'r, r'r and, per unit, Z_j'Xc_j, Z_j'Z_j and Z_j'r_j.  The fixed effects
// are sampled as d = t - b0 (t: the centred design's coefficients) and
// mapped back to beta.  An iteration so costs O(J q (K + q^2) + K^3),
// whatever the number of rows, and the residual sum of squares, expanded as
//   r'r - 2 d'Xc'r - 2 sum_j u_j'Z_j'r_j + d'Xc'Xc d + 2 sum_j u_j'Z_j'Xc_j d + sum_j u_j'Z_j'Z_j u_j,
// adds numbers of the residuals' size, so a response far from zero (a mean
// of 1e8) loses no accuracy.
struct NormalRandomCoefficients {
    int K = 0, q = 0, J = 0;
    long n = 0;
    const double *y = nullptr, *X = nullptr, *Z = nullptr;
    const std::int32_t *start = nullptr;
    double nu = 0.0, a0 = 0.001, b0 = 0.001;
    CentredDesign cd;
    double rtr = 0.0;
    Vec psi, xtx, xtr, ztx, ztz, ztr, u, omega, omega_inv;
    Vec beta;  // the fixed effects as the caller writes them (X's columns)
    Vec dfix;  // the same, as sampled: t - b0 (see above)
    Vec prec, lin, draw, mj, wj, xc, dwork;  // work
    double sigma2 = 1.0;

    void init(const double *y_, const double *X_, const double *Z_, const std::int32_t *start_,
              long n_, int K_, int q_, int J_, double nu_, const Vec &psi_);

    // (Re)form the cross-products from the rows: once for a fixed dataset,
    // every iteration when the data are being imputed (cpp/statjr/smc.hpp).
    // The current beta is kept; its sampled form d follows the new fit.
    void set_data(const double *y_, const double *X_, const double *Z_);

    void refresh_omega_inv();

    // beta with the random effects integrated out, then u given beta: a
    // blocked draw of (beta, u).  Drawing beta given u instead makes the
    // intercept and the mean of u trade places slowly (ESS of cons about
    // 5% of the draws on the tutorial data; with this draw it is near the
    // number of draws).  With V_j = sigma2 I + Z_j Omega Z_j' and
    // M_j = sigma2 Omega^-1 + Z_j'Z_j (Woodbury),
    //   sigma2 X_j'V_j^-1 X_j = X_j'X_j - X_j'Z_j M_j^-1 Z_j'X_j,
    // and the same with y_j on the right, so the cross-products suffice (in
    // the centred form: Xc for X, r for y, d for beta).
    void draw_beta(Rng &rng);

    void draw_u(Rng &rng);

    // Residual sum of squares at (d, uu) from the cross-products, with d the
    // fixed effects in their sampled form.
    double rss_internal(const double *d, const double *uu) const;
    double rss() const { return rss_internal(dfix.data(), u.data()); }
    // At fixed effects b given as the caller writes them.
    double rss_at(const double *b, const double *uu);

    void draw_variances(Rng &rng);

    void sweep(Rng &rng);

    // Deviance conditional on the random effects (as MLwiN's DIC), at the
    // current values or at given ones.
    double deviance() const { return n * std::log(2.0 * M_PI * sigma2) + rss() / sigma2; }
    double deviance_at(const double *b, const double *uu, double s2);
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
                        long n, int K, int q, int J, double nu, const Vec &psi, std::uint64_t seed);

    void sweep(bool adapt);

    void record(double *row) const;

    long call(const char *what, const double *in, long nin, double *out, long nout);
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
