// Substantive-model-compatible imputation (SMC; Goldstein, Carpenter &
// Browne 2014, JRSS A 177, 553-564; Bartlett et al. 2015, Stat. Methods Med.
// Res. 24, 462-487): the model of interest (a two-level Normal model with
// random coefficients) is fitted inside the imputation sampler, and every
// missing covariate is imputed from
//     p(covariate | joint model) x p(outcome | covariates, model of interest).
// The joint latent-normal model's draw of a missing value is used as an
// independence proposal and accepted with probability
//     min(1, p(y | x*, theta) / p(y | x, theta)),
// so imputed covariates carry the model of interest's random slopes and
// category effects.  The outcome is not a response of the joint model; its
// own missing values are drawn from the model of interest.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>
#include "statjr/twolevel.hpp"

namespace statjr {
namespace impute {

// Where one column of the model of interest's design comes from.
struct MoiColumn {
    int kind;   // 0: column `index` of XF; 1: value of level-1 response `index`;
                // 2: dummy (== code) of level-1 response `index`; 3 and 4: the same at level 2
    int index;
    int code;
};

struct Substantive {
    long n = 0;
    int J = 0, K = 0, q = 0, nf = 0;
    std::size_t R1 = 0, R2 = 0;
    const double *y0 = nullptr, *XF = nullptr;
    const std::int32_t *start = nullptr;
    std::vector<MoiColumn> cols;
    std::vector<int> zcols;  // z's columns, as positions in cols
    Vec y, X, Z;
    NormalRandomCoefficients m;

    void init(const double *y0_, const double *XF_, int nf_, std::vector<MoiColumn> cols_,
              std::vector<int> zcols_, const std::int32_t *start_, long n_, int J_, std::size_t R1_,
              std::size_t R2_, const double *V1, const double *V2) {
        y0 = y0_; XF = XF_; nf = nf_; cols = std::move(cols_); zcols = std::move(zcols_);
        start = start_; n = n_; J = J_; R1 = R1_; R2 = R2_;
        K = int(cols.size()); q = int(zcols.size());
        double sum = 0.0; long cnt = 0;
        for (long i = 0; i < n; ++i) if (!std::isnan(y0[i])) { sum += y0[i]; ++cnt; }
        y.assign(n, 0.0);
        for (long i = 0; i < n; ++i) y[i] = std::isnan(y0[i]) ? (cnt ? sum / cnt : 0.0) : y0[i];
        X.assign(n * K, 0.0); Z.assign(n * q, 0.0);
        fill(V1, V2);
        // Priors as 2LevelMod and 2LevelRS: flat on the random-effect covariance.
        Vec psi(q * q, 0.0);
        for (int a = 0; a < q; ++a) psi[a * q + a] = 1e-12;
        m.init(y.data(), X.data(), Z.data(), start, n, K, q, J, -(q + 1.0), psi);
    }

    double value(const MoiColumn &c, long i, const double *v1row, const double *v2unit) const {
        switch (c.kind) {
            case 0: return XF[i * nf + c.index];
            case 1: return v1row[c.index];
            case 2: return v1row[c.index] == c.code ? 1.0 : 0.0;
            case 3: return v2unit[c.index];
            default: return v2unit[c.index] == c.code ? 1.0 : 0.0;
        }
    }

    void fill(const double *V1, const double *V2) {
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
                const double *v1 = V1 + i * R1, *v2 = V2 + j * R2;
                for (int a = 0; a < K; ++a) X[i * K + a] = value(cols[a], i, v1, v2);
                for (int b = 0; b < q; ++b) Z[i * q + b] = X[i * K + zcols[b]];
            }
    }

    // log p(y_i | covariates) up to a constant, for candidate covariate values.
    double row_loglik(long i, int j, const double *v1row, const double *v2unit) const {
        double mu = 0.0;
        for (int a = 0; a < K; ++a) mu += value(cols[a], i, v1row, v2unit) * m.beta[a];
        for (int b = 0; b < q; ++b) mu += value(cols[zcols[b]], i, v1row, v2unit) * m.u[j * q + b];
        const double e = y[i] - mu;
        return -0.5 * e * e / m.sigma2;
    }

    double unit_loglik(int j, const double *V1, const double *v2unit) const {
        double s = 0.0;
        for (long i = start[j]; i < start[j + 1]; ++i) s += row_loglik(i, j, V1 + i * R1, v2unit);
        return s;
    }

    // Missing outcomes from the model of interest, then its parameters, given
    // the current completed covariates.
    void update(Rng &rng, const double *V1, const double *V2) {
        fill(V1, V2);
        const double sd = std::sqrt(m.sigma2);
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
                if (!std::isnan(y0[i])) continue;
                double mu = 0.0;
                for (int a = 0; a < K; ++a) mu += X[i * K + a] * m.beta[a];
                for (int b = 0; b < q; ++b) mu += Z[i * q + b] * m.u[j * q + b];
                y[i] = mu + sd * rng.normal();
            }
        m.set_data(y.data(), X.data(), Z.data());
        m.sweep(rng);
    }

    int nrecorded() const { return K + q * (q + 1) / 2 + 1; }

    void record(double *row) const {
        int k = 0;
        for (int a = 0; a < K; ++a) row[k++] = m.beta[a];
        for (int a = 0; a < q; ++a) for (int b = a; b < q; ++b) row[k++] = m.omega[a * q + b];
        row[k] = m.sigma2;
    }
};

}  // namespace impute
}  // namespace statjr
