// The joint latent-normal imputation model (REALCOM-IMPUTE; Goldstein,
// Carpenter, Kenward & Levin 2009, Statistical Modelling 9(3), 173-197).
//
// Level 1, row i of unit j: z_ij = X_ij beta + u_j + e_ij,  e_ij ~ N(0, Omega_e)
// Level 2, unit j:          w_j  = X2_j gamma + v_j
//                           (u_j, v_j) ~ N(0, Omega_u)
// One latent coordinate per Normal, Binary or Ordered response, p-1 per
// Unordered response with p categories.  Binary/Ordered/Unordered
// coordinates have unit variance (Omega_e at level 1, Omega_u at level 2);
// which elements are fixed, and at what, the template passes as masks.
//
// Rows are sorted by unit (unit j owns rows start[j] .. start[j+1]-1).
// Per-response latent logic is in statjr/latent.hpp.  This header declares
// the model; its steps are defined in statjr/impute.cpp (setup, level 1,
// covariances, thresholds) and statjr/impute_level2.cpp (level 2 and step
// 6).  Those two files do not depend on the model's structure (the Spec is
// data), so the build layer compiles them once per installation into the
// kernel library and links each generated module against it
// (statjr_py/kernel.py): a new imputation model compiles only its own
// short wrapper.  Every step but the covariance and threshold
// updates and two of step 6's moves is Gibbs; see docs/imputation.md for
// the derivations and costs.
// Each step reads only the model's state and keeps its own scratch, so no
// step depends on another having run first.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>
#include "statjr/covariance.hpp"
#include "statjr/latent.hpp"
#include "statjr/dist.hpp"
#include "statjr/linalg.hpp"
#include "statjr/mh.hpp"
#include "statjr/dims.hpp"

namespace statjr {
namespace impute {

struct Substantive;  // statjr/smc.hpp: the model of interest, for SMC imputation

// Which elements of a q x q covariance matrix are free, and the values of
// the fixed ones, row-major (q*q each): the template computes them
// (ImputeModel.covariance_masks, the one statement of the constraints) and
// passes them as data arrays, so the recorded names and the sampler agree.
struct CovMask {
    const std::int32_t *free = nullptr;  // 1: a parameter; 0: held at value
    const double *value = nullptr;
};

// Step 6's view of one categorical coordinate c with z_.c integrated out
// (statjr/impute_level2.cpp, Model::collapse).  Kept in the model and
// refilled each sweep, so step 6 allocates nothing per iteration.
struct Collapsed {
    int c = 0;
    double sd = 1.0;          // sd of z_ic given the row's other coordinates
    std::vector<double> a;    // per row: E[z_ic | the row's other coordinates] - u_jc
    std::vector<double> lo, hi;  // per row: the interval its observed value allows
    std::vector<char> kind;   // per row: 0 missing (free), 1 interval, 2 held at z_ic
};

// Everything fixed for one model: generated code fills it in.
struct Spec {
    bool two_level = true, conditional = true;
    bool expansion = true;  // step 6's moves on the random-effect columns (off: the older sampler)
    std::vector<Resp> r1, r2;
    std::vector<int> k1, k2;  // covariates per coordinate, levels 1 and 2
};

struct Model {
    Spec s;
    long n = 0;
    int J = 0, Q1 = 0, Q2 = 0, Q = 0, K1 = 0, K2 = 0;
    const double *Y1, *X1, *Y2, *X2;
    const std::int32_t *start;
    std::vector<int> off1, off2;             // first covariate of each coordinate
    Vec Z, mu1, U, W, mu2, beta, gamma;      // latents, means, random effects, coefficients
    Vec S1, S2;                              // X'X cross-products (K1 x K1, K2 x K2)
    std::vector<Vec> thresholds;             // per response (level 1 then level 2); t[0] = 0
    std::vector<Tuner> threshold_tuners;
    CovarianceSampler Oe, Ou;
    std::vector<Tuner> scale_tuners;         // step 6b's proposal sd of log g, per level-1 coordinate
    std::vector<int> intercept;              // per coordinate: its constant covariate (beta or gamma), or -1
    Collapsed col;                           // step 6's scratch: the coordinate being moved
    std::vector<double> cur, prop;           // step 6's scratch: each unit's log lik_j, now and proposed
    Rng rng;
    Substantive *smc = nullptr;              // the model of interest, for SMC imputation
    Vec V1, V2;                              // current values of every response (SMC only)
    // No work buffers are shared between steps: each step derives what it
    // needs (a precision matrix, the prior of u_j) from the state above and
    // keeps its scratch to itself, so the steps may run in any order.

    // me, mu: the masks of Omega_e (Q1 x Q1) and Omega_u (Q x Q; unused with one level).
    Model(const Spec &spec, const double *Y1_, const double *X1_, const std::int32_t *start_,
          long n_, int J_, const double *Y2_, const double *X2_, CovMask me, CovMask mu,
          std::uint64_t seed);

    // ---------------------------------------------------------------- setup
    void cross_products();

    void init_thresholds();
    void add_thresholds(const Resp &x);
    const Vec &th1(int k) const { return thresholds[k]; }
    const Vec &th2(int k) const { return thresholds[s.r1.size() + k]; }

    void init_latents();
    // Starting latents of one level's responses (rows x R values in Y, rows x
    // q latents in L); a missing Normal value starts at the observed mean.
    void init_block(const std::vector<Resp> &rs, const double *Y, long rows, int q, Vec &L,
                    std::size_t th0);

    // The constraints of one q x q covariance matrix, read from its mask:
    // fixed[c] when variance c is held, fixed_pair[c*q+d] when covariance
    // (c, d) is; the held values are written into the starting matrix.  The
    // exact split (statjr/covariance.hpp) needs a held covariance to join two
    // held variances, and the mask must be symmetric.
    static void read_mask(const CovMask &mk, int q, std::vector<char> &fixed,
                          std::vector<char> &fixed_pair, Vec &start);

    void init_parameters(const CovMask &me, const CovMask &mu);

    // ---------------------------------------------------------------- pieces
    static void invert(const Vec &m, int q, Vec &work, Vec &out) {
        work = m;
        cholesky_or_throw(work.data(), q, "a covariance matrix");
        chol_inverse(work.data(), q, out.data());
    }
    // The inverse of a q x q covariance matrix, as a new matrix.
    static Vec precision(const Vec &m, int q) {
        Vec work(q * q), out(q * q);
        invert(m, q, work, out);
        return out;
    }

    // ---------------------------------------------------------------- steps
    // 1. Level-1 latents and missing values.
    void draw_level1();

    // The GLS precision A of coefficients with per-coordinate designs: block
    // (c, d) is p_cd S_cd, with S the cross-product formed before the chain;
    // b (the right side) is zeroed for the caller to fill.
    static void block_precision(const double *p, int q, const Vec &S, const std::vector<int> &off,
                                int K, Vec &A, Vec &b);

    // 2. beta ~ N(A^-1 b, A^-1) given the latents and u under Omega_e.
    void draw_beta();

    // GLS for coefficients: precision from block_precision, right side from
    // per-row (or per-unit) P * target; a draw, or the estimate (to start).
    void gls_beta(const Vec &Pe, bool draw);

    void solve_or_draw(const Vec &a, const Vec &rhs, int k, Vec &out, bool draw);

    // Level-2 steps (statjr/impute_level2.cpp).
    // The prior of u_j given v_j under Omega_u: u_j | v_j ~ N(m (v_j - mu2_j), C).
    struct UPrior {
        Vec c_inv;  // C^-1 = (Omega_uu - m Omega_vu)^-1, Q1 x Q1
        Vec m;      // Omega_uv Omega_vv^-1, Q1 x Q2
    };
    UPrior prior_of_u() const;
    void prior_mean_u(const UPrior &p, int j, Vec &m0) const;
    void draw_u();                                          // 3.
    void draw_level2();                                     // 4.
    void draw_gamma();                                      // 5.
    void gls_gamma(const Vec &p2, const Vec &nmat, bool draw);
    void refresh_mu2(int c);
    void cowles_level2(std::size_t k, bool adapt);
    // Step 6: moves on the random-effect column of each categorical level-1 coordinate.
    void init_expansion();
    void expand_random_effects(bool adapt);                 // 6.
    void collapse(int c);                                   // fills col and cur
    double unit_loglik(int j, double ujc, double floor) const;
    void redraw_collapsed();
    void unit_moves();
    void scale_move(bool adapt);
    void shift_intercepts(int c);

    // ------------------------------------------------------------- SMC steps
    // Start the value arrays from the data and the starting latents.
    void enable_values();

    // A missing value: each latent coordinate in turn is proposed from the
    // joint model's univariate conditional and accepted with the model of
    // interest's likelihood ratio.  One coordinate at a time matters: a
    // single-coordinate Gibbs draw is reversible with respect to the joint
    // model's conditional, so the ratio is the whole acceptance probability;
    // a sweep over an Unordered response's p-1 coordinates is not, and
    // accepting it with the same ratio biased the category effects
    // (docs/validation.md records the before and after).
    template <class Loglik>
    void smc_coordinates(const Resp &x, const Vec &th, double *z, const double *base, const Precision &p,
                         int q, double *res, int at, double *value, Loglik loglik);

    void smc_level1(long i, int j, std::size_t k, double *z, const double *base, double *res,
                    const Precision &Pe);

    void smc_level2(int j, std::size_t k, const double *base, double *res, const Precision &Pu);

    // 7. Covariance matrices from their sufficient statistics.
    void draw_covariances(bool adapt);

    // 8. Ordered thresholds by Cowles (1996), Statistics and Computing 6,
    // 101-111: propose all free thresholds from truncated normals, accept
    // with the latent integrated out, then redraw the latents inside their
    // new intervals.  Level-1 responses only use row-wise conditionals.
    // Under SMC a missing value's category is the model of interest's data
    // too: moving the thresholds under its latent would change the category
    // without the model of interest's likelihood ratio.  So the move is made
    // given the imputed categories, each treated as observed, which leaves
    // the model of interest's term unchanged (without SMC a missing value's
    // latent is free and its category only read from it, so it is left out).
    // Found by the Ordered scenarios of bench/coverage.py (docs/validation.md).
    void draw_thresholds(bool adapt);

    // sum over l != c of (Omega_e^-1)_cl r_il, row i's residuals r = z - X beta
    // (- u_j at two levels): z_ic's conditional mean given the row's other
    // coordinates is X_i beta_c (+ u_jc) minus this over (Omega_e^-1)_cc.
    // Row loops inside with_dim pass their Dim, so that the loop unrolls.
    template <int N = 0>
    STATJR_HOT double others(const Vec &Pe, long i, int j, int c, Dim<N> D = {}) const {
        const int q = dim(D, Q1);
        double m = 0.0;
#pragma GCC unroll 4
        for (int l = 0; l < q; ++l)
            if (l != c) m += Pe[c * q + l] * (Z[i * q + l] - mu1[i * q + l] - (s.two_level ? U[j * q + l] : 0.0));
        return m;
    }

    void cowles_level1(std::size_t k, const Vec &Pe, bool adapt);

    // ---------------------------------------------------------------- sweep
    void sweep(bool adapt);

    static bool free_element(const CovarianceSampler &o, int c, int d) {
        return c == d ? !o.fixed[c] : !o.fixed_pair[c * o.q + d];
    }

    // Parameters in recording order: beta, gamma, free elements of Omega_e
    // and Omega_u (upper triangle by rows), free thresholds.
    int nrecorded() const;

    void record(double *row) const;

    // Every response's value, observed or read back from its latents:
    // level 1 into v1 (n x R1), level 2 into v2 (J x R2).
    void current_values(double *v1, double *v2) const;

    // The completed data: level-1 values (n x R1) then level-2 values (J x R2);
    // observed cells are copied through unchanged.
    long completed(double *out, long nout) const;
};

}  // namespace impute
}  // namespace statjr

