# Reference for tests/test_pooling_d3.py: mitml's D3 (Meng & Rubin 1992) on fixed imputed datasets.
# Run from the repository root: Rscript bench/references/mitml_d3.R
# Input: tests/data/d3_imputed.csv (bench/references/d3_data.py). Output: tests/references/mitml_d3.json
# For each case: lm or lmer(REML = FALSE) fits of the full and null models to every imputation,
# mitml::testModels(full, null, method = "D3"), each fit's logLik, and the log-likelihoods at the
# pooled estimates from mitml's internal .evaluateUserLogLik (what testModels averages; recorded to
# locate any disagreement). lmer fits use bobyqa with rhoend = 1e-12 so the MLEs are converged well
# beyond lme4's default tolerances: D3 evaluates likelihoods at averaged MLEs, where an optimiser's
# error enters to first order. With lme4's defaults F moves by about 1e-9 relative on these data
# (F_with_lme4_default_tolerances, recorded below), so either would do for a 1e-6 comparison.
suppressPackageStartupMessages({library(mitml); library(lme4); library(jsonlite)})
long <- read.csv("tests/data/d3_imputed.csv", check.names = FALSE)
long$cat3 <- factor(long$cat3, levels = c(2, 0, 1))  # statjr_py's coding: last category the reference
long$type <- factor(long$type, levels = c(2, 0, 1))
imps <- split(long, long$.imp)
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
fit <- function(formula, data) {
  if (any(grepl("|", deparse(formula), fixed = TRUE))) lmer(formula, data, REML = FALSE, control = ctrl)
  else lm(formula, data)
}
cases <- list(
  lm_cat3 = list(full = y ~ x1 + cat3, null = y ~ x1, m = 5),
  lm_all = list(full = y ~ x1 + cat3, null = y ~ 1, m = 5),
  lmer_cat3 = list(full = y ~ x1 + cat3 + (1 | school), null = y ~ x1 + (1 | school), m = 5),
  lmer_type = list(full = y ~ x1 + cat3 + type + (1 | school), null = y ~ x1 + cat3 + (1 | school), m = 5),
  lmer_x1_m2 = list(full = y ~ x1 + cat3 + (1 | school), null = y ~ cat3 + (1 | school), m = 2)
)
out <- list()
for (name in names(cases)) {
  cs <- cases[[name]]
  full <- lapply(imps[seq_len(cs$m)], function(d) fit(cs$full, d))
  null <- lapply(imps[seq_len(cs$m)], function(d) fit(cs$null, d))
  res <- testModels(full, null, method = "D3")$test
  ll <- mitml:::.evaluateUserLogLik(full)
  ll0 <- mitml:::.evaluateUserLogLik(null)
  out[[name]] <- list(
    full = deparse(cs$full), null = deparse(cs$null), m = cs$m,
    F = res[1], df1 = res[2], df2 = res[3], p = res[4], riv = res[5],
    loglik = ll$LL, loglik_null = ll0$LL, loglik_pooled = ll$LL.pooled,
    loglik_null_pooled = ll0$LL.pooled)
  if (inherits(full[[1]], "merMod"))
    out[[name]]$sigma2_u <- sapply(full, function(f) VarCorr(f)$school[1])
}
# How far lme4's default tolerances move D3 (the reason for the tight control above)
d <- lapply(imps, function(d) lmer(y ~ x1 + cat3 + (1 | school), d, REML = FALSE))
d0 <- lapply(imps, function(d) lmer(y ~ x1 + (1 | school), d, REML = FALSE))
default_F <- testModels(d, d0, method = "D3")$test[1]
out$lmer_cat3$F_with_lme4_default_tolerances <- default_F
meta <- list(script = "bench/references/mitml_d3.R", data = "tests/data/d3_imputed.csv",
             R = paste(R.version$major, R.version$minor, sep = "."),
             mitml = as.character(packageVersion("mitml")), lme4 = as.character(packageVersion("lme4")),
             date = as.character(Sys.Date()), cases = out)
writeLines(toJSON(meta, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/references/mitml_d3.json")
cat("wrote tests/references/mitml_d3.json\n")
