"""Pure pandas: ROI, pacing and goal progress. DataFrames in, DataFrames out; no Flask, no DB."""
