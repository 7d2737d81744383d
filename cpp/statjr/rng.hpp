// Random numbers for every generated sampler.
//
// xoshiro256++ (Blackman & Vigna 2021, "Scrambled linear pseudorandom number
// generators", ACM TOMS 47(4)) seeded through splitmix64, so that a single
// 64-bit seed per chain gives well separated streams.  Normals by the
// ziggurat method (Marsaglia & Tsang 2000, "The ziggurat method for
// generating random variables", J. Statistical Software 5(8)) in the form of
// Doornik (2005, "An improved ziggurat method to generate normal random
// samples"): 128 strips, the strip and the value taken from disjoint bits of
// one 64-bit draw (Doornik's point: the value must not reuse the strip's
// bits), so the ~99% fast path costs one draw and a multiply.
#pragma once
#include <cstdint>
#include <cmath>

namespace statjr {

namespace detail {
struct ZigguratTables {
    static constexpr int N = 128;
    static constexpr double R = 3.442619855899;        // start of the tail
    static constexpr double V = 9.91256303526217e-3;   // area of each strip
    double x[N + 1];
    double ratio[N];                                   // x[i+1] / x[i]
    ZigguratTables() {
        const double f = std::exp(-0.5 * R * R);
        x[0] = V / f;
        x[1] = R;
        for (int i = 2; i < N; ++i)
            x[i] = std::sqrt(-2.0 * std::log(V / x[i - 1] + std::exp(-0.5 * x[i - 1] * x[i - 1])));
        x[N] = 0.0;
        for (int i = 0; i < N; ++i) ratio[i] = x[i + 1] / x[i];
    }
};
inline const ZigguratTables &zig() {
    static const ZigguratTables t;
    return t;
}
}  // namespace detail

class Rng {
public:
    explicit Rng(std::uint64_t seed) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        for (auto &w : s_) w = splitmix64(seed);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform on the open interval (0, 1): 53 random bits, never 0 or 1.
    double uniform() { return ((next() >> 11) + 0.5) * 0x1.0p-53; }

    double normal() {
        const detail::ZigguratTables &t = detail::zig();
        for (;;) {
            const std::uint64_t bits = next();
            const int i = int(bits & 0x7f);                          // strip
            const double u = 2.0 * ((bits >> 11) * 0x1.0p-53) - 1.0;  // (-1, 1)
            if (std::fabs(u) < t.ratio[i]) return u * t.x[i];        // inside the strip's core
            if (i == 0) {                                             // the tail beyond R
                double a, b;
                do {
                    a = -std::log(uniform()) / t.R;
                    b = -std::log(uniform());
                } while (b + b < a * a);
                return u > 0 ? t.R + a : -(t.R + a);
            }
            const double xv = u * t.x[i];
            const double f0 = std::exp(-0.5 * (t.x[i] * t.x[i] - xv * xv));
            const double f1 = std::exp(-0.5 * (t.x[i + 1] * t.x[i + 1] - xv * xv));
            if (f1 + uniform() * (f0 - f1) < 1.0) return xv;
        }
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t &x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint64_t s_[4];
};

}  // namespace statjr
