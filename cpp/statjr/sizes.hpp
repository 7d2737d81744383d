// Sizes read from the data at run time.
//
// A generated sampler compiles in only the model's structure (numbers of
// coefficients, response types, link); how many rows and level-2 units the
// data have comes from the arrays' lengths, so a new dataset for the same
// model reuses the compiled sampler.  These helpers read those sizes and
// check that the arrays agree with one another, since nothing else does.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace statjr {

// The number of level-2 units of rows sorted by unit: start has J + 1
// entries, unit j owning rows start[j] .. start[j+1]-1, so start[0] = 0,
// start[J] = n and start never decreases.
inline int units(const std::int32_t *start, std::int64_t n_start, std::int64_t n) {
    if (n_start < 2) throw std::runtime_error("the data have no level-2 units");
    const std::int64_t J = n_start - 1;
    if (start[0] != 0 || start[J] != n)
        throw std::runtime_error("level-2 unit boundaries do not cover the rows");
    for (std::int64_t j = 0; j < J; ++j)
        if (start[j + 1] < start[j]) throw std::runtime_error("level-2 unit boundaries out of order");
    return int(J);
}

// Rows of a row-major matrix of `cols` columns held in `len` numbers.
inline long rows_of(std::int64_t len, int cols, const char *what = "a data matrix") {
    if (cols <= 0 || len % cols != 0)
        throw std::runtime_error(std::string(what) + " does not have whole rows");
    return long(len / cols);
}

// Throw unless an array holds exactly `want` numbers.
inline void expect_length(std::int64_t len, std::int64_t want, const char *what) {
    if (len != want)
        throw std::runtime_error(std::string(what) + " has " + std::to_string(len) + " values, " +
                                 std::to_string(want) + " expected");
}

}  // namespace statjr
