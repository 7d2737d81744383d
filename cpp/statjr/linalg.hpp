// Small dense linear algebra for Gibbs steps: row-major square matrices of the
// sizes met in multilevel models (a few to a few dozen), so plain loops beat
// calling out to BLAS.
#pragma once
#include <cmath>
#include <stdexcept>
#include <vector>
#include "statjr/dist.hpp"

namespace statjr {

using Vec = std::vector<double>;

// In-place lower Cholesky factor of the k x k matrix a (upper part zeroed).
// Returns false when a is not positive definite, so callers can reject.
inline bool cholesky(double *a, int k) {
    for (int j = 0; j < k; ++j) {
        double s = a[j * k + j];
        for (int m = 0; m < j; ++m) s -= a[j * k + m] * a[j * k + m];
        if (!(s > 0.0)) return false;
        const double d = std::sqrt(s);
        a[j * k + j] = d;
        for (int i = j + 1; i < k; ++i) {
            double t = a[i * k + j];
            for (int m = 0; m < j; ++m) t -= a[i * k + m] * a[j * k + m];
            a[i * k + j] = t / d;
        }
        for (int i = 0; i < j; ++i) a[i * k + j] = 0.0;
    }
    return true;
}

inline void cholesky_or_throw(double *a, int k, const char *what) {
    if (!cholesky(a, k)) throw std::runtime_error(std::string(what) + " is not positive definite");
}

// Solve L x = b in place (L lower triangular).
inline void forward_solve(const double *l, int k, double *b) {
    for (int i = 0; i < k; ++i) {
        double s = b[i];
        for (int m = 0; m < i; ++m) s -= l[i * k + m] * b[m];
        b[i] = s / l[i * k + i];
    }
}

// Solve L' x = b in place.
inline void backward_solve_t(const double *l, int k, double *b) {
    for (int i = k - 1; i >= 0; --i) {
        double s = b[i];
        for (int m = i + 1; m < k; ++m) s -= l[m * k + i] * b[m];
        b[i] = s / l[i * k + i];
    }
}

// log determinant from a Cholesky factor.
inline double chol_logdet(const double *l, int k) {
    double s = 0.0;
    for (int i = 0; i < k; ++i) s += std::log(l[i * k + i]);
    return 2.0 * s;
}

// Inverse of a symmetric positive definite matrix from its Cholesky factor.
inline void chol_inverse(const double *l, int k, double *out) {
    Vec e(k);
    for (int c = 0; c < k; ++c) {
        for (int i = 0; i < k; ++i) e[i] = (i == c) ? 1.0 : 0.0;
        forward_solve(l, k, e.data());
        backward_solve_t(l, k, e.data());
        for (int i = 0; i < k; ++i) out[i * k + c] = e[i];
    }
}

// Draw x ~ N(A^{-1} b, A^{-1}) given the precision A (k x k) and b.
// The Gibbs step for regression coefficients in canonical form; A is
// overwritten by its Cholesky factor.
inline void draw_mvn_canonical(Rng &rng, double *a, const double *b, int k, double *x) {
    cholesky_or_throw(a, k, "posterior precision of the coefficients");
    for (int i = 0; i < k; ++i) x[i] = b[i];
    forward_solve(a, k, x);               // x = L^{-1} b
    for (int i = 0; i < k; ++i) x[i] += rng.normal();
    backward_solve_t(a, k, x);            // x = L^{-T}(L^{-1} b + z)
}

// Draw W ~ Wishart(df, S) for k x k scale S by the Bartlett decomposition
// (Smith & Hocking 1972, Applied Statistics 21, 341-345).  S is given by its
// lower Cholesky factor ls.
inline void draw_wishart_chol(Rng &rng, double df, const double *ls, int k, double *w) {
    Vec a(k * k, 0.0), la(k * k, 0.0);
    for (int i = 0; i < k; ++i) {
        a[i * k + i] = std::sqrt(chisq(rng, df - i));
        for (int j = 0; j < i; ++j) a[i * k + j] = rng.normal();
    }
    for (int i = 0; i < k; ++i)            // la = ls * a (both lower)
        for (int j = 0; j <= i; ++j) {
            double s = 0.0;
            for (int m = j; m <= i; ++m) s += ls[i * k + m] * a[m * k + j];
            la[i * k + j] = s;
        }
    for (int i = 0; i < k; ++i)
        for (int j = 0; j <= i; ++j) {
            double s = 0.0;
            for (int m = 0; m <= j; ++m) s += la[i * k + m] * la[j * k + m];
            w[i * k + j] = w[j * k + i] = s;
        }
}

// Draw Sigma ~ inverse-Wishart(df, Psi): Sigma^{-1} ~ Wishart(df, Psi^{-1}).
// The conjugate update for an unstructured covariance matrix given the
// cross-product Psi = S0 + sum of outer products of residuals.
inline void draw_inverse_wishart(Rng &rng, double df, const double *psi, int k, double *sigma) {
    Vec l(psi, psi + k * k), pinv(k * k), lp(k * k), w(k * k);
    cholesky_or_throw(l.data(), k, "inverse-Wishart scale");
    chol_inverse(l.data(), k, pinv.data());
    lp = pinv;
    cholesky_or_throw(lp.data(), k, "inverse of the inverse-Wishart scale");
    draw_wishart_chol(rng, df, lp.data(), k, w.data());
    cholesky_or_throw(w.data(), k, "Wishart draw");
    chol_inverse(w.data(), k, sigma);
}

}  // namespace statjr
