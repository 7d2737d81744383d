# Peer check for docs/validation.md: R's jomo (substantive-model-compatible
# imputation, jomo.lmer) on the mar_wc datasets of bench/coverage.py, pooled
# with mitml, beside lme4 on the same data with nothing missing.
# Run (from the repository root, after bench/peer/export_datasets.py):
#   Rscript bench/peer/jomo_coverage.R /tmp/mar_wc.csv bench/results/jomo_mar_wc.csv [cores]
# Settings as bench/coverage.py: 5 imputations, 500 burn-in, 100 between.
# The MOI is y ~ x + xb + w + wc + (1 | school), wc's reference category 2;
# jomo models x, xb, w and wc jointly (x and xb with school random effects,
# w and wc at level 2), which links wc with the school effect of x.
suppressPackageStartupMessages({library(jomo); library(lme4); library(mitml); library(parallel)})
args <- commandArgs(trailingOnly = TRUE)
all <- read.csv(args[1])
cores <- if (length(args) >= 3) as.integer(args[3]) else 2L
terms <- c("(Intercept)" = "cons", x = "x", xb = "xb", w = "w", wc0 = "wc_0", wc1 = "wc_1")

one <- function(r) {
  d <- all[all$rep == r, ]
  set.seed(20261125 + r)
  d$xb <- factor(d$xb); d$w <- factor(d$w)
  d$wc <- factor(d$wc, levels = c(2, 0, 1)); d$wc_complete <- factor(d$wc_complete, levels = c(2, 0, 1))
  dat <- d[, c("y", "x", "xb", "w", "wc", "school")]
  capture.output(imp <- jomo.lmer(y ~ x + xb + w + wc + (1 | school), dat,
                   level = c(1, 1, 1, 2, 2, 1), nburn = 500, nbetween = 100, nimp = 5, output = 0))  # it prints regardless
  fits <- with(as.mitml.list(split(imp[imp$Imputation > 0, ], imp$Imputation[imp$Imputation > 0])),
               lmer(y ~ x + xb + w + wc + (1 | clus), REML = FALSE))
  pooled <- testEstimates(fits)$estimates
  full <- lmer(y ~ x + xb + w + wc_complete + (1 | school), d, REML = FALSE)
  cf <- summary(full)$coefficients
  rownames(cf) <- sub("wc_complete", "wc", rownames(cf))
  rn <- sub("^(xb|w)1$", "\\1", rownames(pooled))
  data.frame(rep = r, term = terms[rn], estimate = pooled[, "Estimate"], se = pooled[, "Std.Error"],
             lower = pooled[, "Estimate"] - qt(0.975, pooled[, "df"]) * pooled[, "Std.Error"],
             upper = pooled[, "Estimate"] + qt(0.975, pooled[, "df"]) * pooled[, "Std.Error"],
             complete = cf[sub("^(xb|w)$", "\\11", rn) , "Estimate"], row.names = NULL)
}
reps <- sort(unique(all$rep))
out <- do.call(rbind, mclapply(reps, one, mc.cores = cores))
write.csv(out, args[2], row.names = FALSE)
truth <- c(cons = 0.5, x = 0.6, xb = 0.4, w = -0.5, wc_0 = 0.5, wc_1 = -0.3)  # bench/coverage.py
out$truth <- truth[out$term]
summ <- do.call(rbind, lapply(split(out, out$term), function(g) {
  r <- nrow(g); emp <- sd(g$estimate); d <- g$estimate - g$complete
  data.frame(term = g$term[1], reps = r, bias = mean(g$estimate - g$truth), bias_mcse = emp / sqrt(r),
             emp_se = emp, se_ratio = mean(g$se) / emp,
             coverage = mean(g$lower <= g$truth & g$truth <= g$upper),
             mi_minus_complete = mean(d), mcse = sd(d) / sqrt(r))
}))
print(summ, digits = 3, row.names = FALSE)
cat(R.version.string, "jomo", as.character(packageVersion("jomo")), "lme4", as.character(packageVersion("lme4")),
    "mitml", as.character(packageVersion("mitml")), as.character(Sys.Date()), "\n")
