// Compile-time sizes for the hot row loops of a runtime-sized model.
//
// The kernel (statjr_py/kernel.py) is compiled once for every model, so its
// dimensions, such as the number of latent coordinates q, are data.  Loops
// of length q run for every row in every iteration; with q unknown they
// stay loops (a counter, a test and a branch around a few multiply-adds).
// with_dim calls f with q as a compile-time constant when q is small, so
// that those loops can unroll; larger q takes the general path.  The
// arithmetic is the same, in the same order, so the draws are bit-identical
// whichever path runs.
//
//   with_dim(Q1, [&](auto D) { const int q = dim(D, Q1); ... });
#pragma once
#include <type_traits>
#include <vector>

// Force inlining of a short function called from such loops, so that the
// constant reaches its body.
#if defined(__GNUC__)
#define STATJR_HOT __attribute__((always_inline))
#else
#define STATJR_HOT
#endif

namespace statjr {

template <int N> using Dim = std::integral_constant<int, N>;

// The loop length: the constant when there is one, else the runtime value.
template <int N> constexpr int dim(Dim<N>, int runtime) { return N > 0 ? N : runtime; }

template <class F> void with_dim(int q, F &&f) {
    switch (q) {
        case 1: f(Dim<1>()); break;
        case 2: f(Dim<2>()); break;
        case 3: f(Dim<3>()); break;
        case 4: f(Dim<4>()); break;
        default: f(Dim<0>()); break;
    }
}

// N doubles of scratch for a with_dim body: a local array when N is a
// compile-time constant (N > 0), which the compiler keeps in registers, or
// else the caller's vector (N = 0, sized by the caller).  Starts at zero.
//   Scratch<D.value> r(r_vec);  ... r.p[c] ...
template <int N> struct Scratch {
    double local[N > 0 ? N : 1] = {};
    double *p;
    explicit Scratch(std::vector<double> &fallback) : p(N > 0 ? local : fallback.data()) {}
    Scratch(const Scratch &) = delete;
    Scratch &operator=(const Scratch &) = delete;
};

}  // namespace statjr
