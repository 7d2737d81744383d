// The C entry points every generated sampler exposes to Python.
//
// A template's generated code defines `struct Model` and then includes this
// file last.  Model must provide
//     Model(const Data &d, std::uint64_t seed);
//     static constexpr int nparams;          // columns of one stored draw
//     void sweep(bool adapt);                 // one MCMC iteration
//     void record(double *row) const;         // write the current draw
//     long call(const char *what, const double *in, long nin, double *out, long nout);
// sjr_sample reads a cancel flag that Python owns before every iteration:
// when it is non-zero the loop stops at once and returns -2, so Ctrl-C ends
// a run within one iteration rather than at the end of a chunk.
// The engine's cffi declaration (statjr_py/build.py) mirrors these
// signatures; C++ exceptions never cross into Python, they become an
// error message the engine raises.
#pragma once
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

namespace statjr {
struct Sampler {
    Data data;
    Model model;
    std::string error;
    Sampler(const void *const *arrays, const std::int64_t *lengths, std::uint64_t seed)
        : data(arrays, lengths), model(data, seed) {}
};

inline void copy_error(const char *msg, char *err, int errlen) {
    if (err && errlen > 0) {
        std::strncpy(err, msg, errlen - 1);
        err[errlen - 1] = '\0';
    }
}
}  // namespace statjr

extern "C" {

void *sjr_create(const void *const *arrays, const std::int64_t *lengths, std::uint64_t seed,
                 char *err, int errlen) {
    try {
        return new statjr::Sampler(arrays, lengths, seed);
    } catch (const std::exception &e) {
        statjr::copy_error(e.what(), err, errlen);
    } catch (...) {
        statjr::copy_error("unknown C++ exception while setting up the sampler", err, errlen);
    }
    return nullptr;
}

int sjr_nparams(void) { return Model::nparams; }

// Run niter iterations, storing every thin-th draw in out (row-major,
// nparams columns).  Returns the number of rows stored, -1 on error, or -2
// when *cancel became non-zero.
long sjr_sample(void *p, long niter, long thin, int adapt, double *out,
                const volatile std::int32_t *cancel) {
    auto *s = static_cast<statjr::Sampler *>(p);
    try {
        long stored = 0;
        for (long it = 1; it <= niter; ++it) {
            if (cancel && *cancel) return -2;
            s->model.sweep(adapt != 0);
            if (out && it % thin == 0) s->model.record(out + stored++ * Model::nparams);
        }
        return stored;
    } catch (const std::exception &e) {
        s->error = e.what();
    } catch (...) {
        s->error = "unknown C++ exception while sampling";
    }
    return -1;
}

long sjr_call(void *p, const char *what, const double *in, long nin, double *out, long nout) {
    auto *s = static_cast<statjr::Sampler *>(p);
    try {
        return s->model.call(what, in, nin, out, nout);
    } catch (const std::exception &e) {
        s->error = e.what();
    } catch (...) {
        s->error = "unknown C++ exception";
    }
    return -1;
}

const char *sjr_error(void *p) { return static_cast<statjr::Sampler *>(p)->error.c_str(); }

void sjr_free(void *p) { delete static_cast<statjr::Sampler *>(p); }

}  // extern "C"
