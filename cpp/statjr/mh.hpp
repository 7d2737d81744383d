// Tuning random-walk Metropolis proposal scales during burn-in.
//
// The scheme of Browne & Draper (2000), "Implementation and performance
// issues in the Bayesian and likelihood fitting of multilevel models",
// Computational Statistics 15, 391-420, as MLwiN uses it: every `batch`
// proposals the scale is multiplied up when acceptance is above the target
// and down when below, by an amount that grows with the miss.  Tuning stops
// after burn-in, so the monitored chain is an ordinary Metropolis chain.
#pragma once
#include <cmath>

namespace statjr {

struct Tuner {
    double sd = 0.5;
    double target = 0.44;  // Gelman, Roberts & Gilks (1996): univariate optimum
    int accepted = 0, tried = 0, batch = 100;

    Tuner() = default;
    Tuner(double sd0, double target0) : sd(sd0), target(target0) {}

    void note(bool ok, bool adapt) {
        if (!adapt) return;
        accepted += ok;
        if (++tried < batch) return;
        const double rate = double(accepted) / tried;
        if (rate > target) sd *= 2.0 - (1.0 - rate) / (1.0 - target);
        else sd /= 2.0 - rate / target;
        accepted = tried = 0;
    }
};

}  // namespace statjr
