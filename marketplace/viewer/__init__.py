"""The license-aware data viewer: rows, search and statistics of samples and licensed files."""
