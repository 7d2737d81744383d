# Reads statjr-py's stacked imputations into mice and mitml, and tests school type
# jointly with mitml's testModels.  Run from the repository root (not part of CI):
#   statjr run 2LevelImpute --dataset tutmiss --invars "$(python -c 'from statjr_py.examples import WORKED_EXAMPLE as W; print(W)')" --out /tmp/worked --overwrite
#   Rscript bench/interchange/read_in_r.R /tmp/worked/Imputation_Model_impute_long.csv
suppressPackageStartupMessages({library(mice); library(mitml); library(lme4)})
long <- read.csv(commandArgs(TRUE)[1], check.names = FALSE)   # keeps the names .imp and .id

# mice: a mids object, as if mice had made the imputations
imp <- as.mids(long, .imp = ".imp", .id = ".id")
print(imp)

# mitml: a list of the completed datasets (.imp 0 is the data with missing values)
completed <- split(long[long$.imp > 0, ], long$.imp[long$.imp > 0])
l <- as.mitml.list(lapply(completed, function(d) d[, setdiff(names(d), c(".imp", ".id"))]))
fit1 <- with(l, lmer(normexam ~ standlrtmiss + girlmiss + factor(schgendmiss, levels = c(2, 0, 1)) +
                     (1 | school), REML = FALSE))
fit0 <- with(l, lmer(normexam ~ standlrtmiss + girlmiss + (1 | school), REML = FALSE))
print(testEstimates(fit1, extra.pars = TRUE))
print(testModels(fit1, fit0, method = "D1"))
