// The joint imputation model's setup and level-1 steps (declared in
// statjr/impute.hpp; the level-2 steps are in statjr/impute_level2.cpp).
// Compiled once into the kernel library (statjr_py/kernel.py), not into each
// generated module.
#include "statjr/impute.hpp"
#include "statjr/smc.hpp"
#include "statjr/dims.hpp"

namespace statjr {
namespace impute {

Model::Model(const Spec &spec, const double *Y1_, const double *X1_, const std::int32_t *start_,
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

void Model::cross_products() {
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

void Model::init_thresholds() {
    for (const Resp &x : s.r1) add_thresholds(x);
    for (const Resp &x : s.r2) add_thresholds(x);
}

void Model::add_thresholds(const Resp &x) {
    Vec th;
    if (x.type == Ordered)
        for (int c = 0; c < x.ncat - 1; ++c) th.push_back(double(c));  // t[0] = 0 fixed
    thresholds.push_back(th);
    threshold_tuners.push_back(Tuner(0.05, 0.44));
}

void Model::init_latents() {
    init_block(s.r1, Y1, n, Q1, Z, 0);
    init_block(s.r2, Y2, J, Q2, W, s.r1.size());
}

void Model::init_block(const std::vector<Resp> &rs, const double *Y, long rows, int q, Vec &L,
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

void Model::read_mask(const CovMask &mk, int q, std::vector<char> &fixed,
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

void Model::init_parameters(const CovMask &me, const CovMask &mu) {
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

void Model::draw_level1() {
    const Vec Pe = precision(Oe.omega, Q1);
    const Precision P(Pe, Q1);
    Vec r(Q1), t(Q1), tmpq(Q1 * Q1);  // residual and mean of one row
    const std::size_t R1 = s.r1.size();
    if (!s.two_level || s.conditional) {
        with_dim(Q1, [&](auto D) {
            const int q = dim(D, Q1);
            Scratch<D.value> ts(t), rs(r);  // the row's mean and residual
            double *tt = ts.p, *rr = rs.p;
            for (int j = 0; j < J; ++j)
                for (long i = start[j]; i < start[j + 1]; ++i) {
                    double *z = &Z[i * q];
                    const double *m = &mu1[i * q];
#pragma GCC unroll 4
                    for (int c = 0; c < q; ++c) { tt[c] = m[c] + (s.two_level ? U[j * q + c] : 0.0); rr[c] = z[c] - tt[c]; }
                    for (std::size_t k = 0; k < R1; ++k) {
                        const Resp &x = s.r1[k];
                        const double y = Y1[i * R1 + x.col];
                        if (smc && std::isnan(y)) {
                            smc_level1(i, j, k, z, tt, rr, P);
                            continue;
                        }
                        draw_response(rng, x, th1(k), y, z, tt, P, q, rr, x.coord);
                    }
                }
        });
        return;
    }
    // Marginal variant: u_j integrated out.  Row i is drawn from its
    // distribution given the unit's other rows: mean mu + E[u_j | others],
    // covariance Omega_e + Var[u_j | others].
    const UPrior up = prior_of_u();
    const Vec &cond_c = up.c_inv;
    Vec lam(Q1 * Q1), lam_inv(Q1 * Q1), g(Q1 * Q1), a0(Q1), sum(Q1), pm(Q1 * Q1), sm(Q1 * Q1), mu(Q1);
    Precision pmp(pm, Q1);  // pm's per-coordinate values, refreshed per unit
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
        pmp.refresh(Q1);
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
                draw_response(rng, s.r1[k], th1(k), Y1[i * R1 + s.r1[k].col], z, t.data(), pmp, Q1, r.data(), s.r1[k].coord);
            for (int c = 0; c < Q1; ++c) sum[c] += z[c] - m[c];
        }
    }
}

void Model::block_precision(const double *p, int q, const Vec &S, const std::vector<int> &off,
                            int K, Vec &A, Vec &b) {
    A.assign(std::size_t(K) * K, 0.0);
    b.assign(K, 0.0);
    for (int c = 0; c < q; ++c)
        for (int d = 0; d < q; ++d)
            for (int a = off[c]; a < off[c + 1]; ++a)
                for (int e = off[d]; e < off[d + 1]; ++e) A[a * K + e] = p[c * q + d] * S[a * K + e];
}

void Model::draw_beta() { gls_beta(precision(Oe.omega, Q1), true); }

void Model::gls_beta(const Vec &Pe, bool draw) {
    Vec A, b, r(Q1), t(Q1);
    block_precision(Pe.data(), Q1, S1, off1, K1, A, b);
    with_dim(Q1, [&](auto D) {
        const int q = dim(D, Q1);
        const double *p = Pe.data();
        double *bb = b.data();
        Scratch<D.value> rs(r), ts(t);  // the row's residual and P times it
        double *rp = rs.p, *tp = ts.p;
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
#pragma GCC unroll 4
                for (int c = 0; c < q; ++c) rp[c] = Z[i * q + c] - (s.two_level ? U[j * q + c] : 0.0);
#pragma GCC unroll 4
                for (int c = 0; c < q; ++c) {
                    double v = 0;
#pragma GCC unroll 4
                    for (int d = 0; d < q; ++d) v += p[c * q + d] * rp[d];
                    tp[c] = v;
                }
                const double *x = X1 + i * K1;
#pragma GCC unroll 4
                for (int c = 0; c < q; ++c)
                    for (int a = off1[c]; a < off1[c + 1]; ++a) bb[a] += x[a] * tp[c];
            }
    });
    solve_or_draw(A, b, K1, beta, draw);
    with_dim(Q1, [&](auto D) {
        const int q = dim(D, Q1);
        const double *be = beta.data();
        double *m = mu1.data();
        for (long i = 0; i < n; ++i) {
            const double *x = X1 + i * K1;
#pragma GCC unroll 4
            for (int c = 0; c < q; ++c) {
                double v = 0.0;
                for (int a = off1[c]; a < off1[c + 1]; ++a) v += x[a] * be[a];
                m[i * q + c] = v;
            }
        }
    });
}

void Model::solve_or_draw(const Vec &a, const Vec &rhs, int k, Vec &out, bool draw) {
    Vec aa(a.begin(), a.begin() + k * k), bb(rhs.begin(), rhs.begin() + k);
    if (draw) { draw_mvn_canonical(rng, aa.data(), bb.data(), k, out.data()); return; }
    cholesky_or_throw(aa.data(), k, "the coefficients' precision (collinear explanatory variables?)");
    forward_solve(aa.data(), k, bb.data());
    backward_solve_t(aa.data(), k, bb.data());
    for (int i = 0; i < k; ++i) out[i] = bb[i];
}

void Model::enable_values() {
    V1.assign(n * s.r1.size(), 0.0);
    V2.assign(std::size_t(J) * s.r2.size() + 1, 0.0);
    current_values(V1.data(), V2.data());
}

template <class Loglik>
void Model::smc_coordinates(const Resp &x, const Vec &th, double *z, const double *base, const Precision &p,
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

void Model::smc_level1(long i, int j, std::size_t k, double *z, const double *base, double *res,
                const Precision &Pe) {
    const Resp &x = s.r1[k];
    double *v1 = &V1[i * s.r1.size()];
    const double *v2 = &V2[std::size_t(j) * s.r2.size()];
    smc_coordinates(x, th1(k), z, base, Pe, Q1, res, x.coord, &v1[x.col],
                    [&] { return smc->row_loglik(i, j, v1, v2); });
}

void Model::smc_level2(int j, std::size_t k, const double *base, double *res, const Precision &Pu) {
    const Resp &x = s.r2[k];
    double *v2 = &V2[std::size_t(j) * s.r2.size()];
    smc_coordinates(x, th2(k), &W[std::size_t(j) * Q2], base, Pu, Q, res, Q1 + x.coord,
                    &v2[x.col], [&] { return smc->unit_loglik(j, V1.data(), v2); });
}

void Model::draw_covariances(bool adapt) {
    Vec Se(Q1 * Q1, 0.0), Su(Q * Q, 0.0), r(std::max(Q, 1));
    with_dim(Q1, [&](auto D) {
        // with q fixed, the sums live in registers (the same additions, in order)
        const int q = dim(D, Q1);
        Scratch<D.value * D.value> sums(Se);
        Scratch<D.value> rs(r);
        double *se = sums.p, *rr = rs.p;
        for (int j = 0; j < J; ++j)
            for (long i = start[j]; i < start[j + 1]; ++i) {
#pragma GCC unroll 4
                for (int c = 0; c < q; ++c) rr[c] = Z[i * q + c] - mu1[i * q + c] - (s.two_level ? U[j * q + c] : 0.0);
#pragma GCC unroll 4
                for (int c = 0; c < q; ++c)
#pragma GCC unroll 4
                    for (int d = 0; d <= c; ++d) se[c * q + d] += rr[c] * rr[d];
            }
        if (se != Se.data()) std::copy(se, se + q * q, Se.begin());
    });
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

void Model::draw_thresholds(bool adapt) {
    const Vec Pe = precision(Oe.omega, Q1);
    for (std::size_t k = 0; k < s.r1.size(); ++k)
        if (s.r1[k].type == Ordered && s.r1[k].ncat > 2) cowles_level1(k, Pe, adapt);
    for (std::size_t k = 0; k < s.r2.size(); ++k)
        if (s.r2[k].type == Ordered && s.r2[k].ncat > 2) cowles_level2(k, adapt);
}

void Model::cowles_level1(std::size_t k, const Vec &Pe, bool adapt) {
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

void Model::current_values(double *v1, double *v2) const {
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

long Model::completed(double *out, long nout) const {
    const std::size_t R1 = s.r1.size(), R2 = s.r2.size();
    const long need = long(n * R1 + J * R2) + (smc ? n : 0);
    if (nout < need) throw std::runtime_error("output buffer too small for the completed data");
    current_values(out, out + n * R1);
    double *o2 = out + n * R1;
    if (smc)  // the outcome of the model of interest, after the responses
        for (long i = 0; i < n; ++i) o2[J * R2 + i] = smc->y[i];
    return need;
}

void Model::sweep(bool adapt) {
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

int Model::nrecorded() const {
    int k = K1 + K2;
    for (int c = 0; c < Q1; ++c) for (int d = c; d < Q1; ++d) k += free_element(Oe, c, d);
    if (s.two_level)
        for (int c = 0; c < Q; ++c) for (int d = c; d < Q; ++d) k += free_element(Ou, c, d);
    for (const Vec &th : thresholds) k += th.empty() ? 0 : int(th.size()) - 1;
    return k + (smc ? smc->nrecorded() : 0);
}

void Model::record(double *row) const {
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

}  // namespace impute
}  // namespace statjr
