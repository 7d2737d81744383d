# Reference for tests/test_2levelimpute.py: the worked example's MOI fitted by ML
# to the complete data (tutorial), the values tutmiss's missing ones were cut from.
# normexam ~ standlrt + girl + schgend dummies + (1 | school); schgend 1, 2, 3 is
# schgendmiss 0, 1, 2, whose last category is the reference.
# Run from the repository root: Rscript bench/references/worked_example_lme4.R
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
shared <- Sys.getenv("STATJR_SHARED", "../shared")
d <- read.csv(file.path(shared, "data", "tutorial.csv"))
d$schgendmiss_0 <- as.numeric(d$schgend == 1)
d$schgendmiss_1 <- as.numeric(d$schgend == 2)
m <- lmer(normexam ~ standlrt + girl + schgendmiss_0 + schgendmiss_1 + (1 | school), d, REML = FALSE)
s <- summary(m)$coefficients
vc <- as.data.frame(VarCorr(m))
out <- list(
  estimate = as.list(setNames(s[, 1], c("cons", "standlrtmiss", "girlmiss", "schgendmiss_0", "schgendmiss_1"))),
  se = as.list(setNames(s[, 2], c("cons", "standlrtmiss", "girlmiss", "schgendmiss_0", "schgendmiss_1"))),
  sigma2_u = vc$vcov[vc$grp == "school"], sigma2_e = vc$vcov[vc$grp == "Residual"],
  `_source` = list(script = "bench/references/worked_example_lme4.R", r = R.version.string,
                   lme4 = as.character(packageVersion("lme4")), date = as.character(Sys.Date())))
write_json(out, "tests/references/worked_example_lme4.json", auto_unbox = TRUE, digits = 10, pretty = TRUE)
print(s)
