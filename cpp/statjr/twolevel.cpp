// The Normal two-level model's steps (declared in statjr/twolevel.hpp).
// Compiled once into the kernel library (statjr_py/kernel.py), not into each
// generated module.
#include <algorithm>
#include <string>
#include "statjr/twolevel.hpp"

namespace statjr {

void NormalRandomCoefficients::init(const double *y_, const double *X_, const double *Z_, const std::int32_t *start_,
          long n_, int K_, int q_, int J_, double nu_, const Vec &psi_) {
    n = n_; K = K_; q = q_; J = J_; start = start_;
    nu = nu_; psi = psi_;
    beta.assign(K, 0.0); dfix.assign(K, 0.0); u.assign(std::size_t(J) * q, 0.0);
    prec.assign(std::max(K, q) * std::max(K, q), 0.0); lin.assign(std::max(K, q), 0.0);
    draw.assign(q, 0.0); mj.assign(q * q, 0.0); wj.assign(std::size_t(K + 1) * q, 0.0);
    xc.assign(K, 0.0); dwork.assign(K, 0.0);
    set_data(y_, X_, Z_);
    // Start at the least-squares fit ignoring the random effects (d = 0),
    // the residual variance split between the levels.
    dfix.assign(K, 0.0);
    cd.to_original(dfix.data(), beta.data());
    const double rss0 = rss();
    sigma2 = std::max(rss0 / n * 0.8, 1e-8);
    omega.assign(q * q, 0.0);
    for (int a = 0; a < q; ++a) omega[a * q + a] = std::max(rss0 / n * 0.2, 1e-8);
    refresh_omega_inv();
}

void NormalRandomCoefficients::set_data(const double *y_, const double *X_, const double *Z_) {
    y = y_; X = X_; Z = Z_;
    cd.fit(X, y, n, K, xtx);
    xtr.assign(K, 0.0);
    ztx.assign(std::size_t(J) * q * K, 0.0); ztz.assign(std::size_t(J) * q * q, 0.0);
    ztr.assign(std::size_t(J) * q, 0.0);
    rtr = 0.0;
    for (int j = 0; j < J; ++j)
        for (long i = start[j]; i < start[j + 1]; ++i) {
            const double r = cd.residual(X, y, i, xc.data());
            const double *x = xc.data(), *z = Z + i * q;
            for (int a = 0; a < K; ++a) xtr[a] += x[a] * r;
            for (int a = 0; a < q; ++a) {
                ztr[j * q + a] += z[a] * r;
                for (int b = 0; b < K; ++b) ztx[(j * q + a) * K + b] += z[a] * x[b];
                for (int b = 0; b < q; ++b) ztz[(j * q + a) * q + b] += z[a] * z[b];
            }
            rtr += r * r;
        }
    cd.to_internal(beta.data(), dfix.data());
}

void NormalRandomCoefficients::refresh_omega_inv() {
    Vec l = omega;
    cholesky_or_throw(l.data(), q, "the level-2 covariance matrix");
    omega_inv.assign(q * q, 0.0);
    chol_inverse(l.data(), q, omega_inv.data());
}

void NormalRandomCoefficients::draw_beta(Rng &rng) {
    for (int a = 0; a < K; ++a) lin[a] = xtr[a];
    for (int a = 0; a < K * K; ++a) prec[a] = xtx[a];
    for (int j = 0; j < J; ++j) {
        const double *zz = &ztz[std::size_t(j) * q * q];
        for (int a = 0; a < q * q; ++a) mj[a] = sigma2 * omega_inv[a] + zz[a];
        cholesky_or_throw(mj.data(), q, "sigma2 Omega^-1 + Z_j'Z_j");
        // columns of L_j^-1 [Z_j'X_j | Z_j'y_j], stored column by column
        for (int c = 0; c <= K; ++c) {
            double *col = &wj[std::size_t(c) * q];
            for (int a = 0; a < q; ++a)
                col[a] = c < K ? ztx[(std::size_t(j) * q + a) * K + c] : ztr[j * q + a];
            forward_solve(mj.data(), q, col);
        }
        const double *wy = &wj[std::size_t(K) * q];
        for (int a = 0; a < K; ++a) {
            const double *wa = &wj[std::size_t(a) * q];
            double t = 0.0;
            for (int r = 0; r < q; ++r) t += wa[r] * wy[r];
            lin[a] -= t;
            for (int b = 0; b <= a; ++b) {
                const double *wb = &wj[std::size_t(b) * q];
                double v = 0.0;
                for (int r = 0; r < q; ++r) v += wa[r] * wb[r];
                prec[a * K + b] -= v;
                if (b != a) prec[b * K + a] -= v;
            }
        }
    }
    for (int a = 0; a < K; ++a) lin[a] /= sigma2;
    for (int a = 0; a < K * K; ++a) prec[a] /= sigma2;
    draw_mvn_canonical(rng, prec.data(), lin.data(), K, dfix.data());
    cd.to_original(dfix.data(), beta.data());
}

void NormalRandomCoefficients::draw_u(Rng &rng) {
    for (int j = 0; j < J; ++j) {
        const double *zz = &ztz[std::size_t(j) * q * q];
        for (int a = 0; a < q * q; ++a) prec[a] = omega_inv[a] + zz[a] / sigma2;
        for (int a = 0; a < q; ++a) {  // Z_j'(y_j - X_j beta) = Z_j'(r_j - Xc_j d)
            const double *row = &ztx[(std::size_t(j) * q + a) * K];
            double v = ztr[j * q + a];
            for (int b = 0; b < K; ++b) v -= row[b] * dfix[b];
            lin[a] = v / sigma2;
        }
        draw_mvn_canonical(rng, prec.data(), lin.data(), q, draw.data());
        for (int a = 0; a < q; ++a) u[j * q + a] = draw[a];
    }
}

double NormalRandomCoefficients::rss_internal(const double *d, const double *uu) const {
    double s = rtr;
    for (int a = 0; a < K; ++a) {
        s -= 2.0 * d[a] * xtr[a];
        double t = 0.0;
        for (int c = 0; c < K; ++c) t += xtx[a * K + c] * d[c];
        s += d[a] * t;
    }
    for (int j = 0; j < J; ++j) {
        const double *uj = uu + std::size_t(j) * q;
        const double *zz = &ztz[std::size_t(j) * q * q];
        for (int a = 0; a < q; ++a) {
            const double *row = &ztx[(std::size_t(j) * q + a) * K];
            double zxd = 0.0, zzu = 0.0;
            for (int c = 0; c < K; ++c) zxd += row[c] * d[c];
            for (int c = 0; c < q; ++c) zzu += zz[a * q + c] * uj[c];
            s += uj[a] * (2.0 * zxd + zzu - 2.0 * ztr[j * q + a]);
        }
    }
    return s > 0.0 ? s : 0.0;
}

double NormalRandomCoefficients::rss_at(const double *b, const double *uu) {
    cd.to_internal(b, dwork.data());
    return rss_internal(dwork.data(), uu);
}

void NormalRandomCoefficients::draw_variances(Rng &rng) {
    draw_covariance_given(rng, u, J, q, nu, psi, omega);
    refresh_omega_inv();
    sigma2 = 1.0 / gamma(rng, a0 + 0.5 * n, b0 + 0.5 * rss());
}

void NormalRandomCoefficients::sweep(Rng &rng) {
    draw_beta(rng);
    draw_u(rng);
    draw_variances(rng);
}

double NormalRandomCoefficients::deviance_at(const double *b, const double *uu, double s2) {
    return n * std::log(2.0 * M_PI * s2) + rss_at(b, uu) / s2;
}

NormalTwoLevelModel::NormalTwoLevelModel(const double *y, const double *X, const double *Z, const std::int32_t *start,
                    long n, int K, int q, int J, double nu, const Vec &psi, std::uint64_t seed)
    : rng(seed) {
    k.init(y, X, Z, start, n, K, q, J, nu, psi);
    moments.init(std::size_t(J) * q);
}

void NormalTwoLevelModel::sweep(bool adapt) {
    k.sweep(rng);
    if (!adapt) moments.add(k.u);
}

void NormalTwoLevelModel::record(double *row) const {
    int c = 0;
    for (int a = 0; a < k.K; ++a) row[c++] = k.beta[a];
    for (int a = 0; a < k.q; ++a)
        for (int b = a; b < k.q; ++b) row[c++] = k.omega[a * k.q + b];
    row[c++] = k.sigma2;
    row[c] = k.deviance();
}

long NormalTwoLevelModel::call(const char *what, const double *in, long nin, double *out, long nout) {
    const std::string w(what);
    if (w == "residuals") return moments.write(out, nout);
    if (w == "deviance" && nin == k.K + 1 + long(k.J) * k.q && nout >= 1) {
        out[0] = k.deviance_at(in, in + k.K + 1, in[k.K]);
        return 1;
    }
    throw std::runtime_error("two-level Normal model cannot answer '" + w + "'");
}

}  // namespace statjr
