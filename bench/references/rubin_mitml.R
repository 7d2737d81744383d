# Reference for tests/test_pooling.py: mitml::testEstimates on fixed inputs.
# Run: Rscript bench/references/rubin_mitml.R
suppressPackageStartupMessages(library(mitml))
qhat <- matrix(c(1.00, 0.50, -2.0,
                 1.10, 0.42, -1.7,
                 0.95, 0.55, -2.3,
                 1.05, 0.47, -1.9), nrow = 4, byrow = TRUE,
               dimnames = list(NULL, c("a", "b", "c")))
uhat <- matrix(c(0.010, 0.004, 0.09,
                 0.012, 0.005, 0.08,
                 0.011, 0.004, 0.10,
                 0.009, 0.006, 0.07), nrow = 4, byrow = TRUE,
               dimnames = list(NULL, c("a", "b", "c")))
for (dfc in list(c(100, 50, 20))) {
  res <- testEstimates(qhat = t(qhat), uhat = t(uhat), df.com = dfc)  # mitml: parameters x imputations
  print(res$estimates, digits = 12)
}
cat(R.version.string, "mitml", as.character(packageVersion("mitml")), as.character(Sys.Date()), "\n")
