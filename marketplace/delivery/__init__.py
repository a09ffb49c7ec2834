"""Delivery: provider uploads straight to object storage, verified manifests, and audited download links."""
