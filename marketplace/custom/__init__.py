"""Custom datasets: requests for data, competing quotes, contracts, milestones and their private threads."""
