"""Provider analytics: listing and offer views recorded as they happen, and the provider's report (the funnel from
listing views to sales over time, downloads per licensee, revenue per listing and currency) with charts and CSV."""
