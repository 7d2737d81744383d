# Reference fits for the MOI templates' tests (tests/test_moi_reference.py).
# Run from the repository root:  Rscript bench/references/moi_references.R
# Writes tests/data/sim_pois.csv, tests/data/sim_binom.csv and
# tests/references/moi_lme4.json (estimates with the R and package versions
# and the date they were produced).
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
shared <- Sys.getenv("STATJR_SHARED", "../shared")
tut <- read.csv(file.path(shared, "data", "tutorial.csv"))
tut$pass <- as.integer(tut$normexam > 0)

# Simulated data with known parameters (seeded), shipped as CSV.
set.seed(20261125)
J <- 120; nj <- 25
school <- rep(1:J, each = nj); x <- rnorm(J * nj)
u <- rnorm(J, 0, sqrt(0.3))[school]
expo <- runif(J * nj, 1, 3)
y <- rpois(J * nj, exp(0.4 + 0.5 * x + u + log(expo)))
pois <- data.frame(school = school, cons = 1, x = x, logexpo = log(expo), y = y)
write.csv(pois, "tests/data/sim_pois.csv", row.names = FALSE)

set.seed(20261126)
J <- 100; nj <- 20
school <- rep(1:J, each = nj); x <- rnorm(J * nj)
u <- rnorm(J, 0, sqrt(0.5))[school]
m <- sample(1:8, J * nj, replace = TRUE)
yb <- rbinom(J * nj, m, plogis(-0.5 + 0.8 * x + u))
binom <- data.frame(school = school, cons = 1, x = x, m = m, y = yb)
write.csv(binom, "tests/data/sim_binom.csv", row.names = FALSE)

fx <- function(f) {
  s <- summary(f)$coefficients
  list(estimate = as.list(s[, 1]), se = as.list(s[, 2]))
}
vc <- function(f) as.data.frame(VarCorr(f))[, c("grp", "var1", "var2", "vcov")]

out <- list()
m1 <- lmer(normexam ~ standlrt + girl + (1 | school), tut, REML = FALSE)
m1r <- lmer(normexam ~ standlrt + girl + (1 | school), tut, REML = TRUE)
out$ri_normal <- c(fx(m1), list(varcorr_ml = vc(m1), varcorr_reml = vc(m1r)))
m2 <- lmer(normexam ~ standlrt + girl + (1 + standlrt | school), tut, REML = FALSE)
m2r <- lmer(normexam ~ standlrt + girl + (1 + standlrt | school), tut, REML = TRUE)
out$rs_normal <- c(fx(m2), list(varcorr_ml = vc(m2), varcorr_reml = vc(m2r)))
m3 <- glmer(pass ~ standlrt + girl + (1 | school), tut, family = binomial("logit"), nAGQ = 10)
out$ri_logit <- c(fx(m3), list(varcorr_ml = vc(m3)))
m4 <- glmer(y ~ x + (1 | school) + offset(logexpo), pois, family = poisson, nAGQ = 10)
out$ri_poisson_sim <- c(fx(m4), list(varcorr_ml = vc(m4), truth = list(cons = 0.4, x = 0.5, sigma2_u = 0.3)))
m5 <- glmer(cbind(y, m - y) ~ x + (1 | school), binom, family = binomial("logit"), nAGQ = 10)
out$ri_binom_sim <- c(fx(m5), list(varcorr_ml = vc(m5), truth = list(cons = -0.5, x = 0.8, sigma2_u = 0.5)))
for (link in c("logit", "probit", "cloglog")) {
  g <- glm(pass ~ standlrt + girl, tut, family = binomial(link))
  out[[paste0("glm_", link)]] <- fx(g)
}
g <- glm(y ~ x + offset(logexpo), pois, family = poisson)
out$glm_poisson_sim <- fx(g)
g <- glm(cbind(y, m - y) ~ x, binom, family = binomial("logit"))
out$glm_binom_sim <- fx(g)

out$`_source` <- list(
  script = "bench/references/moi_references.R",
  r = R.version.string, lme4 = as.character(packageVersion("lme4")),
  date = as.character(Sys.Date()),
  note = "glmer fits use adaptive Gauss-Hermite quadrature, nAGQ = 10")
dir.create("tests/references", showWarnings = FALSE)
write_json(out, "tests/references/moi_lme4.json", auto_unbox = TRUE, digits = 10, pretty = TRUE)
cat("written tests/references/moi_lme4.json\n")
