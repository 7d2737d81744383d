// Random numbers for every generated sampler.
//
// xoshiro256++ (Blackman & Vigna 2021, "Scrambled linear pseudorandom number
// generators", ACM TOMS 47(4)) seeded through splitmix64, so that a single
// 64-bit seed per chain gives well separated streams.  Normals use the
// Marsaglia polar method with the spare value cached.
#pragma once
#include <cstdint>
#include <cmath>

namespace statjr {

class Rng {
public:
    explicit Rng(std::uint64_t seed) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        for (auto &w : s_) w = splitmix64(seed);
        have_spare_ = false;
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
        if (have_spare_) { have_spare_ = false; return spare_; }
        double u, v, s;
        do {
            u = 2.0 * uniform() - 1.0;
            v = 2.0 * uniform() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double f = std::sqrt(-2.0 * std::log(s) / s);
        spare_ = v * f;
        have_spare_ = true;
        return u * f;
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
    double spare_ = 0.0;
    bool have_spare_ = false;
};

}  // namespace statjr
