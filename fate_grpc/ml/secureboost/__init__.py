"""The numeric core of hetero SecureBoost (FATE 2.2's gradient-boosted trees), with no I/O.

``binning`` (quantile split points to ``max_bin``, bin indices), ``objectives`` (binary:bce, multi:ce,
regression:l2: init score, gradients/hessians, loss, prediction), ``histogram`` (per node, feature and bin
sums of g, h and counts over row blocks, cumulative over bins, sibling by subtraction), ``splitter``
(FATE's gain, masks and leaf weights), ``tree`` (nodes, level-wise growing state, routing, FATE's node
documents), ``goss`` (gradient-based one-side sampling) and ``booster`` (a whole plaintext booster over
pre-binned features, the reference the federated protocol must reproduce split for split).
"""
