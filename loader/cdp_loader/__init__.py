"""cdp-loader: ship a dbt-built order mart to the Sitecore CDP Batch API."""

__version__ = "0.1.0"
