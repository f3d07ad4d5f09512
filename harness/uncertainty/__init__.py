"""Parameters we do not know: distributions in experiment files, two-level runs (parameter
sets outside, replications inside) and global sensitivity analysis.

Probabilistic risk assessment keeps *epistemic* uncertainty (what a parameter is) apart from
*aleatory* randomness (what happens in a shift given the parameters): the outer loop draws
parameter sets, the inner loop runs replications for each.
"""
