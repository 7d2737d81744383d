// A fixed-effect design re-expressed so that residual sums of squares are
// formed from numbers of the residuals' size.
//
// Expanded from raw cross-products, a residual sum of squares
//     y'y - 2 b'X'y + b'X'X b
// cancels catastrophically when y is far from zero: with y near 1e8 each term
// is near n 1e16 and carries a rounding error near n, as large as the sum
// itself (1LevelMod gave sigma2_e = 31.6 for a true 1, with no error).  Two
// exact rewritings of the same model remove the cancellation:
//
// 1. Centring.  With a constant column x_c = c (the intercept), every other
//    column x_a becomes x_a - mean(x_a), so X beta = Xc t with the same
//    slopes and t_c = beta_c + sum_a mean(x_a) beta_a / c.  The change of
//    parameters has Jacobian 1, so a flat prior on beta is flat on t; and
//    Xc'Xc stays well conditioned when a covariate has a large mean.
// 2. A reference fit.  With b0 the least-squares fit on the centred design
//    and r = y - Xc b0, y - Xc t = r - Xc d for d = t - b0.  The kernels form
//    r'r, Xc'r and Xc'Xc (and per unit Z_j'r_j, Z_j'Xc_j) from the rows, and
//    sample d: every number in an expanded sum of squares is then of the size
//    of the residuals.
//
// Without a constant column only step 2 is taken.  The reference fit needs
// no more accuracy than "near the least-squares fit": the identities are
// exact for any b0, since the linear term Xc'r is formed from the rows too.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>
#include "statjr/linalg.hpp"

namespace statjr {

struct CentredDesign {
    int K = 0;
    int c0 = -1;        // the constant column, or -1 when there is none
    double cval = 1.0;  // its value
    Vec mean;           // column means subtracted (0 for c0 and without c0)
    Vec b0;             // the reference fit, in the centred parametrization

    // Find the constant column and the means of the others, then the
    // reference fit b0 of y on the centred design (two passes over the rows).
    // xtx receives Xc'Xc (K x K), which the kernels need too.
    void fit(const double *X, const double *y, long n, int K_, Vec &xtx) {
        K = K_;
        mean.assign(K, 0.0);
        b0.assign(K, 0.0);
        c0 = -1;
        for (int a = 0; a < K && c0 < 0; ++a) {
            const double v = X[a];
            if (v == 0.0) continue;
            long i = 1;
            while (i < n && X[i * K + a] == v) ++i;
            if (i == n) { c0 = a; cval = v; }
        }
        double ybar = 0.0;
        if (c0 >= 0) {
            for (long i = 0; i < n; ++i) {
                const double *x = X + i * K;
                for (int a = 0; a < K; ++a) mean[a] += x[a];
                ybar += y[i];
            }
            for (int a = 0; a < K; ++a) mean[a] /= double(n);
            mean[c0] = 0.0;
            ybar /= double(n);
        }
        xtx.assign(std::size_t(K) * K, 0.0);
        Vec xty(K, 0.0), x(K);
        for (long i = 0; i < n; ++i) {
            row(X, i, x.data());
            const double yc = y[i] - ybar;
            for (int a = 0; a < K; ++a) {
                xty[a] += x[a] * yc;
                for (int b = 0; b <= a; ++b) xtx[a * K + b] += x[a] * x[b];
            }
        }
        for (int a = 0; a < K; ++a)
            for (int b = 0; b < a; ++b) xtx[b * K + a] = xtx[a * K + b];
        Vec l = xtx;
        cholesky_or_throw(l.data(), K, "X'X (are the explanatory variables collinear?)");
        b0 = xty;
        forward_solve(l.data(), K, b0.data());
        backward_solve_t(l.data(), K, b0.data());
        if (c0 >= 0) b0[c0] += ybar / cval;
    }

    // Row i of the centred design.
    void row(const double *X, long i, double *out) const {
        const double *x = X + i * K;
        for (int a = 0; a < K; ++a) out[a] = x[a] - mean[a];
    }

    // y_i minus the reference fit at row i (out: that row of Xc).
    double residual(const double *X, const double *y, long i, double *xc) const {
        row(X, i, xc);
        double s = 0.0;
        for (int a = 0; a < K; ++a) s += xc[a] * b0[a];
        return y[i] - s;
    }

    // beta (the caller's parametrization) -> d = t - b0.
    void to_internal(const double *beta, double *d) const {
        for (int a = 0; a < K; ++a) d[a] = beta[a] - b0[a];
        if (c0 < 0) return;
        double shift = 0.0;
        for (int a = 0; a < K; ++a) shift += mean[a] * beta[a];
        d[c0] += shift / cval;
    }

    // d -> beta.
    void to_original(const double *d, double *beta) const {
        for (int a = 0; a < K; ++a) beta[a] = b0[a] + d[a];
        if (c0 < 0) return;
        double shift = 0.0;
        for (int a = 0; a < K; ++a) shift += mean[a] * beta[a];
        beta[c0] -= shift / cval;
    }
};

}  // namespace statjr
