# Reference fits for 2LevelRS with Binomial and Poisson responses
# (tests/test_2levelrs_glmm.py).
# Run from the repository root:  Rscript bench/references/glmm_rs_references.R
# Writes tests/data/sim_pois_rs.csv (a simulated Poisson random-slope model with
# known parameters) and tests/references/glmm_rs_lme4.json (glmer estimates,
# the truth, the R and lme4 versions and the date).
#
# glmer's fits are maximum likelihood by the Laplace approximation (nAGQ = 1):
# adaptive quadrature is only available for a single scalar random effect.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
shared <- Sys.getenv("STATJR_SHARED", "../shared")
tut <- read.csv(file.path(shared, "data", "tutorial.csv"))
tut$pass <- as.integer(tut$normexam > 0)

# Poisson random slopes, known parameters, an offset (log exposure).
set.seed(20261130)
J <- 100; nj <- 30
beta <- c(0.5, 0.3)
omega <- matrix(c(0.2, 0.05, 0.05, 0.1), 2, 2)
school <- rep(1:J, each = nj)
x <- round(rnorm(J * nj), 4)
u <- matrix(rnorm(J * 2), J, 2) %*% chol(omega)
expo <- runif(J * nj, 0.5, 2)
logexpo <- round(log(expo), 4)
eta <- logexpo + beta[1] + beta[2] * x + u[school, 1] + u[school, 2] * x
y <- rpois(J * nj, exp(eta))
pois <- data.frame(school = school, cons = 1, x = x, logexpo = logexpo, y = y)
write.csv(pois, "tests/data/sim_pois_rs.csv", row.names = FALSE)

fx <- function(f) {
  s <- summary(f)$coefficients
  list(estimate = as.list(s[, 1]), se = as.list(s[, 2]))
}
vc <- function(f) as.data.frame(VarCorr(f))[, c("grp", "var1", "var2", "vcov")]
ctrl <- glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))

out <- list()
for (link in c("logit", "probit", "cloglog")) {
  f <- glmer(pass ~ standlrt + girl + (1 + standlrt | school), tut, family = binomial(link),
             control = ctrl)
  out[[paste0("rs_", link)]] <- c(fx(f), list(varcorr_ml = vc(f), loglik = as.numeric(logLik(f))))
}
f <- glmer(y ~ x + (1 + x | school) + offset(logexpo), pois, family = poisson, control = ctrl)
out$rs_poisson_sim <- c(fx(f), list(varcorr_ml = vc(f), loglik = as.numeric(logLik(f)),
                                    truth = list(cons = beta[1], x = beta[2],
                                                 omega_cons_cons = omega[1, 1],
                                                 omega_cons_x = omega[1, 2],
                                                 omega_x_x = omega[2, 2]),
                                    # sum_j u_j u_j' / J of the drawn u: what the data carry
                                    realized = list(omega_cons_cons = crossprod(u)[1, 1] / J,
                                                    omega_cons_x = crossprod(u)[1, 2] / J,
                                                    omega_x_x = crossprod(u)[2, 2] / J)))

out$`_source` <- list(
  script = "bench/references/glmm_rs_references.R",
  r = R.version.string, lme4 = as.character(packageVersion("lme4")),
  date = as.character(Sys.Date()),
  note = "glmer, Laplace approximation (nAGQ = 1), bobyqa; tutorial pass = normexam > 0")
dir.create("tests/references", showWarnings = FALSE)
write_json(out, "tests/references/glmm_rs_lme4.json", auto_unbox = TRUE, digits = 10, pretty = TRUE)
cat("written tests/references/glmm_rs_lme4.json\n")
